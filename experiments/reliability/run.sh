#!/usr/bin/env bash
# Reliability figures (experiments/RESULTS.md, "Reliability"): the hostile-input corpus run through every command
# that reads a source (inputs x command lines, each refused cleanly), and the kill -9 fault injection (kills
# survived, per process kind), with the seeds given. Usage: experiments/reliability/run.sh [BUILD_DIR] [SEEDS...]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
shift || true
seeds=("$@")
[ ${#seeds[@]} -gt 0 ] || seeds=(1)

inputs=$("$build/bin/hostile_input_test" --gtest_list_tests | grep -c '^  ')
lines=$(grep -c '^      {{"' "$root/tests/cli/HostileInputTest.cpp")
start=$(date +%s)
if "$build/bin/hostile_input_test" --gtest_brief=1 > /tmp/mirtune-hostile.$$ 2>&1; then verdict=passed; else verdict=FAILED; fi
echo "hostile corpus: $inputs inputs x $lines command lines = $((inputs * lines)) runs, $verdict ($(( $(date +%s) - start )) s)"
[ "$verdict" = passed ] || tail -40 /tmp/mirtune-hostile.$$
rm -f /tmp/mirtune-hostile.$$

for seed in "${seeds[@]}"; do
  MIRTUNE_KILL_SEED=$seed "$build/bin/kill_test" 2>&1 | grep -E '^\[ kills|FAILED|PASSED' || true
done
