//! Typed literals: defaults and bounds arrive as JSON values, are checked against
//! the field's type here, and leave as SQL literals through [`crate::sql::literal`].
//! Users never supply SQL text; the only functions a default can name are the
//! three keywords of [`DefaultValue`].

use crate::scalar::Scalar;
use serde_json::Value;
use std::cmp::Ordering;

/// A value of a scalar type, checked and in canonical text form.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// text, enum, email, url.
    Text(String),
    /// integer or bigint.
    Int(i64),
    /// decimal, as canonical decimal text (`-12.50`).
    Decimal(String),
    /// float (finite).
    Float(f64),
    /// boolean.
    Bool(bool),
    /// `YYYY-MM-DD`.
    Date(String),
    /// RFC 3339 with an offset; `micros` is the instant, for ordering.
    Timestamp {
        /// As given (validated).
        text: String,
        /// Microseconds since 1970-01-01 UTC.
        micros: i128,
    },
    /// `HH:MM:SS[.ffffff]`, normalized.
    Time(String),
    /// Canonical hyphenated form.
    Uuid(String),
    /// Any JSON.
    Json(Value),
    /// An array of items.
    Array(Vec<Literal>),
}

/// A column default.
#[derive(Debug, Clone, PartialEq)]
pub enum DefaultValue {
    /// A constant.
    Literal(Literal),
    /// `now()` for timestamps (the transaction's start), `LOCALTIME` for times.
    Now,
    /// `CURRENT_DATE`.
    Today,
    /// A new time-ordered uuid from `cot.uuid_generate_v7()`.
    NewUuid,
}

impl DefaultValue {
    /// The keyword or value as it appears in a normalized definition.
    pub fn to_json(&self) -> Value {
        match self {
            DefaultValue::Literal(l) => l.to_json(),
            DefaultValue::Now => Value::String("now".into()),
            DefaultValue::Today => Value::String("today".into()),
            DefaultValue::NewUuid => Value::String("uuid".into()),
        }
    }
}

impl Literal {
    /// The value as text in the canonical form its type reads back
    /// ([`crate::sql::literal`] quotes and casts it). Arrays have no single
    /// text: they render item by item.
    pub fn text(&self) -> String {
        match self {
            Literal::Text(s)
            | Literal::Decimal(s)
            | Literal::Date(s)
            | Literal::Time(s)
            | Literal::Uuid(s) => s.clone(),
            Literal::Timestamp { text, .. } => text.clone(),
            Literal::Json(v) => v.to_string(),
            Literal::Int(i) => i.to_string(),
            Literal::Float(f) => format_float(*f),
            Literal::Bool(b) => b.to_string(),
            Literal::Array(_) => unreachable!("arrays render item by item"),
        }
    }

    /// The literal as JSON, for the normalized definition.
    pub fn to_json(&self) -> Value {
        match self {
            Literal::Int(i) => Value::from(*i),
            Literal::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Literal::Bool(b) => Value::Bool(*b),
            Literal::Json(v) => v.clone(),
            Literal::Array(items) => Value::Array(items.iter().map(Literal::to_json).collect()),
            other => Value::String(other.text()),
        }
    }

    /// Orders two literals of the same type; `None` if they are not comparable.
    pub fn compare(&self, other: &Literal) -> Option<Ordering> {
        match (self, other) {
            (Literal::Int(a), Literal::Int(b)) => Some(a.cmp(b)),
            (Literal::Float(a), Literal::Float(b)) => a.partial_cmp(b),
            (Literal::Decimal(a), Literal::Decimal(b)) => Some(compare_decimal(a, b)),
            (Literal::Date(a), Literal::Date(b)) | (Literal::Time(a), Literal::Time(b)) => Some(a.cmp(b)),
            (Literal::Timestamp { micros: a, .. }, Literal::Timestamp { micros: b, .. }) => Some(a.cmp(b)),
            _ => None,
        }
    }

    /// Length in characters, for text literals.
    pub fn char_len(&self) -> Option<u64> {
        match self {
            Literal::Text(s) => Some(s.chars().count() as u64),
            _ => None,
        }
    }
}

fn format_float(f: f64) -> String {
    // Rust prints the shortest text that round-trips, which Postgres reads back exactly.
    format!("{f:?}")
}

