#!/usr/bin/env bash
# Replays a brute-forced Kernel Tuner cache (default: the RTX 2080 Ti convolution space) with every strategy of
# `mirtune tune` at budgets 20, 50 and 100, 20 seeded repeats each, and prints the median fraction of the optimum
# (with its quartiles) and the strategy's time per proposal.
#   experiments/tune/replay.sh [CACHE.json]
# Environment: MIRTUNE (the binary, default build/bin/mirtune), MIRTUNE_DATA (data sets, default ../shared/datasets
# beside the source tree), REPEATS (20), BUDGETS ("20 50 100"), SEED (0).
# The transfer strategy is run three times: with an earlier partial session of the same space (a seeded 5% sample of
# its timed records), with that sample's times inverted (a misleading history: its best is the space's worst), and
# with an unrelated session that shares no parameter (it must then behave as `model`).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mirtune=${MIRTUNE:-$root/build/bin/mirtune}
data=${MIRTUNE_DATA:-$root/../shared/datasets}
cache=${1:-$data/autotuning-spaces/convolution-rtx2080ti-cache.json}
repeats=${REPEATS:-20}
budgets=${BUDGETS:-20 50 100}
seed=${SEED:-0}
[ -x "$mirtune" ] || { echo "replay.sh: no mirtune binary at $mirtune (set MIRTUNE)" >&2; exit 1; }
[ -f "$cache" ] || { echo "replay.sh: no cache file at $cache (set MIRTUNE_DATA)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 "$here/subsample_cache.py" "$cache" "$work/same-space-5pct.json" 0.05 1
python3 - "$work/same-space-5pct.json" "$work/misleading-5pct.json" <<'PY'
import json, sys
cache = json.load(open(sys.argv[1]))
for record in cache["cache"].values():
    record["time"] = 1.0 / record["time"]
    record.pop("times", None)
json.dump(cache, open(sys.argv[2], "w"))
PY
python3 - "$work/unrelated.json" <<'PY'
import json, sys
records = {str(v): {"unrelated_parameter": v, "time": 1.0 + v, "compile_time": 0, "verification_time": 0,
                    "benchmark_time": 0, "strategy_time": 0, "framework_time": 0} for v in (1, 2, 3)}
json.dump({"device_name": "none", "kernel_name": "unrelated", "problem_size": [1],
           "tune_params_keys": ["unrelated_parameter"], "tune_params": {"unrelated_parameter": [1, 2, 3]},
           "cache": records}, open(sys.argv[1], "w"))
PY

echo "replay of $cache: $repeats repeats (seeds $seed..$((seed + repeats - 1))), $(date -u +%Y-%m-%dT%H:%MZ)"
echo "median fraction of the optimum [q1, q3] after N evaluations; strategy time per proposal"
printf '%-34s' "strategy"
for budget in $budgets; do printf '| %-22s' "N = $budget"; done
printf '| %s\n' "ms/proposal (N = max)"

row() {
  local label=$1
  shift
  printf '%-34s' "$label"
  local ms=""
  for budget in $budgets; do
    local json
    json=$(nice "$mirtune" tune --replay "$cache" --budget "$budget" --repeats "$repeats" --seed "$seed" --json "$@")
    printf '| %-22s' "$(python3 -c 'import json,sys; d=json.load(sys.stdin)["fraction_of_optimum"]; print("%.3f [%.3f, %.3f]" % (d["median"], d["q1"], d["q3"]))' <<<"$json")"
    ms=$(python3 -c 'import json,sys; print("%.1f" % (1000 * json.load(sys.stdin)["seconds_per_evaluation"]))' <<<"$json")
  done
  printf '| %s\n' "$ms"
}

row exhaustive --strategy exhaustive
row random --strategy random
row model --strategy model
row "transfer (5% of this space)" --strategy transfer --history "$work/same-space-5pct.json"
row "transfer (5%, inverted times)" --strategy transfer --history "$work/misleading-5pct.json"
row "transfer (no shared parameter)" --strategy transfer --history "$work/unrelated.json"
