//! The mechanisms real hypervisors add to the basic strategies: their knobs (`Mechanisms`, one per
//! migration) and the small state machines that run them, each in a file of its own: QEMU's
//! auto-converge throttle (`throttle`), XBZRLE page cache (`xbzrle`) and the host's cores shared by
//! the migration and the guest (`cpu`). Xen's legacy dynamic rate
//! limit is a few constants here, applied by the pre-copy strategy. Where the simulation applies each
//! one is in `model::strategy`; what each follows is in docs/model.md, section 15.

pub mod cpu;
pub mod throttle;
pub mod xbzrle;

pub use cpu::HostCpu;
pub use throttle::Throttle;
pub use xbzrle::{Lookup, XbzrleCache};

use crate::units::WriteRate;

/// Every mechanism knob of one migration, off or on by its real counterpart's default.
#[derive(Debug, Clone, PartialEq)]
pub struct Mechanisms {
    pub auto_converge: Option<AutoConverge>,
    /// The auto-converge parameters as read, kept while it is off so that a migration turning it on
    /// inherits them from `[migration]`.
    pub throttle_params: AutoConverge,
    /// Cap on the guest's dirty rate while it runs during the migration (QEMU's dirty limit).
    pub dirty_limit: Option<WriteRate>,
    /// Zero pages go as a header only (QEMU: always on; off sends them whole).
    pub zero_page_detection: bool,
    pub xbzrle: Option<Xbzrle>,
    /// The XBZRLE parameters as read, kept while it is off (as `throttle_params`).
    pub xbzrle_params: Xbzrle,
    /// Parallel channels (QEMU multifd); 1 = the single migration stream.
    pub multifd_channels: u32,
    /// Cores of the host that runs the migration threads (fractional allowed); `None`: a core for
    /// every thread.
    pub cpu_cores: Option<f64>,
    /// Other threads busy on those cores (the guest's vCPUs, say), competing with the migration.
    pub cpu_busy_threads: f64,
    /// The destination's receiving threads run on the same cores (a migration to the same machine).
    /// They take turns with the senders, so a channel still counts as one thread (`parallel`,
    /// `cpu::HostCpu`); the per-page rates are those of the pair, as measured on loopback.
    pub cpu_loopback: bool,
    /// The host's cores shared by the migration's threads, the guest's vCPUs and other load
    /// (`cpu`); `None`: the stream's CPU pace is fixed (`cpu_rate_*`, `parallel`).
    pub host_cpu: Option<HostCpu>,
    pub compression: Option<Compression>,
    pub rate_limit: RateLimit,
    /// Post-copy: pages pushed right after a faulted page, from the fault on (0 = the push does not
    /// move to the fault); `None`: the default, see `prepaging`.
    pub prepaging_pages: Option<u64>,
    /// Post-copy: the source pushes missing pages in the background (false = demand paging only).
    pub postcopy_push: bool,
    /// Post-copy: requested pages go on a channel of their own (QEMU's `postcopy-preempt`), not
    /// behind the push's data queued in the migration socket.
    pub postcopy_preempt: bool,
    /// Bytes of the migration stream queued in the source's and destination's socket buffers, ahead
    /// of a requested page while the push streams (post-copy without `postcopy_preempt`).
    pub socket_buffer_bytes: u64,
    /// Pre-copy: when the VM pauses, each stream (a multifd channel, or the single stream) still
    /// has up to `socket_buffer_bytes` written but not yet taken in by the destination, and the
    /// final copy's pages queue behind it (false: the pipe is empty at the pause).
    pub drain_at_stop: bool,
    pub hybrid_switch: HybridSwitch,
    /// Hybrid: post-copy is also requested once this long has passed since the migration began
    /// (ns; the lab harness's `--postcopy-after-s`).
    pub hybrid_switch_after_time: Option<u64>,
}

