//! Reading the mechanism knobs of a `[migration]` table (or a `[[migrations]]` entry, on top of
//! what `[migration]` said), and writing them back for `migsim check`.

use crate::input::tree::{ConfigError, TableReader, choice};
use crate::model::mechanism::{AutoConverge, Compression, HostCpu, HybridSwitch, Mechanisms, RateLimit, Xbzrle};
use crate::names::name_of;
use crate::units::WriteRate;

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
    if t.is_none("dirty_limit") {
        m.dirty_limit = None;
    } else if let Some(r) = t.write_rate("dirty_limit")? {
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
    m.host_cpu = read_host_cpu(t, m.host_cpu)?;
    if t.is_none("compression") {
        m.compression = None;
    } else if t.raw().get("compression").is_some_and(|n| !matches!(n.value, crate::input::tree::Value::Table(_))) {
        return Err(t.error(
            "compression",
            "expected a table: compression = { ratio = 0.4, cpu_rate = \"200 MiB/s\" }, or \"none\" to turn it off",
        ));
    } else if let Some(mut c) = t.table("compression")? {
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
    m.drain_at_stop = t.bool("drain_at_stop")?.unwrap_or(m.drain_at_stop);
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

/// The host CPU model (`mechanism::cpu`): on with `host_cores`; `host_busy_threads`, `guest_cpu`,
/// `guest_vcpus`, `cpu_rate_zero`, `cpu_interference` and `guest_interference` refine it. `host_cores = "none"` turns it off.
fn read_host_cpu(t: &mut TableReader<'_>, d: Option<HostCpu>) -> Result<Option<HostCpu>, ConfigError> {
    if t.is_none("host_cores") {
        return Ok(None);
    }
    let nonneg = |t: &mut TableReader<'_>, key: &'static str, dflt: f64, eg: &str| -> Result<f64, ConfigError> {
        match t.float(key)? {
            None => Ok(dflt),
            Some(v) if v >= 0.0 && v.is_finite() => Ok(v),
            Some(v) => Err(t.error(key, format!("{v} must be zero or more, e.g. {eg}"))),
        }
    };
    let cores = match t.float("host_cores")? {
        Some(c) if c > 0.0 && c.is_finite() => Some(c),
        Some(c) => return Err(t.error("host_cores", format!("{c} must be greater than zero, e.g. 2 or 1.5"))),
        None => d.map(|h| h.cores),
    };
    let base = d.unwrap_or(HostCpu {
        cores: 1.0,
        busy_threads: 0.0,
        guest_cpu: 0.0,
        vcpus: 1.0,
        zero_rate: None,
        interference: 0.0,
        guest_interference: 0.0,
    });
    let h = HostCpu {
        cores: cores.unwrap_or(base.cores),
        busy_threads: nonneg(t, "host_busy_threads", base.busy_threads, "6.5 for a load of 6.5 other threads")?,
        guest_cpu: nonneg(t, "guest_cpu", base.guest_cpu, "1 for one vCPU kept busy")?,
        vcpus: match t.uint("guest_vcpus")? {
            Some(0) => return Err(t.error("guest_vcpus", "must be at least 1")),
            Some(n) => n as f64,
            None => base.vcpus,
        },
        zero_rate: t.positive_rate("cpu_rate_zero")?.or(base.zero_rate),
        interference: nonneg(t, "cpu_interference", base.interference, "0.1 for a stream 10 % slower per core the guest keeps busy")?,
        guest_interference: match t.float("guest_interference")? {
            None => base.guest_interference,
            Some(v) if (0.0..1.0).contains(&v) => v,
            Some(v) => {
                return Err(t.error(
                    "guest_interference",
                    format!("{v} must be at least 0 and less than 1, e.g. 0.2 for vCPUs 20 % slower while the migration works flat out"),
                ));
            }
        },
    };
    let named = ["host_busy_threads", "guest_cpu", "guest_vcpus", "cpu_rate_zero", "cpu_interference", "guest_interference"]
        .into_iter()
        .find(|k| t.raw().get(k).is_some());
    match (cores, named) {
        (Some(_), _) => Ok(Some(h)),
        (None, Some(k)) => Err(t.error(k, "needs host_cores, the host's cores, e.g. host_cores = 2")),
        (None, None) => Ok(None),
    }
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
    if let Some(h) = m.host_cpu {
        v.push(format!("host_cores = {:?}", h.cores));
        v.push(format!("host_busy_threads = {:?}", h.busy_threads));
        v.push(format!("guest_cpu = {:?}", h.guest_cpu));
        v.push(format!("guest_vcpus = {}", h.vcpus as u64));
        if let Some(z) = h.zero_rate {
            v.push(format!("cpu_rate_zero = {}", q(&fmt_rate(z))));
        }
        if h.interference > 0.0 {
            v.push(format!("cpu_interference = {:?}", h.interference));
        }
        if h.guest_interference > 0.0 {
            v.push(format!("guest_interference = {:?}", h.guest_interference));
        }
        if m.cpu_cores.is_none() {
            v.push(format!("cpu_loopback = {}", m.cpu_loopback));
        }
    }
    if let Some(c) = m.compression {
        v.push(format!("compression = {{ ratio = {:?}, cpu_rate = {} }}", c.ratio, q(&fmt_rate(c.cpu_rate))));
    }
    v.push(format!("rate_limit = {}", q(name_of(&RateLimit::NAMES, m.rate_limit))));
    v.push(format!("prepaging = {}", m.prepaging()));
    v.push(format!("postcopy_push = {}", m.postcopy_push));
    v.push(format!("postcopy_preempt = {}", m.postcopy_preempt));
    v.push(format!("socket_buffer = {}", q(&fmt_size(m.socket_buffer_bytes))));
    v.push(format!("drain_at_stop = {}", m.drain_at_stop));
    v.push(format!("hybrid_switch = {}", q(name_of(&HybridSwitch::NAMES, m.hybrid_switch))));
    if let Some(t) = m.hybrid_switch_after_time {
        v.push(format!("hybrid_switch_after_time = {}", q(&crate::units::format_duration_exact(t))));
    }
    v
}

#[cfg(test)]
mod tests {

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
        let sc = crate::input::from_str("t.toml", "t", text, &[]).unwrap();
        let got: Vec<u64> = sc.migrations.iter().map(|m| m.params.mech.prepaging()).collect();
        assert_eq!(got, vec![0, 8, 0]);
        let plain = |extra: &str| {
            let t = format!(
                "name = \"t\"\n[vm]\nmemory = \"1 MiB\"\n[network]\nbandwidth = \"1 Gbit/s\"\n[workload]\nkind = \"idle\"\n[migration]\n{extra}"
            );
            crate::input::from_str("t.toml", "t", &t, &[]).unwrap().migrations[0].params.mech.prepaging()
        };
        assert_eq!(plain(""), 1, "QEMU: the push restarts at each requested page");
        assert_eq!(plain("postcopy_push = false"), 0, "demand paging alone");
        assert_eq!(plain("postcopy_push = false\nprepaging = 4"), 4);
    }

    #[test]
    fn none_turns_off_what_a_file_turned_on() {
        let text = "[vm]\nmemory = \"64 MiB\"\n[network]\nbandwidth = \"1 Gbit/s\"\n[migration]\nmax_bandwidth = \"128 MiB/s\"\nmax_postcopy_bandwidth = \"1 Gbit/s\"\ndirty_limit = \"20 MiB/s\"\ncompression = { ratio = 0.5, cpu_rate = \"200 MiB/s\" }\n";
        let on = crate::input::from_str("t.toml", "t", text, &[]).unwrap();
        let p = &on.migrations[0].params;
        assert!(p.max_bandwidth_bps.is_some() && p.max_postcopy_bandwidth_bps.is_some());
        assert!(p.mech.dirty_limit.is_some() && p.mech.compression.is_some());
        let sets: Vec<String> = ["max_bandwidth", "max_postcopy_bandwidth", "dirty_limit", "compression"]
            .iter()
            .map(|k| format!("migration.{k}=none"))
            .collect();
        let off = crate::input::from_str("t.toml", "t", text, &sets).unwrap();
        let p = &off.migrations[0].params;
        assert!(p.max_bandwidth_bps.is_none() && p.max_postcopy_bandwidth_bps.is_none());
        assert!(p.mech.dirty_limit.is_none() && p.mech.compression.is_none());
        let e = crate::input::from_str("t.toml", "t", text, &["migration.compression=off".into()]).unwrap_err();
        assert!(e.to_string().contains("\"none\" to turn it off"), "{e}");
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
        let sc = crate::input::from_str("t.toml", "t", text, &[]).expect("valid scenario");
        let m = &sc.migrations[0].params.mech;
        assert_eq!(m.auto_converge.map(|a| (a.initial_pct, a.increment_pct)), Some((40.0, 10.0)));
        assert_eq!(m.xbzrle.map(|x| (x.cache_bytes, x.encode_rate)), Some((16 << 20, 100.0 * 1048576.0)));
    }
}
