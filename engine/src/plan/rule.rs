//! What a CHECK means in words, and which key of a field's definition states
//! it: the text a refused change and a rejected row both show, so a user
//! reads the rule ("one of \"low\", \"high\"", "at most 200 characters"),
//! not a constraint name.

use super::Check;
use crate::scalar::Scalar;

impl Check {
    /// The rule a value must follow, as a phrase after "must be".
    pub fn rule_text(&self) -> String {
        match self {
            Check::MinLength(n) => format!("at least {} long", characters(*n)),
            Check::MaxLength(n) => format!("at most {} long", characters(*n)),
            Check::Pattern(p) => match format_name(p) {
                Some(name) => format!("a valid {name}"),
                None => format!("text matching the pattern \"{p}\""),
            },
            Check::Min(l, _) => format!("at least {}", l.text()),
            Check::Max(l, _) => format!("at most {}", l.text()),
            Check::OneOf(values) => format!("one of {}", listed(values)),
            Check::ArrayShape => "a list of one dimension without null items".into(),
            Check::ArrayOneOf(values) => format!("a list whose items are each one of {}", listed(values)),
            Check::ArrayPattern(p) => match format_name(p) {
                Some(name) => format!("a list whose items are each a valid {name}"),
                None => format!("a list whose items each match the pattern \"{p}\""),
            },
        }
    }

    /// The key of the field's definition that states the rule (`type` for
    /// what the type itself demands: an e-mail's format, an array's shape).
    pub fn definition_key(&self) -> &'static str {
        match self {
            Check::MinLength(_) => "min_length",
            Check::MaxLength(_) => "max_length",
            Check::Pattern(p) if format_name(p).is_some() => "type",
            Check::Pattern(_) => "pattern",
            Check::Min(..) => "min",
            Check::Max(..) => "max",
            Check::OneOf(_) | Check::ArrayOneOf(_) => "values",
            Check::ArrayShape | Check::ArrayPattern(_) => "type",
        }
    }

    /// A list of allowed values: its old values can be mapped to new ones
    /// with `rename_values`.
    pub fn is_value_list(&self) -> bool {
        matches!(self, Check::OneOf(_) | Check::ArrayOneOf(_))
    }
}

/// `email` or `URL` when `p` is the format pattern of that type.
fn format_name(p: &str) -> Option<&'static str> {
    if Scalar::Email.format_pattern() == Some(p) {
        Some("email address")
    } else if Scalar::Url.format_pattern() == Some(p) {
        Some("URL")
    } else {
        None
    }
}

/// `1 character`, `200 characters`.
fn characters(n: u64) -> String {
    if n == 1 {
        "1 character".into()
    } else {
        format!("{n} characters")
    }
}

/// A value in double quotes, as JSON writes it.
fn quoted(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// `"a", "b", "c"`.
fn listed(values: &[String]) -> String {
    values.iter().map(|v| quoted(v)).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::literal::Literal;

    #[test]
    fn each_rule_in_words_with_its_key() {
        let cases = [
            (Check::MaxLength(200), "at most 200 characters long", "max_length"),
            (Check::MinLength(2), "at least 2 characters long", "min_length"),
            (Check::MinLength(1), "at least 1 character long", "min_length"),
            (
                Check::Pattern("^[^\\\\]+$".into()),
                "text matching the pattern \"^[^\\\\]+$\"",
                "pattern",
            ),
            (Check::Min(Literal::Int(0), Scalar::Integer), "at least 0", "min"),
            (
                Check::Max(Literal::Decimal("9.5".into()), Scalar::Integer),
                "at most 9.5",
                "max",
            ),
            (
                Check::OneOf(vec!["low".into(), "high".into()]),
                "one of \"low\", \"high\"",
                "values",
            ),
            (
                Check::Pattern("^A".into()),
                "text matching the pattern \"^A\"",
                "pattern",
            ),
            (
                Check::Pattern(Scalar::Email.format_pattern().unwrap().into()),
                "a valid email address",
                "type",
            ),
            (
                Check::ArrayPattern(Scalar::Url.format_pattern().unwrap().into()),
                "a list whose items are each a valid URL",
                "type",
            ),
        ];
        for (check, text, key) in cases {
            assert_eq!((check.rule_text().as_str(), check.definition_key()), (text, key));
        }
        assert!(Check::ArrayOneOf(vec![]).is_value_list());
        assert!(!Check::ArrayShape.is_value_list());
    }
}
