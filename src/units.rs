//! Parsing and formatting of human-written quantities: sizes, byte/bit rates, page rates and
//! durations (`"8 GiB"`, `"10 Gbit/s"`, `"20000 pages/s"`, `"300 ms"`).
//!
//! This module owns the unit vocabulary; the rest of the crate only sees internal units:
//! sizes in bytes (`u64`), rates in bytes per second (`f64`), durations in whole nanoseconds
//! (`u64`) and page rates in pages per second (`f64`).
//!
//! Numbers are parsed as exact decimals (digits and a power of ten) rather than through `f64`,
//! so `"0.1 KB"` is exactly 100 bytes and `"0.1 Gbit/s"` is the `f64` nearest to 12.5e6.

use std::fmt::Display;

/// A quantity that could not be parsed. The message quotes the input, says what was wrong and
/// lists the valid units.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct UnitError {
    pub message: String,
}

/// A workload write rate, as written: in pages or in bytes per second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WriteRate {
    PagesPerSec(f64),
    BytesPerSec(f64),
}

impl WriteRate {
    /// The rate in pages per second; a byte rate is divided by `page_size` (bytes).
    pub fn pages_per_sec(self, page_size: u64) -> f64 {
        match self {
            WriteRate::PagesPerSec(p) => p,
            WriteRate::BytesPerSec(b) => b / page_size as f64,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Unit tables. `listed` units appear in error messages; the others are accepted aliases.

struct Unit<F> {
    name: &'static str,
    factor: F,
    listed: bool,
}

const fn u<F>(name: &'static str, factor: F) -> Unit<F> {
    Unit { name, factor, listed: true }
}

const fn alias<F>(name: &'static str, factor: F) -> Unit<F> {
    Unit { name, factor, listed: false }
}

/// Bytes per unit.
const SIZE_UNITS: &[Unit<u128>] = &[
    u("B", 1),
    u("KiB", 1 << 10),
    u("MiB", 1 << 20),
    u("GiB", 1 << 30),
    u("TiB", 1 << 40),
    u("KB", 1_000),
    u("MB", 1_000_000),
    u("GB", 1_000_000_000),
    u("TB", 1_000_000_000_000),
    alias("kB", 1_000),
];

/// Bytes/s per unit as `10^pow10 * 2^pow2`, so conversion stays correctly rounded
/// (bits are `10^k / 8`, binary units `2^k`).
#[derive(Clone, Copy, PartialEq)]
struct RateFactor {
    pow10: i64,
    pow2: i32,
}

const fn bits(pow10: i64) -> RateFactor {
    RateFactor { pow10, pow2: -3 }
}

const fn bytes(pow10: i64, pow2: i32) -> RateFactor {
    RateFactor { pow10, pow2 }
}

const RATE_UNITS: &[Unit<RateFactor>] = &[
    u("bit/s", bits(0)),
    u("Kbit/s", bits(3)),
    u("Mbit/s", bits(6)),
    u("Gbit/s", bits(9)),
    u("B/s", bytes(0, 0)),
    u("KiB/s", bytes(0, 10)),
    u("MiB/s", bytes(0, 20)),
    u("GiB/s", bytes(0, 30)),
    u("KB/s", bytes(3, 0)),
    u("MB/s", bytes(6, 0)),
    u("GB/s", bytes(9, 0)),
    alias("bps", bits(0)),
    alias("Kbps", bits(3)),
    alias("kbps", bits(3)),
    alias("Mbps", bits(6)),
    alias("Gbps", bits(9)),
    alias("Kb/s", bits(3)),
    alias("kb/s", bits(3)),
    alias("Mb/s", bits(6)),
    alias("Gb/s", bits(9)),
    alias("kbit/s", bits(3)),
    alias("kB/s", bytes(3, 0)),
];

const PAGE_RATE_UNITS: &[Unit<()>] = &[u("pages/s", ()), alias("page/s", ())];

/// Nanoseconds per unit.
const DURATION_UNITS: &[Unit<u128>] = &[
    u("ns", 1),
    u("us", 1_000),
    u("µs", 1_000),     // U+00B5 MICRO SIGN
    alias("μs", 1_000), // U+03BC GREEK SMALL LETTER MU, which looks the same
    u("ms", 1_000_000),
    u("s", 1_000_000_000),
    u("min", 60_000_000_000),
    u("h", 3_600_000_000_000),
];

fn lookup<F: Copy>(table: &[Unit<F>], name: &str) -> Option<F> {
    table.iter().find(|u| u.name == name).map(|u| u.factor)
}

fn listed<F>(table: &[Unit<F>]) -> impl Iterator<Item = &'static str> + '_ {
    table.iter().filter(|u| u.listed).map(|u| u.name)
}

// ---------------------------------------------------------------------------------------------
// Errors

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Size,
    Rate,
    WriteRate,
    Duration,
}

impl Kind {
    fn noun(self) -> &'static str {
        match self {
            Kind::Size => "a size",
            Kind::Rate => "a byte or bit rate",
            Kind::WriteRate => "a write rate",
            Kind::Duration => "a duration",
        }
    }

    fn default_unit(self) -> &'static str {
        match self {
            Kind::Size => "GiB",
            Kind::Rate => "Gbit/s",
            Kind::WriteRate => "pages/s",
            Kind::Duration => "ms",
        }
    }

