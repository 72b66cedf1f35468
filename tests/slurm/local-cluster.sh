#!/usr/bin/env bash
# Starts, stops and injects faults into a real single-node Slurm cluster whose whole state lives under one folder.
#
#   local-cluster.sh start DIR          generate DIR/slurm.conf, start munged, slurmctld and slurmd, wait for a job to run
#   local-cluster.sh stop DIR           stop the daemons started for DIR (by their pid files) and the jobs they run
#   local-cluster.sh kill-slurmd DIR    kill -9 slurmd and the job steps it started (the node "fails")
#   local-cluster.sh start-slurmd DIR   start slurmd again and return the node to service
#   local-cluster.sh env DIR            print the shell lines a client needs (eval "$(local-cluster.sh env DIR)")
#
# The daemons keep every file they write (state, spool, logs, pid files, munge key and socket) under DIR;
# /etc/slurm and /etc/munge are neither read nor written.
# Several clusters (different DIRs) may run at once: each picks its own free TCP ports.

set -u

readonly NODE_NAME=mirtune-node
readonly PARTITION_NAME=main
readonly START_TIMEOUT_S=30
readonly STOP_TIMEOUT_S=20

usage() {
    echo "usage: $0 start|stop|kill-slurmd|start-slurmd|env DIR" >&2
    exit 64
}

fail() {
    echo "local-cluster.sh: $*" >&2
    exit 1
}

# --- paths -------------------------------------------------------------------------------------------------

setPaths() {
    CONF=$DIR/slurm.conf
    MUNGE_DIR=$DIR/munge
    MUNGE_KEY=$MUNGE_DIR/munge.key
    MUNGE_SOCKET=$MUNGE_DIR/munge.socket
    MUNGE_PID=$MUNGE_DIR/munged.pid
    MUNGE_LOG=$MUNGE_DIR/munged.log
    MUNGE_SEED=$MUNGE_DIR/munged.seed
    LOG_DIR=$DIR/log
    RUN_DIR=$DIR/run
    STATE_DIR=$DIR/state
    SPOOL_DIR=$DIR/spool
    CTLD_PID=$RUN_DIR/slurmctld.pid
    SLURMD_PID=$RUN_DIR/slurmd.pid
    CTLD_LOG=$LOG_DIR/slurmctld.log
    SLURMD_LOG=$LOG_DIR/slurmd.log
    JOBCOMP=$DIR/jobcomp.txt
}

# --- processes -----------------------------------------------------------------------------------------------

# Prints the file that program $1 really is (Debian installs e.g. slurmd as an alternative of slurmd-wlm).
programFile() {
    local path
    path=$(command -v "$1" 2>/dev/null) || path=/usr/sbin/$1
    readlink -f "$path"
}

# Prints the pid stored in pid file $1 when that process is alive and runs program $2; prints nothing otherwise.
livePid() {
    local pidFile=$1 program=$2 pid exe
    [ -r "$pidFile" ] || return 0
    pid=$(tr -dc '0-9' <"$pidFile")
    [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 0
    # Guards against a recycled pid: the process must still be the daemon that wrote the file.
    exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 0
    case "$exe" in
        "$(programFile "$program")" | "$(programFile "$program") (deleted)") echo "$pid" ;;
    esac
}

# Prints the state letter of process $1 (R, S, D, Z, ...); nothing when there is no such process.
processState() {
    # The command name in field 2 may hold blanks and parentheses; the state follows the last ") ".
    sed -n 's/^.*) \([A-Za-z]\) .*$/\1/p' "/proc/$1/stat" 2>/dev/null
}

# Waits up to $2 seconds until process $1 is gone; returns non-zero if it is still there.
# A zombie counts as gone: an init that does not reap leaves exited daemons as zombies.
waitGone() {
    local pid=$1 deadline=$((SECONDS + $2)) state
    while [ -d "/proc/$pid" ]; do
        state=$(processState "$pid")
        [ "$state" = Z ] && return 0
        [ -z "$state" ] && [ ! -d "/proc/$pid" ] && return 0
        [ "$SECONDS" -ge "$deadline" ] && return 1
        sleep 0.1
    done
    return 0
}

