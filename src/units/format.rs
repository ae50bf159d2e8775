//! Quantities written as people write them: rounded for tables (`format_size`: "7.26 GiB") or
//! exact, so that reading the text back gives the same value (`format_size_exact`, for
//! `migsim check`).

use super::parse::parse_rate;

/// A decimal number's text without trailing zeros after the point ("2.50" -> "2.5", "3.00" -> "3").
pub fn trim_zeros(s: String) -> String {
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s }
}

/// `v >= 0` to 3 significant digits (all integer digits from 100 up), trailing zeros trimmed.
fn sig3(v: f64) -> String {
    if v == 0.0 {
        return "0".to_string();
    }
    let decimals = if v >= 100.0 {
        0
    } else if v >= 10.0 {
        1
    } else if v >= 1.0 {
        2
    } else {
        (2 - v.log10().floor() as i64).clamp(0, 400) as usize
    };
    trim_zeros(format!("{v:.decimals$}"))
}

/// Formats `v` (in base units) in the largest unit it reaches, moving up one more unit when
/// rounding reaches `step` (so 1023.9 KiB shows as "1 MiB", not "1024 KiB").
fn human(v: f64, units: &[(f64, &str)], step: f64) -> String {
    let mut i = units.iter().rposition(|&(scale, _)| v >= scale).unwrap_or(0);
    loop {
        let (scale, name) = units[i];
        let text = sig3(v / scale);
        if i + 1 < units.len() && text.parse::<f64>().is_ok_and(|x| x >= step) {
            i += 1;
            continue;
        }
        return format!("{text} {name}");
    }
}

/// Human size for tables: the largest binary unit, 3 significant digits ("5.34 GiB").
pub fn format_size(bytes: u64) -> String {
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    const UNITS: &[(f64, &str)] = &[(1024.0, "KiB"), (1048576.0, "MiB"), (1073741824.0, "GiB"), (1099511627776.0, "TiB")];
    human(bytes as f64, UNITS, 1024.0)
}

