//! What a workload is, as a resolved scenario gives it: its kind, rates, working set and the size of
//! the changes its writes make. `Workload` (the running state) is built from it.

/// `count` guest pages from `first`, one every `stride` pages (1: the contiguous range
/// `[first, first + count)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRange {
    pub first: u64,
    pub count: u64,
    pub stride: u64,
}

impl PageRange {
    pub const fn contiguous(first: u64, count: u64) -> Self {
        PageRange { first, count, stride: 1 }
    }

    /// Page number `k` of the range (`k < count`).
    #[inline]
    pub fn page(&self, k: u64) -> u64 {
        self.first + k * self.stride
    }

    /// The contiguous pages that hold the whole range, from `first` to its last page.
    pub fn span(&self) -> std::ops::Range<usize> {
        let end = if self.count == 0 { self.first } else { self.page(self.count - 1) + 1 };
        self.first as usize..end as usize
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum WorkloadKind {
    Idle,
    Uniform,
    /// `hot_pages` at the start of the working set take `hot_share` of the writes.
    HotCold {
        hot_pages: u64,
        hot_share: f64,
    },
    /// Page k of the working set (k = 0 hottest) is written with probability proportional to 1/(k+1)^s.
    Zipf {
        exponent: f64,
    },
    /// Sweeps the working set in address order, wrapping around.
    Sequential,
    /// SimGrid's fluid model: `rate` x time new dirty pages, capped at the working set (no overlap).
    Fluid,
    Phases {
        phases: Vec<Phase>,
        repeat: bool,
    },
    /// Several writers at once, e.g. an application and its guest OS (each with its own working set).
    Mix {
        parts: Vec<WorkloadSpec>,
    },
    /// Replays a recorded dirty-page trace (docs/traces.md).
    Trace(super::trace::TraceSpec),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Phase {
    pub duration_ns: u64,
    pub workload: WorkloadSpec,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WorkloadSpec {
    pub kind: WorkloadKind,
    /// Page writes per second (not distinct pages).
    pub write_pps: f64,
    /// Extra reads per second, with the same distribution as the writes (they fault in post-copy).
    pub read_pps: f64,
    pub working_set: PageRange,
    /// Writes per second the application would issue with a whole vCPU (`None`: the write rate, a
    /// CPU-bound application). A vCPU throttled to a share s writes min(write rate, s x this), or
    /// with `reserved_cpu` r, min(write rate, (s - r) / (1 - r) x this).
    pub full_cpu_pps: Option<f64>,
    /// Share of a core the application spends each wall-clock second on work other than its
    /// writes (the lab dirtier's once-a-second verify pass), paid before the writes when the vCPU's
    /// time runs short; in [0, 1).
    pub reserved_cpu: f64,
    /// Bytes of a page that change between two sends of it (the size of an XBZRLE delta).
    pub write_delta: DeltaSize,
}

/// A distribution of sizes in bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DeltaSize {
    Fixed(u64),
    /// Uniform between the two bounds, inclusive.
    Uniform(u64, u64),
}

/// Assumed when a workload does not say how much of a page its writes change.
pub const DEFAULT_WRITE_DELTA: DeltaSize = DeltaSize::Fixed(1024);