# Sends signal $2 to the daemon of pid file $1 (program $3) and waits until it has exited.
stopDaemon() {
    local pidFile=$1 signal=$2 program=$3 pid
    pid=$(livePid "$pidFile" "$program")
    [ -n "$pid" ] || return 0
    kill "-$signal" "$pid" 2>/dev/null
    if ! waitGone "$pid" "$STOP_TIMEOUT_S"; then
        kill -KILL "$pid" 2>/dev/null
        waitGone "$pid" 5 || fail "$program (pid $pid) does not exit"
    fi
}

# Prints the pids of this cluster's slurmstepd processes and of all their descendants (the jobs' processes).
# A slurmstepd belongs to this cluster when it holds a file under DIR open (slurmd's log) or works in DIR.
jobProcesses() {
    local stepd stepds="" p f
    stepd=$(programFile slurmstepd)
    for p in /proc/[0-9]*; do
        [ "$(readlink "$p/exe" 2>/dev/null)" = "$stepd" ] || continue
        for f in "$p/cwd" "$p"/fd/*; do
            case "$(readlink "$f" 2>/dev/null)" in
                "$DIR" | "$DIR"/*) stepds="$stepds ${p#/proc/}"; break ;;
            esac
        done
    done
    [ -n "$stepds" ] || return 0
    # Walks the parent links of every process once and prints the closure of the stepds under "child of".
    for p in /proc/[0-9]*/stat; do
        cat "$p" 2>/dev/null
    done | awk -v roots="$stepds" '
        {
            # The command name (field 2) may contain blanks; it ends at the last ")".
            line = $0; sub(/^.*\) /, "", line); split(line, rest, " ")
            parentOf[$1] = rest[2]
        }
        END {
            n = split(roots, r, " ")
            for (i = 1; i <= n; ++i) keep[r[i]] = 1
            changed = 1
            while (changed) {
                changed = 0
                for (pid in parentOf) if (!(pid in keep) && (parentOf[pid] in keep)) { keep[pid] = 1; changed = 1 }
            }
            for (pid in keep) print pid
        }'
}

killJobProcesses() {
    local pids p
    pids=$(jobProcesses)
    [ -n "$pids" ] || return 0
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null
    for p in $pids; do waitGone "$p" 5; done
    return 0
}

# --- configuration -------------------------------------------------------------------------------------------

requireSlurm() {
    local program
    for program in munged slurmctld slurmd slurmstepd sinfo srun sbatch scontrol; do
        if ! command -v "$program" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$program" ]; then
            echo "Slurm is not installed: apt-get install slurm-wlm munge" >&2
            exit 2
        fi
    done
}

# Prints $1 free TCP ports, outside the kernel's ephemeral range, each one bindable right now.
freePorts() {
    python3 - "$1" <<'EOF'
import random, socket, sys
count = int(sys.argv[1])
try:
    low, high = (int(x) for x in open("/proc/sys/net/ipv4/ip_local_port_range").read().split())
except OSError:
    low, high = 32768, 60999
candidates = [p for p in range(10000, 30000) if not low <= p <= high] or list(range(61000, 65000))
random.shuffle(candidates)
found = []
for port in candidates:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("0.0.0.0", port))
        found.append(port)
    except OSError:
        pass
    finally:
        s.close()
    if len(found) == count:
        break
print(" ".join(map(str, found)))
EOF
}

# Reads this machine's layout (slurmd -C, with nproc and /proc/meminfo as fall-back) into HW_* variables.
readHardware() {
    local line key value
    HW_CPUS=$(nproc)
    HW_SOCKETS=1
    HW_CORES=$HW_CPUS
    HW_THREADS=1
    HW_MEMORY=$(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo)
    line=$(slurmd -C 2>/dev/null | head -n 1)
    for key in CPUs SocketsPerBoard CoresPerSocket ThreadsPerCore RealMemory; do
        value=$(printf '%s\n' "$line" | tr ' ' '\n' | sed -n "s/^$key=\([0-9][0-9]*\)$/\1/p")
        [ -n "$value" ] || continue
        case $key in
            CPUs) HW_CPUS=$value ;;
            SocketsPerBoard) HW_SOCKETS=$value ;;
            CoresPerSocket) HW_CORES=$value ;;
            ThreadsPerCore) HW_THREADS=$value ;;
            RealMemory) HW_MEMORY=$value ;;
        esac
    done
    if [ $((HW_SOCKETS * HW_CORES * HW_THREADS)) -ne "$HW_CPUS" ]; then
        HW_SOCKETS=1 HW_CORES=$HW_CPUS HW_THREADS=1
    fi
}

