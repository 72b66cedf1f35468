#!/usr/bin/env bash
# Collects the unroll data set on this machine (every configuration of one knob for the loops of N sampled
# NeuroVectorizer programs), writes tasks/unroll/data/unroll-<knob>-<platform>.csv and retrains the shipped head.
# Usage: experiments/unroll/collect.sh [BUILD_DIR] [PROGRAMS] [KNOB] [SUITES]
#   PROGRAMS defaults to 40, a quick pilot (about 7 s per program on 2 cores with the unroll knob, 13 s with
#   vectorize); the shipped data is `400 unroll neurovectorizer,openmp` and `200 vectorize` (about 1.5 h in all).
#   The same seed's larger sample starts with the smaller one, and --resume skips loops already measured, so a
#   pilot grows into the full collection. The database (and the unpacked corpus beside it) is $UNROLL_DB, default
#   ~/.local/share/mirtune/unroll.db.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
programs=${2:-40}
knob=${3:-unroll}
suites=${4:-neurovectorizer}
mirtune="$build/bin/mirtune"
db=${UNROLL_DB:-$HOME/.local/share/mirtune/unroll.db}
mkdir -p "$(dirname "$db")" "$root/tasks/unroll/data"
export OMP_WAIT_POLICY=PASSIVE
platform=$("$mirtune" --db "$db" platform --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["fingerprint"][:12])')
out="$root/tasks/unroll/data/unroll-$knob-$platform.csv"
start=$(date +%s)
"$mirtune" --db "$db" -v unroll collect --programs "$programs" --seed 1 --knob "$knob" --suites "$suites" --resume -o "$out"
echo "collected in $(( $(date +%s) - start )) s: $out" >&2
# The shipped head is rebuilt in place only because this script asks for it (train's default is the user's folder).
"$mirtune" --db "$db" unroll train --knob "$knob" --out "$root/tasks/unroll/models/unroll-1.0"
