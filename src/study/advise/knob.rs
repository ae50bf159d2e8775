//! The knobs an operator turns (the downtime limit, the bandwidth caps, auto-converge and its
//! steps, the dirty limit, XBZRLE and its cache, multifd channels, compression, the hybrid switch
//! point, post-copy preempt and pre-paging), the strategies each one acts on, their values
//! (`Setting`) in words, in order, between two neighbours (for refinement), and as the `[migration]`
//! keys that set them. It knows nothing of a scenario's space, of runs or of the search.

use crate::model::mechanism::HybridSwitch;
use crate::model::scenario::MigrationParams;
use crate::model::strategy::Strategy;
use crate::units::{self, WriteRate};

/// A knob an operator turns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Knob {
    DowntimeLimit,
    MaxBandwidth,
    AutoConverge,
    DirtyLimit,
    Xbzrle,
    Multifd,
    Compression,
    HybridSwitch,
    PostcopyPreempt,
    Prepaging,
}

impl Knob {
    pub const ALL: [Knob; 10] = [
        Knob::DowntimeLimit,
        Knob::MaxBandwidth,
        Knob::AutoConverge,
        Knob::DirtyLimit,
        Knob::Xbzrle,
        Knob::Multifd,
        Knob::Compression,
        Knob::HybridSwitch,
        Knob::PostcopyPreempt,
        Knob::Prepaging,
    ];

    /// The name `--exclude` takes.
    pub fn name(self) -> &'static str {
        match self {
            Knob::DowntimeLimit => "downtime_limit",
            Knob::MaxBandwidth => "max_bandwidth",
            Knob::AutoConverge => "auto_converge",
            Knob::DirtyLimit => "dirty_limit",
            Knob::Xbzrle => "xbzrle",
            Knob::Multifd => "multifd",
            Knob::Compression => "compression",
            Knob::HybridSwitch => "hybrid_switch",
            Knob::PostcopyPreempt => "postcopy_preempt",
            Knob::Prepaging => "prepaging",
        }
    }

    /// The `[migration]` keys it sets; a `--set` of any of them pins the knob.
    pub fn keys(self) -> &'static [&'static str] {
        match self {
            Knob::DowntimeLimit => &["downtime_limit"],
            Knob::MaxBandwidth => &["max_bandwidth", "max_postcopy_bandwidth"],
            Knob::AutoConverge => &["auto_converge", "throttle_initial", "throttle_increment"],
            Knob::DirtyLimit => &["dirty_limit"],
            Knob::Xbzrle => &["xbzrle", "xbzrle_cache"],
            Knob::Multifd => &["multifd_channels"],
            Knob::Compression => &["compression"],
            Knob::HybridSwitch => &["hybrid_switch", "hybrid_switch_after"],
            Knob::PostcopyPreempt => &["postcopy_preempt"],
            Knob::Prepaging => &["prepaging"],
        }
    }

    /// Its CSV columns, in base units as sweeps write them (`_s`, `_bps` in bit/s, `_pps`, bytes).
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Knob::DowntimeLimit => &["downtime_limit_s"],
            Knob::MaxBandwidth => &["max_bandwidth_bps", "max_postcopy_bandwidth_bps"],
            Knob::AutoConverge => &["auto_converge", "throttle_initial", "throttle_increment"],
            Knob::DirtyLimit => &["dirty_limit_pps"],
            Knob::Xbzrle => &["xbzrle", "xbzrle_cache_bytes"],
            Knob::Multifd => &["multifd_channels"],
            Knob::Compression => &["compression"],
            Knob::HybridSwitch => &["hybrid_switch", "hybrid_switch_after"],
            Knob::PostcopyPreempt => &["postcopy_preempt"],
            Knob::Prepaging => &["prepaging"],
        }
    }

    /// Whether it acts on a migration run with `s`. Multifd and compression stay with pre-copy:
    /// QEMU 7.x refuses post-copy together with multifd or compression.
    pub fn acts_on(self, s: Strategy) -> bool {
        let (pre, post) = match s.name() {
            "precopy" => (true, false),
            "postcopy" => (false, true),
            "hybrid" => (true, true),
            _ => (false, false),
        };
        match self {
            Knob::MaxBandwidth => true,
            Knob::DowntimeLimit | Knob::AutoConverge | Knob::DirtyLimit | Knob::Xbzrle => pre,
            Knob::Multifd | Knob::Compression => pre && !post,
            Knob::HybridSwitch => pre && post,
            Knob::PostcopyPreempt | Knob::Prepaging => post,
        }
    }
}

