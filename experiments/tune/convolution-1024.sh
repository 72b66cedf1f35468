#!/usr/bin/env bash
# Writes the data set's OpenCL convolution kernel with its image reduced from 4096 x 4096 to 1024 x 1024 (the kernel
# fixes the size with #define, so a -D option cannot change it) into FOLDER/convolution.cl, for bruteforce.sh and
# transfer.sh. Usage: convolution-1024.sh FOLDER   (MIRTUNE_DATA: the data sets, default ../shared/datasets)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
data="${MIRTUNE_DATA:-$root/../shared/datasets}/autotuning-spaces"
sed -e 's/^#define image_height 4096$/#define image_height 1024/' -e 's/^#define image_width 4096$/#define image_width 1024/' \
  "$data/convolution.cl" > "$1/convolution.cl"
grep -q '^#define image_height 1024$' "$1/convolution.cl" || { echo "$data/convolution.cl: image size not found" >&2; exit 1; }
