//! Which type changes Cot makes, and what each costs: whether Postgres rewrites
//! the table, whether some values may fail to convert, and whether a value can
//! convert but lose something (a fraction, a time of day). Changes outside this
//! table are refused; the way there is a new field, a copy, and a drop.

use crate::types::FieldType;

use crate::scalar::Scalar;

/// What a value can lose while converting, counted before the change runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Loss {
    /// A number with a fraction becoming an integer (it is rounded).
    Fraction,
    /// A decimal keeping fewer digits after the point (it is rounded).
    Scale(u32),
    /// An instant becoming a date (the time of day goes).
    TimeOfDay,
    /// A big integer or decimal becoming a float (past 15 significant digits
    /// a double cannot hold the value exactly).
    Precision,
}

/// How a type change goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversion {
    /// Postgres rewrites every row (false: the stored bytes stay valid).
    pub rewrite: bool,
    /// Some values may not convert at all (counted with `cot.castable`).
    pub fallible: bool,
    /// Values convert but may lose this.
    pub loss: Option<Loss>,
}

const fn conv(rewrite: bool, fallible: bool, loss: Option<Loss>) -> Option<Conversion> {
    Some(Conversion {
        rewrite,
        fallible,
        loss,
    })
}

/// The conversion from one field type to another, or `None` when Cot does not
/// make it. Types stored alike (text, enum, email, url) need no conversion at
/// all: their constraints change, not the column (`Some` with nothing to do).
pub fn conversion(from: &FieldType, to: &FieldType) -> Option<Conversion> {
    match (from, to) {
        (FieldType::Scalar(a), FieldType::Scalar(b)) | (FieldType::Array(a), FieldType::Array(b)) => {
            scalar(a, b)
        }
        _ => None,
    }
}

fn textual(s: &Scalar) -> bool {
    matches!(s, Scalar::Text | Scalar::Enum(_) | Scalar::Email | Scalar::Url)
}

fn scalar(from: &Scalar, to: &Scalar) -> Option<Conversion> {
    use Scalar::*;
    if from.sql_type() == to.sql_type() {
        return conv(false, false, None);
    }
    if textual(from) && textual(to) {
        return conv(false, false, None);
    }
    if textual(to) {
        // Everything has a text form.
        return conv(true, false, None);
    }
    if textual(from) {
        return conv(true, true, None);
    }
    match (from, to) {
        (Integer, BigInt | Float) => conv(true, false, None),
        (BigInt, Float) => conv(true, false, Some(Loss::Precision)),
        (Integer | BigInt, Decimal { precision, .. }) => conv(true, precision.is_some(), None),
        (BigInt, Integer) => conv(true, true, None),
        (Decimal { .. } | Float, Integer | BigInt) => conv(true, true, Some(Loss::Fraction)),
        (Decimal { .. }, Float) => conv(true, false, Some(Loss::Precision)),
        (
            Decimal {
                precision: p1,
                scale: s1,
            },
            Decimal {
                precision: p2,
                scale: s2,
            },
        ) => match (p1, p2) {
            // Dropping the limit, or more digits at the same scale, keeps every
            // stored value as it is: Postgres changes only the type modifier.
            (_, None) => conv(false, false, None),
            (Some(a), Some(b)) if b >= a && s1 == s2 => conv(false, false, None),
            (Some(a), Some(b)) => {
                let (s1, s2) = (s1.unwrap_or(0), s2.unwrap_or(0));
                let fewer_integer_digits = b - s2 < a - s1;
                conv(true, fewer_integer_digits, (s2 < s1).then_some(Loss::Scale(s2)))
            }
            (None, Some(_)) => conv(true, true, Some(Loss::Scale(s2.unwrap_or(0)))),
        },
        (Float, Decimal { precision, scale }) => conv(
            true,
            precision.is_some(),
            precision.map(|_| Loss::Scale(scale.unwrap_or(0))),
        ),
        (Date, Timestamp) => conv(true, false, None),
        (Timestamp, Date) => conv(true, false, Some(Loss::TimeOfDay)),
        _ => None,
    }
}

