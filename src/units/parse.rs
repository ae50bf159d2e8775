//! Reading quantities as people write them: exact decimals with a unit, and errors that quote the
//! input, say what was wrong and list the valid units.

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
        // A bare size of 1024 or more is most likely a byte count ("1073741824"): suggest bytes,
        // and the same size in the largest unit that keeps it whole; a small one, the usual unit.
        if kind == Kind::Size
            && let Ok(n) = number.replace('_', "").parse::<u64>()
            && n >= 1024
        {
            let whole = crate::units::format_size_exact(n);
            let also = if whole.ends_with(" B") { String::new() } else { format!(" (that is {whole:?})") };
            return Err(UnitError {
                message: format!("{s:?} has no unit; if it counts bytes, write \"{number} B\"{also}, else add a unit ({})", kind.units()),
            });
        }
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

    proptest! {
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
