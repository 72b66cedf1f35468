#!/usr/bin/env bash
# Loss curves of a pretraining run (experiments/RESULTS.md, "MIREncoder pretraining"): reads the run's
# pretrain-log.jsonl and writes losses.png (per-step training losses) and held-out.png (per-epoch metrics).
# Usage: experiments/pretrain/plot.sh MODEL_DIR [OUT_DIR]   (needs gnuplot: apt-get install gnuplot-nox)
set -euo pipefail
model=${1:?usage: plot.sh MODEL_DIR [OUT_DIR]}
out=${2:-$(cd "$(dirname "$0")" && pwd)}
log="$model/pretrain-log.jsonl"
[ -f "$log" ] || { echo "plot.sh: $log not found" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Step records → "step loss mlm edge match"; epoch records → "epoch mlm_acc edge_auc match_acc".
python3 - "$log" "$work" <<'PY'
import json, sys
log, work = sys.argv[1], sys.argv[2]
with open(log) as f, open(work + "/steps.dat", "w") as steps, open(work + "/epochs.dat", "w") as epochs:
    for line in f:
        r = json.loads(line)
        if r.get("kind") == "epoch":
            epochs.write(f'{r["epoch"]} {r["held_out_masked_token_accuracy"]} {r["held_out_edge_auc"]} {r["held_out_match_accuracy"]}\n')
        elif "step" in r:
            steps.write(f'{r["step"]} {r["loss"]} {r["masked_token_loss"]} {r["edge_loss"]} {r["match_loss"]}\n')
PY
gnuplot <<GP
set terminal png size 900,500
set output "$out/losses.png"
set title "MIREncoder pretraining: training losses"
set xlabel "step"; set ylabel "loss"; set key top right; set grid
plot "$work/steps.dat" using 1:3 with lines title "masked tokens", \
     "$work/steps.dat" using 1:4 with lines title "edge reconstruction", \
     "$work/steps.dat" using 1:5 with lines title "IR-graph matching"
set output "$out/held-out.png"
set title "MIREncoder pretraining: held-out programs"
set xlabel "epoch"; set ylabel "metric"; set yrange [0:1]; set key bottom right
plot "$work/epochs.dat" using 1:2 with linespoints title "masked-token accuracy", \
     "$work/epochs.dat" using 1:3 with linespoints title "edge AUC", \
     "$work/epochs.dat" using 1:4 with linespoints title "matching accuracy"
GP
echo "wrote $out/losses.png and $out/held-out.png"
