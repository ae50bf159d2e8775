//! The mechanisms real hypervisors add to the basic strategies: their scenario knobs (read from
//! `[migration]`) and the small state machines that run them: QEMU's auto-converge throttle, the
//! XBZRLE page cache, Xen's legacy dynamic rate limit. How the simulator applies each one is in
//! `sim.rs`; what each follows is in docs/model.md, section "Mechanisms".

use crate::config::{ConfigError, TableReader, choice, name_of};
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
    pub cpu_loopback: bool,
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
            compression: None,
            rate_limit: RateLimit::Static,
            prepaging_pages: None,
            postcopy_push: true,
            postcopy_preempt: false,
            socket_buffer_bytes: SOCKET_BUFFER_BYTES,
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
/// dirty bitmap, detects zero pages and queues pages to the channels (lab README, multifd). Fitted:
/// with it, a fair share of the lab's 2 cores gives 2 channels 1.09x and 4 channels 1.26x one
/// stream, against measured 1.03-1.08x and 1.29-1.34x.
pub const MULTIFD_MAIN_THREAD_LOAD: f64 = 0.5;

impl Mechanisms {
    /// How much faster the channels do the stream's CPU work than the single stream does.
    ///
    /// Runnable threads share the host's cores fairly, a thread getting at most one core: each of
    /// the N channels is one sending thread (two with `cpu_loopback`, the receiver being on the same
    /// cores), next to `cpu_busy_threads` others and, under multifd, the main migration thread. The
    /// speedup is N x share(N) / share(1); with cores to spare it is N.
    pub fn parallel(&self) -> f64 {
        let n = f64::from(self.multifd_channels);
        let Some(cores) = self.cpu_cores.filter(|_| self.multifd_channels > 1) else { return n };
        let per_channel = if self.cpu_loopback { 2.0 } else { 1.0 };
        let share = |threads: f64| (cores / threads).min(1.0);
        let single = share(self.cpu_busy_threads + per_channel);
        n * share(self.cpu_busy_threads + per_channel * n + MULTIFD_MAIN_THREAD_LOAD) / single
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

/// Linux's defaults for the most a TCP socket's buffers grow to: `tcp_wmem` max 4 MiB at the
/// sender plus `tcp_rmem` max 6 MiB at the receiver (Documentation/networking/ip-sysctl.rst).
pub const SOCKET_BUFFER_BYTES: u64 = 10 << 20;

/// QEMU's XBZRLE: a cache entry younger than this many syncs is not evicted (CACHED_PAGE_LIFETIME).
const CACHED_PAGE_LIFETIME: u32 = 2;
/// Bytes QEMU adds to an XBZRLE delta: a flag byte and a 2-byte length (lab README, "XBZRLE").
pub const XBZRLE_OVERHEAD: u64 = 3;

/// Read the mechanism keys of a `[migration]` table on top of `d`.
pub fn read(t: &mut TableReader<'_>, d: &Mechanisms) -> Result<Mechanisms, ConfigError> {
    let mut m = d.clone();
    let pct = |t: &mut TableReader<'_>, key: &'static str, dflt: f64| -> Result<f64, ConfigError> {
        match t.float(key)? {
            None => Ok(dflt),
            Some(p) if (0.0..=100.0).contains(&p) => Ok(p),
            Some(p) => Err(t.error(key, format!("{p} is not a percentage between 0 and 100"))),
        }
    };
    let ac_on = t.bool("auto_converge")?.unwrap_or(m.auto_converge.is_some());
    let base = m.throttle_params;
    let ac = AutoConverge {
        initial_pct: pct(t, "throttle_initial", base.initial_pct)?,
        increment_pct: pct(t, "throttle_increment", base.increment_pct)?,
        max_pct: pct(t, "throttle_max", base.max_pct)?,
        trigger: pct(t, "throttle_trigger", base.trigger * 100.0)? / 100.0,
        tailslow: t.bool("throttle_tailslow")?.unwrap_or(base.tailslow),
    };
    if ac.max_pct >= 100.0 {
        return Err(t.error("throttle_max", "must be below 100 (QEMU allows at most 99): a vCPU throttled 100 % never runs"));
    }
    m.throttle_params = ac;
    m.auto_converge = ac_on.then_some(ac);
    if let Some(r) = t.write_rate("dirty_limit")? {
        let v = match r {
            WriteRate::PagesPerSec(p) | WriteRate::BytesPerSec(p) => p,
        };
        if v <= 0.0 {
            return Err(t.error("dirty_limit", "must be greater than zero, e.g. \"20 MiB/s\" or \"5000 pages/s\""));
        }
        m.dirty_limit = Some(r);
    }
    m.zero_page_detection = t.bool("zero_page_detection")?.unwrap_or(m.zero_page_detection);
    let x_on = t.bool("xbzrle")?.unwrap_or(m.xbzrle.is_some());
    let xb = m.xbzrle_params;
    let cache_bytes = t.size("xbzrle_cache")?.unwrap_or(xb.cache_bytes);
    let encode_rate = t.positive_rate("xbzrle_encode_rate")?.unwrap_or(xb.encode_rate);
    if x_on && cache_bytes == 0 {
        return Err(t.error("xbzrle_cache", "must hold at least one page, e.g. \"64 MiB\""));
    }
    m.xbzrle_params = Xbzrle { cache_bytes, encode_rate };
    m.xbzrle = x_on.then_some(m.xbzrle_params);
    if let Some(n) = t.uint("multifd_channels")? {
        if n == 0 || n > 256 {
            return Err(t.error("multifd_channels", format!("{n} is out of range; use 1 (a single stream) to 256")));
        }
        m.multifd_channels = n as u32;
    }
    if let Some(c) = t.float("cpu_cores")? {
        if c.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
            return Err(t.error("cpu_cores", format!("{c} must be greater than zero, e.g. 2 or 1.5")));
        }
        m.cpu_cores = Some(c);
    }
    if let Some(b) = t.float("cpu_busy_threads")? {
        if !(b >= 0.0 && b.is_finite()) {
            return Err(t.error("cpu_busy_threads", format!("{b} must be zero or more, e.g. 1 for a guest with one busy vCPU")));
        }
        m.cpu_busy_threads = b;
    }
    m.cpu_loopback = t.bool("cpu_loopback")?.unwrap_or(m.cpu_loopback);
    if t.raw().get("compression").is_some_and(|n| !matches!(n.value, crate::config::Value::Table(_))) {
        return Err(t.error("compression", "expected a table: compression = { ratio = 0.4, cpu_rate = \"200 MiB/s\" }"));
    }
    if let Some(mut c) = t.table("compression")? {
        let ratio = c.float("ratio")?.ok_or_else(|| c.error("ratio", "compression needs ratio = compressed / original, e.g. 0.4"))?;
        if !(ratio > 0.0 && ratio <= 1.0) {
            return Err(c.error("ratio", format!("{ratio} must be in (0, 1]: compressed size / original size")));
        }
        let cpu_rate = c.positive_rate("cpu_rate")?.ok_or_else(|| c.error("cpu_rate", "compression needs cpu_rate, e.g. \"200 MiB/s\""))?;
        c.finish()?;
        m.compression = Some(Compression { ratio, cpu_rate });
    }
    if let Some(s) = t.string("rate_limit")? {
        m.rate_limit = choice(t, "rate_limit", &s, &RateLimit::NAMES)?;
    }
    if let Some(n) = t.uint("prepaging")? {
        m.prepaging_pages = Some(n);
    }
    m.postcopy_push = t.bool("postcopy_push")?.unwrap_or(m.postcopy_push);
    m.postcopy_preempt = t.bool("postcopy_preempt")?.unwrap_or(m.postcopy_preempt);
    m.socket_buffer_bytes = t.size("socket_buffer")?.unwrap_or(m.socket_buffer_bytes);
    if let Some(s) = t.string("hybrid_switch")? {
        m.hybrid_switch = choice(t, "hybrid_switch", &s, &HybridSwitch::NAMES)?;
    }
    match t.duration("hybrid_switch_after_time")? {
        Some(0) => return Err(t.error("hybrid_switch_after_time", "must be longer than zero, e.g. \"10 s\"")),
        Some(n) => m.hybrid_switch_after_time = Some(n),
        None => {}
    }
    if m.hybrid_switch == HybridSwitch::Time && m.hybrid_switch_after_time.is_none() {
        return Err(t.error("hybrid_switch", "\"time\" needs hybrid_switch_after_time, e.g. hybrid_switch_after_time = \"10 s\""));
    }
    Ok(m)
}

/// The keys `read` writes back for `migsim check`, as `key = value` lines.
pub fn to_toml(m: &Mechanisms) -> Vec<String> {
    use crate::units::{format_rate_exact as fmt_rate, format_size_exact as fmt_size};
    let q = |x: &str| format!("{x:?}");
    let mut v = vec![format!("auto_converge = {}", m.auto_converge.is_some())];
    if let Some(a) = m.auto_converge {
        v.push(format!("throttle_initial = {:?}", a.initial_pct));
        v.push(format!("throttle_increment = {:?}", a.increment_pct));
        v.push(format!("throttle_max = {:?}", a.max_pct));
        v.push(format!("throttle_trigger = {:?}", a.trigger * 100.0));
        v.push(format!("throttle_tailslow = {}", a.tailslow));
    }
    match m.dirty_limit {
        Some(WriteRate::PagesPerSec(p)) => v.push(format!("dirty_limit = {}", q(&crate::units::format_pages_rate(p)))),
        Some(WriteRate::BytesPerSec(b)) => v.push(format!("dirty_limit = {}", q(&fmt_rate(b)))),
        None => {}
    }
    v.push(format!("zero_page_detection = {}", m.zero_page_detection));
    v.push(format!("xbzrle = {}", m.xbzrle.is_some()));
    if let Some(x) = m.xbzrle {
        v.push(format!("xbzrle_cache = {}", q(&fmt_size(x.cache_bytes))));
        v.push(format!("xbzrle_encode_rate = {}", q(&fmt_rate(x.encode_rate))));
    }
    v.push(format!("multifd_channels = {}", m.multifd_channels));
    if let Some(c) = m.cpu_cores {
        v.push(format!("cpu_cores = {c:?}"));
        v.push(format!("cpu_busy_threads = {:?}", m.cpu_busy_threads));
        v.push(format!("cpu_loopback = {}", m.cpu_loopback));
    }
    if let Some(c) = m.compression {
        v.push(format!("compression = {{ ratio = {:?}, cpu_rate = {} }}", c.ratio, q(&fmt_rate(c.cpu_rate))));
    }
    v.push(format!("rate_limit = {}", q(name_of(&RateLimit::NAMES, m.rate_limit))));
    v.push(format!("prepaging = {}", m.prepaging()));
    v.push(format!("postcopy_push = {}", m.postcopy_push));
    v.push(format!("postcopy_preempt = {}", m.postcopy_preempt));
    v.push(format!("socket_buffer = {}", q(&fmt_size(m.socket_buffer_bytes))));
    v.push(format!("hybrid_switch = {}", q(name_of(&HybridSwitch::NAMES, m.hybrid_switch))));
    if let Some(t) = m.hybrid_switch_after_time {
        v.push(format!("hybrid_switch_after_time = {}", q(&crate::units::format_duration_exact(t))));
    }
    v
}

/// QEMU 7.2's auto-converge (migration/ram.c: migration_bitmap_sync -> migration_trigger_throttle ->
/// mig_throttle_guest_down), evaluated at each dirty sync.
#[derive(Debug, Clone)]
pub struct Throttle {
    pub p: AutoConverge,
    /// Current throttle, percent (0 = off).
    pub pct: f64,
    last_check: u64,
    high_periods: u32,
    /// Pages newly dirtied since the last evaluation.
    dirty_pages_period: u64,
    bytes_sent_at_check: u64,
}

impl Throttle {
    pub fn new(p: AutoConverge, now: u64) -> Self {
        Throttle { p, pct: 0.0, last_check: now, high_periods: 0, dirty_pages_period: 0, bytes_sent_at_check: 0 }
    }