# Task binding to cores works where sched_setaffinity does (not in every container).
affinityWorks() {
    command -v taskset >/dev/null 2>&1 && taskset -c 0 true 2>/dev/null
}

writeConfig() {
    local ctldPort=$1 slurmdPort=$2 host taskPlugin
    host=$(hostname -s)
    if affinityWorks; then taskPlugin=task/affinity; else taskPlugin=task/none; fi
    readHardware
    cat >"$CONF.new" <<EOF
# Generated by tests/slurm/local-cluster.sh for $DIR; rewritten on every start.
ClusterName=mirtune
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctldPort
SlurmdPort=$slurmdPort
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE_SOCKET
PlugStackConfig=$DIR/plugstack.conf

StateSaveLocation=$STATE_DIR
SlurmdSpoolDir=$SPOOL_DIR/%n
SlurmctldPidFile=$CTLD_PID
SlurmdPidFile=$SLURMD_PID
SlurmctldLogFile=$CTLD_LOG
SlurmdLogFile=$SLURMD_LOG
SlurmctldDebug=info
SlurmdDebug=info

ProctrackType=proctrack/linuxproc
TaskPlugin=$taskPlugin
SwitchType=switch/none
MpiDefault=none
MailProg=/bin/true

SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core

# Fast failure detection, fast clean-up: the fault tests wait on these.
ReturnToService=2
SlurmdTimeout=5
MessageTimeout=5
TCPTimeout=2
KillWait=2
MinJobAge=5
InactiveLimit=0
Waittime=0
OverTimeLimit=0
# A job on a failed node ends as NODE_FAIL instead of going back to the queue.
JobRequeue=0

JobCompType=jobcomp/filetxt
JobCompLoc=$JOBCOMP
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none

NodeName=$NODE_NAME NodeHostname=$host NodeAddr=127.0.0.1 CPUs=$HW_CPUS Sockets=$HW_SOCKETS CoresPerSocket=$HW_CORES ThreadsPerCore=$HW_THREADS RealMemory=$HW_MEMORY State=UNKNOWN
PartitionName=$PARTITION_NAME Nodes=$NODE_NAME Default=YES MaxTime=INFINITE State=UP
EOF
    mv "$CONF.new" "$CONF"
    # An empty plug-in stack keeps the system's /etc/slurm/plugstack.conf out of this cluster.
    [ -e "$DIR/plugstack.conf" ] || : >"$DIR/plugstack.conf"
}

# --- daemons -------------------------------------------------------------------------------------------------

# Runs daemon command $2... detached from the caller: its own session, no terminal, standard streams appended to
# file $1, and none of the caller's other open files (a test driver waiting for a pipe to close must not hang).
launchDetached() {
    local streams=$1
    shift
    (
        for fd in "/proc/$BASHPID"/fd/*; do
            fd=${fd##*/}
            [ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-" 2>/dev/null
        done
        exec setsid "$@" </dev/null >>"$streams" 2>&1
    )
}

startMunge() {
    if [ ! -s "$MUNGE_KEY" ]; then
        dd if=/dev/urandom of="$MUNGE_KEY.new" bs=1024 count=1 status=none || fail "cannot write $MUNGE_KEY"
        chmod 0400 "$MUNGE_KEY.new"
        mv "$MUNGE_KEY.new" "$MUNGE_KEY"
    fi
    chmod 0400 "$MUNGE_KEY"
    launchDetached "$LOG_DIR/munged.stderr" munged --force --key-file="$MUNGE_KEY" --socket="$MUNGE_SOCKET" \
        --pid-file="$MUNGE_PID" --log-file="$MUNGE_LOG" --seed-file="$MUNGE_SEED" || return 1
    local deadline=$((SECONDS + 10))
    until [ -S "$MUNGE_SOCKET" ] && [ -n "$(livePid "$MUNGE_PID" munged)" ]; do
        [ "$SECONDS" -ge "$deadline" ] && return 1
        sleep 0.1
    done
}

