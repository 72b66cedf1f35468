#!/usr/bin/env python3
"""mirtune tune and Kernel Tuner, live, on the same OpenCL convolution space and device, at equal budgets.

Both tools tune the convolution kernel of the autotuning-spaces data set (image reduced to 1024 x 1024 so a session
fits in minutes on a small CPU) on the same OpenCL device. Every configuration either tool finds is scored against the
brute-forced space of that device (`bruteforce.sh` writes it with `mirtune tune --strategy exhaustive`), so both are
judged by one table: fraction of the optimum = best time of the space / time of the configuration found. Framework
overhead per evaluation is what each tool reports for itself (T4 "framework" + "search_algorithm"; Kernel Tuner's
framework_time + strategy_time), in ms.

Usage: side_by_side.py --mirtune build/bin/mirtune --space experiments/tune/spaces/convolution-pocl.json --work DIR
       [--budgets 50] [--checkpoints 20,50] [--seeds 2] [--kt-strategies random_sample,genetic_algorithm]
       [--mirtune-strategies random,model] [--out results/side_by_side.json]
Each session runs to its budget; the fraction of the optimum is read off its curve at every checkpoint (so a
checkpoint below the budget is what the session had found after that many evaluations).
Needs kernel_tuner (1.5.0) and pyopencl in the Python that runs it (a virtual environment is fine).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def data_folder():
    root = os.environ.get("MIRTUNE_DATA")
    if root:
        return Path(root) / "autotuning-spaces"
    return HERE.parent.parent.parent / "shared" / "datasets" / "autotuning-spaces"


def prepare(work: Path):
    """The data set's OpenCL kernel with a 1024 x 1024 image, and the T1 spec beside it."""
    work.mkdir(parents=True, exist_ok=True)
    source = (data_folder() / "convolution.cl").read_text()
    patched = source.replace("#define image_height 4096", "#define image_height 1024").replace(
        "#define image_width 4096", "#define image_width 1024")
    if patched == source:
        sys.exit("convolution.cl: the image size lines were not found")
    (work / "convolution.cl").write_text(patched)
    spec = json.loads((HERE / "specs" / "convolution.t1.json").read_text())
    (work / "convolution.t1.json").write_text(json.dumps(spec, indent=2))
    return work / "convolution.t1.json", spec


def space_table(path: Path):
    cache = json.loads(path.read_text())
    keys = cache["tune_params_keys"]
    times = {}
    for record in cache["cache"].values():
        if isinstance(record.get("time"), (int, float)):
            times[tuple(record[k] for k in keys)] = record["time"]
    return keys, times


def seconds_since(first, later):
    """Seconds between two ISO 8601 timestamps (Kernel Tuner's and T4's)."""
    from datetime import datetime
    parse = lambda t: datetime.fromisoformat(t.replace("Z", "+00:00"))
    try:
        return (parse(later) - parse(first)).total_seconds()
    except (TypeError, ValueError):
        return float("nan")


def best_so_far(values):
    out, best = [], None
    for v in values:
        if v is not None and (best is None or v < best):
            best = v
        out.append(best)
    return out


def run_kernel_tuner(spec, work: Path, strategy: str, budget: int, seed: int):
    import numpy as np
    from kernel_tuner import tune_kernel

    kernel = spec["KernelSpecification"]
    n = kernel["ProblemSize"]
    tune_params = {}
    for p in spec["ConfigurationSpace"]["TuningParameters"]:
        values = p["Values"]
        tune_params[p["Name"]] = eval(values, {"__builtins__": {"range": range}}) if isinstance(values, str) else values
    restrictions = [c["Expression"] for c in spec["ConfigurationSpace"]["Conditions"]]
    rng = np.random.default_rng(seed)
    output = np.zeros(n[0] * n[1], dtype=np.float32)
    image = rng.random((n[0] + 14) * (n[1] + 14), dtype=np.float32)
    filt = rng.random(15 * 15, dtype=np.float32)
    np.random.seed(seed)
    started = time.time()
    results, env = tune_kernel(
        "convolution_kernel", str(work / "convolution.cl"), tuple(n), [output, image, filt], tune_params,
        grid_div_x=kernel["GridDivX"], grid_div_y=kernel["GridDivY"], restrictions=restrictions, lang="OpenCL",
        strategy=strategy, strategy_options={"max_fevals": budget}, iterations=7, quiet=True, verbose=False)
    wall = time.time() - started
    evaluations = []
    for r in results[:budget]:
        t = r.get("time")
        evaluations.append({
            "configuration": {k: r[k] for k in tune_params},
            "time_ms": t if isinstance(t, (int, float)) else None,
            "overhead_ms": float(r.get("framework_time", 0)) + float(r.get("strategy_time", 0)),
            "timestamp": r.get("timestamp"),
        })
    return evaluations, wall


