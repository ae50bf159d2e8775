#!/usr/bin/env bash
# The engine's scale curves (docs/performance.md, issue 17): CPU time and peak memory of whole runs,
# against the number of concurrent migrations and against the VM's memory, for this tree and for an
# older commit built beside it, measured in the same run (alternating) with /usr/bin/time.
#
#   benches/scale.sh [OLD_COMMIT] [NS] [MEMS]
#     OLD_COMMIT  built in target/same-output/ (default: none, this tree only)
#     NS          concurrent migrations, default "10 100 1000 10000"
#     MEMS        VM sizes in GiB for the memory curve (the working set half of it), default
#                 "1 4 16 64 256 1024"
#
# Writes target/scale/concurrency.csv and memory.csv (in the columns `migsim plot` reads) and the
# charts concurrency-link.png, concurrency-two-tier.png and memory.png beside them. An older binary
# gets each concurrency scenario in the full form (one [[vms]] and [[migrations]] entry per VM), and
# is stopped after OLD_LIMIT seconds (default 300): such a point is written as not finished.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
old=${1:-}
ns=${2:-"10 100 1000 10000"}
mems=${3:-"1 4 16 64 256 1024"}
limit=${OLD_LIMIT:-300}
out=target/scale
mkdir -p "$out/scenarios"
cargo build --release --quiet
new="$top/target/release/migsim"
if [ -n "$old" ]; then
  sha=$(git rev-parse --short=12 "$old^{commit}")
  dir="$top/target/same-output/src-$sha"
  [ -d "$dir" ] || git worktree add --detach --force "$dir" "$sha" >/dev/null 2>&1
  (cd "$dir" && CARGO_TARGET_DIR="$top/target/same-output/target-$sha" cargo build --release --quiet)
  oldbin="$top/target/same-output/target-$sha/release/migsim"
fi

# One timed run: prints "cpu_s,peak_kib" or "nan,nan" when it ran past the limit.
timed() {
  local t
  t=$(mktemp)
  if timeout "$1" /usr/bin/time -f '%U %S %M' -o "$t" "${@:2}" >/dev/null 2>&1; then
    awk '{printf "%.3f,%d\n", $1 + $2, $3}' "$t"
  else
    echo "nan,nan"
  fi
  rm -f "$t"
}

# The one-link scenario in the full form, for a binary that reads no VM groups or plans.
full_link() {
  local n=$1 f="$out/scenarios/link-$1.toml"
  {
    printf 'name = "concurrent-link"\nseed = 1\n[migration]\nstrategy = "precopy"\nmax_time = "10 min"\n'
    printf '[[hosts]]\nname = "a"\n[[hosts]]\nname = "b"\n[[links]]\nbetween = ["a", "b"]\nbandwidth = "10 Gbit/s"\nlatency = "0.1 ms"\n'
    for i in $(seq 1 "$n"); do
      printf '[[vms]]\nname = "vm-%d"\nhost = "a"\nmemory = "1 GiB"\n' "$i"
      printf 'workload = { kind = "hotcold", write_rate = "1000 pages/s", working_set = "256 MiB", hot_set = "32 MiB", hot_share = 0.9 }\n'
    done
    for i in $(seq 1 "$n"); do printf '[[migrations]]\nvm = "vm-%d"\nto = "b"\n' "$i"; done
  } >"$f"
  echo "$f"
}

header="replication,seed,strategy,vm,bench,binary,n,memory_bytes,cpu_s,peak_kib"
echo "$header" >"$out/concurrency.csv"
for n in $ns; do
  web=$((n * 6 / 10))
  echo "concurrency n=$n" >&2
  echo "1,1,precopy,all,link,new,$n,,$(timed 3600 "$new" run benches/concurrent-link.toml --set "vms.0.count=$n" --no-write --format csv)" >>"$out/concurrency.csv"
  echo "1,1,precopy,all,two-tier,new,$n,,$(timed 3600 "$new" run benches/concurrent-two-tier.toml --set "vms.0.count=$web" --set "vms.1.count=$((n - web))" --no-write --format csv)" >>"$out/concurrency.csv"
  if [ -n "$old" ]; then
    echo "1,1,precopy,all,link,old,$n,,$(timed "$limit" "$oldbin" run "$(full_link "$n")" --no-write --format csv)" >>"$out/concurrency.csv"
  fi
done

echo "$header" >"$out/memory.csv"
for m in $mems; do
  for s in precopy postcopy hybrid cold; do
    echo "memory ${m} GiB $s" >&2
    # benches/hotcold-64g.toml at this size, its working set half of memory.
    # The hot set stays 2 GiB, or a quarter of the working set in the smaller VMs.
    hot=$((m * 128 < 2048 ? m * 128 : 2048))
    args=(run benches/hotcold-64g.toml --set "vm.memory=\"$m GiB\"" --set "workload.working_set=\"$((m * 512)) MiB\""
      --set "workload.hot_set=\"$hot MiB\"" --strategy "$s" --no-write --format csv)
    echo "1,1,$s,all,memory,new,,$((m << 30)),$(timed 3600 "$new" "${args[@]}")" >>"$out/memory.csv"
    if [ -n "$old" ]; then
      echo "1,1,$s,all,memory,old,,$((m << 30)),$(timed "$limit" "$oldbin" "${args[@]}")" >>"$out/memory.csv"
    fi
  done
done

# The charts leave out the points that did not finish (nan).
for b in link two-tier; do
  grep -E "^(replication|.*,$b,)" "$out/concurrency.csv" | grep -v ',nan,' >"$out/concurrency-$b.csv"
  "$new" plot "$out/concurrency-$b.csv" --x n --y cpu_s --by binary --log-x -o "$out/concurrency-$b.png" || true
done
grep -v ',nan,' "$out/memory.csv" >"$out/memory-finished.csv"
"$new" plot "$out/memory-finished.csv" --x memory_bytes --y cpu_s --by strategy,binary --log-x -o "$out/memory.png" || true
echo "wrote $out/concurrency.csv, $out/memory.csv and their charts" >&2
