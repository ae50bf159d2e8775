#!/usr/bin/env bash
# The shipped sweep on a real Slurm. Installs Debian's slurm-wlm and munge, starts a one-node
# cluster on this machine in a temporary folder (scripts/slurm/local-cluster.sh: munged, slurmctld
# and slurmd from a generated slurm.conf, on their own socket and ports), writes the job array of
# scenarios/sweep-dirty-rate.toml
# with `migsim sweep --emit-slurm --tasks 4`, submits it with one task made to fail, checks that
# the task failed and the merge job waits, reruns that task alone (`rerun 2`), waits for the merge
# job, and checks that the merged sweep.csv and summary.csv are byte-identical to the sweep run in
# one process. The daemons are stopped however it ends.
#
# Where Slurm cannot be installed or its daemons do not start, it says why in one line and exits 0.
# Needs root (apt-get and the daemons). Usage: scripts/slurm/ci-test.sh [MIGSIM_BINARY]
set -euo pipefail
cd "$(dirname "$0")/../.."
started=$SECONDS
MIGSIM=$(readlink -f "${1:-target/release/migsim}")
SCENARIO=scenarios/sweep-dirty-rate.toml
TASKS=4
# Time bound of each wait for jobs, in seconds (the whole array takes a few seconds).
WAIT=180

skip() {
    echo "slurm test skipped: $*"
    ok=1
    exit 0
}
[ "$(id -u)" = 0 ] || skip "it needs root to install Slurm and start its daemons"
[ -x "$MIGSIM" ] || { echo "slurm test: $MIGSIM not found; build it first (cargo build --release)" >&2; exit 1; }

W=$(mktemp -d /tmp/migsim-slurm.XXXXXX)
chmod 755 "$W"
mkdir -p "$W/log"
ok=0
started_cluster=0
cleanup() {
    if [ "$started_cluster" = 1 ]; then
        [ "$ok" = 1 ] || cp -r "$MIGSIM_SLURM_DIR/log" "$W/log/cluster" 2> /dev/null || true
        scripts/slurm/local-cluster.sh stop
    fi
    if [ "$ok" = 1 ]; then
        rm -rf "$W"
    else
        echo "slurm test: logs kept in $W/log and $W/results/sweep-dirty-rate/slurm" >&2
    fi
}
trap cleanup EXIT

# Install, without letting the packages start their services (no init system here; the test starts
# its own daemons).
t0=$SECONDS
if ! command -v slurmctld > /dev/null || ! command -v slurmd > /dev/null || ! command -v munged > /dev/null; then
    policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && policy=1
    fi
    installed=1
    apt=(apt-get -o DPkg::Lock::Timeout=300 -qq)
    { "${apt[@]}" update && DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y --no-install-recommends slurm-wlm munge; } \
        > "$W/log/apt.log" 2>&1 || installed=0
    [ "$policy" = 0 ] || rm -f /usr/sbin/policy-rc.d
    [ "$installed" = 1 ] || skip "apt-get could not install slurm-wlm and munge: $(tail -n 1 "$W/log/apt.log")"
fi
install_s=$((SECONDS - t0))

# The one-node cluster, in a folder of its own (scripts/slurm/local-cluster.sh).
export MIGSIM_SLURM_DIR="$W/cluster"
scripts/slurm/local-cluster.sh start > "$W/log/start.out" 2> "$W/log/start.err" \
    || skip "the daemons did not start: $(tail -n 1 "$W/log/start.err")"
started_cluster=1
export SLURM_CONF="$MIGSIM_SLURM_DIR/slurm.conf"
up_s=$((SECONDS - t0 - install_s))

fail() {
    echo "slurm test FAILED: $*" >&2
    tail -n 5 "$W"/results/sweep-dirty-rate/slurm/*.out "$MIGSIM_SLURM_DIR/log/slurmctld.log" >&2 2> /dev/null || true
    exit 1
}
# Wait until none of the jobs $@ is pending or running, or fail after WAIT seconds.
wait_jobs() {
    local until=$((SECONDS + WAIT)) ids
    ids=$(IFS=,; echo "$*")
    while [ -n "$(squeue -h -j "$ids" -t PENDING,RUNNING,CONFIGURING,COMPLETING -o %i 2> /dev/null)" ]; do
        [ "$SECONDS" -lt "$until" ] || fail "jobs $ids still queued after ${WAIT} s: $(squeue -h -j "$ids" -o '%i %T %r' | tr '\n' ';')"
        sleep 1
    done
}
# The states of the job $1's tasks, `task=STATE` one a line (from slurmctld's memory: no accounting).
states() {
    scontrol -o show job "$1" | sed -E 's/.*ArrayTaskId=([0-9]+) .*JobState=([A-Z_]+).*/\1=\2/' | sort
}

