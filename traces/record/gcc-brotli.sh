#!/usr/bin/env bash
# Records traces/gcc-brotli.mtrace: GNU make (one job at a time) building Brotli 1.1.0's C library and command-line
# tool (33 C files, from the sdist on PyPI) with gcc -O2 -g. The whole build is recorded, make and
# every process it starts (sh, gcc, cc1, as, collect2, ld), from start to finish. NORECORD=1 runs
# the same build without the recorder and prints its time, to see what recording costs the build.
# One job (-j1) leaves the second core of our 2-core machine to the recorder: with -j2 the recorder
# competes with two compilers and the build ran 3.6 times slower while recorded.
#
#   traces/record/gcc-brotli.sh        # needs gcc, make, pip (to download the sdist)
#
# Env: MIGSIM (default target/release/migsim), OUT (default traces/gcc-brotli.mtrace),
#      INTERVAL (default 250ms: hashing the compilers' memory takes about 90 ms per sample here,
#      which would take a whole core at 100 ms and slow the build threefold), NORECORD (default unset).
set -euo pipefail
cd "$(dirname "$0")/../.."
MIGSIM=${MIGSIM:-target/release/migsim}
OUT=${OUT:-traces/gcc-brotli.mtrace}
INTERVAL=${INTERVAL:-250ms}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m pip download --quiet --no-binary :all: --no-deps Brotli==1.1.0 -d "$work"
tar xzf "$work/Brotli-1.1.0.tar.gz" -C "$work"
cat > "$work/Makefile" <<'MAKE'
SRC := $(wildcard common/*.c dec/*.c enc/*.c) tools/brotli.c
OBJ := $(SRC:.c=.o)
CFLAGS := -O2 -g
brotli: $(OBJ)
	$(CC) $(CFLAGS) -o $@ $(OBJ) -lm
%.o: %.c
	$(CC) $(CFLAGS) -Iinclude -c -o $@ $<
MAKE
gcc --version | head -1
build=(make -s -C "$work/Brotli-1.1.0/c" -f "$work/Makefile" -j1)
if [ -n "${NORECORD:-}" ]; then
  t0=$(date +%s.%N)
  "${build[@]}"
  echo "build: $(echo "$(date +%s.%N) - $t0" | bc) s without the recorder"
else
  "$MIGSIM" trace record --children --interval "$INTERVAL" -o "$OUT" -- "${build[@]}"
fi