/// Reads a JSON value as a literal of `ty`. The error is a sentence for the user.
pub fn parse(value: &Value, ty: &Scalar) -> Result<Literal, String> {
    let want = |what: &str| {
        Err(format!(
            "{} fields take {what}, found {}",
            ty.name(),
            json_kind(value)
        ))
    };
    match ty {
        Scalar::Text | Scalar::Email | Scalar::Url | Scalar::Enum(_) => match value {
            Value::String(s) => Ok(Literal::Text(s.clone())),
            _ => want("a string"),
        },
        Scalar::Integer | Scalar::BigInt => {
            let Some(i) = value.as_i64() else {
                return want("a whole number");
            };
            if matches!(ty, Scalar::Integer) && i32::try_from(i).is_err() {
                return Err(format!(
                    "{i} is outside the integer range (-2147483648 to 2147483647)"
                ));
            }
            Ok(Literal::Int(i))
        }
        Scalar::Decimal { precision, scale } => {
            let text = match value {
                Value::Number(n) => n.to_string(),
                Value::String(s) => s.clone(),
                _ => return want("a number or a numeric string"),
            };
            let canon = canonical_decimal(&text)
                .ok_or_else(|| format!("{} is not a decimal number", crate::names::shown(&text)))?;
            check_decimal_fits(&canon, *precision, *scale)?;
            Ok(Literal::Decimal(canon))
        }
        Scalar::Float => match value.as_f64() {
            Some(f) if f.is_finite() && value.is_number() => Ok(Literal::Float(f)),
            _ => want("a number"),
        },
        Scalar::Boolean => match value {
            Value::Bool(b) => Ok(Literal::Bool(*b)),
            _ => want("true or false"),
        },
        Scalar::Date => match value {
            Value::String(s) => parse_date(s).map(|_| Literal::Date(s.clone())),
            _ => want("a date string YYYY-MM-DD"),
        },
        Scalar::Time => match value {
            Value::String(s) => parse_time(s).map(Literal::Time),
            _ => want("a time string HH:MM[:SS[.ffffff]]"),
        },
        Scalar::Timestamp => match value {
            Value::String(s) => parse_timestamp(s).map(|micros| Literal::Timestamp {
                text: s.clone(),
                micros,
            }),
            _ => want("an RFC 3339 timestamp string with an offset"),
        },
        Scalar::Uuid => match value {
            Value::String(s) => uuid::Uuid::try_parse(s)
                .map(|u| Literal::Uuid(u.hyphenated().to_string()))
                .map_err(|_| format!("{} is not a uuid", crate::names::shown(s))),
            _ => want("a uuid string"),
        },
        Scalar::Json => Ok(Literal::Json(value.clone())),
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `-0012.50` → `-12.50`; exponent forms (from JSON numbers) are expanded.
/// `None` if `s` is not a plain decimal.
fn canonical_decimal(s: &str) -> Option<String> {
    if s.len() > 2000 {
        return None;
    }
    let (neg, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (mantissa, exp) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], body[i + 1..].parse::<i32>().ok()?),
        None => (body, 0),
    };
    if exp.unsigned_abs() > 1000 {
        return None;
    }
    let (int, frac) = match mantissa.split_once('.') {
        Some((i, f)) => (i, f),
        None => (mantissa, ""),
    };
    if int.is_empty() && frac.is_empty() || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut digits: String = format!("{int}{frac}");
    let mut point = int.len() as i64 + exp as i64;
    if point < 0 {
        digits = "0".repeat((-point) as usize) + &digits;
        point = 0;
    }
    while (digits.len() as i64) < point {
        digits.push('0');
    }
    let (i, f) = digits.split_at(point as usize);
    let i = i.trim_start_matches('0');
    let i = if i.is_empty() { "0" } else { i };
    let f = f.trim_end_matches('0');
    let zero = i == "0" && f.is_empty();
    let sign = if neg && !zero { "-" } else { "" };
    Some(if f.is_empty() {
        format!("{sign}{i}")
    } else {
        format!("{sign}{i}.{f}")
    })
}

fn check_decimal_fits(canon: &str, precision: Option<u32>, scale: Option<u32>) -> Result<(), String> {
    let body = canon.trim_start_matches('-');
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let int_digits = if int == "0" { 0 } else { int.len() as u32 };
    if let Some(p) = precision {
        let s = scale.unwrap_or(0);
        if frac.len() as u32 > s {
            return Err(format!(
                "{canon} has {} digits after the point, the field's scale is {s}",
                frac.len()
            ));
        }
        // Saturating: a definition may say scale > precision (validation
        // refuses it, but checks every other option first, this one included).
        let before = p.saturating_sub(s);
        if int_digits > before {
            return Err(format!(
                "{canon} does not fit numeric({p},{s}): at most {before} digits before the point"
            ));
        }
    }
    Ok(())
}

fn compare_decimal(a: &str, b: &str) -> Ordering {
    let neg_a = a.starts_with('-');
    let neg_b = b.starts_with('-');
    match (neg_a, neg_b) {
        (false, true) => Ordering::Greater,
        (true, false) => Ordering::Less,
        (false, false) => compare_magnitude(a, b),
        (true, true) => compare_magnitude(&b[1..], &a[1..]),
    }
}

