#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for trying a migsim job array on a laptop and for CI
# (scripts/slurm/ci-test.sh). It starts munged, slurmctld and slurmd by hand (no init system
# needed) from a slurm.conf it generates, with everything in one folder: its own munge key and
# socket, its own ports (16817, 16818), state, spool and logs. A system Slurm or munge, if any, is
# left alone. Needs root and Debian's (or Ubuntu's) packages: apt-get install slurm-wlm munge.
#
#   sudo scripts/slurm/local-cluster.sh start    # prints the line to give your shell: export SLURM_CONF=...
#   sudo scripts/slurm/local-cluster.sh stop     # stops the daemons and removes the folder
#
# The folder is $MIGSIM_SLURM_DIR, or /var/tmp/migsim-slurm. Jobs run as the user who submits them.
set -euo pipefail
D=${MIGSIM_SLURM_DIR:-/var/tmp/migsim-slurm}
CONF="$D/slurm.conf"

die() {
    echo "local-cluster: $*" >&2
    exit 1
}

# Stop what `start` started, by the pids in its pid files, and wait for each to go.
stop() {
    local f p
    for f in "$D/slurmd.pid" "$D/slurmctld.pid" "$D/munge/munged.pid"; do
        p=$(cat "$f" 2> /dev/null || true)
        [ -n "$p" ] || continue
        kill "$p" 2> /dev/null || continue
        for _ in $(seq 50); do
            kill -0 "$p" 2> /dev/null || break
            sleep 0.2
        done
        kill -9 "$p" 2> /dev/null || true
    done
    # Only a folder this script made (it holds its mark) is removed.
    if [ -e "$D/.migsim-local-cluster" ]; then
        rm -rf "$D"
    fi
}

stop_if_failed() {
    local rc=$?
    [ "$rc" = 0 ] || stop 2> /dev/null
}

last_log() {
    tail -n 1 "$D/log/$1" 2> /dev/null || echo "(no log)"
}

# Wait up to 10 s for the pid file $1.
wait_pid_file() {
    for _ in $(seq 50); do
        [ -s "$1" ] && return 0
        sleep 0.2
    done
    return 1
}

start() {
    [ "$(id -u)" = 0 ] || die "needs root (the daemons run as root and munge)"
    local missing=
    for c in munged slurmctld slurmd sbatch sinfo; do command -v "$c" > /dev/null || missing="$missing $c"; done
    [ -z "$missing" ] || die "not installed:$missing (apt-get install slurm-wlm munge)"
    id munge > /dev/null 2>&1 || die "no munge user (apt-get install munge)"
    [ ! -e "$D/slurmctld.pid" ] || die "$D holds a cluster already; stop it first"
    [ ! -e "$D" ] || [ -e "$D/.migsim-local-cluster" ] || die "$D exists and was not made by this script; choose another MIGSIM_SLURM_DIR"
    mkdir -p "$D/log" "$D/state" "$D/spool" "$D/munge"
    touch "$D/.migsim-local-cluster"
    chmod 755 "$D"
    # From here on, a failure stops what was started.
    trap stop_if_failed EXIT

    # munged, as the munge user, with a fresh key; everyone may reach its socket (submitting users).
    dd if=/dev/urandom bs=1 count=1024 of="$D/munge/munge.key" status=none
    chown -R munge:munge "$D/munge"
    chmod 755 "$D/munge"
    chmod 400 "$D/munge/munge.key"
    runuser -u munge -- munged --key-file="$D/munge/munge.key" --socket="$D/munge/munge.socket" \
        --pid-file="$D/munge/munged.pid" --log-file="$D/munge/munged.log" --seed-file="$D/munge/munged.seed" \
        > "$D/log/munged.out" 2>&1 || die "munged did not start: $(tail -n 1 "$D/log/munged.out")"

    local host mem
    host=$(hostname -s)
    # Slurm drains a node that has less memory than slurm.conf says: a little under the total.
    mem=$(($(free -m | awk '/^Mem:/ { print $2 }') * 9 / 10))
    cat > "$CONF" << CONF
# A one-node cluster written by scripts/slurm/local-cluster.sh.
ClusterName=migsim
SlurmctldHost=$host
SlurmctldPort=16817
SlurmdPort=16818
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$D/munge/munge.socket
StateSaveLocation=$D/state
SlurmdSpoolDir=$D/spool
SlurmctldPidFile=$D/slurmctld.pid
SlurmdPidFile=$D/slurmd.pid
SlurmctldLogFile=$D/log/slurmctld.log
SlurmdLogFile=$D/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
NodeName=$host CPUs=$(nproc) RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
    chmod 644 "$CONF"
    export SLURM_CONF="$CONF"
    slurmctld -f "$CONF" > "$D/log/slurmctld.out" 2>&1 || die "slurmctld did not start: $(last_log slurmctld.log)"
    wait_pid_file "$D/slurmctld.pid" || die "slurmctld did not start: $(last_log slurmctld.log)"
    slurmd -f "$CONF" > "$D/log/slurmd.out" 2>&1 || die "slurmd did not start: $(last_log slurmd.log)"
    wait_pid_file "$D/slurmd.pid" || die "slurmd did not start: $(last_log slurmd.log)"
    local state=
    for _ in $(seq 60); do
        state=$(sinfo -h -n "$host" -o %T 2> /dev/null || true)
        [ "$state" = idle ] && break
        # A daemon that dies after forking (a port in use, a bad line) says why in its log.
        kill -0 "$(cat "$D/slurmctld.pid")" 2> /dev/null || die "slurmctld stopped: $(last_log slurmctld.log)"
        kill -0 "$(cat "$D/slurmd.pid")" 2> /dev/null || die "slurmd stopped: $(last_log slurmd.log)"
        sleep 0.5
    done
    [ "$state" = idle ] || die "the node did not come up (state '${state:-none}'): $(last_log slurmctld.log)"
    echo "export SLURM_CONF=$CONF"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    *)
        echo "usage: $0 start|stop   (see the comments at the top)" >&2
        exit 2
        ;;
esac
