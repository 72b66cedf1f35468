#!/usr/bin/env bash
# Smoke test of local-cluster.sh: a job array runs to completion, and a killed slurmd ends its array tasks as NODE_FAIL.
#
#   tests/slurm/cluster_smoke.sh        exit 0 when every check passed; the cluster folder is removed unless one failed
#
# Exit 2 when Slurm is not installed (so that a test driver can report the test as skipped).

set -u

HERE=$(cd "$(dirname "$0")" && pwd -P)
CLUSTER=$HERE/local-cluster.sh
DIR=$(mktemp -d "${TMPDIR:-/tmp}/mirtune-slurm.XXXXXX") || exit 1
FAILURES=0
STARTED=0

note() { echo "cluster_smoke: $*"; }
check() {
    # check DESCRIPTION COMMAND...: runs the command, counts a failure when it fails.
    local description=$1
    shift
    if "$@"; then
        note "ok   $description"
    else
        note "FAIL $description"
        FAILURES=$((FAILURES + 1))
    fi
}

finish() {
    local rc=$?
    [ "$STARTED" -eq 1 ] && "$CLUSTER" stop "$DIR"
    if [ "$FAILURES" -eq 0 ] && [ "$rc" -eq 0 ]; then
        rm -rf "$DIR"
    else
        note "cluster folder kept for inspection: $DIR"
    fi
}
trap finish EXIT

# A zombie (left to an init that does not reap) counts as gone.
isGone() {
    local state
    state=$(sed -n 's/^.*) \([A-Za-z]\) .*$/\1/p' "/proc/$1/stat" 2>/dev/null)
    [ ! -d "/proc/$1" ] || [ "$state" = Z ]
}

# Prints the live processes working in $DIR/jobs (the folder every job of this test runs in).
jobProcessesLeft() {
    local p state
    for p in /proc/[0-9]*; do
        case "$(readlink "$p/cwd" 2>/dev/null)" in
            "$DIR/jobs" | "$DIR/jobs/"*)
                state=$(sed -n 's/^.*) \([A-Za-z]\) .*$/\1/p' "$p/stat" 2>/dev/null)
                [ "$state" = Z ] || echo "${p#/proc/}"
                ;;
        esac
    done
}

noJobProcessesLeft() {
    local left
    left=$(jobProcessesLeft)
    [ -z "$left" ] && return 0
    note "job processes still alive: $(echo "$left" | tr '\n' ' ')"
    return 1
}

# Waits up to $2 seconds until squeue lists no task of job $1 in a state given by $3 (default: any state).
waitUntilGone() {
    local job=$1 limit=$2 states=${3:-} deadline=$((SECONDS + $2)) listed
    while :; do
        if [ -n "$states" ]; then
            listed=$(squeue -h -r -j "$job" -t "$states" -o '%i' 2>/dev/null)
        else
            listed=$(squeue -h -r -j "$job" -o '%i' 2>/dev/null)
        fi
        [ -z "$listed" ] && return 0
        [ "$SECONDS" -ge "$deadline" ] && { note "job $job still listed after ${limit}s: $listed"; return 1; }
        sleep 0.25
    done
}

# Waits up to $3 seconds until job $1 has $2 tasks RUNNING.
waitUntilRunning() {
    local job=$1 count=$2 deadline=$((SECONDS + $3))
    until [ "$(squeue -h -r -j "$job" -t RUNNING -o '%i' 2>/dev/null | wc -l)" -ge "$count" ]; do
        [ "$SECONDS" -ge "$deadline" ] && { note "job $job: fewer than $count tasks running after ${3}s"; return 1; }
        sleep 0.25
    done
}

# Prints the job state jobcomp.txt records for task $2 of array job $1 (empty while there is none).
completionState() {
    sed -n "/ ArrayJobId=$1 ArrayTaskId=$2 /s/.* JobState=\([A-Z_]*\) .*/\1/p" "$DIR/jobcomp.txt" | tail -n 1
}

# Waits up to $4 seconds until jobcomp.txt records state $3 for task $2 of array job $1.
expectCompletion() {
    local job=$1 task=$2 expected=$3 deadline=$((SECONDS + $4)) state
    while :; do
        state=$(completionState "$job" "$task")
        [ "$state" = "$expected" ] && return 0
        if [ "$SECONDS" -ge "$deadline" ]; then
            note "task ${job}_$task: jobcomp.txt says '${state:-nothing}', expected $expected"
            return 1
        fi
        sleep 0.25
    done
}

startTime=$SECONDS
"$CLUSTER" start "$DIR"
rc=$?
if [ "$rc" -eq 2 ]; then
    note "skipped: Slurm is not installed"
    exit 2
