//! A plain (non-relation) field: its type, which options fit that type, and
//! whether the options agree with each other (lengths, bounds, pattern, default).

use super::{field_pointer, Checker};
use crate::definition::FieldDef;
use crate::error::{ErrorKind, Violation};
use crate::names::NameKind;
use crate::scalar::{Scalar, EMAIL_MAX_LENGTH};
use crate::types::{Field, FieldType};
use std::cmp::Ordering;

impl Checker<'_> {
    /// A plain field. Every option is checked even when the name is bad; only
    /// a type that cannot be made stops the checks, as every option depends on it.
    pub(super) fn field(&mut self, i: usize, f: &FieldDef) -> Option<Field> {
        let at = |key: &str| field_pointer(i, key);
        let name = self.name(NameKind::Field, &f.name, &at("name"));
        let id = self.id(&f.id, at("id"));
        let ty = self.field_type(i, f)?;
        let scalar = ty.scalar().clone();
        let is_array = matches!(ty, FieldType::Array(_));
        self.options_fit(i, f, &scalar, is_array);
        let max_length = self.lengths(i, f, &scalar, is_array);

        if let Some(p) = &f.pattern {
            if let Err(reason) = self.env.check_regex(p) {
                self.out.push(Violation::new(
                    ErrorKind::InvalidParameter,
                    at("pattern"),
                    format!("pattern is not a valid regular expression: {reason}"),
                    "patterns use PostgreSQL's regular expression syntax (the ~ operator)",
                ));
            }
        }

        // Bounds.
        let min = self.literal(f.min.as_ref(), &scalar, at("min"));
        let max = self.literal(f.max.as_ref(), &scalar, at("max"));
        if let (Some(lo), Some(hi)) = (&min, &max) {
            if lo.compare(hi) == Some(Ordering::Greater) {
                self.bad(at("min"), "min is greater than max", "make min at most max");
            }
        }

        let default = match &f.default {
            None => None,
            Some(v) => self.default(v, &ty, f, (&min, &max, max_length), at("default")),
        };

        Some(Field {
            id,
            name: name?,
            ty,
            required: f.required,
            unique: f.unique,
            index: f.index,
            default,
            min,
            max,
            min_length: f.min_length,
            max_length,
            pattern: f.pattern.clone(),
            description: f.description.clone(),
            custom: None,
        })
    }

    /// Options that do not fit the field's type: the relation options, and the
    /// length, pattern and bound options on types they mean nothing for.
    fn options_fit(&mut self, i: usize, f: &FieldDef, scalar: &Scalar, is_array: bool) {
        let type_name = if is_array {
            format!("array of {}", scalar.name())
        } else {
            scalar.name().to_string()
        };
        let mut not_for = |present: bool, key: &str, fits: bool| {
            if present && !fits {
                self.bad(
                    field_pointer(i, key),
                    format!("option {key} does not apply to {type_name} fields"),
                    "remove it; the definition reference lists which options each type takes",
                );
            }
        };
        for (key, present) in [
            ("kind", f.kind.is_some()),
            ("target", f.target.is_some()),
            ("on_delete", f.on_delete.is_some()),
            ("inverse", f.inverse.is_some()),
            ("column", f.column.is_some()),
            ("junction", f.junction.is_some()),
        ] {
            not_for(present, key, false);
        }
        let scalar_textual = !is_array && scalar.is_textual();
        not_for(f.min_length.is_some(), "min_length", scalar_textual);
        not_for(f.max_length.is_some(), "max_length", scalar_textual);
        not_for(
            f.pattern.is_some(),
            "pattern",
            !is_array && *scalar == Scalar::Text,
        );
        not_for(f.min.is_some(), "min", !is_array && scalar.is_ordered());
        not_for(f.max.is_some(), "max", !is_array && scalar.is_ordered());
    }

    /// The field's effective max_length, and whether min_length fits under it.
    /// An email is capped at [`EMAIL_MAX_LENGTH`] whatever is given, so a
    /// min_length above the cap is caught here too.
    fn lengths(&mut self, i: usize, f: &FieldDef, scalar: &Scalar, is_array: bool) -> Option<u64> {
        let mut max_length = f.max_length;
        if *scalar == Scalar::Email && !is_array {
            max_length = Some(max_length.map_or(EMAIL_MAX_LENGTH, |m| m.min(EMAIL_MAX_LENGTH)));
        }
        if let (Some(lo), Some(hi)) = (f.min_length, max_length) {
            if lo > hi {
                self.bad(
                    field_pointer(i, "min_length"),
                    format!("min_length {lo} is greater than max_length {hi}"),
                    "make min_length at most max_length",
                );
            }
        }
        max_length
    }

    /// The field's type: a scalar, or an array of one.
    fn field_type(&mut self, i: usize, f: &FieldDef) -> Option<FieldType> {
        let is_array = f.field_type == "array";
        let scalar_name = self.scalar_name(i, f, is_array)?;
        self.type_options_fit(i, f, scalar_name);
        let scalar = self.scalar(i, f, scalar_name)?;
        Some(if is_array {
            FieldType::Array(scalar)
        } else {
            FieldType::Scalar(scalar)
        })
    }

    /// The name of the field's scalar type: its own type, or for an array the
    /// type of its items (which only arrays may give).
    fn scalar_name<'f>(&mut self, i: usize, f: &'f FieldDef, is_array: bool) -> Option<&'f str> {
        if is_array {
            if f.items.is_none() {
                self.bad(
                    field_pointer(i, "items"),
                    "array fields need items: the type of their items",
                    "add e.g. \"items\": \"text\"",
                );
            }
            return f.items.as_deref();
        }
        if f.items.is_some() {
            self.bad(
                field_pointer(i, "items"),
                format!("option items does not apply to {} fields", f.field_type),
                "items is for array fields",
            );
        }
        Some(f.field_type.as_str())
    }

    /// values belong to enums, precision and scale to decimals (arrays of them
    /// included, hence the scalar's name rather than the field's type).
    fn type_options_fit(&mut self, i: usize, f: &FieldDef, scalar_name: &str) {
        if f.values.is_some() && scalar_name != "enum" {
            self.bad(
                field_pointer(i, "values"),
                format!("option values does not apply to {} fields", f.field_type),
                "values is for enum fields (and arrays of enum)",
            );
        }
        if scalar_name != "decimal" {
            for (key, present) in [("precision", f.precision.is_some()), ("scale", f.scale.is_some())] {
                if present {
                    self.bad(
                        field_pointer(i, key),
                        format!("option {key} does not apply to {} fields", f.field_type),
                        "precision and scale are for decimal fields",
                    );
                }
            }
        }
    }

    /// The scalar type by its name, with what the type needs (an enum's values,
    /// a decimal's precision and scale).
    fn scalar(&mut self, i: usize, f: &FieldDef, scalar_name: &str) -> Option<Scalar> {
        Some(match scalar_name {
            "text" => Scalar::Text,
            "integer" => Scalar::Integer,
            "bigint" => Scalar::BigInt,
            "decimal" => self.decimal(i, f),
            "float" => Scalar::Float,
            "boolean" => Scalar::Boolean,
            "date" => Scalar::Date,
            "timestamp" => Scalar::Timestamp,
            "time" => Scalar::Time,
            "uuid" => Scalar::Uuid,
            "json" => Scalar::Json,
            "enum" => match &f.values {
                Some(v) => Scalar::Enum(v.clone()),
                None => {
                    self.bad(
                        field_pointer(i, "values"),
                        "enum fields need values: the list of allowed values",
                        "add e.g. \"values\": [\"draft\", \"published\"]",
                    );
                    return None;
                }
            },
            "email" => Scalar::Email,
            "url" => Scalar::Url,
            other => {
                // The schema admits only known names; this guards the two lists staying in step.
                self.bad(
                    field_pointer(i, "type"),
                    format!("unknown type {other}"),
                    "see cot.definition_schema()",
                );
                return None;
            }
        })
    }

    /// A decimal's precision and scale. A bad pair is reported but still
    /// makes a type, so the field's other options are checked against it.
    fn decimal(&mut self, i: usize, f: &FieldDef) -> Scalar {
        if let (Some(p), Some(s)) = (f.precision, f.scale) {
            if s > p {
                self.bad(
                    field_pointer(i, "scale"),
                    format!("scale {s} is greater than precision {p}"),
                    "scale counts digits after the point, so it cannot exceed precision",
                );
            }
        }
        if f.scale.is_some() && f.precision.is_none() {
            self.bad(
                field_pointer(i, "scale"),
                "scale needs a precision",
                "add precision (total digits), e.g. \"precision\": 12",
            );
        }
        Scalar::Decimal {
            precision: f.precision,
            scale: f.scale,
        }
    }
}