# The reference: the same sweep in one process.
"$MIGSIM" sweep "$SCENARIO" --out "$W/local" --quiet --no-charts 2> /dev/null

# The array, with task 2 made to fail: a file where its shard folder goes.
"$MIGSIM" sweep "$SCENARIO" --out "$W/results" --emit-slurm "$W/sweep.sbatch" --tasks "$TASKS" \
    --cpus-per-task 1 --mem 1G --time 10 --partition debug 2> /dev/null
R="$W/results/sweep-dirty-rate"
touch "$R/shard-2-of-$TASKS"
t1=$SECONDS
"$W/sweep.sbatch" > "$W/log/submit.out" || fail "submitting: $(cat "$W/log/submit.out")"
array=$(sed -nE 's/^submitted array job ([0-9]+).*/\1/p' "$W/log/submit.out")
merge=$(cat "$R/slurm/merge.jobid")
wait_jobs "$array"
got=$(states "$array" | tr '\n' ' ')
[ "$got" = "1=COMPLETED 2=FAILED 3=COMPLETED 4=COMPLETED " ] || fail "array $array: expected task 2 alone to fail, got: $got"
grep -q "cannot create" "$R"/slurm/migsim-sweep-dirty-rate-"$array"_2.out || fail "task 2's log does not say why it failed"
# The merge job must not run: it stays pending (its reason turns from Dependency to
# DependencyNeverSatisfied once slurmctld re-evaluates it).
merge_state=$(squeue -h -j "$merge" -o '%T %r')
case "$merge_state" in
    "PENDING Dependency"*) ;;
    *) fail "merge job $merge: expected it to wait for the failed task, squeue says '$merge_state'" ;;
esac

# Fix the cause, rerun task 2 alone; the shards already done stay as they are.
rm "$R/shard-2-of-$TASKS"
before=$(stat -c %Y:%s "$R"/shard-{1,3,4}-of-$TASKS/sweep.csv)
"$W/sweep.sbatch" rerun 2 > "$W/log/rerun.out" || fail "rerun: $(cat "$W/log/rerun.out")"
grep -q "cancelled merge job $merge" "$W/log/rerun.out" || fail "rerun did not cancel the waiting merge job: $(cat "$W/log/rerun.out")"
array2=$(sed -nE 's/^submitted array job ([0-9]+).*/\1/p' "$W/log/rerun.out")
merge2=$(cat "$R/slurm/merge.jobid")
wait_jobs "$array2" "$merge2"
[ "$(states "$array2")" = "2=COMPLETED" ] || fail "rerun $array2: $(states "$array2" | tr '\n' ' ')"
[ "$(states "$merge2")" = "0=COMPLETED" ] || fail "merge job $merge2: $(states "$merge2")"
[ "$(stat -c %Y:%s "$R"/shard-{1,3,4}-of-$TASKS/sweep.csv)" = "$before" ] || fail "the rerun touched shards that were done"
jobs_s=$((SECONDS - t1))

cmp "$R/sweep.csv" "$W/local/sweep-dirty-rate/sweep.csv" || fail "the merged sweep.csv differs from the one-process sweep"
cmp "$R/summary.csv" "$W/local/sweep-dirty-rate/summary.csv" || fail "the merged summary.csv differs from the one-process sweep"
ok=1
echo "slurm test: passed: $TASKS-task array on a one-node Slurm ($(sinfo -V)), task 2 failed and was rerun alone," \
    "merged sweep.csv ($(($(wc -l < "$R/sweep.csv") - 1)) rows) and summary.csv byte-identical to one process;" \
    "install ${install_s} s, daemons up ${up_s} s, jobs ${jobs_s} s, total $((SECONDS - started)) s"