/// Largest unit of `units` (largest first) that divides `x`, as (quotient, name).
fn largest_divisor(x: u64, units: &[(u64, &'static str)]) -> Option<(u64, &'static str)> {
    units.iter().find(|&&(scale, _)| x.is_multiple_of(scale)).map(|&(scale, name)| (x / scale, name))
}

/// Exact size that [`parse_size`] reads back as `bytes`: the unit giving the smallest whole
/// number, binary on ties ("8 GiB", "4 KiB", "2 GB", "1000 B").
pub fn format_size_exact(bytes: u64) -> String {
    if bytes == 0 {
        return "0 B".to_string();
    }
    let binary = largest_divisor(bytes, &[(1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")]);
    let decimal = largest_divisor(bytes, &[(1_000_000_000_000, "TB"), (1_000_000_000, "GB"), (1_000_000, "MB"), (1_000, "KB")]);
    let (n, name) = match (binary, decimal) {
        (Some(b), Some(d)) if d.0 < b.0 => d,
        (Some(b), _) => b,
        (None, Some(d)) => d,
        (None, None) => (bytes, "B"),
    };
    format!("{n} {name}")
}

/// Human rate for tables, in bits per second with 3 significant digits ("1.07 Gbit/s").
pub fn format_rate(bytes_per_sec: f64) -> String {
    let bits = bytes_per_sec * 8.0;
    if !bits.is_finite() {
        return format!("{bits} bit/s");
    }
    if bits < 0.0 {
        return format!("-{}", format_rate(-bytes_per_sec));
    }
    const UNITS: &[(f64, &str)] = &[(1.0, "bit/s"), (1e3, "Kbit/s"), (1e6, "Mbit/s"), (1e9, "Gbit/s")];
    human(bits, UNITS, 1000.0)
}

/// Exact rate that [`parse_rate`] reads back as `bytes_per_sec` (bit for bit): a whole number
/// of Gbit/s, Mbit/s or Kbit/s if possible, else of GiB/s, MiB/s or KiB/s, else plain B/s with
/// the shortest decimal that round-trips. Negative or non-finite rates format as B/s but do not
/// parse.
pub fn format_rate_exact(bytes_per_sec: f64) -> String {
    let r = bytes_per_sec;
    if r == 0.0 {
        return "0 B/s".to_string();
    }
    // Above 2^53 "whole" stops meaning anything for an f64.
    const MAX_WHOLE: f64 = 9007199254740992.0;
    if r.is_finite() && r > 0.0 {
        for (name, scale) in [("Gbit/s", 1e9), ("Mbit/s", 1e6), ("Kbit/s", 1e3)] {
            let n = (r * 8.0 / scale).round();
            if (1.0..=MAX_WHOLE).contains(&n) {
                let text = format!("{n} {name}");
                // Division by 10^k is inexact, so confirm by reading it back.
                if parse_rate(&text) == Ok(r) {
                    return text;
                }
            }
        }
        for (name, scale) in [("GiB/s", 1073741824.0), ("MiB/s", 1048576.0), ("KiB/s", 1024.0)] {
            let n = r / scale; // exact: a power of two
            if n.fract() == 0.0 && (1.0..=MAX_WHOLE).contains(&n) {
                return format!("{n} {name}");
            }
        }
    }
    // Display for f64 is the shortest round-tripping decimal, never in exponent form.
    format!("{r} B/s")
}

/// Human duration for tables, 3 significant digits: "850 ns", "12.5 us", "138 ms", "45.9 s",
/// seconds up to an hour ("3600 s"), hours beyond ("1.5 h").
pub fn format_duration(ns: u64) -> String {
    if ns == 0 {
        return "0 s".to_string();
    }
    if ns < 1000 {
        return format!("{ns} ns");
    }
    if ns <= 3_600_000_000_000 {
        const UNITS: &[(f64, &str)] = &[(1e3, "us"), (1e6, "ms"), (1e9, "s")];
        return human(ns as f64, UNITS, 1000.0);
    }
    format!("{} h", sig3(ns as f64 / 3.6e12))
}

/// Exact duration that [`parse_duration`] reads back as `ns`: the largest of h, min, s, ms, us,
/// ns that divides it ("300 ms", "1 h", "1500 ns").
pub fn format_duration_exact(ns: u64) -> String {
    if ns == 0 {
        return "0 s".to_string();
    }
    let units = [(3_600_000_000_000, "h"), (60_000_000_000, "min"), (1_000_000_000, "s"), (1_000_000, "ms"), (1_000, "us"), (1, "ns")];
    let (n, name) = largest_divisor(ns, &units).expect("1 divides everything");
    format!("{n} {name}")
}

/// A page rate, e.g. "20000 pages/s" (shortest round-tripping decimal, no exponent).
pub fn format_pages_rate(p: f64) -> String {
    // Avoid "-0 pages/s".
    let p = if p == 0.0 { 0.0 } else { p };
    format!("{p} pages/s")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::parse::*;
    use proptest::prelude::*;

    #[test]
    fn format_sizes() {
        let cases: &[(u64, &str)] = &[
            (8_589_934_592, "8 GiB"),
            (1_572_864, "1.5 MiB"),
            (5733, "5.6 KiB"),
            (100, "100 B"),
            (0, "0 B"),
            (1023, "1023 B"),
            (1024, "1 KiB"),
            (5_734_661_242, "5.34 GiB"),
            (1_048_575, "1 MiB"),
            (1 << 40, "1 TiB"),
            (u64::MAX, "16777216 TiB"),
            (150 << 20, "150 MiB"),
            (12_345_678, "11.8 MiB"),
        ];
        for &(b, want) in cases {
            assert_eq!(format_size(b), want, "{b}");
        }
    }

    #[test]
    fn format_sizes_exact() {
        let cases: &[(u64, &str)] = &[
            (8 << 30, "8 GiB"),
            (4096, "4 KiB"),
            (0, "0 B"),
            (100, "100 B"),
            (1000, "1 KB"),
            (1_000_000, "1 MB"),
            (1_024_000, "1000 KiB"),
            (2_000_000_000, "2 GB"),
            (1_572_864, "1536 KiB"),
            (1 << 40, "1 TiB"),
            (1 << 50, "1024 TiB"),
            (1_000_001, "1000001 B"),
            (u64::MAX, "18446744073709551615 B"),
        ];
        for &(b, want) in cases {
            assert_eq!(format_size_exact(b), want, "{b}");
            assert_eq!(parse_size(want), Ok(b), "{want}");
        }
    }

    #[test]
    fn format_rates() {
        let cases: &[(f64, &str)] = &[
            (1.25e9, "10 Gbit/s"),
            (1.25e8, "1 Gbit/s"),
            (134_217_728.0, "1.07 Gbit/s"),
            (1.25e7, "100 Mbit/s"),
            (52_428_800.0, "419 Mbit/s"),
            (1000.0, "8 Kbit/s"),
            (1.0, "8 bit/s"),
            (0.0, "0 bit/s"),
            (0.0625, "0.5 bit/s"),
            (124_990_000.0, "1 Gbit/s"),
            (1.25e12, "10000 Gbit/s"),
            (-1.25e9, "-10 Gbit/s"),
        ];
        for &(r, want) in cases {
            assert_eq!(format_rate(r), want, "{r}");
        }
    }

    #[test]
    fn format_rates_exact() {
        let cases: &[(f64, &str)] = &[
            (1.25e9, "10 Gbit/s"),
            (1.25e8, "1 Gbit/s"),
            (1.25e7, "100 Mbit/s"),
            (1.25e7 * 0.3, "30 Mbit/s"),
            (1000.0, "8 Kbit/s"),
            (134_217_728.0, "128 MiB/s"),
            (52_428_800.0, "50 MiB/s"),
            (1024.0, "1 KiB/s"),
            (5e7, "400 Mbit/s"),
            (0.0, "0 B/s"),
            (1.0, "1 B/s"),
            (0.125, "0.125 B/s"),
            (1.1, "1.1 B/s"),
            (1e-10, "0.0000000001 B/s"),
        ];
        for &(r, want) in cases {
            assert_eq!(format_rate_exact(r), want, "{r}");
            assert_eq!(parse_rate(want), Ok(r), "{want}");
        }
    }

    #[test]
    fn format_durations() {
        let cases: &[(u64, &str)] = &[
            (0, "0 s"),
            (850, "850 ns"),
            (999, "999 ns"),
            (1000, "1 us"),
            (12_500, "12.5 us"),
            (999_999, "1 ms"),
            (138_000_000, "138 ms"),
            (138_400_000, "138 ms"),
            (45_900_000_000, "45.9 s"),
            (150_000_000_000, "150 s"),
            (3_600_000_000_000, "3600 s"),
            (5_400_000_000_000, "1.5 h"),
            (360_000_000_000_000, "100 h"),
        ];
        for &(ns, want) in cases {
            assert_eq!(format_duration(ns), want, "{ns}");
        }
    }

    #[test]
    fn format_durations_exact() {
        let cases: &[(u64, &str)] = &[
            (0, "0 s"),
            (300_000_000, "300 ms"),
            (1_000_000_000, "1 s"),
            (100_000, "100 us"),
            (3_600_000_000_000, "1 h"),
            (120_000_000_000, "2 min"),
            (90_000_000_000, "90 s"),
            (1500, "1500 ns"),
            (u64::MAX, "18446744073709551615 ns"),
        ];
        for &(ns, want) in cases {
            assert_eq!(format_duration_exact(ns), want, "{ns}");
            assert_eq!(parse_duration(want), Ok(ns), "{want}");
        }
    }

    #[test]
    fn format_page_rates() {
        assert_eq!(format_pages_rate(20000.0), "20000 pages/s");
        assert_eq!(format_pages_rate(2.5), "2.5 pages/s");
        assert_eq!(format_pages_rate(1e7), "10000000 pages/s");
        assert_eq!(format_pages_rate(-0.0), "0 pages/s");
        for p in [20000.0, 2.5, 1e7, 0.1, 123456.789] {
            assert_eq!(parse_write_rate(&format_pages_rate(p)), Ok(WriteRate::PagesPerSec(p)));
        }
    }

    fn close(a: f64, b: f64) -> bool {
        a == b || (a - b).abs() <= 1e-12 * a.abs().max(b.abs())
    }

    /// Rates people write (whole numbers of some unit) plus arbitrary positive floats.
    fn rate_strategy() -> impl Strategy<Value = f64> {
        let scales = prop::sample::select(vec![1.0, 0.125, 125.0, 125e3, 125e6, 1000.0, 1e6, 1e9, 1024.0, 1048576.0, 1073741824.0]);
        prop_oneof![
            (0u64..10_000_000, scales).prop_map(|(n, s)| n as f64 * s),
            (0u32..100_000, 1u32..1000).prop_map(|(n, d)| f64::from(n) / f64::from(d)),
            prop::num::f64::POSITIVE | prop::num::f64::NORMAL,
            prop::num::f64::POSITIVE | prop::num::f64::SUBNORMAL,
        ]
    }

    proptest! {
        #[test]
        fn size_round_trip(x in 0u64..(1 << 50)) {
            prop_assert_eq!(parse_size(&format_size_exact(x)), Ok(x));
        }

        #[test]
        fn size_round_trip_any(x: u64, shift in 0u32..50) {
            let x = x >> shift << shift;
            prop_assert_eq!(parse_size(&format_size_exact(x)), Ok(x));
        }

        #[test]
        fn duration_round_trip(x: u64, shift in 0u32..45) {
            let x = x >> shift << shift;
            prop_assert_eq!(parse_duration(&format_duration_exact(x)), Ok(x));
        }

        #[test]
        fn duration_round_trip_whole_units(n in 0u64..100_000, unit in 0usize..6) {
            let scale = [1, 1_000, 1_000_000, 1_000_000_000, 60_000_000_000, 3_600_000_000_000][unit];
            let x = n * scale;
            prop_assert_eq!(parse_duration(&format_duration_exact(x)), Ok(x));
        }

        #[test]
        fn rate_round_trip(r in rate_strategy()) {
            let text = format_rate_exact(r);
            let back = parse_rate(&text);
            prop_assert!(back.as_ref().is_ok_and(|&b| close(b, r)), "{} -> {} -> {:?}", r, text, back);
            // Stronger than promised: the round trip is bit-exact.
            prop_assert_eq!(back, Ok(r));
        }

        #[test]
        fn human_formats_parse_approximately(x in 1u64..(1 << 60), r in 1e-3f64..1e13) {
            // Human forms are not exact, but they use real units and stay within rounding.
            let s = format_size(x);
            let (num, unit) = s.split_once(' ').unwrap();
            let scale = parse_size(&format!("1 {unit}")).unwrap() as f64;
            let v: f64 = num.parse().unwrap();
            prop_assert!((v * scale - x as f64).abs() <= 0.005 * x as f64, "{} -> {}", x, s);
            let back = parse_rate(&format_rate(r)).unwrap();
            prop_assert!((back - r).abs() <= 0.005 * r, "{} -> {}", r, format_rate(r));
        }
    }
}