/// A pattern (POSIX regular expression) that only values the input function
/// of `sql_type` always reads can match: a value whose text matches converts
/// for sure, and only the others need `cot.castable`, which tries each in a
/// PL/pgSQL exception block (a subtransaction per value: 5.8 s for a million
/// text values to integer, bench/evolution.sh). `None`: no shortcut, every
/// value is tried. Digits stay below what overflows the type, decimals within
/// the scale (so nothing rounds up past the precision), dates to day 28.
pub fn surely_castable(sql_type: &str) -> Option<String> {
    const DATE: &str = "[12][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])";
    const TIME: &str = "([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]{1,6})?)?";
    let number = |int: u32, frac: u32| {
        let fraction = if frac > 0 {
            format!("(\\.[0-9]{{0,{frac}}})?")
        } else {
            String::new()
        };
        format!("^\\s*[-+]?[0-9]{{1,{int}}}{fraction}\\s*$")
    };
    Some(match sql_type {
        "integer" => number(9, 0),
        "bigint" => number(18, 0),
        "numeric" => number(100, 100),
        "double precision" => number(15, 15),
        "boolean" => "^\\s*(true|false|t|f|yes|no|on|off|1|0)\\s*$".into(),
        "uuid" => "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$".into(),
        "date" => format!("^{DATE}$"),
        "time" => format!("^{TIME}$"),
        "timestamptz" => format!("^{DATE}([ T]{TIME}([zZ]|[-+](0[0-9]|1[0-5])(:?[0-5][0-9])?)?)?$"),
        other => {
            let inner = other.strip_prefix("numeric(")?.strip_suffix(')')?;
            let (p, s) = match inner.split_once(',') {
                Some((p, s)) => (p.trim().parse::<u32>().ok()?, s.trim().parse::<u32>().ok()?),
                None => (inner.trim().parse::<u32>().ok()?, 0),
            };
            if p <= s {
                return None;
            }
            number(p - s, s)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sure_patterns_stay_inside_each_type() {
        assert_eq!(surely_castable("integer").unwrap(), r"^\s*[-+]?[0-9]{1,9}\s*$");
        assert_eq!(surely_castable("bigint").unwrap(), r"^\s*[-+]?[0-9]{1,18}\s*$");
        // numeric(5,2): three digits before the point, two after, so nothing
        // rounds up to 1000.00.
        assert_eq!(
            surely_castable("numeric(5,2)").unwrap(),
            r"^\s*[-+]?[0-9]{1,3}(\.[0-9]{0,2})?\s*$"
        );
        assert_eq!(surely_castable("numeric(4)").unwrap(), r"^\s*[-+]?[0-9]{1,4}\s*$");
        // No digit may stand before the point: every value is tried.
        assert_eq!(surely_castable("numeric(2,2)"), None);
        for none in ["text", "jsonb", "integer[]", "numeric(x)", "numeric(3,2"] {
            assert_eq!(surely_castable(none), None, "{none}");
        }
        assert!(
            surely_castable("timestamptz")
                .unwrap()
                .contains("(0[0-9]|1[0-5])"),
            "offsets to 15 hours, as Postgres reads them"
        );
    }
    use Scalar::*;

    fn s(a: Scalar, b: Scalar) -> Option<Conversion> {
        conversion(&FieldType::Scalar(a), &FieldType::Scalar(b))
    }

    #[test]
    fn the_table() {
        assert_eq!(s(Text, Enum(vec!["a".into()])), conv(false, false, None));
        assert_eq!(s(Integer, Text), conv(true, false, None));
        assert_eq!(s(Text, Integer), conv(true, true, None));
        assert_eq!(s(Integer, BigInt), conv(true, false, None));
        assert_eq!(s(BigInt, Integer), conv(true, true, None));
        assert_eq!(s(Float, Integer), conv(true, true, Some(Loss::Fraction)));
        assert_eq!(s(Timestamp, Date), conv(true, false, Some(Loss::TimeOfDay)));
        assert_eq!(s(Boolean, Integer), None);
        assert_eq!(s(Json, Text), conv(true, false, None));
        assert_eq!(s(Text, Json), conv(true, true, None));
        assert_eq!(s(Uuid, Date), None);
        let dec = |p: Option<u32>, sc: Option<u32>| Decimal {
            precision: p,
            scale: sc,
        };
        // Precision up at the same scale: metadata only.
        assert_eq!(
            s(dec(Some(10), Some(2)), dec(Some(12), Some(2))),
            conv(false, false, None)
        );
        // Fewer digits after the point: values are rounded.
        assert_eq!(
            s(dec(Some(10), Some(2)), dec(Some(10), Some(1))),
            conv(true, false, Some(Loss::Scale(1)))
        );
        assert_eq!(
            s(dec(Some(10), Some(2)), dec(Some(4), Some(2))),
            conv(true, true, None)
        );
        assert_eq!(
            s(dec(Some(10), Some(2)), dec(None, None)),
            conv(false, false, None)
        );
        assert_eq!(
            s(dec(None, None), dec(Some(6), Some(2))),
            conv(true, true, Some(Loss::Scale(2)))
        );
        assert_eq!(
            conversion(&FieldType::Array(Integer), &FieldType::Array(Text)),
            conv(true, false, None)
        );
        assert_eq!(
            conversion(&FieldType::Scalar(Integer), &FieldType::Array(Integer)),
            None
        );
    }
}