    /// A dirty sync at `now` that found `newly_dirty` pages not already pending. Returns the new
    /// throttle when it changes.
    pub fn on_sync(&mut self, now: u64, newly_dirty: u64, page_size: u64, bytes_sent: u64) -> Option<f64> {
        self.dirty_pages_period += newly_dirty;
        // QEMU evaluates when "more than 1 second" has passed. Its rate-limit windows overrun 100 ms
        // by timer slack (the lab's mbps shows 100-102 ms windows), so a round of ten windows passes
        // that test there; the simulator's windows are exactly 100 ms, hence >= here.
        if now < self.last_check + 1_000_000_000 {
            return None;
        }
        let xfer = bytes_sent - self.bytes_sent_at_check;
        let dirty = self.dirty_pages_period * page_size;
        let mut changed = None;
        if dirty as f64 > xfer as f64 * self.p.trigger {
            self.high_periods += 1;
            if self.high_periods >= 2 {
                self.high_periods = 0;
                let next = if self.pct == 0.0 {
                    self.p.initial_pct
                } else if self.p.tailslow {
                    // mig_throttle_guest_down with cpu-throttle-tailslow, in QEMU's integers: the
                    // share of CPU that would have dirtied exactly the trigger share, and a step of
                    // at most the increment towards it.
                    let cpu_now = 100.0 - self.pct;
                    let threshold = (xfer as f64 * self.p.trigger).floor();
                    let cpu_ideal = (cpu_now * threshold / dirty as f64).floor();
                    self.pct + (cpu_now - cpu_ideal).min(self.p.increment_pct)
                } else {
                    self.pct + self.p.increment_pct
                };
                let next = next.min(self.p.max_pct);
                if next != self.pct {
                    self.pct = next;
                    changed = Some(next);
                }
            }
        }
        self.last_check = now;
        self.dirty_pages_period = 0;
        self.bytes_sent_at_check = bytes_sent;
        changed
    }
}

/// QEMU's XBZRLE page cache (migration/page_cache.c): direct-mapped, a power-of-two number of slots,
/// slot = page number mod slots; an entry younger than two syncs is not evicted by a colliding page.
#[derive(Debug, Clone)]
pub struct XbzrleCache {
    /// Page held by each slot (`u64::MAX`: empty) and the sync count it was last used at.
    page: Vec<u64>,
    age: Vec<u32>,
    mask: u64,
}

/// What the cache says about one page that is about to be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// Cached: send a delta.
    Hit,
    /// Not cached: send the page whole (it was inserted if the slot allowed it).
    Miss,
}

