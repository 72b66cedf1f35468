#!/usr/bin/env python3
"""Embedding cost of IR2Vec (PyPI wheel) and mirtune side by side on the same devmap .ll files, plus mirtune's
start-up goals (`mirtune ir` against a clang-14 subprocess, a cold `mirtune devmap`). Prints a Markdown table.

Run through side_by_side.sh, which makes the virtual environment holding the ir2vec package; this script itself
needs only the standard library and runs IR2Vec in child processes of the interpreter given by --python.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IR2VEC_MODES = (("sym", "IR2Vec symbolic"), ("fa", "IR2Vec flow-aware"))

# One child process embeds every listed file with IR2Vec, each call timed alone, then times calls on the empty
# module given as a fourth argument; prints JSON on stdout. Arguments: mode (sym|fa), passes, list file[, empty
# module]. initEmbedding only records its arguments: getProgramVector parses the IR, reads the seed vocabulary and
# computes the vector, so the timed span is the two calls together.
IR2VEC_IN_PROCESS = r"""
import json, sys, time
import ir2vec
mode, repeats, list_file = sys.argv[1], int(sys.argv[2]), sys.argv[3]
files = [line for line in open(list_file).read().splitlines() if line]
times = {f: [] for f in files}
errors = {}
dimension = None
for _ in range(repeats):
    for f in files:
        if f in errors:
            continue
        start = time.perf_counter()
        try:
            vector = ir2vec.initEmbedding(f, mode, "p").getProgramVector()
        except Exception as error:
            errors[f] = str(error)
            continue
        elapsed = (time.perf_counter() - start) * 1000.0
        if not vector:
            errors[f] = "empty vector"
            continue
        dimension = len(vector)
        times[f].append(elapsed)
# The fixed part of a call: a module of one empty function, timed between the files' calls.
floor = []
if len(sys.argv) > 4:
    for _ in range(20):
        start = time.perf_counter()
        ir2vec.initEmbedding(sys.argv[4], mode, "p").getProgramVector()
        floor.append((time.perf_counter() - start) * 1000.0)
json.dump({"version": ir2vec.__version__, "dimension": dimension, "times_ms": times, "errors": errors,
           "floor_ms": floor}, sys.stdout)
"""

# One child process over every listed file (the batch row); its wall time is taken from outside.
IR2VEC_BATCH = r"""
import sys
import ir2vec
mode, list_file = sys.argv[1], sys.argv[2]
done = 0
for f in open(list_file).read().splitlines():
    if f and ir2vec.initEmbedding(f, mode, "p").getProgramVector():
        done += 1
