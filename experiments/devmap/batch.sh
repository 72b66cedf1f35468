#!/usr/bin/env bash
# Batch prediction at scale (experiments/RESULTS.md, "Device mapping"): 10,000 rows over 1,000 files — the 669
# NCC .ll files of the devmap data set and 331 OpenCL files written from its distinct source texts — each
# file asked at 10 launch sizes, timed with /usr/bin/time. Usage: experiments/devmap/batch.sh [BUILD_DIR]
set -euo pipefail
build=${1:-$(cd "$(dirname "$0")/../.." && pwd)/build}
data=${MIRTUNE_DATA:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/datasets}/devmap
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$data" "$work" <<'PY'
import csv, os, sys
data, work = sys.argv[1], sys.argv[2]
files = sorted(os.path.join(data, "kernels_ir", f) for f in os.listdir(os.path.join(data, "kernels_ir")))
texts = []
with open(os.path.join(data, "cgo17-amd.csv"), newline="") as f:
    for row in csv.DictReader(f):
        if row["src"] not in texts:
            texts.append(row["src"])
os.makedirs(os.path.join(work, "cl"))
i = 0
while len(files) < 1000:
    path = os.path.join(work, "cl", f"k{i:04d}.cl")
    with open(path, "w") as out:
        out.write(f"// variant {i}\n" + texts[i % len(texts)].replace("__kernel void A(", f"__kernel void A{i}(", 1))
    files.append(path)
    i += 1
with open(os.path.join(work, "rows.csv"), "w") as out:
    out.write("file,kernel,transfer,wgsize\n")
    for path in files:
        for k in range(10):
            out.write(f"{path},,{4096 << (2 * k)},{32 << (k % 4)}\n")
PY
echo "rows: $(($(wc -l <"$work/rows.csv") - 1)) over 1000 files"
OMP_WAIT_POLICY=PASSIVE /usr/bin/time -v "$build/bin/mirtune" --db "$work/bench.db" devmap predict \
  --input "$work/rows.csv" --platform nvidia -o "$work/out.csv" 2>"$work/time.txt" || true
grep -E "Elapsed \(wall clock\)|Maximum resident" "$work/time.txt"
grep -E "predictions failed" "$work/time.txt" || true
echo "output rows: $(($(wc -l <"$work/out.csv") - 1)), with a device: $(grep -cE ',(CPU|GPU),' "$work/out.csv")"
