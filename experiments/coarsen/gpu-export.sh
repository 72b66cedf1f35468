#!/usr/bin/env bash
# Prepares the coarsening measurements of a GPU machine that has only mirtune-run and nvcc (no LLVM, no
# LibTorch): the OpenCL suite's factors (`coarsen collect --export`) and the CUDA suite's (`coarsen FILE.cu --run
# --export`, stencil2d in dimension 1 as well), with run-on-gpu.sh to carry them out there.
# Usage, here:              experiments/coarsen/gpu-export.sh [BUILD_DIR] [FOLDER]   (default FOLDER: gpu-export)
#        on the GPU machine: sh FOLDER/run-on-gpu.sh path/to/mirtune-run [OUT]      (copies FOLDER to OUT when given)
#        back here:          experiments/coarsen/gpu-export.sh --ingest FOLDER [BUILD_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
if [ "${1:-}" = "--ingest" ]; then
  folder=$2
  mirtune="${3:-$root/build}/bin/mirtune"
  "$mirtune" coarsen collect --ingest "$folder/opencl"
  "$mirtune" coarsen --ingest "$folder/cuda"
  "$mirtune" coarsen --ingest "$folder/cuda-d1"
  exit 0
fi
build=${1:-$root/build}
folder=${2:-gpu-export}
mirtune="$build/bin/mirtune"
rm -rf "$folder"
mkdir -p "$folder"
"$mirtune" coarsen collect --sizes 1 --export "$folder/opencl"
"$mirtune" coarsen "$root"/kernels/cuda/*.cu --run --cuda-arch sm_90 --export "$folder/cuda"
"$mirtune" coarsen "$root/kernels/cuda/stencil2d.cu" --run --dim 1 --cuda-arch sm_90 --export "$folder/cuda-d1"
cat >"$folder/run-on-gpu.sh" <<'SH'
#!/bin/sh
# Runs every exported measurement with the runner alone: sh run-on-gpu.sh path/to/mirtune-run [OUT]
set -u
runner=$1
case "$runner" in /*) ;; */*) runner="$(pwd)/$runner" ;; esac
here=$(cd "$(dirname "$0")" && pwd)
# The NVIDIA OpenCL driver beside PoCL (ocl-icd reads OCL_ICD_VENDORS).
if [ -e /usr/lib/x86_64-linux-gnu/libnvidia-opencl.so.1 ] || ldconfig -p 2>/dev/null | grep -q libnvidia-opencl; then
  vendors=$(mktemp -d)
  echo libnvidia-opencl.so.1 > "$vendors/nvidia.icd"
  cp /etc/OpenCL/vendors/*.icd "$vendors/" 2>/dev/null
  OCL_ICD_VENDORS=$vendors; export OCL_ICD_VENDORS
fi
nvidia-smi -L || echo "run-on-gpu.sh: nvidia-smi lists no GPU" >&2
sh "$here/opencl/run-all.sh" "$runner"
sh "$here/cuda/run-all.sh" "$runner"
sh "$here/cuda-d1/run-all.sh" "$runner"
if [ $# -gt 1 ]; then cp -r "$here" "$2/"; fi
SH
echo "$folder: carry it and $build/bin/mirtune-run to the GPU machine, run sh $folder/run-on-gpu.sh mirtune-run there,"
echo "bring the folder back and run: $0 --ingest $folder"