print(done)
"""

# One file, one fresh interpreter (the cold and start-up rows); the wheel ships no command-line tool.
IR2VEC_ONE = "import sys, ir2vec; sys.exit(0 if ir2vec.initEmbedding(sys.argv[1], sys.argv[2], 'p').getProgramVector() else 1)"


def fail(message):
    print(f"side_by_side: {message}", file=sys.stderr)
    sys.exit(1)


def percentile(values, p):
    """Linear interpolation between closest ranks (numpy's default), p in 0..100."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = (len(ordered) - 1) * p / 100.0
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Timed:
    """Wall seconds, peak resident set (KiB, the child and its waited-for descendants) and exit status of one run."""

    def __init__(self, seconds, peak_kib, returncode, stdout, stderr):
        self.seconds, self.peak_kib, self.returncode, self.stdout, self.stderr = seconds, peak_kib, returncode, stdout, stderr


def run_timed(command, env=None):
    """Runs command to its end; wall time by perf_counter around fork and wait, peak RSS from wait4 (the figure
    /usr/bin/time reports as %M). Output goes to unnamed files, so a chatty child never blocks on a full pipe."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        for attempt in range(3):
            try:
                start = time.perf_counter()
                process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env)
                break
            except OSError as error:
                # A build replacing the executable makes exec fail for a moment (ETXTBSY, ENOENT): wait, retry.
                if attempt == 2:
                    fail(f"cannot start {command[0]}: {error}")
                log(f"cannot start {command[0]} ({error}); retrying")
                time.sleep(5)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Timed(seconds, usage.ru_maxrss, process.returncode, out.read().decode(errors="replace"),
                     err.read().decode(errors="replace"))


def must(timed, what):
    if timed.returncode != 0:
        fail(f"{what} exited {timed.returncode}: {timed.stderr.strip()[-2000:]}")
    return timed


def pick_spread(items, count):
    """count items spread evenly over the list (all of them when count >= len)."""
    if count >= len(items):
        return list(items)
    step = len(items) / count
    return [items[int(i * step)] for i in range(count)]


def machine_description():
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": model, "cores": os.cpu_count(), "kernel": platform.release()}


def load_average():
    try:
        return os.getloadavg()
    except OSError:
        return (float("nan"),) * 3


def mirtune_env(database):
    env = dict(os.environ)
    env["MIRTUNE_DB"] = str(database)
    return env


def count_embeddings(output):
    data = json.loads(Path(output).read_text())
    return len(data.get("embeddings", []))


# ---------------------------------------------------------------------------------------------------- IR2Vec


# Prints each file's name once IR2Vec has embedded it; IR2Vec ends the whole process on a file its LLVM cannot parse.
IR2VEC_SCREEN = r"""
import sys
import ir2vec
for f in sys.argv[1:]:
    ir2vec.initEmbedding(f, "sym", "p").getProgramVector()
    print(f, flush=True)
"""


def ir2vec_parsable(python, files):
    """The files IR2Vec can embed. Its bundled LLVM is newer than the one the data set's .ll files were written
    for, and a parse error exits the interpreter, so screen once and run every row (both tools) on the rest."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    remaining, good, bad = [str(f) for f in files], [], []
    while remaining:
        done = subprocess.run([python, "-c", IR2VEC_SCREEN, *remaining], capture_output=True, text=True, env=env)
        finished = [line for line in done.stdout.splitlines() if line]
        good.extend(finished)
        remaining = remaining[len(finished):]
        if not remaining:
            if done.returncode != 0:
                fail(f"IR2Vec screening exited {done.returncode} after every file: {done.stderr.strip()[-500:]}")
            break
        # The process ended (with any status) before finishing this file: IR2Vec cannot embed it.
        bad.append(remaining.pop(0))
    kept = set(good)
    # Some files make IR2Vec print a parse error and go on without printing them: those are unparsable too.
    return [f for f in files if str(f) in kept], [f for f in files if str(f) not in kept]


def ir2vec_in_process(python, mode, list_file, repeats):
    """Per-file call times, one process per pass over the files: the binding never frees the parsed module nor
    the embedding object (0.4 to 4 MB a call on these files), so one process for every repeat would grow to
    gigabytes and time a swelling heap."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    empty = list_file.parent / "empty.ll"
    empty.write_text("define void @f() {\n  ret void\n}\n")
    times, errors, peaks, floor, data = {}, {}, [], [], {}
    for _ in range(repeats):
        timed = must(run_timed([python, "-c", IR2VEC_IN_PROCESS, mode, "1", str(list_file), str(empty)], env=env),
                     f"IR2Vec {mode} in-process run")
        data = json.loads(timed.stdout)
        peaks.append(timed.peak_kib)
        floor.extend(data["floor_ms"])
        errors.update(data["errors"])
        for file, values in data["times_ms"].items():
            times.setdefault(file, []).extend(values)
    per_file = {f: statistics.median(t) for f, t in times.items() if t and f not in errors}
    values = list(per_file.values())
    return {"version": data["version"], "dimension": data["dimension"], "files_ok": len(values), "errors": errors,
            "median_ms": statistics.median(values), "p95_ms": percentile(values, 95), "peak_kib": peaks,
            "floor_ms": statistics.median(floor),
            "per_file_ms": {Path(f).name: t for f, t in per_file.items()}}


def ir2vec_batch(python, mode, list_file, expected):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    timed = must(run_timed([python, "-c", IR2VEC_BATCH, mode, str(list_file)], env=env), f"IR2Vec {mode} batch run")
    done = int(timed.stdout.strip() or 0)
    if done != expected:
        log(f"IR2Vec {mode} batch embedded {done} of {expected} files")
    return timed.seconds, done


def ir2vec_one(python, mode, file):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return run_timed([python, "-c", IR2VEC_ONE, str(file), mode], env=env)


# ---------------------------------------------------------------------------------------------------- mirtune

PERCENTILE_LINE = re.compile(r"^(?P<label>.*?)\s+p50\s+(?P<p50>[0-9.]+)\s+p95\s+(?P<p95>[0-9.]+)\s*ms\s*$")


def parse_bench_encoder(text):
    """bench_encoder prints 'LABEL  p50 X  p95 Y ms' lines; returns {label: (p50, p95)} for every such line."""
    lines = {}
    for line in text.splitlines():
        match = PERCENTILE_LINE.match(line.strip())
        if match:
            lines[match["label"].strip()] = (float(match["p50"]), float(match["p95"]))
    return lines


def mirtune_in_process(bench_encoder, folder, count, repeats, in_process_compile, encoder=None):
    env = dict(os.environ)
    if in_process_compile:
        env["MIRTUNE_COMPILE_IN_PROCESS"] = "1"
    runs = []
    for _ in range(repeats):
        model = ["--model", str(encoder)] if encoder else []
        timed = must(run_timed([str(bench_encoder), "--ir", str(folder), "--limit", str(count), "--threads", "1"] + model,
                               env=env), "bench_encoder")
        lines = parse_bench_encoder(timed.stdout)
        total = [value for label, value in lines.items() if label.startswith("total")]
        if not total:
            fail(f"no 'total ... p50 ... p95 ... ms' line in bench_encoder's output:\n{timed.stdout}")
        header = timed.stdout.splitlines()[0] if timed.stdout else ""
        match = re.match(r"(\d+) files", header)
        if match and int(match.group(1)) != count:
            fail(f"bench_encoder read {match.group(1)} files, expected {count}: {header}")
        runs.append({"total": total[0], "lines": lines, "header": header})
    return {"median_ms": statistics.median(r["total"][0] for r in runs),
            "p95_ms": statistics.median(r["total"][1] for r in runs), "runs": runs}


def mirtune_batch(mirtune, folder, threads, work, tag, expected, encoder=None):
    database = work / f"batch-{tag}.db"
    output = work / f"batch-{tag}.json"
    model = ["--encoder", str(encoder)] if encoder else []
    timed = run_timed([str(mirtune), "--db", str(database), "-q", "embed", str(folder), "--threads", str(threads),
                       "-o", str(output)] + model, env=mirtune_env(database))
    if not output.exists():
        fail(f"mirtune embed --threads {threads} wrote nothing (exit {timed.returncode}): {timed.stderr.strip()[-2000:]}")
    done = count_embeddings(output)
    if done != expected:
        log(f"mirtune embed --threads {threads} embedded {done} of {expected} files: {timed.stderr.strip()[-500:]}")
    for path in work.glob(f"batch-{tag}.*"):
        path.unlink()
    return timed.seconds, done


def mirtune_one(mirtune, file, work, tag):
    """A cold `mirtune embed FILE`: fresh process, empty database (so no cached embedding), one thread."""
    database = work / f"cold-{tag}.db"
    output = work / f"cold-{tag}.json"
    timed = run_timed([str(mirtune), "--db", str(database), "-q", "embed", str(file), "--threads", "1", "-o",
                       str(output)], env=mirtune_env(database))
    ok = timed.returncode == 0 and output.exists() and count_embeddings(output) == 1
    for path in work.glob(f"cold-{tag}.*"):
        path.unlink()
    return timed, ok


def clang_command(mirtune, kernel, clang, work):
    """The clang-14 command line doing mirtune's compile of kernel: the driver arguments `mirtune -vv ir` logs,
    with the built-in header folder mapped to its sources in the repository and textual IR written to a file."""
    timed = must(run_timed([str(mirtune), "-vv", "ir", str(kernel), "-o", os.devnull]), "mirtune -vv ir")
    logged = [line for line in timed.stderr.splitlines() if re.search(r"debug: clang ", line)]
    if not logged:
        fail("mirtune -vv ir logged no 'debug: clang ...' line; cannot rebuild its clang command")
    arguments = shlex.split(logged[0].split("debug: clang ", 1)[1])
    resources = ROOT / "src" / "frontend" / "resources"
    mapped = []
    for argument in arguments:
        if argument.startswith("/mirtune-builtin/"):
            argument = str(resources / argument[len("/mirtune-builtin/"):])
            if not Path(argument).exists():
                fail(f"built-in header {argument} not found in the repository")
        mapped.append("-S" if argument == "-c" else argument)
    return [clang] + mapped + ["-o", str(work / "clang.ll")]


# ---------------------------------------------------------------------------------------------------- table


def ms(seconds):
    return seconds * 1000.0


def fmt_ms(value, digits=None):
    if value != value:  # NaN
        return "n/a"
    if digits is None:
        digits = 1 if value < 100 else 0
    return f"{value:.{digits}f} ms"


def fmt_range_s(values):
    low, high = min(values), max(values)
    return f"{statistics.median(values):.2f} s ({low:.2f}-{high:.2f})"


def main():
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--build", default=None, help="mirtune build folder (default: the repository's build/)")
    parser.add_argument("--ir", default=None,
                        help="folder of .ll files (default: $MIRTUNE_DATA/devmap/kernels_ir, else ../shared/datasets/devmap/kernels_ir)")
    parser.add_argument("--files", type=int, default=0, help="first N files in name order (default: all)")
    parser.add_argument("--cold-sample", type=int, default=50, help="files for the cold rows, spread over the list (default 50)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="repeats of the in-process and batch rows (default 3); the start-up, ir and devmap rows run max(5, repeats) times")
    parser.add_argument("--kernel", default=str(ROOT / "kernels" / "opencl" / "black_scholes.cl"),
                        help="small OpenCL kernel for the ir and devmap rows (default kernels/opencl/black_scholes.cl)")
    parser.add_argument("--clang", default="clang-14", help="clang for the ir row (default clang-14)")
    parser.add_argument("--python", default=sys.executable, help="Python with the ir2vec package (default: this one)")
    parser.add_argument("--in-process-compile", action="store_true",
                        help="bench_encoder with MIRTUNE_COMPILE_IN_PROCESS=1 (default: compiles in mirtune's worker, as shipped)")
    parser.add_argument("--json", default=None, help="also write every figure here")
    parser.add_argument("--also-encoder", action="append", default=[], metavar="DIR",
                        help="another encoder folder whose in-process and one-process rows are measured too, right "
                             "after the shipped encoder's (repeatable)")
    args = parser.parse_args()
    if args.repeats < 1 or args.cold_sample < 1 or args.files < 0:
        fail("--repeats and --cold-sample must be at least 1, --files at least 0")
    small_repeats = max(5, args.repeats)

    build = Path(args.build).resolve() if args.build else ROOT / "build"
    mirtune, bench_encoder = build / "bin" / "mirtune", build / "bin" / "bench_encoder"
    for binary in (mirtune, bench_encoder):
        if not os.access(binary, os.X_OK):
            fail(f"{binary} not found; build the targets mirtune and bench_encoder first (README, 'Building')")
    clang = shutil.which(args.clang)
    if clang is None:
        fail(f"{args.clang} not found on PATH (--clang)")
    kernel = Path(args.kernel).resolve()
    if not kernel.is_file():
        fail(f"kernel {kernel} not found (--kernel)")

    if args.ir:
        ir_folder = Path(args.ir)
    elif os.environ.get("MIRTUNE_DATA"):
        ir_folder = Path(os.environ["MIRTUNE_DATA"]) / "devmap" / "kernels_ir"
    else:
        ir_folder = ROOT.parent / "shared" / "datasets" / "devmap" / "kernels_ir"
    all_files = sorted(p.resolve() for p in ir_folder.glob("*.ll")) if ir_folder.is_dir() else []
    if not all_files:
        fail(f"no .ll files in {ir_folder} (set MIRTUNE_DATA or --ir)")
    files = all_files[: args.files] if args.files else all_files

    probe = subprocess.run([args.python, "-c", "import ir2vec; print(ir2vec.__version__)"], capture_output=True, text=True)
    if probe.returncode != 0:
        fail(f"{args.python} cannot import ir2vec (run side_by_side.sh, which installs it): {probe.stderr.strip()}")
    log(f"IR2Vec: screening {len(files)} files for ones its LLVM cannot parse")
    files, unparsable = ir2vec_parsable(args.python, files)
    if unparsable:
        log(f"IR2Vec cannot parse {len(unparsable)} files; every row uses the other {len(files)}: "
            + ", ".join(p.name for p in unparsable))
    cold_files = pick_spread(files, args.cold_sample)
    smallest = min(files, key=lambda p: p.stat().st_size)

    machine = machine_description()
    result = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"), "machine": machine,
              "load_average_start": load_average(), "files": len(files), "ir_folder": str(ir_folder),
              "ir2vec_unparsable": [p.name for p in unparsable],
              "cold_sample": len(cold_files), "repeats": args.repeats, "small_repeats": small_repeats,
              "ir2vec_version": probe.stdout.strip(), "python": platform.python_version(),
              "mirtune": str(mirtune), "bench_encoder_compile": "in process" if args.in_process_compile else "worker"}
    version = subprocess.run([str(mirtune), "--version"], capture_output=True, text=True)
    result["mirtune_version"] = version.stdout.strip()

    with tempfile.TemporaryDirectory(prefix="mirtune-side-by-side-") as scratch:
        work = Path(scratch)
        # Both tools read the same files; bench_encoder and `mirtune embed` take a folder, so link them into one.
        folder = work / "ir"
        folder.mkdir()
        for file in files:
            (folder / file.name).symlink_to(file)
        list_file = work / "files.txt"
        list_file.write_text("".join(f"{folder / f.name}\n" for f in files))

        # In-process, one thread, per module.
        for mode, name in IR2VEC_MODES:
            log(f"{name}: in-process, {len(files)} files x {args.repeats}")
            result[f"ir2vec_{mode}_in_process"] = ir2vec_in_process(args.python, mode, list_file, args.repeats)
        log(f"mirtune: bench_encoder, {len(files)} files x {args.repeats}")
        result["mirtune_in_process"] = mirtune_in_process(bench_encoder, folder, len(files), args.repeats,
                                                          args.in_process_compile)

        # One process over every file.
        for mode, name in IR2VEC_MODES:
            log(f"{name}: one process over {len(files)} files x {args.repeats}")
            runs = [ir2vec_batch(args.python, mode, list_file, len(files)) for _ in range(args.repeats)]
            result[f"ir2vec_{mode}_batch"] = {"seconds": [r[0] for r in runs], "embedded": runs[-1][1]}
        for threads in (1, 2):
            log(f"mirtune embed --threads {threads}: {len(files)} files x {args.repeats}")
            runs = [mirtune_batch(mirtune, folder, threads, work, f"{threads}-{i}", len(files))
                    for i in range(args.repeats)]
            result[f"mirtune_batch_threads{threads}"] = {"seconds": [r[0] for r in runs], "embedded": runs[-1][1]}
        result["other_encoders"] = []
        for encoder in args.also_encoder:
            log(f"mirtune with {encoder}: bench_encoder and embed --threads 1, 2")
            other = {"encoder": str(encoder),
                     "in_process": mirtune_in_process(bench_encoder, folder, len(files), args.repeats,
                                                      args.in_process_compile, encoder)}
            for threads in (1, 2):
                runs = [mirtune_batch(mirtune, folder, threads, work, f"other-{threads}-{i}", len(files), encoder)
                        for i in range(args.repeats)]
                other[f"batch_threads{threads}"] = {"seconds": [r[0] for r in runs], "embedded": runs[-1][1]}
            result["other_encoders"].append(other)

        # Cold process per file, the three tools interleaved file by file so that load from elsewhere hits each alike.
        log(f"cold process per file: {len(cold_files)} files")
        cold = {"sym": [], "fa": [], "mirtune": []}
        cold_failures = {"sym": [], "fa": [], "mirtune": []}
        for index, file in enumerate(cold_files):
            path = folder / file.name
            for mode, _ in IR2VEC_MODES:
                timed = ir2vec_one(args.python, mode, path)
                (cold[mode] if timed.returncode == 0 else cold_failures[mode]).append(
                    timed.seconds if timed.returncode == 0 else file.name)
            timed, ok = mirtune_one(mirtune, path, work, str(index))
            (cold["mirtune"] if ok else cold_failures["mirtune"]).append(timed.seconds if ok else file.name)
        result["cold_seconds"] = cold
        result["cold_failures"] = cold_failures

        # Start-up on the smallest file: wall and peak RSS.
        log(f"start-up on {smallest.name} ({smallest.stat().st_size} bytes) x {small_repeats}")
        startup = {"sym": [], "fa": [], "mirtune": []}
        for index in range(small_repeats):
            for mode, _ in IR2VEC_MODES:
                startup[mode].append(must(ir2vec_one(args.python, mode, folder / smallest.name), f"IR2Vec {mode} start-up"))
            timed, ok = mirtune_one(mirtune, folder / smallest.name, work, f"startup-{index}")
            if not ok:
                fail(f"mirtune embed {smallest} failed: {timed.stderr.strip()[-2000:]}")
            startup["mirtune"].append(timed)
        result["startup"] = {"file": smallest.name, "bytes": smallest.stat().st_size,
                             **{k: {"seconds": [t.seconds for t in v], "peak_kib": [t.peak_kib for t in v]}
                                for k, v in startup.items()}}

        # `mirtune ir` against clang-14 doing the same compile.
        clang_line = clang_command(mirtune, kernel, clang, work)
        log(f"mirtune ir vs {' '.join(clang_line[:1])} on {kernel.name} x {small_repeats}")
        ir_runs, clang_runs = [], []
        for _ in range(small_repeats):
            ir_runs.append(must(run_timed([str(mirtune), "ir", str(kernel), "-o", str(work / "mirtune.ll")]),
                                "mirtune ir").seconds)
            clang_runs.append(must(run_timed(clang_line), "clang").seconds)
        result["ir_vs_clang"] = {"kernel": str(kernel), "clang_command": clang_line, "mirtune_ir_seconds": ir_runs,
                                 "clang_seconds": clang_runs}

        # Cold `mirtune devmap KERNEL` with an empty database each time (no cached embedding).
        log(f"mirtune devmap {kernel.name} x {small_repeats}")
        devmap_runs = []
        for index in range(small_repeats):
            database = work / f"devmap-{index}.db"
            timed = must(run_timed([str(mirtune), "--db", str(database), "devmap", str(kernel)],
                                   env=mirtune_env(database)), "mirtune devmap")
            devmap_runs.append((timed.seconds, timed.peak_kib))
        result["devmap_cold"] = {"kernel": str(kernel), "seconds": [r[0] for r in devmap_runs],
                                 "peak_kib": [r[1] for r in devmap_runs]}
    result["load_average_end"] = load_average()

    print_table(result)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n")
        log(f"wrote {args.json}")


def print_table(r):
    n = r["files"]
    sym, fa, mt = r["ir2vec_sym_in_process"], r["ir2vec_fa_in_process"], r["mirtune_in_process"]

    def in_process(x):
        return f"{fmt_ms(x['median_ms'])} ({x['p95_ms']:.1f})"

    def batch(key):
        return f"{statistics.median(r[key]['seconds']):.2f} s"

    def cold(key):
        values = r["cold_seconds"][key]
        return fmt_ms(ms(statistics.median(values)), 0) if values else "n/a (all failed)"

    def startup(key):
        s = r["startup"][key]
        return f"{fmt_range_s(s['seconds'])}, {statistics.median(s['peak_kib']) / 1024:.0f} MB"

    print(f"Embedding cost, IR2Vec {r['ir2vec_version']} (PyPI wheel, Python {r['python']}) vs mirtune "
          f"({r['mirtune_version']}), on the same {n} devmap .ll files ({r['ir_folder']})\n")
    print("| | IR2Vec symbolic | IR2Vec flow-aware | mirtune |")
    print("|---|---|---|---|")
    print(f"| in-process, one thread, per-module median (p95) | {in_process(sym)} | {in_process(fa)} | {in_process(mt)} |")
    print(f"| one process over the {n} files, wall | {batch('ir2vec_sym_batch')} | {batch('ir2vec_fa_batch')} | "
          f"{batch('mirtune_batch_threads1')} (`--threads 1`), {batch('mirtune_batch_threads2')} (`--threads 2`) |")
    for other in r.get("other_encoders", []):
        name = Path(other["encoder"]).name
        seconds = {t: statistics.median(other[f"batch_threads{t}"]["seconds"]) for t in (1, 2)}
        print(f"| mirtune with encoder `{name}`: in-process per-module median (p95); one process, wall | | | "
              f"{in_process(other['in_process'])}; {seconds[1]:.2f} s (`--threads 1`), {seconds[2]:.2f} s (`--threads 2`) |")
    print(f"| cold process per file, median ({r['cold_sample']} files) | {cold('sym')} | {cold('fa')} | {cold('mirtune')} |")
    print(f"| start-up on one small file (wall median (min-max), peak RSS) | {startup('sym')} | {startup('fa')} | "
          f"{startup('mirtune')} |")

    ir = r["ir_vs_clang"]
    ir_ms, clang_ms = ms(statistics.median(ir["mirtune_ir_seconds"])), ms(statistics.median(ir["clang_seconds"]))
    ratio = ir_ms / clang_ms
    devmap_ms = ms(statistics.median(r["devmap_cold"]["seconds"]))
    kernel = Path(ir["kernel"]).name
    print("\n| mirtune goal | measured | goal | |")
    print("|---|---|---|---|")
    print(f"| `mirtune ir {kernel}` vs `clang-14` subprocess, same compile (median wall) | {fmt_ms(ir_ms, 0)} vs "
          f"{fmt_ms(clang_ms, 0)} = {ratio:.1f}x | within 3x | {'met' if ratio <= 3 else 'not met'} |")
    print(f"| cold `mirtune devmap {kernel}` (empty database, median wall) | {fmt_ms(devmap_ms, 0)} "
          f"({statistics.median(r['devmap_cold']['peak_kib']) / 1024:.0f} MB peak) | at most 300 ms | "
          f"{'met' if devmap_ms <= 300 else 'not met'} |")

    m = r["machine"]
    load = ", ".join(f"{x:.2f}" for x in r["load_average_start"])
    load_end = ", ".join(f"{x:.2f}" for x in r["load_average_end"])
    print(f"\nMachine: {m['cpu']}, {m['cores']} cores, Linux {m['kernel']}; date {r['date']}; "
          f"load average {load} at the start, {load_end} at the end.")
    notes = [
        f"in-process: IR2Vec times `initEmbedding(file, mode, \"p\").getProgramVector()` per file in one Python "
        f"process (the vector is computed, and the seed vocabulary read, inside getProgramVector); mirtune is "
        f"bench_encoder's 'total per module, single thread' (compile/parse + prepare + forward, compiles "
        f"{'in process' if r['bench_encoder_compile'] == 'in process' else 'in the compile worker as shipped'}). "
        f"Median over {r['repeats']} repeats (IR2Vec: per file, then across files; mirtune: of each run's p50 and p95).",
        "one process: wall of a fresh `python -c` looping over the files (interpreter start and import included) "
        "and of `mirtune embed FOLDER -o FILE` with an empty database; median of the repeats.",
        "cold: IR2Vec is a fresh `python -c 'import ir2vec; ...'` per file (the wheel ships no command-line tool); "
        "mirtune is `mirtune embed FILE --threads 1 -o FILE.json` with an empty database each time.",
        f"start-up: {r['startup']['file']} ({r['startup']['bytes']} bytes), {r['small_repeats']} runs, peak RSS as "
        f"/usr/bin/time %M reports it (wait4).",
    ]
    notes.append(
        f"IR2Vec's binding reads the seed vocabulary again on every call and never frees the module or the "
        f"embedding: a call on a module of one empty function, timed in the same processes, takes {fmt_ms(sym['floor_ms'], 2)} (symbolic), "
        f"{fmt_ms(fa['floor_ms'], 2)} (flow-aware), a floor in every in-process figure; each in-process pass "
        f"runs in its own process (peak RSS after {n} calls: "
        f"{max(sym['peak_kib']) / 1024:.0f} MB symbolic, {max(fa['peak_kib']) / 1024:.0f} MB flow-aware).")
    command = [Path(ir["clang_command"][0]).name] + ir["clang_command"][1:-2] + ["-o", "FILE.ll"]
    notes.append(f"ir: `mirtune ir {kernel} -o FILE.ll` against `{shlex.join(command)}` (the driver arguments "
                 f"`mirtune -vv ir` logs, the built-in header read from src/frontend/resources), "
                 f"{r['small_repeats']} runs each, interleaved.")
    failures = {k: len(v) for k, v in r["cold_failures"].items() if v}
    errors = {mode: len(r[f"ir2vec_{mode}_in_process"]["errors"]) for mode, _ in IR2VEC_MODES}
    embedded = {
        "IR2Vec sym batch": r["ir2vec_sym_batch"]["embedded"], "IR2Vec fa batch": r["ir2vec_fa_batch"]["embedded"],
        "mirtune --threads 1": r["mirtune_batch_threads1"]["embedded"],
        "mirtune --threads 2": r["mirtune_batch_threads2"]["embedded"],
    }
    short = {k: v for k, v in embedded.items() if v != n}
    if any(errors.values()) or failures or short:
        notes.append(f"files not embedded: in-process {errors}, cold {failures}, batch {short or 'none'}")
    print("\n" + "\n".join(f"- {note}" for note in notes))


if __name__ == "__main__":
    main()