/// One value of a knob, concrete (the scenario's own value is one of these too).
#[derive(Debug, Clone, PartialEq)]
pub enum Setting {
    /// The downtime limit, ns.
    Duration(u64),
    /// `max_bandwidth` and `max_postcopy_bandwidth`, bytes/s (`None`: no cap).
    Caps(Option<f64>, Option<f64>),
    /// Auto-converge off, or on with (initial, increment) percent.
    AutoConverge(Option<(f64, f64)>),
    /// The dirty limit, page writes per second (`None`: none).
    DirtyLimit(Option<f64>),
    /// XBZRLE off, or on with a cache of this many bytes.
    Xbzrle(Option<u64>),
    Channels(u32),
    Compression(bool),
    /// The hybrid switch rule and its round count.
    Switch(HybridSwitch, u32),
    Flag(bool),
    Pages(u64),
}

fn cap(x: Option<f64>) -> String {
    x.map_or("none".into(), units::format_rate)
}

impl Setting {
    /// The knob's value in words: "50 ms", "20/10", "256 MiB", "after 2 rounds".
    pub fn words(&self) -> String {
        match self {
            Setting::Duration(ns) => units::format_duration(*ns),
            Setting::Caps(a, b) if a == b => cap(*a),
            Setting::Caps(a, b) => format!("{} (post-copy {})", cap(*a), cap(*b)),
            Setting::AutoConverge(None) | Setting::DirtyLimit(None) | Setting::Xbzrle(None) => "off".into(),
            Setting::AutoConverge(Some((i, s))) => format!("on, {i}/{s} %"),
            Setting::DirtyLimit(Some(p)) => units::format_pages_rate(p.round()),
            Setting::Xbzrle(Some(c)) => format!("on, {} cache", units::format_size(*c)),
            Setting::Channels(n) => format!("{n}"),
            Setting::Compression(on) | Setting::Flag(on) => (if *on { "on" } else { "off" }).into(),
            Setting::Switch(HybridSwitch::Rounds, n) => format!("after {n} round{}", if *n == 1 { "" } else { "s" }),
            Setting::Switch(rule, n) => format!("{} ({n} rounds)", crate::names::name_of(&HybridSwitch::NAMES, *rule)),
            Setting::Pages(n) => format!("{n}"),
        }
    }

    /// The CSV cells of `Knob::columns` (empty for "none").
    pub fn cells(&self) -> Vec<String> {
        let num = |x: Option<f64>| x.map_or(String::new(), |v| v.to_string());
        match self {
            Setting::Duration(ns) => vec![(*ns as f64 / 1e9).to_string()],
            Setting::Caps(a, b) => vec![num(a.map(|r| r * 8.0)), num(b.map(|r| r * 8.0))],
            Setting::AutoConverge(a) => vec![a.is_some().to_string(), num(a.map(|x| x.0)), num(a.map(|x| x.1))],
            Setting::DirtyLimit(d) => vec![num(*d)],
            Setting::Xbzrle(c) => vec![c.is_some().to_string(), c.map_or(String::new(), |c| c.to_string())],
            Setting::Channels(n) => vec![n.to_string()],
            Setting::Compression(b) | Setting::Flag(b) => vec![b.to_string()],
            Setting::Switch(rule, n) => vec![crate::names::name_of(&HybridSwitch::NAMES, *rule).to_string(), n.to_string()],
            Setting::Pages(n) => vec![n.to_string()],
        }
    }