startCtld() {
    SLURM_CONF=$CONF launchDetached "$LOG_DIR/slurmctld.stderr" slurmctld -f "$CONF"
}

startSlurmd() {
    SLURM_CONF=$CONF launchDetached "$LOG_DIR/slurmd.stderr" slurmd -f "$CONF" -N "$NODE_NAME"
}

fileSize() {
    if [ -e "$1" ]; then wc -c <"$1"; else echo 0; fi
}

# Runs a Slurm client of this cluster with a bounded wait.
client() {
    SLURM_CONF=$CONF timeout 15 "$@"
}

nodeState() {
    client sinfo -h -N -n "$NODE_NAME" -o '%T' 2>/dev/null | head -n 1
}

# Waits until the node serves jobs (idle, mixed or allocated), returning a down or drained node to service;
# fails early when a daemon has exited. Sets WAIT_FAILURE to the reason when it returns non-zero.
waitForNode() {
    local launched=$SECONDS deadline=$((SECONDS + START_TIMEOUT_S)) state program pidFile
    while :; do
        state=$(nodeState)
        case "$state" in
            idle | mixed | allocated | completing) return 0 ;;
            down* | drain* | fail*)
                client scontrol update nodename="$NODE_NAME" state=resume >/dev/null 2>&1 ;;
        esac
        # The daemons write their pid files within moments of starting; after that, a missing one has exited.
        if [ $((SECONDS - launched)) -ge 2 ]; then
            for program in slurmctld slurmd; do
                pidFile=$CTLD_PID
                [ "$program" = slurmd ] && pidFile=$SLURMD_PID
                if [ -z "$(livePid "$pidFile" "$program")" ]; then
                    WAIT_FAILURE="$program exited"
                    return 1
                fi
            done
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            WAIT_FAILURE="the node is '${state:-unknown}' after ${START_TIMEOUT_S}s"
            return 1
        fi
        sleep 0.2
    done
}

# Waits until the node serves and a trivial job runs on it.
waitUntilServing() {
    waitForNode || return 1
    local out
    out=$(client srun -N 1 -n 1 -J local-cluster-probe -t 1 echo serving 2>&1)
    [ "$out" = serving ] && return 0
    WAIT_FAILURE="a probe job did not run: $out"
    return 1
}

showLogs() {
    local f
    for f in "$MUNGE_LOG" "$LOG_DIR/munged.stderr" "$CTLD_LOG" "$LOG_DIR/slurmctld.stderr" \
        "$SLURMD_LOG" "$LOG_DIR/slurmd.stderr"; do
        [ -s "$f" ] || continue
        echo "--- tail of $f" >&2
        tail -n 15 "$f" >&2
    done
}

stopAll() {
    # Jobs first, while the controller can still end them cleanly; then the daemons, then anything left over.
    if [ -n "$(livePid "$CTLD_PID" slurmctld)" ]; then
        if client scancel --user="$(id -un)" >/dev/null 2>&1; then
            local deadline=$((SECONDS + 5))
            while [ -n "$(jobProcesses)" ] && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
        fi
    fi
    stopDaemon "$SLURMD_PID" TERM slurmd
    killJobProcesses
    stopDaemon "$CTLD_PID" TERM slurmctld
    stopDaemon "$MUNGE_PID" TERM munged
}

# --- commands ------------------------------------------------------------------------------------------------

