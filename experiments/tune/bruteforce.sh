#!/usr/bin/env bash
# Brute-forces four OpenCL tuning spaces on one OpenCL device of this machine with `mirtune tune --strategy
# exhaustive`, each into a Kernel Tuner cache file (spaces/<name>-<tag>.json) that `mirtune tune --replay` and Kernel
# Tuner's simulation mode read. The spaces: the data set's convolution (image reduced to 1024 x 1024), the 2-D
# convolution of kernels/tune, and the work-group sizes of kernels/opencl/convolution2d.cl and matmul_naive.cl.
# An interrupted run continues where it stopped (the cache files are read back). Run it alone on the machine.
#
# Usage: experiments/tune/bruteforce.sh [TAG]   (TAG names the device in the file names; default "pocl")
# Environment: MIRTUNE (default build/bin/mirtune), MIRTUNE_DATA (default ../shared/datasets), DEVICE (P:D).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
mirtune="${MIRTUNE:-$root/build/bin/mirtune}"
tag="${1:-pocl}"
out="$here/spaces"
mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The data set's kernel fixes a 4096 x 4096 image with #define; 1024 x 1024 keeps a configuration near a second here.
"$here/convolution-1024.sh" "$work"
cp "$here/specs/convolution.t1.json" "$work/"

device=()
[ -n "${DEVICE:-}" ] && device=(--device "$DEVICE")
for spec in "$work/convolution.t1.json" "$root/kernels/tune/conv2d.json" \
            "$here/specs/convolution2d-local.t1.json" "$here/specs/matmul_naive-local.t1.json"; do
  name="$(basename "$spec" .json)"
  name="${name%.t1}"
  echo "== $name" >&2
  start=$(date +%s)
  resume=()
  [ -f "$out/$name-$tag.json" ] && resume=(--resume)
  "$mirtune" --db "$work/bruteforce.db" tune "$spec" --strategy exhaustive --budget 0 "${device[@]}" \
    --cache "$out/$name-$tag.json" "${resume[@]}" --work-dir "$work/$name" > "$out/$name-$tag.txt"
  echo "$name: $(( $(date +%s) - start )) s" >&2
done
