//! The fuzz binary's global allocator: the system allocator, counting the bytes alive and the peak,
//! so that the harness can check that no single input makes migsim allocate beyond a bound. A request
//! that would take the live bytes over `HARD_CAP` is refused after one line naming the input (the
//! process then aborts, as it would on a machine without that memory), so a runaway allocation is a
//! finding with its reproducer instead of a machine brought to its knees.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};

/// No input may take the process beyond this many live bytes (the machine it runs on has more).
pub const HARD_CAP: usize = 3 << 30;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
/// The input running now and the run's seed, for the message when the cap is hit.
pub static CURRENT: AtomicU64 = AtomicU64::new(u64::MAX);
pub static SEED: AtomicU64 = AtomicU64::new(0);

pub struct Counting;

/// Start measuring a peak from the bytes alive now; returns them.
pub fn reset_peak() -> usize {
    let now = LIVE.load(Relaxed);
    PEAK.store(now, Relaxed);
    now
}

pub fn peak() -> usize {
    PEAK.load(Relaxed)
}

fn grow(size: usize) -> bool {
    let now = LIVE.fetch_add(size, Relaxed) + size;
    if now > HARD_CAP {
        LIVE.fetch_sub(size, Relaxed);
        over_cap(size, now - size);
        return false;
    }
    PEAK.fetch_max(now, Relaxed);
    true
}

/// One line on stderr without allocating (we are inside the allocator).
fn over_cap(size: usize, live: usize) {
    let mut buf = [0u8; 400];
    let mut w = &mut buf[..];
    if CURRENT.load(Relaxed) == u64::MAX {
        let _ = write!(w, "\nfuzz: a regression case asked for {size} bytes with {live} alive, over the bound of {HARD_CAP} bytes\n");
        let n = 400 - w.len();
        let _ = std::io::stderr().write_all(&buf[..n]);
        return;
    }
    let _ = write!(
        w,
        "\nfuzz: input {} asked for {size} bytes with {live} alive, over the bound of {HARD_CAP} bytes; reproduce with \
         MIGSIM_FUZZ_SEED={} MIGSIM_FUZZ_FROM={} MIGSIM_FUZZ_INPUTS=1 cargo test --release --test fuzz -- --nocapture\n",
        CURRENT.load(Relaxed),
        SEED.load(Relaxed),
        CURRENT.load(Relaxed),
    );
    let n = 400 - w.len();
    let _ = std::io::stderr().write_all(&buf[..n]);
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        if !grow(l.size()) {
            return std::ptr::null_mut();
        }
        let p = unsafe { System.alloc(l) };
        if p.is_null() {
            LIVE.fetch_sub(l.size(), Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        if !grow(l.size()) {
            return std::ptr::null_mut();
        }
        let p = unsafe { System.alloc_zeroed(l) };
        if p.is_null() {
            LIVE.fetch_sub(l.size(), Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) };
        LIVE.fetch_sub(l.size(), Relaxed);
    }

    unsafe fn realloc(&self, p: *mut u8, l: Layout, new_size: usize) -> *mut u8 {
        if new_size > l.size() && !grow(new_size - l.size()) {
            return std::ptr::null_mut();
        }
        let q = unsafe { System.realloc(p, l, new_size) };
        if q.is_null() {
            if new_size > l.size() {
                LIVE.fetch_sub(new_size - l.size(), Relaxed);
            }
        } else if new_size < l.size() {
            LIVE.fetch_sub(l.size() - new_size, Relaxed);
        }
        q
    }
}
