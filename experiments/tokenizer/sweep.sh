#!/usr/bin/env bash
# Tokenizer vocabulary sweep (experiments/RESULTS.md, "IR tokenizer"): trains BPE tokenizers of several sizes on
# a corpus and reports, for each, the training time and the token-sequence lengths of the devmap kernels.
# Usage: experiments/tokenizer/sweep.sh CORPUS_DIR [BUILD_DIR] [SIZES...]   (default sizes: 4000 8000 16000)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
corpus=${1:?usage: sweep.sh CORPUS_DIR [BUILD_DIR] [SIZES...]}
build=${2:-$root/build}
shift $(( $# >= 2 ? 2 : 1 ))
sizes=${*:-4000 8000 16000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --build "$build" --target mirtune bench_graph >/dev/null
printf '| vocabulary | training (s) | peak memory (MB) | devmap tokens per module: median | p95 | truncated at 512 |\n|---|---|---|---|---|---|\n'
for size in $sizes; do
  /usr/bin/time -f '%e %M' -o "$work/time" "$build/bin/mirtune" tokenizer train --corpus "$corpus" \
    --out "$work/v$size" --vocab-size "$size" >/dev/null 2>"$work/train.log"
  read -r seconds kilobytes < "$work/time"
  "$build/bin/bench_graph" --tokenizer "$work/v$size" --repeats 1 > "$work/bench.txt"
  median=$(awk '/^tokens per module/ {print $5}' "$work/bench.txt")
  p95=$(awk '/^tokens per module/ {print $7}' "$work/bench.txt")
  truncated=$(awk '/truncated/ {print $6"/"$8}' "$work/bench.txt")
  printf '| %s | %.0f | %d | %.0f | %.0f | %s |\n' "$size" "$seconds" $((kilobytes / 1024)) "$median" "$p95" "$truncated"
done
