#!/usr/bin/env bash
# The library checks, end to end on a built tree: install to a prefix, build and run the consumer project against
# it, move the prefix and run the moved mirtune (info --json paths must all lie inside it, devmap must answer), count
# the command line's lines, look for task-to-task includes, and train coarsen heads with the defaults to see that the
# checkout stays clean. Prints one line per check and a summary; exits 1 when any check fails.
#
#   experiments/library/check.sh [BUILD_DIR]      (default: build)
set -uo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
work=$(mktemp -d /tmp/mirtune-library-check.XXXXXX)
trap 'rm -rf "$work"' EXIT
failed=0
say() { printf '%-44s %s\n' "$1" "$2"; }
check() { # name, then the command; its last output line is shown
  local name=$1; shift
  local out
  if out=$("$@" 2>&1); then say "$name" "ok ${out##*$'\n'}"; else say "$name" "FAILED"; echo "$out" | tail -20; failed=1; fi
}
export MIRTUNE_DB="$work/mirtune.db" XDG_DATA_HOME="$work/xdg"
unset MIRTUNE_SHARE MIRTUNE_MODELS MIRTUNE_RUNNER MIRTUNE_LIB_DIR

start=$(date +%s.%N)
check "cmake --install" cmake --install "$build" --prefix "$work/prefix"
say "install size" "$(du -sh "$work/prefix" | cut -f1), $(find "$work/prefix/include" -name '*.h' | wc -l) headers"
check "consumer: configure" cmake -S tests/install/consumer -B "$work/consumer" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$work/prefix"
check "consumer: build" cmake --build "$work/consumer" -j"$(nproc)"
consumer="$work/consumer/predict_device"
check "consumer: run on vector_add.cl" "$consumer" kernels/opencl/vector_add.cl

mv "$work/prefix" "$work/moved prefix"
moved="$work/moved prefix"
inside() {
  "$moved/bin/mirtune" info --json > "$work/info.json" || return 1
  python3 - "$work/info.json" "$moved" <<'EOF'
import json, sys
info, root = json.load(open(sys.argv[1])), sys.argv[2]
def walk(node, name):
    if isinstance(node, dict) and "path" in node:
        yield name, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, f"{name}.{key}" if name else key)
shipped = [(n, e) for n, e in walk(info["paths"], "") if n not in ("database", "datasets", "user_data")]
outside = [n for n, e in shipped if not e["path"].startswith(root + "/") or not e["exists"]]
if outside:
    sys.exit("outside the moved prefix or missing: " + ", ".join(outside))
print(f"{len(shipped)} shipped paths inside the moved prefix")
EOF
}
check "moved prefix: info --json" inside
check "moved prefix: devmap" "$moved/bin/mirtune" devmap kernels/opencl/matmul_tiled.cl

lines=$(cat src/cli/*.cpp src/cli/*.h | wc -l)
if [ "$lines" -le 3000 ]; then say "src/cli lines (goal <= 3000)" "ok $lines"; else say "src/cli lines (goal <= 3000)" "FAILED $lines"; failed=1; fi
# A task may include tasks/common and the generic tuner (tasks/tune, which `omp --app` runs through); the generic
# tuner includes no task, and no task includes another one.
sideways=$(for t in tasks/*/; do t=$(basename "$t"); [ "$t" = common ] && continue
  allowed="tasks/$t/\|tasks/common/"; [ "$t" = tune ] || allowed="$allowed\|tasks/tune/"
  grep -rn '#include "tasks/' "tasks/$t" | grep -v "$allowed"; done)
if [ -z "$sideways" ]; then say "task-to-task includes (beside tasks/tune)" "ok none"; else say "task-to-task includes (beside tasks/tune)" "FAILED"; echo "$sideways"; failed=1; fi

before=$(git status --porcelain)
check "coarsen train (defaults)" "$build/bin/mirtune" --quiet coarsen train
after=$(git status --porcelain)
if [ "$before" = "$after" ]; then say "git status after coarsen train" "ok unchanged"; else say "git status after coarsen train" "FAILED"; diff <(echo "$before") <(echo "$after"); failed=1; fi
say "wall time" "$(printf '%.0f s' "$(echo "$(date +%s.%N) - $start" | bc)")"
exit $failed
