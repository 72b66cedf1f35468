#!/usr/bin/env bash
# Prepares the CUDA tuning space of kernels/tune/matmul_wpt_cuda.json for a GPU machine that has only mirtune-run
# and the NVIDIA driver: every configuration is built here by nvcc (for sm_90, the H100/H200 class), so the GPU
# machine only runs them.
# Usage, here:              experiments/tune/gpu-export.sh [BUILD_DIR] [FOLDER]   (default FOLDER: gpu-export-tune)
#        on the GPU machine: sh FOLDER/run-all.sh path/to/mirtune-run            (then bring FOLDER back whole)
#        back here:          experiments/tune/gpu-export.sh --ingest FOLDER [BUILD_DIR]   (T4 file: FOLDER.t4.json)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
spec="$root/kernels/tune/matmul_wpt_cuda.json"
if [ "${1:-}" = "--ingest" ]; then
  folder=$2
  mirtune="${3:-$root/build}/bin/mirtune"
  "$mirtune" tune "$spec" --ingest "$folder" -o "${folder%/}.t4.json"
  exit 0
fi
build=${1:-$root/build}
folder=${2:-gpu-export-tune}
rm -rf "$folder"
"$build/bin/mirtune" tune "$spec" --strategy exhaustive --budget 0 --cuda-arch sm_90 --export "$folder"
echo "$folder: carry it and $build/bin/mirtune-run to the GPU machine, run sh $folder/run-all.sh mirtune-run there,"
echo "bring the folder back and run: $0 --ingest $folder"
