#!/usr/bin/env bash
# What a campaign's scheduler costs, and what a node failure loses: the 224 plan folders of the axpy_items space
# (specs/) exported once, then measured by the serial run-all.sh, by `mirtune campaign --scheduler local` (one worker;
# two workers on one core each) and through a real single-node Slurm (tests/slurm/local-cluster.sh: whole node per
# task, and one core per task). Last, the fault run: slurmd killed while a third of the plans are done, restarted,
# `campaign resubmit` for what failed, and `tune --ingest` twice; every plan must end in the database exactly once.
# PoCL's kernel cache is off in every run so that each measures the same work. Run it alone on the machine.
#
# Usage: experiments/campaign/measure.sh [OUT.json]   (default experiments/campaign/results/campaign.json)
# Environment: MIRTUNE (default build/bin/mirtune), MIRTUNE_RUN (default beside it).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
mirtune="${MIRTUNE:-$root/build/bin/mirtune}"
runner="${MIRTUNE_RUN:-$(dirname "$mirtune")/mirtune-run}"
out="${1:-$here/results/campaign.json}"
cluster_script="$root/tests/slurm/local-cluster.sh"
spec="$here/specs/axpy_items.t1.json"
# Short paths: the cluster's munge socket path must fit a unix socket name.
work="$(mktemp -d /tmp/mc.XXXXXX)"
cluster="$work/c"
export POCL_KERNEL_CACHE=0
cleanup() {
  bash "$cluster_script" stop "$cluster" > /dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

"$mirtune" --quiet --db "$work/export.db" tune "$spec" --strategy exhaustive --budget 0 --export "$work/export" > /dev/null
plans=$(find "$work/export" -mindepth 2 -maxdepth 2 -name plan.json | wc -l)
echo "== $plans plan folders" >&2

now() { date +%s.%N; }
fresh() { rm -rf "$work/$1"; cp -r "$work/export" "$work/$1"; echo "$work/$1"; }
# Seconds the plan folders ran, summed from the campaign's end records, and how many ended done.
folder_seconds() { cat "$1"/campaign/state/*.end | python3 -c '
import json, sys
ends = [json.loads(line) for line in sys.stdin if line.strip()]
print(sum(e["seconds"] for e in ends), sum(e["state"] == "done" for e in ends))'; }

declare -A wall
echo "== serial run-all.sh" >&2
dir=$(fresh serial); start=$(now)
sh "$dir/run-all.sh" "$runner" > /dev/null 2> "$work/serial.err"
wall[serial]=$(echo "$(now) - $start" | bc)

echo "== local, 1 worker" >&2
dir=$(fresh local1); start=$(now)
"$mirtune" --quiet campaign submit "$dir" --scheduler local > /dev/null
wall[local1]=$(echo "$(now) - $start" | bc)

echo "== local, 2 workers of 1 core" >&2
dir=$(fresh local2); start=$(now)
"$mirtune" --quiet campaign submit "$dir" --scheduler local --max-parallel 2 --cpus-per-plan 1 > /dev/null
wall[local2]=$(echo "$(now) - $start" | bc)

bash "$cluster_script" start "$cluster"
eval "$(bash "$cluster_script" env "$cluster")"
echo "== Slurm, whole node per task" >&2
dir=$(fresh slurm_node); start=$(now)
"$mirtune" --quiet campaign submit "$dir" > /dev/null
"$mirtune" --quiet campaign wait "$dir" --poll 0.5 > /dev/null
wall[slurm_node]=$(echo "$(now) - $start" | bc)

echo "== Slurm, one core per task" >&2
dir=$(fresh slurm_core); start=$(now)
"$mirtune" --quiet campaign submit "$dir" --cpus-per-plan 1 > /dev/null
"$mirtune" --quiet campaign wait "$dir" --poll 0.5 > /dev/null
wall[slurm_core]=$(echo "$(now) - $start" | bc)

echo "== fault: slurmd killed mid-campaign" >&2
dir=$(fresh fault); start=$(now)
"$mirtune" --quiet campaign submit "$dir" --cpus-per-plan 1 > /dev/null
until [ "$(ls "$dir"/campaign/state/ | grep -c '\.end$')" -ge $(( plans / 3 )) ]; do sleep 0.2; done
bash "$cluster_script" kill-slurmd "$cluster"
killed_at=$(ls "$dir"/campaign/state/ | grep -c '\.end$')
sleep 5
bash "$cluster_script" start-slurmd "$cluster"
"$mirtune" --quiet campaign wait "$dir" --poll 0.5 > /dev/null || true
"$mirtune" campaign status "$dir" --json > "$work/fault-status.json"
db="$work/fault.db"
set +e
"$mirtune" --quiet --db "$db" tune "$spec" --ingest "$dir" > "$work/ingest-1.txt" 2>&1
ingest_first=$?
"$mirtune" --quiet campaign resubmit "$dir" --json > "$work/resubmit.json"
"$mirtune" --quiet campaign wait "$dir" --poll 0.5 > /dev/null
waited=$?
"$mirtune" --quiet --db "$db" tune "$spec" --ingest "$dir" > "$work/ingest-2.txt" 2>&1
ingest_second=$?
"$mirtune" --quiet --db "$db" tune "$spec" --ingest "$dir" > "$work/ingest-3.txt" 2>&1
ingest_third=$?
set -e
wall[fault]=$(echo "$(now) - $start" | bc)
"$mirtune" --quiet --db "$db" db export --table measurements --format json > "$work/measurements.json"

mkdir -p "$(dirname "$out")"
python3 - "$work" "$plans" "$out" "$killed_at" "$ingest_first" "$waited" "$ingest_second" "$ingest_third" \
  "${wall[serial]}" "${wall[local1]}" "${wall[local2]}" "${wall[slurm_node]}" "${wall[slurm_core]}" "${wall[fault]}" <<'EOF'
import json, subprocess, sys, platform, collections
(work, plans, out, killed_at, ingest_first, waited, ingest_second, ingest_third,
 serial, local1, local2, slurm_node, slurm_core, fault) = sys.argv[1:]
plans = int(plans)
walls = {"serial_run_all": float(serial), "local_1_worker": float(local1), "local_2_workers_1_core": float(local2),
         "slurm_whole_node": float(slurm_node), "slurm_1_core": float(slurm_core)}
status = json.load(open(f"{work}/fault-status.json"))
resubmit = json.load(open(f"{work}/resubmit.json"))
rows = json.load(open(f"{work}/measurements.json"))
keys = collections.Counter(row["ingest_key"] for row in rows)
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
result = {
    "plans": plans, "cpu": cpu, "cores": int(subprocess.check_output(["nproc"]).decode()),
    "wall_seconds": walls,
    "overhead_per_plan_seconds": {
        "local_1_worker": (walls["local_1_worker"] - walls["serial_run_all"]) / plans,
        "slurm_whole_node": (walls["slurm_whole_node"] - walls["serial_run_all"]) / plans},
    "fault": {"ended_before_kill": int(killed_at), "after_restart": status["counts"],
              "failed_reasons": collections.Counter(p["reason"] for p in status["plans"] if p["state"] == "failed"),
              "resubmitted": resubmit["plan_folders"], "first_ingest_exit": int(ingest_first),
              "wait_after_resubmit_exit": int(waited), "second_ingest_exit": int(ingest_second),
              "third_ingest_exit": int(ingest_third), "rows": len(rows), "distinct_keys": len(keys),
              "duplicated_keys": sum(1 for c in keys.values() if c > 1), "rows_lost": plans - len(keys),
              "wall_seconds": float(fault)},
}
json.dump(result, open(out, "w"), indent=2)
print(json.dumps(result, indent=2))
EOF