impl Default for Mechanisms {
    fn default() -> Self {
        Mechanisms {
            auto_converge: None,
            throttle_params: AutoConverge { initial_pct: 20.0, increment_pct: 10.0, max_pct: 99.0, trigger: 0.5, tailslow: false },
            dirty_limit: None,
            zero_page_detection: true,
            xbzrle: None,
            xbzrle_params: Xbzrle { cache_bytes: 64 << 20, encode_rate: 2e9 },
            multifd_channels: 1,
            cpu_cores: None,
            cpu_busy_threads: 0.0,
            cpu_loopback: false,
            host_cpu: None,
            compression: None,
            rate_limit: RateLimit::Static,
            prepaging_pages: None,
            postcopy_push: true,
            postcopy_preempt: false,
            socket_buffer_bytes: SOCKET_BUFFER_BYTES,
            drain_at_stop: false,
            hybrid_switch: HybridSwitch::Either,
            hybrid_switch_after_time: None,
        }
    }
}

impl Mechanisms {
    /// The pre-paging window in pages. Unset, it is 1 with the push on: QEMU restarts its push at
    /// each requested page (`get_queued_page`: "We want the background search to continue from the
    /// queued page"). Without the push it is 0: demand paging alone fetches only what is asked for.
    pub fn prepaging(&self) -> u64 {
        self.prepaging_pages.unwrap_or(u64::from(self.postcopy_push))
    }
}

/// CPU demand of QEMU's main migration thread under multifd, in busy threads: it still walks the
/// dirty bitmap, reads every page to detect zero pages and queues pages to the channels (lab README,
/// multifd), and in QEMU 7.2 it spins in `multifd_send_pages` while every channel is busy (the
/// `channels_ready` count runs ahead; fixed upstream in d2026ee11714, docs/model.md 15.5), so it is
/// counted busy. Not fitted: with a channel counted as one thread (`parallel`),
/// a fair share of the lab's 2 cores gives 2 channels 1.00x and 4 channels 1.33x one stream,
/// against measured 1.03-1.08x and 1.29-1.34x.
pub const MULTIFD_MAIN_THREAD_LOAD: f64 = 1.0;

impl Mechanisms {
    /// How much faster the channels do the stream's CPU work than the single stream does.
    ///
    /// Runnable threads share the host's cores fairly, a thread getting at most one core. Each of
    /// the N channels counts as one thread: its sender and, with `cpu_loopback`, its receiver on
    /// the same cores pass the same bytes through a socket and take turns, so together they keep
    /// about one core busy (with an idle guest, 4 channels ran 1.4-1.6x one stream on 2 cores, which
    /// could not be if one stream's two threads already had a core each: docs/model.md 15.5). Next
    /// to them run `cpu_busy_threads` others and, under multifd, the main migration thread. The
    /// speedup is N x share(N) / share(1); with cores to spare it is N.
    pub fn parallel(&self) -> f64 {
        let n = f64::from(self.multifd_channels);
        let Some(cores) = self.cpu_cores.filter(|_| self.multifd_channels > 1) else { return n };
        let share = |threads: f64| (cores / threads).min(1.0);
        let single = share(self.cpu_busy_threads + 1.0);
        n * share(self.cpu_busy_threads + n + MULTIFD_MAIN_THREAD_LOAD) / single
    }
}