    /// A number to order the values of one knob by (refinement goes between neighbours).
    pub fn order(&self) -> f64 {
        match self {
            Setting::Duration(ns) => *ns as f64,
            Setting::Caps(a, _) => a.unwrap_or(f64::INFINITY),
            Setting::AutoConverge(a) => a.map_or(0.0, |(i, s)| 1.0 + i * 1000.0 + s),
            Setting::DirtyLimit(d) => d.unwrap_or(f64::INFINITY),
            Setting::Xbzrle(c) => c.map_or(0.0, |c| c as f64),
            Setting::Channels(n) => *n as f64,
            Setting::Compression(b) | Setting::Flag(b) => *b as u8 as f64,
            Setting::Switch(r, n) => (*r != HybridSwitch::Rounds) as u8 as f64 * 1e9 + *n as f64,
            Setting::Pages(n) => *n as f64,
        }
    }

    /// A value between two neighbours, for refinement: a geometric middle rounded to what the
    /// knob takes (whole ms, whole pages/s, a power-of-two cache, a whole count). `None` when
    /// there is no value strictly between them.
    pub fn between(&self, other: &Setting) -> Option<Setting> {
        let geo = |a: f64, b: f64| (a * b).sqrt();
        let strictly = |v: f64, a: f64, b: f64| v > a.min(b) && v < a.max(b);
        // A rate, a duration or a size is refined only while the neighbours are more than 20 %
        // apart: finer steps change nothing the model can tell apart (rank::TIE).
        let strictly = move |v: f64, a: f64, b: f64| strictly(v, a, b) && a.max(b) > a.min(b) * 1.2;
        match (self, other) {
            (Setting::Duration(a), Setting::Duration(b)) => {
                let m = geo(*a as f64, *b as f64);
                let m = if m >= 1e6 { (m / 1e6).round() * 1e6 } else { m.round() };
                strictly(m, *a as f64, *b as f64).then_some(Setting::Duration(m as u64))
            }
            (Setting::DirtyLimit(Some(a)), Setting::DirtyLimit(Some(b))) => {
                let m = round3(geo(*a, *b));
                strictly(m, *a, *b).then_some(Setting::DirtyLimit(Some(m)))
            }
            (Setting::Xbzrle(Some(a)), Setting::Xbzrle(Some(b))) => {
                let m = 2f64.powf(geo(*a as f64, *b as f64).log2().round());
                strictly(m, *a as f64, *b as f64).then_some(Setting::Xbzrle(Some(m as u64)))
            }
            (Setting::Channels(a), Setting::Channels(b)) => {
                let m = (a + b) / 2;
                (m > *a.min(b) && m < *a.max(b)).then_some(Setting::Channels(m))
            }
            (Setting::Switch(HybridSwitch::Rounds, a), Setting::Switch(HybridSwitch::Rounds, b)) => {
                let m = (a + b) / 2;
                (m > *a.min(b) && m < *a.max(b)).then_some(Setting::Switch(HybridSwitch::Rounds, m))
            }
            (Setting::AutoConverge(Some((i1, s1))), Setting::AutoConverge(Some((i2, s2)))) => {
                let (i, s) = (((i1 + i2) / 2.0).round(), ((s1 + s2) / 2.0).round());
                strictly(i, *i1, *i2).then_some(Setting::AutoConverge(Some((i, s))))
            }
            (Setting::Pages(a), Setting::Pages(b)) if *a > 0 && *b > 0 => {
                let m = geo(*a as f64, *b as f64).round();
                strictly(m, *a as f64, *b as f64).then_some(Setting::Pages(m as u64))
            }
            _ => None,
        }
    }

