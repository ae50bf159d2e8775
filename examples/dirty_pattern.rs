//! A program with a known dirty-page pattern, for the recorder's integration test (tests/trace.rs)
//! and for trying `migsim trace record` by hand:
//!
//!   cargo build --release --example dirty_pattern
//!   migsim trace record -o pattern.csv -- target/release/examples/dirty_pattern
//!
//! It fills a 512-page buffer at once, then, with quiet gaps of `GAP` between them:
//!   1. changes one byte in each of the buffer's first 256 pages (one burst);
//!   2. rewrites the first 64 pages every 20 ms for 600 ms (a hot set).
//!
//! Nothing else in the program writes memory in between, apart from its stack.

use std::hint::black_box;
use std::time::Duration;

const PAGE: usize = 4096;
const PAGES: usize = 512;
const GAP: Duration = Duration::from_millis(500);

fn main() {
    let mut buf = vec![0u8; PAGES * PAGE];
    for p in 0..PAGES {
        buf[p * PAGE..(p + 1) * PAGE].fill(1);
    }
    black_box(&mut buf);
    std::thread::sleep(GAP);
    for p in 0..256 {
        buf[p * PAGE] = 2;
    }
    black_box(&mut buf);
    std::thread::sleep(GAP);
    for round in 0..30u8 {
        for p in 0..64 {
            buf[p * PAGE + 8] = round.wrapping_add(3);
        }
        black_box(&mut buf);
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(GAP);
    black_box(&buf);
}