/// QEMU's auto-converge parameters (qapi/migration.json defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AutoConverge {
    pub initial_pct: f64,
    pub increment_pct: f64,
    pub max_pct: f64,
    /// throttle-trigger-threshold: a period is "high" when dirtied bytes exceed this share of the
    /// bytes sent in it.
    pub trigger: f64,
    /// cpu-throttle-tailslow: a step adds at most what would bring the dirty bytes down to the
    /// trigger share, instead of the whole increment.
    pub tailslow: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Xbzrle {
    pub cache_bytes: u64,
    /// Encoding speed of one core (bytes of page per second).
    pub encode_rate: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Compression {
    /// Compressed size / original size of a non-zero page.
    pub ratio: f64,
    /// Compression speed of one channel (bytes of page per second).
    pub cpu_rate: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateLimit {
    /// `max_bandwidth`, paced in QEMU's 100 ms windows.
    Static,
    /// Xen's legacy dynamic limit: 100 Mbit/s, raised to the last round's dirty rate + 50 Mbit/s
    /// (at most 500 Mbit/s) whenever that round dirtied faster than the limit, never lowered;
    /// stop-and-copy at 500 Mbit/s; pages re-dirtied within the round are skipped.
    Xen,
}

impl RateLimit {
    pub const NAMES: [(&'static str, RateLimit); 2] = [("static", RateLimit::Static), ("xen", RateLimit::Xen)];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HybridSwitch {
    /// After `hybrid_switch_after` rounds: QEMU's rule once post-copy is requested then.
    Rounds,
    /// When a round no longer shrinks the dirty set by 5 %.
    Stall,
    /// Whichever comes first.
    Either,
    /// Only when `hybrid_switch_after_time` has passed.
    Time,
}

impl HybridSwitch {
    pub const NAMES: [(&'static str, HybridSwitch); 4] =
        [("rounds", HybridSwitch::Rounds), ("stall", HybridSwitch::Stall), ("either", HybridSwitch::Either), ("time", HybridSwitch::Time)];
}

/// Xen legacy rate limits (tools/libxc/xc_domain_save.c, facts file "Pre-copy as Xen shipped it").
pub const XEN_START_BPS: f64 = 100e6 / 8.0;
pub const XEN_STEP_BPS: f64 = 50e6 / 8.0;
pub const XEN_MAX_BPS: f64 = 500e6 / 8.0;

/// The share of a stream's per-page CPU work (`CpuCost`) its receiving thread does, for pages new
/// to the destination: the QEMU lab's thread-sampled runs (docs/validation.md, "Where the CPU goes
/// under multifd") had one stream's receiver use 2.53-3.03 CPU seconds and its sender 0.34-0.45
/// for the 1 GiB guest's migration, 0.87 of the pair's (medians 2.78 and 0.40). `drain_at_stop`
/// uses it for what the sockets hold when the VM pauses.
pub const RECEIVER_SHARE: f64 = 0.87;

/// Linux's defaults for the most a TCP socket's buffers grow to: `tcp_wmem` max 4 MiB at the
/// sender plus `tcp_rmem` max 6 MiB at the receiver (Documentation/networking/ip-sysctl.rst).
pub const SOCKET_BUFFER_BYTES: u64 = 10 << 20;

/// Bytes QEMU adds to an XBZRLE delta: a flag byte and a 2-byte length (lab README, "XBZRLE").
pub const XBZRLE_OVERHEAD: u64 = 3;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_share_the_cores_fairly() {
        let mech = |n: u32, cores: Option<f64>, busy: f64, loopback: bool| Mechanisms {
            multifd_channels: n,
            cpu_cores: cores,
            cpu_busy_threads: busy,
            cpu_loopback: loopback,
            ..Mechanisms::default()
        };
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        // Cores to spare: N channels work N times as fast.
        assert!(close(mech(4, None, 0.0, false).parallel(), 4.0));
        assert!(close(mech(4, Some(8.0), 1.0, false).parallel(), 4.0));
        assert!(close(mech(1, Some(0.5), 3.0, true).parallel(), 1.0));
        // One core, nothing else busy: 2 channels and the main thread share it (3 threads).
        assert!(close(mech(2, Some(1.0), 0.0, false).parallel(), 2.0 / 3.0));
        // The lab: 2 cores, one busy vCPU. One stream: 2 threads (a core each); 2 channels: 4
        // threads (half a core each); 4 channels: 6. Loopback or not, a channel is one thread.
        for loopback in [true, false] {
            assert!(close(mech(2, Some(2.0), 1.0, loopback).parallel(), 1.0));
            assert!(close(mech(4, Some(2.0), 1.0, loopback).parallel(), 4.0 / 3.0));
        }
    }
}