impl XbzrleCache {
    pub fn new(cache_bytes: u64, page_size: u64) -> Self {
        let slots = (cache_bytes / page_size).max(1);
        // QEMU rounds the number of pages down to a power of two.
        let slots = 1u64 << (63 - slots.leading_zeros());
        XbzrleCache { page: vec![u64::MAX; slots as usize], age: vec![0; slots as usize], mask: slots - 1 }
    }

    pub fn slots(&self) -> u64 {
        self.mask + 1
    }

    /// Look `page` up at sync count `age` (save_xbzrle_page: a hit refreshes the entry's age; a miss
    /// inserts the page unless the slot's entry is too young or this is the final copy).
    pub fn lookup(&mut self, page: u64, age: u32, last_stage: bool) -> Lookup {
        let s = (page & self.mask) as usize;
        if self.page[s] == page {
            self.age[s] = age;
            return Lookup::Hit;
        }
        let occupied = self.page[s] != u64::MAX;
        if !last_stage && (!occupied || self.age[s] + CACHED_PAGE_LIFETIME <= age) {
            self.page[s] = page;
            self.age[s] = age;
        }
        Lookup::Miss
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ac() -> AutoConverge {
        AutoConverge { initial_pct: 20.0, increment_pct: 10.0, max_pct: 99.0, trigger: 0.5, tailslow: false }
    }

    /// The pre-paging default follows the push, and an entry inherits `[migration]`'s explicit
    /// value rather than the default.
    #[test]
    fn prepaging_default_follows_the_push_and_is_inherited() {
        let text = r#"name = "t"
[workload]
kind = "idle"
[migration]
strategy = "postcopy"
prepaging = 0
[[hosts]]
name = "a"
[[hosts]]
name = "b"
[[links]]
between = ["a", "b"]
bandwidth = "1 Gbit/s"
[[vms]]
name = "v1"
host = "a"
memory = "1 MiB"
[[vms]]
name = "v2"
host = "a"
memory = "1 MiB"
[[vms]]
name = "v3"
host = "a"
memory = "1 MiB"
[[migrations]]
vm = "v1"
to = "b"
[[migrations]]
vm = "v2"
to = "b"
prepaging = 8
[[migrations]]
vm = "v3"
to = "b"
postcopy_push = false
"#;
        let sc = crate::scenario::from_str("t.toml", "t", text, &[]).unwrap();
        let got: Vec<u64> = sc.migrations.iter().map(|m| m.params.mech.prepaging()).collect();
        assert_eq!(got, vec![0, 8, 0]);
        let plain = |extra: &str| {
            let t = format!(
                "name = \"t\"\n[vm]\nmemory = \"1 MiB\"\n[network]\nbandwidth = \"1 Gbit/s\"\n[workload]\nkind = \"idle\"\n[migration]\n{extra}"
            );
            crate::scenario::from_str("t.toml", "t", &t, &[]).unwrap().migrations[0].params.mech.prepaging()
        };
        assert_eq!(plain(""), 1, "QEMU: the push restarts at each requested page");
        assert_eq!(plain("postcopy_push = false"), 0, "demand paging alone");
        assert_eq!(plain("postcopy_push = false\nprepaging = 4"), 4);
    }

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
        // One core, nothing else busy: 2 channels + the main thread's half share it (2.5 threads).
        assert!(close(mech(2, Some(1.0), 0.0, false).parallel(), 2.0 / 2.5));
        // The lab: 2 cores, one busy vCPU, sender and receiver on the same cores.
        // One stream: 3 threads (2/3 core each); 2 channels: 5.5; 4 channels: 9.5.
        assert!(close(mech(2, Some(2.0), 1.0, true).parallel(), 2.0 * (2.0 / 5.5) / (2.0 / 3.0)));
        assert!(close(mech(4, Some(2.0), 1.0, true).parallel(), 4.0 * (2.0 / 9.5) / (2.0 / 3.0)));
    }

