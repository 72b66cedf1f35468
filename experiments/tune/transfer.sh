#!/usr/bin/env bash
# Does the transfer strategy pay its way on a kernel it has not seen? Leave one space out over the spaces that
# bruteforce.sh measured on one device: each space is replayed with `model` (this session's results only) and with
# `transfer` (the other spaces as earlier sessions of the same platform), once with the kernels' MIREncoder
# embeddings and once with all-zero embeddings (parameters alone), at small budgets, 20 seeded repeats.
#
# Usage: experiments/tune/transfer.sh [TAG]   (the device tag of spaces/<name>-<TAG>.json; default "pocl")
# Environment: MIRTUNE (default build/bin/mirtune), MIRTUNE_DATA, REPEATS (20), BUDGETS ("10 20").
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
mirtune="${MIRTUNE:-$root/build/bin/mirtune}"
tag="${1:-pocl}"
repeats="${REPEATS:-20}"
budgets="${BUDGETS:-10 20}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The kernel of each space (the data set's convolution as bruteforce.sh measured it).
"$here/convolution-1024.sh" "$work"
declare -A kernel=(
  [convolution]="$work/convolution.cl"
  [conv2d]="$root/kernels/tune/conv2d.cl"
  [convolution2d-local]="$root/kernels/opencl/convolution2d.cl"
  [matmul_naive-local]="$root/kernels/opencl/matmul_naive.cl"
)
names=(convolution conv2d convolution2d-local matmul_naive-local)

median() { python3 -c 'import json,sys; d=json.load(sys.stdin); print("%.3f" % d["fraction_of_optimum"]["median"])'; }

printf '| held-out space | budget | model | transfer, embeddings | transfer, no embeddings |\n|---|---|---|---|---|\n'
for held in "${names[@]}"; do
  cache="$here/spaces/$held-$tag.json"
  with=() without=()
  for other in "${names[@]}"; do
    [ "$other" = "$held" ] && continue
    with+=(--history "$here/spaces/$other-$tag.json=${kernel[$other]}")
    without+=(--history "$here/spaces/$other-$tag.json")
  done
  for budget in $budgets; do
    common=(--db "$work/embeddings.db" --quiet tune --replay "$cache" --budget "$budget" --repeats "$repeats" --json)
    m=$("$mirtune" "${common[@]}" --strategy model | median)
    t=$("$mirtune" "${common[@]}" --strategy transfer --kernel "${kernel[$held]}" "${with[@]}" | median)
    z=$("$mirtune" "${common[@]}" --strategy transfer "${without[@]}" | median)
    printf '| %s | %s | %s | %s | %s |\n' "$held" "$budget" "$m" "$t" "$z"
  done
done
