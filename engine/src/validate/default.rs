//! Typed values in a definition: bounds (`min`, `max`) and defaults. A default
//! must also pass the field's own constraints, or every insert that relies on
//! it would fail.

use super::Checker;
use crate::definition::FieldDef;
use crate::literal::{self, DefaultValue, Literal};
use crate::scalar::Scalar;
use crate::types::FieldType;
use serde_json::Value;
use std::cmp::Ordering;

/// A field's limits a default is held to: min, max and the effective max_length
/// (emails have one even when none is given).
type Limits<'a> = (&'a Option<Literal>, &'a Option<Literal>, Option<u64>);

impl Checker<'_> {
    /// `v` as a value of type `ty`, or `None` (with the violation recorded)
    /// when it is absent or not of that type.
    pub(super) fn literal(&mut self, v: Option<&Value>, ty: &Scalar, pointer: String) -> Option<Literal> {
        match literal::parse(v?, ty) {
            Ok(l) => Some(l),
            Err(msg) => {
                self.bad(
                    pointer,
                    msg,
                    "write the value as JSON of the field's type; dates and times as ISO 8601 strings",
                );
                None
            }
        }
    }

    /// A field's default: a keyword computed on insert, or a value of the field's
    /// type that passes the field's own checks.
    pub(super) fn default(
        &mut self,
        v: &Value,
        ty: &FieldType,
        f: &FieldDef,
        limits: Limits<'_>,
        pointer: String,
    ) -> Option<DefaultValue> {
        if let Some(keyword) = keyword_default(ty, v) {
            return Some(keyword);
        }
        let lit = self.default_literal(v, ty, &pointer)?;
        self.default_items_fit(&lit, ty.scalar(), &pointer);
        self.default_fits_field(&lit, f, limits, pointer);
        Some(DefaultValue::Literal(lit))
    }

    /// The default as a value of the field's type; an array's items each of the
    /// item type, each reported at its own pointer.
    fn default_literal(&mut self, v: &Value, ty: &FieldType, pointer: &str) -> Option<Literal> {
        match ty {
            FieldType::Scalar(s) => self.literal(Some(v), s, pointer.to_string()),
            FieldType::Array(s) => {
                let Some(items) = v.as_array() else {
                    self.bad(
                        pointer.to_string(),
                        "the default of an array field must be an array",
                        "e.g. \"default\": []",
                    );
                    return None;
                };
                let mut parsed = Vec::with_capacity(items.len());
                for (j, item) in items.iter().enumerate() {
                    parsed.push(self.literal(Some(item), s, format!("{pointer}/{j}"))?);
                }
                Some(Literal::Array(parsed))
            }
        }
    }

    /// What the type itself demands of each value (of each item, for an array):
    /// an enum's values, the format of an email or url.
    fn default_items_fit(&mut self, lit: &Literal, scalar: &Scalar, pointer: &str) {
        let items: Vec<&Literal> = match lit {
            Literal::Array(items) => items.iter().collect(),
            one => vec![one],
        };
        for item in items {
            if let Scalar::Enum(values) = scalar {
                if let Literal::Text(t) = item {
                    if !values.contains(t) {
                        self.bad(
                            pointer.to_string(),
                            format!("default {} is not one of the values", crate::names::shown(t)),
                            "choose a default from values, or add it to values",
                        );
                    }
                }
            }
            if let Some(pat) = scalar.format_pattern() {
                if let Literal::Text(t) = item {
                    if self.env.regex_matches(pat, t) != Ok(true) {
                        self.bad(
                            pointer.to_string(),
                            format!("default is not a valid {}", scalar.name()),
                            format!("{} values must match {pat}", scalar.name()),
                        );
                    }
                }
            }
        }
    }

    /// What the field's options demand of the default: lengths, pattern, bounds.
    fn default_fits_field(
        &mut self,
        lit: &Literal,
        f: &FieldDef,
        (min, max, max_length): Limits<'_>,
        pointer: String,
    ) {
        if let Some(len) = lit.char_len() {
            if f.min_length.is_some_and(|m| len < m) || max_length.is_some_and(|m| len > m) {
                self.bad(
                    pointer.clone(),
                    format!("default is {len} characters long, outside min_length/max_length"),
                    "shorten or lengthen the default",
                );
            }
        }
        if let (Some(p), Literal::Text(t)) = (&f.pattern, lit) {
            // Only a definite "no" counts: a pattern the server cannot run is
            // reported on its own by the field's check.
            if self.env.regex_matches(p, t) == Ok(false) {
                self.bad(
                    pointer.clone(),
                    "default does not match pattern",
                    "change the default or the pattern",
                );
            }
        }
        if min
            .as_ref()
            .is_some_and(|m| lit.compare(m) == Some(Ordering::Less))
            || max
                .as_ref()
                .is_some_and(|m| lit.compare(m) == Some(Ordering::Greater))
        {
            self.bad(
                pointer,
                "default is outside min/max",
                "choose a default between min and max",
            );
        }
    }
}

/// A default that names a value computed on insert (`now`, `today`, `uuid`),
/// for the types it has a meaning for. Elsewhere the word is an ordinary value:
/// a text field may default to the text "now".
fn keyword_default(ty: &FieldType, v: &Value) -> Option<DefaultValue> {
    match (ty, v.as_str()) {
        (FieldType::Scalar(Scalar::Timestamp | Scalar::Time), Some("now")) => Some(DefaultValue::Now),
        (FieldType::Scalar(Scalar::Date), Some("today")) => Some(DefaultValue::Today),
        (FieldType::Scalar(Scalar::Uuid), Some("uuid")) => Some(DefaultValue::NewUuid),
        _ => None,
    }
}