fn compare_magnitude(a: &str, b: &str) -> Ordering {
    let (ai, af) = a.split_once('.').unwrap_or((a, ""));
    let (bi, bf) = b.split_once('.').unwrap_or((b, ""));
    ai.len().cmp(&bi.len()).then_with(|| ai.cmp(bi)).then_with(|| {
        let width = af.len().max(bf.len());
        format!("{af:0<width$}").cmp(&format!("{bf:0<width$}"))
    })
}

fn two_digits(s: &str) -> Option<u32> {
    (s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok())?
}

/// Days since 1970-01-01 for a valid `YYYY-MM-DD` (years 0001-9999).
fn parse_date(s: &str) -> Result<i64, String> {
    let bad = || format!("{} is not a date in the form YYYY-MM-DD", crate::names::shown(s));
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' || !s[..4].bytes().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let y: i64 = s[..4].parse().map_err(|_| bad())?;
    let m = two_digits(&s[5..7]).ok_or_else(bad)?;
    let d = two_digits(&s[8..10]).ok_or_else(bad)?;
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days_in_month = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if y == 0 || !(1..=12).contains(&m) || d == 0 || d > days_in_month[(m - 1) as usize] {
        return Err(format!("{s} is not a calendar date"));
    }
    // Days from civil (Howard Hinnant's algorithm).
    let (y, m, d) = (if m <= 2 { y - 1 } else { y }, m as i64, d as i64);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Ok(era * 146_097 + doe - 719_468)
}

/// `HH:MM[:SS[.f{1,6}]]` → normalized `HH:MM:SS[.ffffff]`.
fn parse_time(s: &str) -> Result<String, String> {
    time_micros(s).map(|(_, norm)| norm)
}

fn time_micros(s: &str) -> Result<(i64, String), String> {
    let bad = || {
        format!(
            "{} is not a time in the form HH:MM[:SS[.ffffff]]",
            crate::names::shown(s)
        )
    };
    let (hm, rest) = (s.get(..5).ok_or_else(bad)?, &s[5.min(s.len())..]);
    if hm.as_bytes()[2] != b':' {
        return Err(bad());
    }
    let h = two_digits(&hm[..2]).ok_or_else(bad)?;
    let m = two_digits(&hm[3..]).ok_or_else(bad)?;
    let (sec, frac) = if rest.is_empty() {
        (0, String::new())
    } else {
        let r = rest.strip_prefix(':').ok_or_else(bad)?;
        let (sec, frac) = r.split_once('.').map_or((r, None), |(a, b)| (a, Some(b)));
        let sec = two_digits(sec).ok_or_else(bad)?;
        let frac = match frac {
            None => String::new(),
            Some(f) if (1..=6).contains(&f.len()) && f.bytes().all(|b| b.is_ascii_digit()) => f.to_string(),
            Some(_) => return Err(bad()),
        };
        (sec, frac)
    };
    if h > 23 || m > 59 || sec > 59 {
        return Err(format!("{s} is not a time of day"));
    }
    let micros_frac: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<6}").parse().map_err(|_| bad())?
    };
    let micros = ((h as i64 * 60 + m as i64) * 60 + sec as i64) * 1_000_000 + micros_frac;
    let norm = if frac.is_empty() {
        format!("{h:02}:{m:02}:{sec:02}")
    } else {
        format!("{h:02}:{m:02}:{sec:02}.{frac:0<6}")
    };
    Ok((micros, norm))
}

