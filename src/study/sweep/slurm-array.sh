#!/bin/bash
# A Slurm job array for the migsim sweep `@NAME@`: @POINTS@, @RUNS@, in @TASKS@ tasks.
# Written by migsim @VERSION@ (`migsim sweep --emit-slurm`) from:
#   @COMMAND@
#
# Task I of the array runs shard I of @TASKS@ (`migsim sweep --shard I/@TASKS@`: @PER_TASK@) into
#   @RESULTS_TEXT@/shard-I-of-@TASKS@/
# A job that waits for the whole array (afterok) then merges the shards (sweep.csv, summary.csv and
# the charts) into
#   @RESULTS_TEXT@/
# The merged sweep.csv is the file one `migsim sweep` of the scenario would write.
#
# On the cluster's login node:
#   ./@SCRIPT@              submit the array and the merge job (prints their job ids)
#   ./@SCRIPT@ status       which shards are done, started or not started
#   ./@SCRIPT@ rerun 3,7    submit tasks 3 and 7 again, and a new merge job after them
#   ./@SCRIPT@ merge        merge here and now (every shard must be done)
#   ./@SCRIPT@ task 3       run shard 3 here, without Slurm
#   sbatch @SCRIPT@         submit the array alone (then `./@SCRIPT@ merge` once it is done)
#
# When a task fails or runs out of time, the merge job stays pending (squeue: reason
# DependencyNeverSatisfied); the task's log says why. The logs are in
#   @LOGS_TEXT@/
# Fix the cause and `./@SCRIPT@ rerun I`: it cancels that merge job, submits task I again and a
# merge job after it.
# A task keeps the rows it wrote in sweep.csv.partial and its rerun continues from there
# (--resume), so it costs only the runs not written yet; a shard already done is not run again.
#
# The #SBATCH lines are sbatch options (man sbatch); edit them here, or override one when
# submitting (`sbatch --time=4:00:00 @SCRIPT@`). The merge job uses the same ones.
@DIRECTIVES@

set -euo pipefail

# The migsim binary; the compute nodes must see it at this path (or run with MIGSIM=/path/to/migsim).
MIGSIM=${MIGSIM:-@MIGSIM@}
# The sweep: its scenario and the options that choose its points, seeds and strategies.
SWEEP=(@SWEEP@)
OUT=@OUT@
RESULTS=@RESULTS@
LOGS=@LOGS@
TASKS=@TASKS@
NAME=@JOBNAME@

# Cores for the simulations: the task's allocation, or every core outside Slurm.
cores() {
    echo "${SLURM_CPUS_PER_TASK:-$(nproc)}"
}

# Run shard $1 of TASKS here; an array task runs it with its SLURM_ARRAY_TASK_ID.
task() {
    exec "$MIGSIM" "${SWEEP[@]}" --out "$OUT" --shard "$1/$TASKS" --jobs "$(cores)" --no-charts --quiet --resume
}

# Join every shard's sweep.csv (their sweep.json beside them) into RESULTS.
merge() {
    local inputs=() i
    for ((i = 1; i <= TASKS; i++)); do
        inputs+=("$RESULTS/shard-$i-of-$TASKS/sweep.csv")
    done
    exec "$MIGSIM" merge "$RESULTS" "${inputs[@]}" --jobs "$(cores)"@MERGE_FLAGS@
}

# Submit the array tasks $1 (e.g. 1-8 or 3,7) and a merge job that runs once all of them succeeded.
submit() {
    if ! command -v sbatch > /dev/null; then
        echo "$0: sbatch not found: run this where Slurm's commands are (a login node), or run the shards here with: $0 task I" >&2
        exit 1
    fi
    local self array merge
    self=$(readlink -f "$0")
    mkdir -p "$LOGS"
    array=$(sbatch --parsable --array="$1" "$self")
    array=${array%%;*}
    # The merge job is this script again, as a one-task array so that it shares the #SBATCH lines.
    merge=$(sbatch --parsable --array=0 --job-name="$NAME-merge" --dependency="afterok:$array" "$self" merge)
    merge=${merge%%;*}
    echo "$merge" > "$LOGS/merge.jobid"
    echo "submitted array job $array (tasks $1 of $TASKS) and merge job $merge (runs once every task succeeded)"
    echo "logs in $LOGS/; the merged sweep will be $RESULTS/sweep.csv"
}

# Submit tasks $1 again, after cancelling the merge job that still waits for them.
rerun() {
    local old
    old=$(cat "$LOGS/merge.jobid" 2> /dev/null || true)
    if [ -n "$old" ] && [ -n "$(squeue -h -j "$old" -t PENDING -o %i 2> /dev/null)" ]; then
        scancel "$old"
        echo "cancelled merge job $old, which waited for the failed tasks"
    fi
    submit "$1"
}

# Which shards are done, started (running, or stopped part way) or not started.
status() {
    local i d done=0 rows
    for ((i = 1; i <= TASKS; i++)); do
        d="$RESULTS/shard-$i-of-$TASKS"
        if [ -f "$d/sweep.csv.partial" ]; then
            rows=$(($(wc -l < "$d/sweep.csv.partial") - 1))
            echo "shard $i: started, $((rows < 0 ? 0 : rows)) rows written (running, or stopped: rerun $i continues it)"
        elif [ -f "$d/sweep.csv" ] && [ -f "$d/sweep.json" ]; then
            done=$((done + 1))
        else
            echo "shard $i: not started"
        fi
    done
    echo "$done of $TASKS shards done"
    if [ -f "$RESULTS/sweep.csv" ]; then
        echo "merged: $RESULTS/sweep.csv"
    fi
}

usage() {
    echo "usage: $0 [submit | status | rerun TASKS | merge | task I]   (see the comments at the top)" >&2
    exit 2
}

case "${1:-}" in
    "")
        if [ -n "${SLURM_ARRAY_TASK_ID:-}" ]; then
            task "$SLURM_ARRAY_TASK_ID"
        else
            submit "1-$TASKS"
        fi
        ;;
    submit) submit "1-$TASKS" ;;
    status) status ;;
    rerun) [ -n "${2:-}" ] || usage; rerun "$2" ;;
    merge) merge ;;
    task) [ -n "${2:-}" ] || usage; task "$2" ;;
    *) usage ;;
esac