    fn example(self) -> &'static str {
        match self {
            Kind::Size => "8 GiB",
            Kind::Rate => "10 Gbit/s",
            Kind::WriteRate => "20000 pages/s",
            Kind::Duration => "300 ms",
        }
    }

    fn units(self) -> String {
        let names: Vec<&str> = match self {
            Kind::Size => listed(SIZE_UNITS).collect(),
            Kind::Rate => listed(RATE_UNITS).collect(),
            Kind::WriteRate => listed(PAGE_RATE_UNITS).chain(listed(RATE_UNITS)).collect(),
            Kind::Duration => listed(DURATION_UNITS).collect(),
        };
        names.join(", ")
    }
}

fn error_with_example(input: &str, kind: Kind, problem: impl Display, example: &str) -> UnitError {
    UnitError { message: format!("{input:?} {problem}; expected {} such as {example:?} (units: {})", kind.noun(), kind.units()) }
}

fn error(input: &str, kind: Kind, problem: impl Display) -> UnitError {
    error_with_example(input, kind, problem, kind.example())
}

/// The category of a unit that belongs to some other kind of quantity, for a pointed message.
/// Only called for units not valid for the kind being parsed.
fn category_of(unit: &str) -> Option<&'static str> {
    if lookup(SIZE_UNITS, unit).is_some() {
        Some("a size unit")
    } else if lookup(RATE_UNITS, unit).is_some() {
        Some("a byte or bit rate unit")
    } else if lookup(PAGE_RATE_UNITS, unit).is_some() {
        Some("a page rate unit")
    } else if lookup(DURATION_UNITS, unit).is_some() {
        Some("a duration unit")
    } else {
        None
    }
}

/// Every unit of `kind` as (name, listed, value in base units), for case-fix suggestions.
fn candidates(kind: Kind) -> Vec<(&'static str, bool, f64)> {
    fn all<F: Copy>(t: &[Unit<F>], v: impl Fn(F) -> f64) -> Vec<(&'static str, bool, f64)> {
        t.iter().map(|u| (u.name, u.listed, v(u.factor))).collect()
    }
    let rate = |f: RateFactor| 10f64.powi(f.pow10 as i32) * 2f64.powi(f.pow2);
    match kind {
        Kind::Size => all(SIZE_UNITS, |f| f as f64),
        Kind::Rate => all(RATE_UNITS, rate),
        // Pages are not bytes: give them a value no byte rate has.
        Kind::WriteRate => [all(PAGE_RATE_UNITS, |_| -1.0), all(RATE_UNITS, rate)].concat(),
        Kind::Duration => all(DURATION_UNITS, |f| f as f64),
    }
}

