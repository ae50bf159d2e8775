#!/usr/bin/env bash
# Records traces/sqlite.mtrace: a Python process running an insert/update-heavy SQLite load
# (sqlite_load.py: TPC-B-like transfers on a 200k-account database in WAL mode, 256 MiB page cache).
# The recording starts once the database is loaded, so the trace is the steady state. At the end
# the load prints its throughput; NORECORD=1 runs the same load for the same time without the
# recorder, to see what recording costs the program.
#
#   traces/record/sqlite.sh            # from anywhere; needs python3 and a built migsim
#
# Env: MIGSIM (default target/release/migsim), OUT (default traces/sqlite.mtrace),
#      DURATION (default 60s), INTERVAL (default 100ms), NORECORD (default unset).
set -euo pipefail
cd "$(dirname "$0")/../.."
MIGSIM=${MIGSIM:-target/release/migsim}
OUT=${OUT:-traces/sqlite.mtrace}
DURATION=${DURATION:-60s}
INTERVAL=${INTERVAL:-100ms}
# The interpreter itself, not a wrapper script (pyenv's shims exec python later).
PY=$(python3 -c 'import sys; print(sys.executable)')
work=$(mktemp -d)
load=
cleanup() {
  set +e
  [ -n "$load" ] && kill "$load" 2> /dev/null && wait "$load" 2> /dev/null
  rm -rf "$work"
}
trap cleanup EXIT
"$PY" traces/record/sqlite_load.py --db "$work/bank.db" --seconds 600 > "$work/load.log" 2> "$work/load.err" &
load=$!
until grep -q ready "$work/load.log" 2> /dev/null; do
  kill -0 "$load" || { cat "$work/load.err" >&2; echo "the load generator died" >&2; exit 1; }
  sleep 0.1
done
if [ -n "${NORECORD:-}" ]; then
  sleep "$DURATION"
else
  "$MIGSIM" trace record --pid "$load" --interval "$INTERVAL" --duration "$DURATION" -o "$OUT"
fi
kill -TERM "$load"
wait "$load" || true
load=
cat "$work/load.err"