cmdStart() {
    requireSlurm
    mkdir -p "$DIR" || fail "cannot create $DIR"
    DIR=$(cd "$DIR" && pwd -P)
    setPaths
    if [ -n "$(livePid "$CTLD_PID" slurmctld)$(livePid "$SLURMD_PID" slurmd)$(livePid "$MUNGE_PID" munged)" ]; then
        fail "a cluster is already running in $DIR (stop it first)"
    fi
    # A unix socket path holds at most 107 bytes.
    [ "${#MUNGE_SOCKET}" -le 100 ] || fail "folder path too long for a unix socket: $MUNGE_SOCKET"
    mkdir -p "$MUNGE_DIR" "$LOG_DIR" "$RUN_DIR" "$STATE_DIR" "$SPOOL_DIR/$NODE_NAME" || fail "cannot populate $DIR"
    # Pid files of daemons that are gone (a crash, a reboot) would only mislead the checks below.
    rm -f "$CTLD_PID" "$SLURMD_PID" "$MUNGE_PID"
    # munged wants its socket folder searchable by all (clients of any user connect to it).
    chmod 0755 "$MUNGE_DIR"
    : >>"$JOBCOMP"

    # On failure the daemons are stopped first: the report goes to a stderr that may already be closed.
    startMunge || { stopAll; showLogs; fail "munged did not start"; }

    # Ports may be taken between choosing and binding (parallel clusters): a few tries with fresh ones.
    local attempt ports ctldLogSize slurmdLogSize
    for attempt in 1 2 3; do
        ports=$(freePorts 2)
        [ "$(echo "$ports" | wc -w)" -eq 2 ] || { stopAll; fail "no free TCP ports found"; }
        # shellcheck disable=SC2086
        writeConfig $ports
        ctldLogSize=$(fileSize "$CTLD_LOG")
        slurmdLogSize=$(fileSize "$SLURMD_LOG")
        WAIT_FAILURE=
        if ! startCtld; then
            WAIT_FAILURE="slurmctld did not start"
        elif ! startSlurmd; then
            WAIT_FAILURE="slurmd did not start"
        elif waitUntilServing; then
            return 0
        fi
        if { tail -c +$((ctldLogSize + 1)) "$CTLD_LOG"; tail -c +$((slurmdLogSize + 1)) "$SLURMD_LOG"; } 2>/dev/null |
            grep -q 'Address already in use' && [ "$attempt" -lt 3 ]; then
            stopDaemon "$SLURMD_PID" TERM slurmd
            stopDaemon "$CTLD_PID" TERM slurmctld
            continue
        fi
        break
    done
    stopAll
    echo "local-cluster.sh: the cluster in $DIR does not answer: $WAIT_FAILURE" >&2
    showLogs
    exit 1
}

existingDir() {
    [ -d "$DIR" ] || fail "no such folder: $DIR"
    DIR=$(cd "$DIR" && pwd -P)
    setPaths
}

cmdStop() {
    [ -d "$DIR" ] || return 0
    existingDir
    stopAll
    local program pidFile pid
    for program in slurmd slurmctld munged; do
        case $program in
            slurmd) pidFile=$SLURMD_PID ;;
            slurmctld) pidFile=$CTLD_PID ;;
            munged) pidFile=$MUNGE_PID ;;
        esac
        pid=$(livePid "$pidFile" "$program")
        [ -z "$pid" ] || fail "$program (pid $pid) of $DIR is still running"
    done
}

cmdKillSlurmd() {
    existingDir
    local pid
    pid=$(livePid "$SLURMD_PID" slurmd)
    [ -n "$pid" ] || fail "slurmd of $DIR is not running"
    kill -KILL "$pid"
    waitGone "$pid" 5
    # A failed node takes its jobs down with it: slurmstepd and the job processes would otherwise go on.
    killJobProcesses
}

cmdStartSlurmd() {
    existingDir
    requireSlurm
    [ -n "$(livePid "$CTLD_PID" slurmctld)" ] || fail "slurmctld of $DIR is not running (use start)"
    [ -z "$(livePid "$SLURMD_PID" slurmd)" ] || return 0
    rm -f "$SLURMD_PID"
    startSlurmd || { showLogs; fail "slurmd did not start"; }
    if ! waitForNode; then
        echo "local-cluster.sh: slurmd of $DIR restarted, but $WAIT_FAILURE" >&2
        showLogs
        exit 1
    fi
}

cmdEnv() {
    existingDir
    printf "export SLURM_CONF='%s'\n" "$CONF"
}

[ $# -eq 2 ] || usage
COMMAND=$1
DIR=$2
[ -n "$DIR" ] || usage
# slurm.conf has no quoting: a path with blanks or quotes cannot be written into it.
case "$DIR" in *[[:space:]\'\"]*) fail "the folder path must not contain blanks or quotes: $DIR" ;; esac
case "$COMMAND" in
    start) cmdStart ;;
    stop) cmdStop ;;
    kill-slurmd) cmdKillSlurmd ;;
    start-slurmd) cmdStartSlurmd ;;
    env) cmdEnv ;;
    *) usage ;;
esac