fn unknown_unit(input: &str, kind: Kind, number: &str, unit: &str) -> UnitError {
    if let Some(what) = category_of(unit) {
        let problem = format!("has {what} {unit:?}, but {} is needed", kind.noun());
        return error(input, kind, problem);
    }
    // Units are case-sensitive (Mb/s vs MB/s differ by 8x), so only suggest a case fix when
    // every case-insensitive match means the same thing.
    let matches: Vec<_> = candidates(kind).into_iter().filter(|(name, _, _)| name.eq_ignore_ascii_case(unit)).collect();
    let problem = format!("has an unknown unit {unit:?}");
    match matches.as_slice() {
        [] => error(input, kind, problem),
        [first, rest @ ..] if rest.iter().all(|m| m.2 == first.2) => {
            let best = matches.iter().find(|m| m.1).unwrap_or(first);
            error_with_example(input, kind, problem, &format!("{number} {}", best.0))
        }
        _ => {
            let names: Vec<String> = matches.iter().map(|m| format!("{:?}", m.0)).collect();
            let problem = format!("{problem} (units are case-sensitive: {} differ)", names.join(" and "));
            error(input, kind, problem)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Number parsing

/// An exact non-negative decimal `digits * 10^exp`; `digits` has no leading or trailing zeros
/// and is empty for zero.
#[derive(Debug, PartialEq)]
struct Decimal {
    digits: String,
    exp: i64,
}

/// Significant digits accepted for integer results: 10^24 times the largest unit factor
/// (3.6e12 ns per hour) still fits in a u128.
const MAX_INT_DIGITS: usize = 24;

/// Exponents are clamped here; anything this large overflows every quantity anyway.
const EXP_CLAMP: i64 = 1_000_000_000_000;

fn parse_decimal(token: &str) -> Option<Decimal> {
    let b = token.as_bytes();
    // Underscores are separators only between two digits ("1_000", not "_1" or "1__0").
    for (i, &c) in b.iter().enumerate() {
        if c == b'_' {
            let digit_before = i > 0 && b[i - 1].is_ascii_digit();
            let digit_after = b.get(i + 1).is_some_and(u8::is_ascii_digit);
            if !digit_before || !digit_after {
                return None;
            }
        }
    }
    let clean: String = token.chars().filter(|&c| c != '_').collect();
    let (mantissa, exponent) = match clean.find(['e', 'E']) {
        Some(i) => (&clean[..i], Some(&clean[i + 1..])),
        None => (clean.as_str(), None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all_digits = |s: &str| s.bytes().all(|c| c.is_ascii_digit());
    if int.is_empty() && frac.is_empty() || !all_digits(int) || !all_digits(frac) {
        return None;
    }
    let mut exp: i64 = 0;
    if let Some(e) = exponent {
        let (negative, digits) = match e.as_bytes().first() {
            Some(b'-') => (true, &e[1..]),
            Some(b'+') => (false, &e[1..]),
            _ => (false, e),
        };
        if digits.is_empty() || !all_digits(digits) {
            return None;
        }
        for d in digits.bytes() {
            exp = (exp * 10 + i64::from(d - b'0')).min(EXP_CLAMP);
        }
        if negative {
            exp = -exp;
        }
    }
    let all = format!("{int}{frac}");
    exp -= frac.len() as i64;
    let significant = all.trim_start_matches('0');
    let trimmed = significant.trim_end_matches('0');
    exp += (significant.len() - trimmed.len()) as i64;
    Some(Decimal { digits: trimmed.to_string(), exp: if trimmed.is_empty() { 0 } else { exp } })
}

enum IntError {
    NotWhole,
    TooLarge,
    TooManyDigits,
}

/// `dec * factor` as a u64, exactly (`round == false`) or rounded half up.
fn to_u64(dec: &Decimal, factor: u128, round: bool) -> Result<u64, IntError> {
    if dec.digits.is_empty() {
        return Ok(0);
    }
    if dec.digits.len() > MAX_INT_DIGITS {
        return Err(IntError::TooManyDigits);
    }
    let m: u128 = dec.digits.parse().map_err(|_| IntError::TooManyDigits)?;
    let p = m.checked_mul(factor).ok_or(IntError::TooLarge)?;
    let value = if dec.exp >= 0 {
        let scale = u32::try_from(dec.exp).ok().and_then(|e| 10u128.checked_pow(e)).ok_or(IntError::TooLarge)?;
        p.checked_mul(scale).ok_or(IntError::TooLarge)?
    } else {
        match u32::try_from(-dec.exp).ok().and_then(|e| 10u128.checked_pow(e)) {
            Some(q) if round => (p + q / 2) / q,
            Some(q) if p.is_multiple_of(q) => p / q,
            // p < 10^37 by the digit limit, so a larger divisor rounds it to zero.
            None if round => 0,
            _ => return Err(IntError::NotWhole),
        }
    };
    u64::try_from(value).map_err(|_| IntError::TooLarge)
}

/// `dec * 10^pow10 * 2^pow2`, correctly rounded (the decimal goes through one `f64` parse and
/// scaling by a power of two is exact).
fn to_f64(dec: &Decimal, pow10: i64, pow2: i32) -> f64 {
    if dec.digits.is_empty() {
        return 0.0;
    }
    let v: f64 = format!("{}e{}", dec.digits, dec.exp + pow10).parse().expect("digits and an exponent always parse");
    v * 2f64.powi(pow2)
}

/// Splits `s` into its number and unit, rejecting the problems common to every kind.
fn split(s: &str, kind: Kind) -> Result<(Decimal, &str, &str), UnitError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(error(s, kind, "is empty"));
    }
    if t.starts_with('-') {
        return Err(error(s, kind, "is negative"));
    }
    let body = t.strip_prefix('+').unwrap_or(t);
    let lower = body.get(..3).map(str::to_ascii_lowercase);
    if matches!(lower.as_deref(), Some("nan" | "inf")) {
        return Err(error(s, kind, "is not a finite number"));
    }
    let b = body.as_bytes();
    let mut end = b.iter().position(|c| !(c.is_ascii_digit() || *c == b'_' || *c == b'.')).unwrap_or(b.len());
    // An exponent only if digits follow, so "1eB" reads as 1 with unit "eB".
    if matches!(b.get(end), Some(b'e' | b'E')) {
        let mut j = end + 1;
        if matches!(b.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        if b.get(j).is_some_and(u8::is_ascii_digit) {
            end = j + b[j..].iter().position(|c| !(c.is_ascii_digit() || *c == b'_')).unwrap_or(b.len() - j);
        }
    }
    let number = &body[..end];
    if !number.bytes().any(|c| c.is_ascii_digit()) {
        return Err(error(s, kind, "does not start with a number"));
    }
    let dec = parse_decimal(number).ok_or_else(|| error(s, kind, format!("has a malformed number {number:?}")))?;
    let unit = body[end..].trim_start();
    if unit.is_empty() {
        let example = format!("{number} {}", kind.default_unit());
        return Err(error_with_example(s, kind, "has no unit", &example));
    }
    Ok((dec, number, unit))
}

// ---------------------------------------------------------------------------------------------
// Parsing

/// Parses a size such as `"8 GiB"` or `"1.5 MiB"` into bytes. The result must be a whole
/// number of bytes that fits in a u64.
pub fn parse_size(s: &str) -> Result<u64, UnitError> {
    let kind = Kind::Size;
    let (dec, number, unit) = split(s, kind)?;
    let factor = lookup(SIZE_UNITS, unit).ok_or_else(|| unknown_unit(s, kind, number, unit))?;
    to_u64(&dec, factor, false).map_err(|e| match e {
        IntError::NotWhole => error(s, kind, "is not a whole number of bytes"),
        IntError::TooLarge => error(s, kind, format!("is too large (max {} B)", u64::MAX)),
        IntError::TooManyDigits => error(s, kind, format!("has more than {MAX_INT_DIGITS} significant digits")),
    })
}

fn rate_from(s: &str, kind: Kind, dec: &Decimal, f: RateFactor) -> Result<f64, UnitError> {
    let v = to_f64(dec, f.pow10, f.pow2);
    if v.is_finite() { Ok(v) } else { Err(error(s, kind, "is too large")) }
}

/// Parses a byte or bit rate such as `"10 Gbit/s"` or `"50 MiB/s"` into bytes per second.
pub fn parse_rate(s: &str) -> Result<f64, UnitError> {
    let kind = Kind::Rate;
    let (dec, number, unit) = split(s, kind)?;
    if lookup(PAGE_RATE_UNITS, unit).is_some() {
        let problem = "is a page rate, but a byte or bit rate is needed here";
        return Err(error(s, kind, problem));
    }
    let f = lookup(RATE_UNITS, unit).ok_or_else(|| unknown_unit(s, kind, number, unit))?;
    rate_from(s, kind, &dec, f)
}

/// Parses a write rate: pages per second (`"20000 pages/s"`) or any rate [`parse_rate`]
/// accepts.
pub fn parse_write_rate(s: &str) -> Result<WriteRate, UnitError> {
    let kind = Kind::WriteRate;
    let (dec, number, unit) = split(s, kind)?;
    if lookup(PAGE_RATE_UNITS, unit).is_some() {
        return rate_from(s, kind, &dec, bytes(0, 0)).map(WriteRate::PagesPerSec);
    }
    let f = lookup(RATE_UNITS, unit).ok_or_else(|| unknown_unit(s, kind, number, unit))?;
    rate_from(s, kind, &dec, f).map(WriteRate::BytesPerSec)
}

/// Parses a duration such as `"300 ms"` or `"0.1 ms"` into nanoseconds, rounded to the
/// nearest nanosecond.
pub fn parse_duration(s: &str) -> Result<u64, UnitError> {
    let kind = Kind::Duration;
    let (dec, number, unit) = split(s, kind)?;
    let factor = lookup(DURATION_UNITS, unit).ok_or_else(|| unknown_unit(s, kind, number, unit))?;
    to_u64(&dec, factor, true).map_err(|e| match e {
        IntError::TooLarge | IntError::NotWhole => error(s, kind, format!("is too large (max {} ns, about 584 years)", u64::MAX)),
        IntError::TooManyDigits => error(s, kind, format!("has more than {MAX_INT_DIGITS} significant digits")),
    })
}

// ---------------------------------------------------------------------------------------------
// Formatting

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
    use proptest::prelude::*;

    fn err(r: Result<impl std::fmt::Debug, UnitError>) -> String {
        r.expect_err("expected an error").message
    }

    #[test]
    fn sizes() {
        let cases: &[(&str, u64)] = &[
            ("8 GiB", 8 << 30),
            ("4 KiB", 4096),
            ("1.5 MiB", 1_572_864),
            ("512 MB", 512_000_000),
            ("100 B", 100),
            ("0 B", 0),
            ("0.0 GiB", 0),
            ("  8GiB\t", 8 << 30),
            ("1 TiB", 1 << 40),
            ("2 TB", 2_000_000_000_000),
            ("3 GB", 3_000_000_000),
            ("7 KB", 7_000),
            ("7 kB", 7_000),
            ("0.1 KB", 100),
            ("0.5 KiB", 512),
            ("1e3 B", 1000),
            ("1E3 B", 1000),
            ("1.5e3 KB", 1_500_000),
            ("2e-1 KB", 200),
            ("1_000 MB", 1_000_000_000),
            ("1_048_576 B", 1_048_576),
            ("+3 B", 3),
            (".5 KiB", 512),
            ("4. KiB", 4096),
            ("007 B", 7),
            ("8388608 TiB", 1 << 63),
            ("18446744073709551615 B", u64::MAX),
            ("0.000000000000000000000000000000000000000000001e45 B", 1),
            ("10000000000000000000e-19 B", 1),
        ];
        for &(s, want) in cases {
            assert_eq!(parse_size(s), Ok(want), "{s}");
        }
    }

    #[test]
    fn size_errors() {
        let m = err(parse_size("8 Gib"));
        assert_eq!(
            m,
            "\"8 Gib\" has an unknown unit \"Gib\"; expected a size such as \"8 GiB\" \
             (units: B, KiB, MiB, GiB, TiB, KB, MB, GB, TB)"
        );
        let m = err(parse_size("8"));
        assert!(m.contains("no unit") && m.contains("\"8 GiB\""), "{m}");
        assert!(err(parse_size("")).contains("empty"));
        assert!(err(parse_size("   ")).contains("empty"));
        assert!(err(parse_size("-1 B")).contains("negative"));
        assert!(err(parse_size("NaN B")).contains("not a finite number"));
        assert!(err(parse_size("inf B")).contains("not a finite number"));
        assert!(err(parse_size("Infinity GiB")).contains("not a finite number"));
        assert!(err(parse_size("GiB")).contains("does not start with a number"));
        assert!(err(parse_size("1.5 B")).contains("not a whole number of bytes"));
        assert!(err(parse_size("0.3 KiB")).contains("not a whole number of bytes"));
        assert!(err(parse_size("1e-50 B")).contains("not a whole number of bytes"));
        assert!(err(parse_size("16 EiB")).contains("unknown unit"));
        assert!(err(parse_size("16777216 TiB + 1")).contains("unknown unit"));
        assert!(err(parse_size("18446744073709551616 B")).contains("too large"));
        assert!(err(parse_size("16777216 TiB")).contains("too large"));
        assert!(err(parse_size("1e30 B")).contains("too large"));
        assert!(err(parse_size("1e999999999999999999 B")).contains("too large"));
        assert!(err(parse_size("1234567890123456789012345 B")).contains("significant digits"));
        assert!(err(parse_size("1.2.3 GiB")).contains("malformed number \"1.2.3\""));
        assert!(err(parse_size("1__000 B")).contains("malformed"));
        assert!(err(parse_size("1_ B")).contains("malformed"));
        assert!(err(parse_size("1e5_ B")).contains("malformed"));
        assert!(err(parse_size("1 000 MB")).contains("unknown unit \"000 MB\""));
        assert!(err(parse_size("1eB")).contains("unknown unit \"eB\""));
        let m = err(parse_size("10 Gbit/s"));
        assert!(m.contains("rate unit \"Gbit/s\", but a size is needed"), "{m}");
        assert!(err(parse_size("10 ms")).contains("duration unit"));
        // Case fix suggested with the user's number.
        assert!(err(parse_size("3 kib")).contains("such as \"3 KiB\""));
        assert!(err(parse_size("3 mb")).contains("such as \"3 MB\""));
        // Every error lists the units.
        for bad in ["", "8", "8 Gib", "-8 GiB", "1.5 B", "1e40 B", "x"] {
            let m = err(parse_size(bad));
            assert!(m.contains("(units: B, KiB, MiB, GiB, TiB, KB, MB, GB, TB)"), "{m}");
            assert!(m.starts_with(&format!("{bad:?}")), "{m}");
        }
    }

    #[test]
    fn rates() {
        let cases: &[(&str, f64)] = &[
            ("10 Gbit/s", 1.25e9),
            ("1 Gbit/s", 1.25e8),
            ("100 Mbit/s", 1.25e7),
            ("8 Kbit/s", 1000.0),
            ("8 kbit/s", 1000.0),
            ("8 bit/s", 1.0),
            ("1 bit/s", 0.125),
            ("5 B/s", 5.0),
            ("1 KiB/s", 1024.0),
            ("128 MiB/s", 134_217_728.0),
            ("2 GiB/s", 2_147_483_648.0),
            ("3 KB/s", 3000.0),
            ("3 kB/s", 3000.0),
            ("50 MB/s", 5e7),
            ("1 GB/s", 1e9),
            ("10 Gbps", 1.25e9),
            ("10 Gb/s", 1.25e9),
            ("100 Mbps", 1.25e7),
            ("100 Mb/s", 1.25e7),
            ("8 Kbps", 1000.0),
            ("1e9 B/s", 1e9),
            ("0.1 Gbit/s", 1.25e7),
            ("10Gbit/s", 1.25e9),
            ("1_000 MB/s", 1e9),
            ("0 B/s", 0.0),
            ("1.5 MiB/s", 1_572_864.0),
        ];
        for &(s, want) in cases {
            assert_eq!(parse_rate(s), Ok(want), "{s}");
        }
        // Correctly rounded, not a product of two rounded numbers.
        assert_eq!(parse_rate("0.3 Gbit/s"), Ok(0.3e9 / 8.0));
        assert_eq!(parse_rate("1e-400 B/s"), Ok(0.0));
    }

    #[test]
    fn rate_errors() {
        let units = "(units: bit/s, Kbit/s, Mbit/s, Gbit/s, B/s, KiB/s, MiB/s, GiB/s, KB/s, MB/s, GB/s)";
        let m = err(parse_rate("20000 pages/s"));
        assert!(m.contains("page rate") && m.contains("byte or bit rate is needed"), "{m}");
        assert!(m.contains(units), "{m}");
        for bad in ["", "10", "10 Gbit", "-1 B/s", "NaN B/s", "1e400 B/s", "8 GiB", "1 s"] {
            let m = err(parse_rate(bad));
            assert!(m.contains(units), "{bad}: {m}");
            assert!(m.starts_with(&format!("{bad:?}")), "{m}");
        }
        assert!(err(parse_rate("10")).contains("such as \"10 Gbit/s\""));
        assert!(err(parse_rate("1e400 B/s")).contains("too large"));
        assert!(err(parse_rate("8 GiB")).contains("size unit"));
        // "mb/s" could be bytes or bits: no guess, but say why.
        let m = err(parse_rate("10 mb/s"));
        assert!(m.contains("case-sensitive") && m.contains("\"MB/s\""), "{m}");
        assert!(m.contains("\"Mb/s\""), "{m}");
        assert!(err(parse_rate("10 gbit/s")).contains("such as \"10 Gbit/s\""));
        assert!(err(parse_rate("10 mib/s")).contains("such as \"10 MiB/s\""));
    }

    #[test]
    fn write_rates() {
        assert_eq!(parse_write_rate("20000 pages/s"), Ok(WriteRate::PagesPerSec(20000.0)));
        assert_eq!(parse_write_rate("1 page/s"), Ok(WriteRate::PagesPerSec(1.0)));
        assert_eq!(parse_write_rate("1e4 pages/s"), Ok(WriteRate::PagesPerSec(1e4)));
        assert_eq!(parse_write_rate("0 pages/s"), Ok(WriteRate::PagesPerSec(0.0)));
        assert_eq!(parse_write_rate("2.5 pages/s"), Ok(WriteRate::PagesPerSec(2.5)));
        assert_eq!(parse_write_rate("50 MiB/s"), Ok(WriteRate::BytesPerSec(52_428_800.0)));
        assert_eq!(parse_write_rate("1 Gbit/s"), Ok(WriteRate::BytesPerSec(1.25e8)));
        assert_eq!(WriteRate::PagesPerSec(7.0).pages_per_sec(4096), 7.0);
        assert_eq!(WriteRate::BytesPerSec(50.0 * 1048576.0).pages_per_sec(4096), 12800.0);
        let m = err(parse_write_rate("20k pages/s"));
        assert!(m.contains("unknown unit \"k pages/s\""), "{m}");
        assert!(m.contains("(units: pages/s, bit/s, Kbit/s,"), "{m}");
        assert!(err(parse_write_rate("20000")).contains("such as \"20000 pages/s\""));
        assert!(err(parse_write_rate("5 Pages/s")).contains("such as \"5 pages/s\""));
        assert!(err(parse_write_rate("5 mib/s")).contains("such as \"5 MiB/s\""));
        assert!(err(parse_write_rate("5 GiB")).contains("size unit"));
        assert!(err(parse_write_rate("-5 pages/s")).contains("negative"));
        assert!(err(parse_write_rate("1e400 pages/s")).contains("too large"));
    }

    #[test]
    fn durations() {
        let cases: &[(&str, u64)] = &[
            ("0.1 ms", 100_000),
            ("300 ms", 300_000_000),
            ("1 s", 1_000_000_000),
            ("45.9 s", 45_900_000_000),
            ("2 min", 120_000_000_000),
            ("1 h", 3_600_000_000_000),
            ("1.5 h", 5_400_000_000_000),
            ("850 ns", 850),
            ("12.5 us", 12_500),
            ("12.5 µs", 12_500),
            ("12.5 μs", 12_500),
            ("0 ms", 0),
            ("0s", 0),
            ("1e-9 s", 1),
            ("0.4 ns", 0),
            ("0.5 ns", 1),
            ("1.5 ns", 2),
            ("0.0015 us", 2),
            ("1e-50 s", 0),
            ("1_000 ms", 1_000_000_000),
            ("18446744073709551615 ns", u64::MAX),
            ("18446744073.7095516154 s", u64::MAX),
        ];
        for &(s, want) in cases {
            assert_eq!(parse_duration(s), Ok(want), "{s}");
        }
    }

    #[test]
    fn duration_errors() {
        let units = "(units: ns, us, µs, ms, s, min, h)";
        for bad in ["", "5", "-1 s", "inf s", "5 sec", "5 m", "1e20 s", "5 GiB", "ms"] {
            let m = err(parse_duration(bad));
            assert!(m.contains(units), "{bad}: {m}");
            assert!(m.starts_with(&format!("{bad:?}")), "{m}");
        }
        assert!(err(parse_duration("5")).contains("such as \"5 ms\""));
        assert!(err(parse_duration("1e20 s")).contains("too large"));
        assert!(err(parse_duration("18446744073709551616 ns")).contains("too large"));
        assert!(err(parse_duration("5 MS")).contains("such as \"5 ms\""));
        assert!(err(parse_duration("5 GiB")).contains("size unit"));
    }

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

        #[test]
        fn parse_never_panics(s in "\\PC{0,20}") {
            let _ = parse_size(&s);
            let _ = parse_rate(&s);
            let _ = parse_write_rate(&s);
            let _ = parse_duration(&s);
        }

        #[test]
        fn parse_never_panics_numberish(s in "[-+0-9_.eE]{0,12} ?(B|KiB|GiB|TB|ns|s|h|B/s|Gbit/s|pages/s)?") {
            let _ = parse_size(&s);
            let _ = parse_rate(&s);
            let _ = parse_write_rate(&s);
            let _ = parse_duration(&s);
        }
    }
}
