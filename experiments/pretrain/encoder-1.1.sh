#!/usr/bin/env bash
# The mirencoder-1.1 candidates (experiments/RESULTS.md, "Encoder 1.1 candidates"): the corpus with LS-CAT
# kernels, three small encoders pretrained for the same steps (the paper's three objectives; plus module-property
# prediction; plus property prediction and -O-level contrast), each scored by grouped-score.sh beside the shipped
# mirencoder-1.0, and the shipped size pretrained on the grown corpus. Prints a Markdown table; keeps each run's
# manifest, log and scores in OUT_DIR.
# Usage: experiments/pretrain/encoder-1.1.sh WORK_DIR [BUILD_DIR] [OUT_DIR]
#   (needs every data set, csmith and python3; about 2 h on 2 cores: corpus 15, preparation 10, the three
#   small runs at once 25, the shipped size 30, scoring 20; WORK_DIR keeps the corpus and the models, and a rerun reuses what is there)
set -euo pipefail
work=${1:?usage: encoder-1.1.sh WORK_DIR [BUILD_DIR] [OUT_DIR]}
here=$(cd "$(dirname "$0")" && pwd)
build=${2:-$here/../../build}
out=${3:-$here/encoder-1.1}
mirtune="$build/bin/mirtune"
mkdir -p "$work" "$out"
export OMP_WAIT_POLICY=PASSIVE
[ -s "$work/corpus/manifest.jsonl" ] || "$mirtune" --quiet corpus build --out "$work/corpus" --limit-per-source 8000
size=(--model-dim 64 --token-layers 1 --attention-heads 2 --feed-forward-dim 128 --graph-layers 2 --embedding-dim 64)
runs=("d64-paper|" "d64-property|--property-weight 1" "d64-property-contrast|--property-weight 1 --contrastive-weight 1")
# The first run prepares the inputs (cached beside the corpus); the other two start once the cache is there.
pids=()
for entry in "${runs[@]}"; do
  name=${entry%%|*}
  read -r -a extra <<<"${entry#*|}"
  if [ ! -f "$work/$name/manifest.json" ]; then
    "$mirtune" --quiet pretrain --corpus "$work/corpus" --out "$work/$name" --epochs 1 --threads 1 --max-tokens 256 \
      --seed 1 "${size[@]}" "${extra[@]}" &
    pids+=($!)
    [ ${#pids[@]} -gt 1 ] || until ls "$work"/corpus/encoder-inputs-*.bin > /dev/null 2>&1; do sleep 20; done
  fi
done
for pid in "${pids[@]}"; do wait "$pid"; done
# The shipped size on the grown corpus for the shipped model's 1,986 steps: what the corpus alone changes.
[ -f "$work/d128-paper/manifest.json" ] ||
  "$mirtune" --quiet pretrain --corpus "$work/corpus" --out "$work/d128-paper" --epochs 1 --max-steps-per-epoch 1986 \
    --threads 2 --max-tokens 256 --seed 1
runs+=("d128-paper|")
echo "| encoder | devmap, kernels held out: oracle fraction AMD / NVIDIA (accuracy) | coarsen, kernel held out: fraction of oracle (mean speedup) | unroll, families held out | omp, app held out | mean |"
echo "|---|---|---|---|---|---|"
"$here/grouped-score.sh" "$here/../../embeddings/models/mirencoder-1.0" "$build" "$work/score-mirencoder-1.0"
for entry in "${runs[@]}"; do
  name=${entry%%|*}
  "$here/grouped-score.sh" "$work/$name" "$build" "$work/score-$name"
  mkdir -p "$out/$name"
  cp "$work/$name/manifest.json" "$work/$name/pretrain-log.jsonl" "$work/score-$name/score.json" "$out/$name/"
done
cp "$work/score-mirencoder-1.0/score.json" "$out/mirencoder-1.0-score.json"
