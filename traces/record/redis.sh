#!/usr/bin/env bash
# Records traces/redis.mtrace: redis-server (Debian's redis-server package, no persistence) serving
# a concurrent mix from four redis-benchmark processes over 200k random keys with 128-byte values,
# pipelines of 16: SET (20 clients), GET (20), INCR (5) and HSET (5). (One redis-benchmark runs its
# tests one after another, so a mix needs one process per command.) The key space is loaded first, so the trace is the steady state. It prints the
# commands per second the server handled while recorded; NORECORD=1 runs the same load for the same
# time without the recorder, to see what recording costs the server.
#
#   apt-get install -y redis-server redis-tools
#   traces/record/redis.sh
#
# Env: MIGSIM (default target/release/migsim), OUT (default traces/redis.mtrace),
#      DURATION (default 60s), INTERVAL (default 100ms), PORT (default 6390), NORECORD (default unset).
set -euo pipefail
cd "$(dirname "$0")/../.."
MIGSIM=${MIGSIM:-target/release/migsim}
OUT=${OUT:-traces/redis.mtrace}
DURATION=${DURATION:-60s}
INTERVAL=${INTERVAL:-100ms}
PORT=${PORT:-6390}
work=$(mktemp -d)
srv=
bench=()
cleanup() {
  set +e
  for b in "${bench[@]}"; do kill "$b" 2> /dev/null; wait "$b" 2> /dev/null; done
  [ -n "$srv" ] && kill "$srv" 2> /dev/null && wait "$srv" 2> /dev/null
  rm -rf "$work"
}
trap cleanup EXIT
redis-server --port "$PORT" --save "" --appendonly no --dir "$work" > "$work/server.log" &
srv=$!
until redis-cli -p "$PORT" ping > /dev/null 2>&1; do sleep 0.1; done
# Load the key space: 600k random SETs cover about 95% of the 200k keys.
redis-benchmark -p "$PORT" -t set -n 600000 -r 200000 -d 128 -P 32 -q > /dev/null
redis-cli -p "$PORT" info memory | grep -E '^used_memory_human|^used_memory_rss_human'
for tc in set:20 get:20 incr:5 hset:5; do
  redis-benchmark -p "$PORT" -t "${tc%:*}" -c "${tc#*:}" -n 2000000000 -r 200000 -d 128 -P 16 -q --csv > /dev/null 2>&1 &
  bench+=($!)
done
sleep 1 # let the clients connect
commands() { redis-cli -p "$PORT" info stats | tr -d '\r' | sed -n 's/^total_commands_processed://p'; }
c0=$(commands) t0=$(date +%s.%N)
if [ -n "${NORECORD:-}" ]; then
  sleep "$DURATION"
else
  "$MIGSIM" trace record --pid "$srv" --interval "$INTERVAL" --duration "$DURATION" -o "$OUT"
fi
c1=$(commands) t1=$(date +%s.%N)
echo "server: $((c1 - c0)) commands in $(echo "$t1 - $t0" | bc) s = $(echo "($c1 - $c0) / ($t1 - $t0)" | bc) commands/s"