    #[test]
    fn throttle_steps_every_second_high_period_and_caps() {
        let s = 1_000_000_000u64;
        let mut t = Throttle::new(ac(), 0);
        // A sync less than 1 s after the last evaluation only accumulates.
        assert_eq!(t.on_sync(s / 2, 100, 4096, 0), None);
        let mut steps = Vec::new();
        let mut sent = 0;
        for k in 1..=20u64 {
            sent += 10_000_000;
            // Dirtied bytes (2000 pages = 8 MB) > 50 % of 10 MB sent: every period is high.
            if let Some(p) = t.on_sync(k * 2 * s, 2000, 4096, sent) {
                steps.push(p);
            }
        }
        assert_eq!(steps, vec![20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 99.0]);
    }

    #[test]
    fn tailslow_steps_towards_the_trigger_share() {
        let s = 1_000_000_000u64;
        let mut t = Throttle::new(AutoConverge { tailslow: true, ..ac() }, 0);
        // Two high periods start the throttle at the initial step, tailslow or not.
        assert_eq!(t.on_sync(2 * s, 3000, 4096, 10_000_000), None);
        assert_eq!(t.on_sync(4 * s, 3000, 4096, 20_000_000), Some(20.0));
        // 10 MB sent per period, so the trigger is 5 MB. Dirty 1250 pages = 5.12 MB: the CPU that
        // would dirty 5 MB is floor(80 x 5 / 5.12) = 78 %, a step of 2 instead of 10.
        assert_eq!(t.on_sync(6 * s, 1250, 4096, 30_000_000), None);
        assert_eq!(t.on_sync(8 * s, 1250, 4096, 40_000_000), Some(22.0));
        // Far above the trigger the step is the whole increment again: floor(78 x 5 / 12.3) = 31.
        assert_eq!(t.on_sync(10 * s, 3000, 4096, 50_000_000), None);
        assert_eq!(t.on_sync(12 * s, 3000, 4096, 60_000_000), Some(32.0));
    }

