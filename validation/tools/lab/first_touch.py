#!/usr/bin/env python3
"""How much the first write to fresh memory costs on this machine, per 4 KiB page.

A migration's destination writes every page it receives into guest RAM it has never touched, so
each first write takes a page fault; QEMU asks for transparent huge pages on guest RAM
(madvise(MADV_HUGEPAGE)). This probe maps anonymous memory, advises it the same way (or not),
writes one byte per 4 KiB page and times that (the first touch), then writes every page in full
(4 KiB copies into memory already mapped, what a page sent again costs at the destination) and
unmaps. Each `--reps` round maps fresh memory; `--wait-s` idles before each round, so memory
freed by the round before (or by an earlier process) has time to go back to the host, if the
host takes it back.

    python3 validation/tools/lab/first_touch.py [--mib 256] [--reps 2] [--wait-s 0]

Standard library only (mmap.madvise needs Python 3.8 and Linux).
"""
import argparse
import mmap
import time

PAGE = 4096


def probe(mib, huge):
    size = mib << 20
    m = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    m.madvise(mmap.MADV_HUGEPAGE if huge else mmap.MADV_NOHUGEPAGE)
    pages = size // PAGE
    t0 = time.perf_counter()
    for i in range(0, size, PAGE):
        m[i] = 1
    t1 = time.perf_counter()
    block = b"\x07" * PAGE
    for i in range(0, size, PAGE):
        m[i:i + PAGE] = block
    t2 = time.perf_counter()
    m.close()
    return (t1 - t0) / pages * 1e6, (t2 - t1) / pages * 1e6


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mib", type=int, default=256, help="memory per round, MiB")
    ap.add_argument("--reps", type=int, default=2, help="rounds per page kind")
    ap.add_argument("--wait-s", type=float, default=0.0, help="idle this long before each round")
    a = ap.parse_args()
    print("%-28s %18s %22s" % ("round", "first touch us/page", "full-page write us/page"))
    for huge in (True, False):
        for r in range(a.reps):
            if a.wait_s:
                time.sleep(a.wait_s)
            first, again = probe(a.mib, huge)
            print("%-28s %18.2f %22.2f" % ("%s, round %d" % ("huge pages" if huge else "4 KiB pages", r + 1),
                                           first, again))


if __name__ == "__main__":
    main()