fi
[ "$rc" -eq 0 ] || { note "FAIL local-cluster.sh start exited with $rc"; exit 1; }
STARTED=1
note "cluster up in $((SECONDS - startTime))s"
eval "$("$CLUSTER" env "$DIR")"

# --- a throttled job array runs every task -----------------------------------------------------------------
mkdir -p "$DIR/out" "$DIR/jobs"
phase=$SECONDS
array=$(sbatch --parsable --chdir="$DIR/jobs" --array=0-5%3 --cpus-per-task=1 -o "$DIR/out/%A_%a.log" \
    --wrap "echo \"task \$SLURM_ARRAY_TASK_ID of \$SLURM_ARRAY_JOB_ID\" >'$DIR/out/'\$SLURM_ARRAY_TASK_ID")
check "sbatch --parsable prints a job id ($array)" test -n "$array"
check "job array $array leaves squeue" waitUntilGone "$array" 60
for task in 0 1 2 3 4 5; do
    check "task $task wrote its output" grep -qx "task $task of $array" "$DIR/out/$task"
    check "task $task is COMPLETED in jobcomp.txt" expectCompletion "$array" "$task" COMPLETED 10
done
note "array of 6 tasks done in $((SECONDS - phase))s"

# --- a failing task and a cancelled task -------------------------------------------------------------------
phase=$SECONDS
# shellcheck disable=SC2016 # the job's shell expands the variable
mixed=$(sbatch --parsable --chdir="$DIR/jobs" --array=0-1 --cpus-per-task=1 -o /dev/null \
    --wrap 'if [ "$SLURM_ARRAY_TASK_ID" = 0 ]; then exit 3; fi; sleep 300')
check "task ${mixed}_1 starts" waitUntilRunning "${mixed}_1" 1 30
scancel "${mixed}_1"
check "task ${mixed}_0 (exit 3) is FAILED" expectCompletion "$mixed" 0 FAILED 20
check "task ${mixed}_1 (scancel) is CANCELLED" expectCompletion "$mixed" 1 CANCELLED 20
check "exit code 3 is recorded" grep -q " ArrayJobId=$mixed ArrayTaskId=0 .*ExitCode=3:0" "$DIR/jobcomp.txt"
note "failed and cancelled tasks done in $((SECONDS - phase))s"

# --- a killed slurmd ends the running tasks as NODE_FAIL -----------------------------------------------------
phase=$SECONDS
long=$(sbatch --parsable --chdir="$DIR/jobs" --array=0-3 --cpus-per-task=1 -o /dev/null --wrap 'sleep 300')
check "two tasks of $long run" waitUntilRunning "$long" 2 30
running=$(squeue -h -r -j "$long" -t RUNNING -o '%K' | sort -n | tr '\n' ' ')
note "squeue before the fault:"
squeue -h -r -j "$long" -o '%i|%K|%T|%r'
check "kill-slurmd" "$CLUSTER" kill-slurmd "$DIR"
killedAt=$SECONDS
check "kill-slurmd took the running tasks' processes with it" noJobProcessesLeft
check "running tasks leave squeue after the fault" waitUntilGone "$long" 60 RUNNING,COMPLETING
note "running tasks left squeue $((SECONDS - killedAt))s after kill-slurmd"
note "squeue after the fault:"
squeue -h -r -j "$long" -o '%i|%K|%T|%r'
note "sacct after the fault:"
sacct -j "$long" -n -P -o JobID,State,ExitCode 2>&1
note "jobcomp.txt after the fault:"
grep " ArrayJobId=$long " "$DIR/jobcomp.txt"
for task in $running; do
    check "task ${long}_$task is NODE_FAIL in jobcomp.txt" expectCompletion "$long" "$task" NODE_FAIL 10
done
check "start-slurmd" "$CLUSTER" start-slurmd "$DIR"
check "the node serves again" test "$(sinfo -h -N -o '%T' | head -n 1)" != down
check "the pending tasks of $long run after the restart" waitUntilRunning "$long" 2 30
scancel "$long"
check "job $long leaves squeue after scancel" waitUntilGone "$long" 30
note "fault case done in $((SECONDS - phase))s"

# --- stop leaves no daemon behind ----------------------------------------------------------------------------
pids=$(cat "$DIR/munge/munged.pid" "$DIR/run/slurmctld.pid" "$DIR/run/slurmd.pid" 2>/dev/null)
check "stop" "$CLUSTER" stop "$DIR"
STARTED=0
for pid in $pids; do
    check "daemon $pid has exited" isGone "$pid"
done
check "no job process outlives stop" noJobProcessesLeft
check "a second stop is harmless" "$CLUSTER" stop "$DIR"

note "total $((SECONDS - startTime))s, $FAILURES failed check(s)"
[ "$FAILURES" -eq 0 ]
