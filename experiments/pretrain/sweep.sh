#!/usr/bin/env bash
# Layer-size sweep of the MIREncoder (experiments/RESULTS.md, "Layer-size sweep"): pretrains each size for the
# same number of steps on the same corpus, seed and held-out programs, then scores it on held-out pretraining
# metrics and downstream on device mapping (10-fold eval, XGBoost heads). Prints a Markdown table.
# Usage: experiments/pretrain/sweep.sh CORPUS_DIR [BUILD_DIR] [STEPS]   (STEPS per size, default 300)
set -euo pipefail
corpus=${1:?usage: sweep.sh CORPUS_DIR [BUILD_DIR] [STEPS]}
build=${2:-$(cd "$(dirname "$0")/../.." && pwd)/build}
steps=${3:-300}
mirtune="$build/bin/mirtune"
work=${SWEEP_DIR:-$(mktemp -d)}
export OMP_WAIT_POLICY=PASSIVE
# name | pretrain size options
sizes=(
  "d64-t1-g2|--model-dim 64 --token-layers 1 --heads 2 --feed-forward-dim 128 --graph-layers 2 --embedding-dim 64"
  "d128-t2-g3|--model-dim 128 --token-layers 2 --heads 4 --feed-forward-dim 256 --graph-layers 3 --embedding-dim 128"
  "d128-t4-g4|--model-dim 128 --token-layers 4 --heads 4 --feed-forward-dim 256 --graph-layers 4 --embedding-dim 128"
  "d192-t2-g3|--model-dim 192 --token-layers 2 --heads 4 --feed-forward-dim 384 --graph-layers 3 --embedding-dim 192"
)
echo "| size | parameters | pretrain s | held-out MLM acc | edge AUC | matching acc | devmap acc AMD | devmap acc NVIDIA | speedup AMD | speedup NVIDIA |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for entry in "${sizes[@]}"; do
  name=${entry%%|*}
  read -r -a options <<<"${entry#*|}"
  out="$work/$name"
  if [ ! -f "$out/manifest.json" ]; then
    "$mirtune" --quiet pretrain --corpus "$corpus" --out "$out" --epochs 1 --max-steps-per-epoch "$steps" \
      --threads 2 --max-tokens 256 --seed 1 "${options[@]}" >/dev/null
  fi
  "$mirtune" --quiet devmap eval --encoder "$out" --head-kind xgboost --no-cache --json -o "$out/devmap.json"
  python3 - "$out" "$name" <<'PY'
import json, sys
out, name = sys.argv[1], sys.argv[2]
m = json.load(open(f"{out}/manifest.json"))
e = m["metrics"][-1]
d = json.load(open(f"{out}/devmap.json"))["published"]
print(f"| {name} | {m['parameters']:,} | {e['seconds']:.0f} | {e['held_out_masked_token_accuracy']:.3f} | "
      f"{e['held_out_edge_auc']:.3f} | {e['held_out_match_accuracy']:.3f} | {100*d['amd']['accuracy']:.2f} | "
      f"{100*d['nvidia']['accuracy']:.2f} | {d['amd']['speedup']:.3f} | {d['nvidia']['speedup']:.3f} |")
PY
done
