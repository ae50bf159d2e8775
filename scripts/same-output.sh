#!/usr/bin/env bash
# Show that two commits give byte-identical output: every shipped scenario under
# `--strategy all --format json` and `check`, `migsim validate --format csv`, the shipped sweep's
# sweep.csv and summary.csv, and the trace commands (stats and a text/binary round trip) on the
# shipped traces. Each commit is built in its own worktree under target/same-output/.
#
#   scripts/same-output.sh A [B]     # B defaults to the working tree as it is now
#
# Prints one line per output that differs and exits 1 if any does, 0 if all are identical.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
work="$top/target/same-output"
mkdir -p "$work"

# Build REV (or the working tree when REV is "."); print the binary's path.
build() {
  local rev=$1 dir
  if [ "$rev" = "." ]; then
    cargo build --release --quiet >&2
    echo "$top/target/release/migsim"
    return
  fi
  local sha
  sha=$(git rev-parse --short=12 "$rev^{commit}")
  dir="$work/src-$sha"
  if [ ! -d "$dir" ]; then
    git worktree add --detach --force "$dir" "$sha" >/dev/null 2>&1
  fi
  (cd "$dir" && CARGO_TARGET_DIR="$work/target-$sha" cargo build --release --quiet >&2)
  echo "$work/target-$sha/release/migsim"
}

# Run every output of binary $1 into folder $2 (from the repository at $top, so both builds read
# the same scenario, trace and validation files).
outputs() {
  local bin=$1 out=$2
  rm -rf "$out"
  mkdir -p "$out/run" "$out/check" "$out/trace"
  for f in scenarios/*.toml; do
    n=$(basename "$f" .toml)
    "$bin" run "$f" --strategy all --format json --no-write >"$out/run/$n.json" 2>&1 || echo "exit $?" >>"$out/run/$n.json"
    "$bin" check "$f" >"$out/check/$n.toml" 2>&1 || echo "exit $?" >>"$out/check/$n.toml"
  done
  "$bin" validate --format csv >"$out/validate.csv" 2>/dev/null || true
  "$bin" sweep scenarios/sweep-dirty-rate.toml --quiet --no-charts --jobs 2 --out "$out/sweep" >/dev/null 2>&1
  for t in traces/*.mtrace; do
    n=$(basename "$t" .mtrace)
    (cd "$out/trace" && "$bin" trace stats "$top/$t" --csv-out . >"$n-stats.txt" 2>&1)
    "$bin" trace convert "$t" "$out/trace/$n.csv" >/dev/null 2>&1
    "$bin" trace convert "$out/trace/$n.csv" "$out/trace/$n.mtrace" >/dev/null 2>&1
  done
}

a=${1:?usage: scripts/same-output.sh A [B]}
b=${2:-.}
bin_a=$(build "$a")
outputs "$bin_a" "$work/out-a"
bin_b=$(build "$b")
outputs "$bin_b" "$work/out-b"
if diff -r -q "$work/out-a" "$work/out-b"; then
  n=$(find "$work/out-a" -type f | wc -l)
  echo "identical: $n outputs of $a and $b"
else
  echo "outputs differ (diff -r $work/out-a $work/out-b)"
  exit 1
fi
