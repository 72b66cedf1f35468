#!/usr/bin/env bash
# The grouped score of an encoder over the four tasks (experiments/RESULTS.md, "Encoder 1.1"): each task's
# learned head on the encoder's fused embedding, evaluated only on code its training did not see, as a fraction of
# the oracle, then the mean of the four. The rule for keeping an encoder change: this mean must improve.
#   devmap:  kernels held out (every input size of a kernel in one fold), XGBoost heads; mean of AMD and NVIDIA
#   coarsen: leave one kernel out, the XGBoost classifier (factor form, pooled); mean over the four GPUs
#   unroll:  whole program families held out; predicted factor
#   omp:     leave one application out; predicted configuration
# Usage: experiments/pretrain/grouped-score.sh ENCODER_DIR [BUILD_DIR] [OUT_DIR]
#   (needs the devmap, tcoarsening and neurovectorizer data sets and python3; about 5 min on 2 cores)
# Prints one Markdown row; OUT_DIR (default ENCODER_DIR/grouped-score) keeps each task's JSON and score.json.
set -euo pipefail
encoder=${1:?usage: grouped-score.sh ENCODER_DIR [BUILD_DIR] [OUT_DIR]}
here=$(cd "$(dirname "$0")" && pwd)
build=${2:-$here/../../build}
out=${3:-$encoder/grouped-score}
mirtune="$build/bin/mirtune"
mkdir -p "$out"
export OMP_WAIT_POLICY=PASSIVE
run() {  # NAME ARGS...: one evaluation, kept when already done
  local name=$1
  shift
  [ -s "$out/$name.json" ] || "$mirtune" --quiet "$@" --encoder "$encoder" --json -o "$out/$name.json"
}
run devmap devmap eval --split kernel --head-kind xgboost
run coarsen coarsen eval --method classifier --head-kind xgboost
run unroll unroll eval --group family
run omp omp eval
python3 - "$encoder" "$out" <<'PY'
import json, os, sys
encoder, out = sys.argv[1], sys.argv[2]
load = lambda name: json.load(open(os.path.join(out, name + ".json")))
d = load("devmap")["kernel"]
c = load("coarsen")
platforms = ["cypress", "tahiti", "fermi", "kepler"]
score = {
    "encoder": os.path.basename(os.path.normpath(encoder)),
    "devmap_amd": d["amd"]["oracle_fraction"],
    "devmap_nvidia": d["nvidia"]["oracle_fraction"],
    "devmap_accuracy_amd": d["amd"]["accuracy"],
    "devmap_accuracy_nvidia": d["nvidia"]["accuracy"],
    "coarsen": sum(c["platforms"][p]["fraction_of_oracle"] for p in platforms) / 4,
    "coarsen_mean_speedup": c["mean_speedup"],
    "unroll": load("unroll")["summary"]["percent_of_oracle"]["predict"] / 100,
    "omp": load("omp")["summary"]["percent_of_oracle"]["predict"] / 100,
}
score["devmap"] = (score["devmap_amd"] + score["devmap_nvidia"]) / 2
score["mean"] = (score["devmap"] + score["coarsen"] + score["unroll"] + score["omp"]) / 4
json.dump(score, open(os.path.join(out, "score.json"), "w"), indent=1)
print(f"| {score['encoder']} | {100*score['devmap_amd']:.1f} / {100*score['devmap_nvidia']:.1f} "
      f"({100*score['devmap_accuracy_amd']:.1f} / {100*score['devmap_accuracy_nvidia']:.1f} %) | "
      f"{100*score['coarsen']:.1f} ({score['coarsen_mean_speedup']:.3f}) | {100*score['unroll']:.1f} | "
      f"{100*score['omp']:.1f} | **{100*score['mean']:.1f}** |")
PY
