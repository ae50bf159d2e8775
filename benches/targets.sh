#!/usr/bin/env bash
# Issue 17's targets, each measured as a whole run with /usr/bin/time (user + system CPU time, peak
# resident memory), printed as a markdown table for docs/performance.md.
#
#   benches/targets.sh            # builds the release binary first
#
# Each row is one command; run it by hand with `/usr/bin/time -v` to see the same figures.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/migsim
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

row() { # row NAME TARGET_S TARGET_MB -- COMMAND...
  local name=$1 ts=$2 tmb=$3 t
  shift 4
  t=$(mktemp)
  /usr/bin/time -f '%U %S %M' -o "$t" "$@" >/dev/null 2>&1
  awk -v n="$name" -v ts="$ts" -v tmb="$tmb" '{
    cpu = $1 + $2; mb = $3 / 1000
    ok = (cpu <= ts && (tmb == "-" || mb <= tmb)) ? "met" : "missed"
    printf "| %s | %.2f s | %.0f MB | <= %s s%s | %s |\n", n, cpu, mb, ts, (tmb == "-" ? "" : " and <= " tmb " MB"), ok
  }' "$t"
  rm -f "$t"
}

echo "| benchmark | CPU time | peak RSS | target | |"
echo "|---|---|---|---|---|"
row "1,000 concurrent 1 GiB migrations, one link" 1 - -- "$bin" run benches/concurrent-link.toml --set vms.0.count=1000 --out "$out/a" -q
row "10,000 concurrent, two-tier network" 15 - -- "$bin" run benches/concurrent-two-tier.toml --out "$out/b" -q
for s in precopy postcopy hybrid cold; do
  row "1 TiB hot/cold, $s" 1 100 -- "$bin" run benches/hotcold-1t.toml --strategy "$s" --out "$out/c-$s" -q
done
row "sweep of 10,000 runs, one job" 5 - -- "$bin" sweep benches/sweep-10k.toml --jobs 1 --quiet --out "$out/d"
echo
echo "(SimGrid's grid, side by side with the peer: docs/performance.md, section Engine at scale)"
