#!/usr/bin/env bash
# Front-end coverage and in-process compile time over the data sets (experiments/RESULTS.md, "Front end").
# Usage: experiments/frontend/run.sh [BUILD_DIR]   (data: $MIRTUNE_DATA or ../shared/datasets)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
data=${MIRTUNE_DATA:-$root/../shared/datasets}
if [ ! -f "$data/devmap/kernels.tar.bz2" ]; then
  echo "data sets not found in $data (set MIRTUNE_DATA); see README.md, 'Data sets'" >&2
  exit 1
fi
cmake --build "$build" --target bench_frontend >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -xjf "$data/devmap/kernels.tar.bz2" -C "$work"
"$build/bin/bench_frontend" --opencl "$work" --repeats 5 --compare-subprocess \
  --ir "$data/devmap/kernels_ir" --ir "$data/tcoarsening/kernels_ir" \
  -o "$root/experiments/frontend/results.json"
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; date: $(date -u +%F)"