    /// The `KEY=VALUE` overrides (keys without the `[migration]` prefix) that give this value.
    pub fn sets(&self, knob: Knob) -> Vec<(String, String)> {
        let q = |s: String| format!("\"{s}\"");
        let kv = |k: &str, v: String| (k.to_string(), v);
        match self {
            Setting::Duration(ns) => vec![kv("downtime_limit", q(units::format_duration_exact(*ns)))],
            Setting::Caps(a, b) => {
                let v = |x: &Option<f64>| x.map_or(q("none".into()), |r| q(units::format_rate_exact(r)));
                vec![kv("max_bandwidth", v(a)), kv("max_postcopy_bandwidth", v(b))]
            }
            Setting::AutoConverge(None) => vec![kv("auto_converge", "false".into())],
            Setting::AutoConverge(Some((i, s))) => {
                vec![
                    kv("auto_converge", "true".into()),
                    kv("throttle_initial", format!("{i:?}")),
                    kv("throttle_increment", format!("{s:?}")),
                ]
            }
            Setting::DirtyLimit(None) => vec![kv("dirty_limit", q("none".into()))],
            Setting::DirtyLimit(Some(p)) => vec![kv("dirty_limit", q(units::format_pages_rate(*p)))],
            Setting::Xbzrle(None) => vec![kv("xbzrle", "false".into())],
            Setting::Xbzrle(Some(c)) => vec![kv("xbzrle", "true".into()), kv("xbzrle_cache", q(units::format_size_exact(*c)))],
            Setting::Channels(n) => vec![kv("multifd_channels", n.to_string())],
            // Only the scenario's compression exists as "on", so "on" needs no override.
            Setting::Compression(on) => {
                if *on {
                    vec![]
                } else {
                    vec![kv("compression", q("none".into()))]
                }
            }
            Setting::Switch(rule, n) => vec![
                kv("hybrid_switch", q(crate::names::name_of(&HybridSwitch::NAMES, *rule).into())),
                kv("hybrid_switch_after", n.to_string()),
            ],
            Setting::Flag(on) => vec![kv(knob.keys()[0], on.to_string())],
            Setting::Pages(n) => vec![kv("prepaging", n.to_string())],
        }
    }
}

/// Three significant digits (dirty limits read better as "12500 pages/s" than "12499.3").
pub fn round3(x: f64) -> f64 {
    if x <= 0.0 || !x.is_finite() {
        return x;
    }
    let scale = 10f64.powi(x.log10().floor() as i32 - 2);
    (x / scale).round() * scale
}

/// The knob's value in a resolved migration.
pub fn scenario_value(knob: Knob, p: &MigrationParams, page_size: u64) -> Setting {
    let m = &p.mech;
    match knob {
        Knob::DowntimeLimit => Setting::Duration(p.downtime_limit_ns),
        Knob::MaxBandwidth => Setting::Caps(p.max_bandwidth_bps, p.max_postcopy_bandwidth_bps),
        Knob::AutoConverge => Setting::AutoConverge(m.auto_converge.map(|a| (a.initial_pct, a.increment_pct))),
        Knob::DirtyLimit => Setting::DirtyLimit(m.dirty_limit.map(|d: WriteRate| d.pages_per_sec(page_size))),
        Knob::Xbzrle => Setting::Xbzrle(m.xbzrle.map(|x| x.cache_bytes)),
        Knob::Multifd => Setting::Channels(m.multifd_channels),
        Knob::Compression => Setting::Compression(m.compression.is_some()),
        Knob::HybridSwitch => Setting::Switch(m.hybrid_switch, p.hybrid_switch_after),
        Knob::PostcopyPreempt => Setting::Flag(m.postcopy_preempt),
        Knob::Prepaging => Setting::Pages(m.prepaging()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refinement_finds_values_between_neighbours() {
        let d = |ms: u64| Setting::Duration(ms * 1_000_000);
        assert_eq!(d(30).between(&d(100)), Some(d(55)));
        assert_eq!(d(10).between(&d(11)), None);
        assert_eq!(d(50).between(&d(55)), None, "neighbours 10 % apart are close enough");
        assert_eq!(Setting::Xbzrle(Some(64 << 20)).between(&Setting::Xbzrle(Some(256 << 20))), Some(Setting::Xbzrle(Some(128 << 20))));
        assert_eq!(Setting::Channels(2).between(&Setting::Channels(4)), Some(Setting::Channels(3)));
        assert_eq!(Setting::Channels(1).between(&Setting::Channels(2)), None);
        assert_eq!(Setting::AutoConverge(None).between(&Setting::AutoConverge(Some((20.0, 10.0)))), None);
    }
}
