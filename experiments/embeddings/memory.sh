#!/usr/bin/env bash
# Peak memory of embedding one large module (experiments/RESULTS.md, "Embedding cost"): writes a C file of
# FUNCTIONS generated loop functions (156 give about 50,000 instructions at -O0), then embeds it with
# /usr/bin/time -v. Usage: experiments/embeddings/memory.sh [BUILD_DIR] [FUNCTIONS]
set -euo pipefail
build=${1:-$(cd "$(dirname "$0")/../.." && pwd)/build}
functions=${2:-156}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for ((f = 0; f < functions; ++f)); do
  echo "double f$f(double* a, double* b, int n) { double s = 0;"
  echo "  for (int i = 0; i < n; ++i) {"
  for ((k = 0; k < 12; ++k)); do
    echo "    s += a[i] * $((k + 1)).5 - b[(i + $k) % n] / (a[i] + $k.25);"
  done
  echo "  }"
  echo "  return s; }"
done >"$work/big.c"
echo "instructions: $("$build/bin/mirtune" ir "$work/big.c" -O0 --json | grep -o '"instructions": *[0-9]*' | grep -o '[0-9]*$')"
/usr/bin/time -v "$build/bin/mirtune" embed "$work/big.c" -O0 --no-cache --threads 1 -o "$work/out.json" 2>&1 |
  grep -E "Maximum resident set size|Elapsed \(wall clock\)"