    #[test]
    fn a_low_period_does_not_reset_the_count() {
        let s = 1_000_000_000u64;
        let mut t = Throttle::new(ac(), 0);
        assert_eq!(t.on_sync(2 * s, 3000, 4096, 10_000_000), None); // high (12 MB > 5 MB)
        assert_eq!(t.on_sync(4 * s, 10, 4096, 20_000_000), None); // low
        assert_eq!(t.on_sync(6 * s, 3000, 4096, 30_000_000), Some(20.0)); // second high
    }

    #[test]
    fn a_migration_turning_a_mechanism_on_inherits_its_parameters() {
        // [migration] sets the parameters with the mechanisms off; the migration turns them on.
        let text = r#"
[vm]
memory = "64 MiB"
[network]
bandwidth = "1 Gbit/s"
[migration]
throttle_initial = 40
xbzrle_cache = "16 MiB"
xbzrle_encode_rate = "100 MiB/s"
[[hosts]]
name = "a"
[[hosts]]
name = "b"
[[links]]
between = ["a", "b"]
[[vms]]
name = "v"
host = "a"
[[migrations]]
vm = "v"
to = "b"
auto_converge = true
xbzrle = true
"#;
        let sc = crate::scenario::from_str("t.toml", "t", text, &[]).expect("valid scenario");
        let m = &sc.migrations[0].params.mech;
        assert_eq!(m.auto_converge.map(|a| (a.initial_pct, a.increment_pct)), Some((40.0, 10.0)));
        assert_eq!(m.xbzrle.map(|x| (x.cache_bytes, x.encode_rate)), Some((16 << 20, 100.0 * 1048576.0)));
    }

    #[test]
    fn cache_is_direct_mapped_and_protects_young_entries() {
        let mut c = XbzrleCache::new(4 * 4096 + 100, 4096);
        assert_eq!(c.slots(), 4);
        assert_eq!(c.lookup(1, 3, false), Lookup::Miss); // inserted in slot 1
        assert_eq!(c.lookup(1, 3, false), Lookup::Hit);
        assert_eq!(c.lookup(5, 4, false), Lookup::Miss); // slot 1 taken by an entry of age 3: too young
        assert_eq!(c.lookup(1, 4, false), Lookup::Hit);
        assert_eq!(c.lookup(5, 6, false), Lookup::Miss); // age 4 + 2 <= 6: evicted
        assert_eq!(c.lookup(5, 6, false), Lookup::Hit);
        assert_eq!(c.lookup(1, 9, true), Lookup::Miss); // final copy: no insert
        assert_eq!(c.lookup(5, 9, false), Lookup::Hit);
    }
}