/// RFC 3339 (`T` or a space between date and time) with `Z` or `±HH:MM`. An
/// offset is required: without one Postgres would read the session's time zone
/// and the same definition would mean different instants on different servers.
fn parse_timestamp(s: &str) -> Result<i128, String> {
    let bad = || {
        format!(
            "{} is not a timestamp in the form YYYY-MM-DDTHH:MM:SS[.ffffff] followed by Z or ±HH:MM",
            crate::names::shown(s)
        )
    };
    if s.len() < 17 || !s.is_char_boundary(10) || !s.is_char_boundary(11) {
        return Err(bad());
    }
    let days = parse_date(&s[..10]).map_err(|_| bad())?;
    if !matches!(&s[10..11], "T" | "t" | " ") {
        return Err(bad());
    }
    let rest = &s[11..];
    let (time, offset_secs) = if let Some(t) = rest.strip_suffix(['Z', 'z']) {
        (t, 0i64)
    } else {
        let i = rest.rfind(['+', '-']).ok_or_else(bad)?;
        let (t, off) = (&rest[..i], &rest[i..]);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let o = &off[1..];
        if o.len() != 5 || &o[2..3] != ":" {
            return Err(bad());
        }
        let oh = two_digits(&o[..2]).ok_or_else(bad)? as i64;
        let om = two_digits(&o[3..]).ok_or_else(bad)? as i64;
        if oh > 15 || om > 59 {
            return Err(bad());
        }
        (t, sign * (oh * 3600 + om * 60))
    };
    let (micros, _) = time_micros(time).map_err(|_| bad())?;
    Ok(days as i128 * 86_400_000_000 + micros as i128 - offset_secs as i128 * 1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn dec(p: Option<u32>, s: Option<u32>) -> Scalar {
        Scalar::Decimal {
            precision: p,
            scale: s,
        }
    }

    #[test]
    fn integers() {
        assert_eq!(parse(&json!(5), &Scalar::Integer), Ok(Literal::Int(5)));
        assert!(parse(&json!(2147483648i64), &Scalar::Integer).is_err());
        assert!(parse(&json!(2147483648i64), &Scalar::BigInt).is_ok());
        assert!(parse(&json!(1.5), &Scalar::Integer).is_err());
        assert!(parse(&json!("5"), &Scalar::Integer).is_err());
    }

    #[test]
    fn a_scale_past_the_precision_is_an_error_not_a_panic() {
        assert!(parse(&json!(1), &dec(Some(2), Some(3))).is_err());
        assert!(parse(&json!("0.001"), &dec(Some(2), Some(3))).is_ok());
    }

    #[test]
    fn decimals() {
        assert_eq!(canonical_decimal("-0012.500").as_deref(), Some("-12.5"));
        assert_eq!(canonical_decimal("1e3").as_deref(), Some("1000"));
        assert_eq!(canonical_decimal("1.5E-2").as_deref(), Some("0.015"));
        assert_eq!(canonical_decimal("-0").as_deref(), Some("0"));
        assert_eq!(canonical_decimal("abc"), None);
        assert_eq!(canonical_decimal("1.2.3"), None);
        assert_eq!(canonical_decimal("."), None);
        assert_eq!(canonical_decimal("1e99999"), None);
        assert!(parse(&json!("123.45"), &dec(Some(5), Some(2))).is_ok());
        assert!(parse(&json!("1234.5"), &dec(Some(5), Some(2))).is_err());
        assert!(parse(&json!("1.234"), &dec(Some(5), Some(2))).is_err());
        assert!(parse(&json!(0.5), &dec(None, None)).is_ok());
        assert_eq!(compare_decimal("-2", "-10"), Ordering::Greater);
        assert_eq!(compare_decimal("10", "9.99"), Ordering::Greater);
        assert_eq!(compare_decimal("0.1", "0.10"), Ordering::Equal);
        assert_eq!(compare_decimal("-0.5", "0"), Ordering::Less);
    }

    #[test]
    fn dates_and_times() {
        assert!(parse(&json!("2024-02-29"), &Scalar::Date).is_ok());
        assert!(parse(&json!("2023-02-29"), &Scalar::Date).is_err());
        assert!(parse(&json!("2024-13-01"), &Scalar::Date).is_err());
        assert!(parse(&json!("24-01-01"), &Scalar::Date).is_err());
        assert!(parse(&json!("2024-01-01'"), &Scalar::Date).is_err());
        assert_eq!(parse_date("1970-01-01"), Ok(0));
        assert_eq!(parse_date("2000-03-01"), Ok(11_017));
        assert_eq!(
            parse(&json!("09:30"), &Scalar::Time),
            Ok(Literal::Time("09:30:00".into()))
        );
        assert_eq!(
            parse(&json!("09:30:05.25"), &Scalar::Time),
            Ok(Literal::Time("09:30:05.250000".into()))
        );
        assert!(parse(&json!("24:00"), &Scalar::Time).is_err());
        assert!(parse(&json!("9:30"), &Scalar::Time).is_err());
        assert!(parse(&json!("é9:30"), &Scalar::Time).is_err());
        let a = parse(&json!("2024-01-01T10:00:00+02:00"), &Scalar::Timestamp).unwrap();
        let b = parse(&json!("2024-01-01T08:00:00Z"), &Scalar::Timestamp).unwrap();
        assert_eq!(a.compare(&b), Some(Ordering::Equal));
        assert!(parse(&json!("2024-01-01T10:00:00"), &Scalar::Timestamp).is_err());
        assert!(parse(&json!("2024-01-01 10:00:00.5-05:30"), &Scalar::Timestamp).is_ok());
        assert!(parse(&json!("now"), &Scalar::Timestamp).is_err());
        assert!(parse(&json!("2024-01-01é10:00:00Z"), &Scalar::Timestamp).is_err());
    }

    #[test]
    fn other_scalars_and_arrays() {
        assert_eq!(
            parse(&json!("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"), &Scalar::Uuid),
            Ok(Literal::Uuid("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11".into()))
        );
        assert!(parse(&json!("nope"), &Scalar::Uuid).is_err());
        assert!(parse(&json!(true), &Scalar::Text).is_err());
    }
}
