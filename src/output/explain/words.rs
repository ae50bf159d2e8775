//! Numbers as a student reads them: page counts with thousands separators, sizes, durations and
//! rates in the units people write, percentages, moments of simulated time.

use crate::units;

/// 2097152 -> "2,097,152".
pub fn int(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub(super) fn pages(n: u64) -> String {
    if n == 1 { "1 page".into() } else { format!("{} pages", int(n)) }
}

pub(super) fn size(b: f64) -> String {
    units::format_size(b.max(0.0).round() as u64)
}

pub(super) fn dur(s: f64) -> String {
    units::format_duration((s.max(0.0) * 1e9).round() as u64)
}

/// A rate given in bytes per second, written in bits per second.
pub(super) fn rate(bytes_per_s: f64) -> String {
    units::format_rate(bytes_per_s)
}

/// A percentage with as many decimals as it needs ("88 %", "4.2 %", "0.31 %").
pub(super) fn pct(x: f64) -> String {
    let d = if x.abs() >= 10.0 || x == 0.0 {
        0
    } else if x.abs() >= 1.0 {
        1
    } else {
        2
    };
    format!("{} %", units::trim_zeros(format!("{x:.d$}")))
}

/// A moment of simulated time: to the millisecond from 1 s on ("151.812 s"), else as a duration.
pub(super) fn clock(t: f64) -> String {
    if t < 1.0 { dur(t) } else { format!("{} s", units::trim_zeros(format!("{t:.3}"))) }
}

pub(super) fn at(t: f64) -> String {
    format!("t = {}", clock(t))
}

/// Two sizes to compare, in MiB with a decimal when the rounded forms would read the same.
pub(super) fn two_sizes(a: f64, b: f64) -> (String, String) {
    if size(a) != size(b) {
        return (size(a), size(b));
    }
    let mib = |x: f64| format!("{:.1} MiB", x / 1048576.0);
    (mib(a), mib(b))
}

/// "a to b", or "a" when both read the same.
pub(super) fn span_of(a: String, b: String) -> String {
    if a == b { a } else { format!("{a} to {b}") }
}