def run_mirtune(mirtune: str, spec_file: Path, work: Path, strategy: str, budget: int, seed: int):
    t4 = work / f"mirtune-{strategy}-{budget}-{seed}.t4.json"
    db = work / f"mirtune-{strategy}-{budget}-{seed}.db"
    for stale in (t4, db):
        if stale.exists():
            stale.unlink()
    started = time.time()
    subprocess.run([mirtune, "--db", str(db), "--quiet", "tune", str(spec_file), "--strategy", strategy,
                    "--budget", str(budget), "--seed", str(seed), "-o", str(t4)], check=True,
                   stdout=subprocess.DEVNULL)
    wall = time.time() - started
    evaluations = []
    for r in json.loads(t4.read_text())["results"]:
        time_ms = None
        if r["invalidity"] == "correct":
            time_ms = next(m["value"] for m in r["measurements"] if m["name"] == "time")
        evaluations.append({
            "configuration": r["configuration"],
            "time_ms": time_ms,
            "overhead_ms": r["times"]["framework"] + r["times"]["search_algorithm"],
            "timestamp": r["timestamp"],
        })
    return evaluations, wall


def score(evaluations, keys, table, optimum):
    """Fraction of the optimum of the best configuration found, each configuration timed by the brute force."""
    looked_up = []
    for e in evaluations:
        key = tuple(e["configuration"][k] for k in keys)
        looked_up.append(table.get(key) if e["time_ms"] is not None else None)
    curve = best_so_far(looked_up)
    return [optimum / c if c else 0.0 for c in curve]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mirtune", required=True)
    parser.add_argument("--space", required=True, help="the brute-forced cache of this device (bruteforce.sh)")
    parser.add_argument("--work", required=True)
    parser.add_argument("--budgets", default="50")
    parser.add_argument("--checkpoints", default="20,50")
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--kt-strategies", default="random_sample,genetic_algorithm")
    parser.add_argument("--mirtune-strategies", default="random,model")
    parser.add_argument("--out", default=str(HERE / "results" / "side_by_side.json"))
    args = parser.parse_args()

    work = Path(args.work).resolve()
    spec_file, spec = prepare(work)
    keys, table = space_table(Path(args.space))
    optimum = min(table.values())
    rows = []
    for budget in [int(b) for b in args.budgets.split(",")]:
        runs = [("kernel_tuner", s) for s in args.kt_strategies.split(",") if s] + \
               [("mirtune", s) for s in args.mirtune_strategies.split(",") if s]
        for tool, strategy in runs:
            checkpoints = [int(c) for c in args.checkpoints.split(",") if int(c) <= budget]
            fractions, walls, overheads, evaluated = [], [], [], []
            at = {c: [] for c in checkpoints}
            wall_at = {c: [] for c in checkpoints}
            for seed in range(args.seeds):
                if tool == "kernel_tuner":
                    evaluations, wall = run_kernel_tuner(spec, work, strategy, budget, seed)
                else:
                    evaluations, wall = run_mirtune(args.mirtune, spec_file, work, strategy, budget, seed)
                curve = score(evaluations, keys, table, optimum)
                fractions.append(curve[-1] if curve else 0.0)
                stamps = [seconds_since(evaluations[0]["timestamp"], e["timestamp"]) for e in evaluations]
                for c in checkpoints:
                    at[c].append(curve[min(c, len(curve)) - 1] if curve else 0.0)
                    wall_at[c].append(stamps[min(c, len(stamps)) - 1] if stamps else 0.0)
                walls.append(wall)
                overheads.append(statistics.mean(e["overhead_ms"] for e in evaluations) if evaluations else 0)
                evaluated.append(len(evaluations))
                print(f"{tool:13} {strategy:18} budget {budget:3} seed {seed}: {len(evaluations)} evaluations, "
                      f"fraction {fractions[-1]:.3f}, {wall:.1f} s", file=sys.stderr)
            rows.append({"tool": tool, "strategy": strategy, "budget": budget, "seeds": args.seeds,
                         "fraction_median": statistics.median(fractions), "fractions": fractions,
                         "at": {str(c): {"fraction_median": statistics.median(at[c]), "fractions": at[c],
                                         "seconds_median": statistics.median(wall_at[c])} for c in checkpoints},
                         "wall_s_median": statistics.median(walls), "evaluations": evaluated,
                         "overhead_ms_per_evaluation": statistics.median(overheads)})
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"space": args.space, "optimum_ms": optimum, "rows": rows}, indent=2) + "\n")
    print("| tool | strategy | after N evaluations | fraction of optimum (median of seeds; each seed) | "
          "seconds to reach N | overhead ms/eval |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        for c, v in r["at"].items():
            each = ", ".join(f"{f:.3f}" for f in v["fractions"])
            print(f"| {r['tool']} | {r['strategy']} | {c} | {v['fraction_median']:.3f} ({each}) | "
                  f"{v['seconds_median']:.0f} | {r['overhead_ms_per_evaluation']:.1f} |")


if __name__ == "__main__":
    main()
