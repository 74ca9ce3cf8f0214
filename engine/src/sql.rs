//! The only two ways text enters generated SQL: a quoted identifier and a quoted
//! literal. Everything the DDL renderer writes goes through these, typed values
//! included ([`literal`]).

use crate::literal::Literal;
use crate::names::Ident;
use crate::scalar::Scalar;

/// `"name"`: always quoted, so a name that happens to be a keyword still works and
/// nothing is folded to lower case. Embedded quotes are doubled; validated
/// identifiers never contain one, but the function does not rely on that.
pub fn quote_ident(ident: &Ident) -> String {
    quote_ident_str(ident.as_str())
}

/// `"schema"."name"`.
pub fn quote_qualified(schema: &Ident, name: &Ident) -> String {
    quote_qualified_str(schema.as_str(), name.as_str())
}

/// [`quote_qualified`] for names read back from the catalog as text.
pub fn quote_qualified_str(schema: &str, name: &str) -> String {
    format!("{}.{}", quote_ident_str(schema), quote_ident_str(name))
}

/// [`quote_ident`] for a name read back from the catalog as text.
pub fn quote_ident_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// A string literal that means exactly `s` whatever `standard_conforming_strings`
/// says: quotes are doubled, and if a backslash occurs the `E'...'` form is used
/// with backslashes doubled (the rule Postgres's own `quote_literal` follows).
/// NUL cannot occur: jsonb rejects `\u0000` before Cot sees the text.
pub fn quote_literal(s: &str) -> String {
    let has_backslash = s.contains('\\');
    let mut out = String::with_capacity(s.len() + 3);
    if has_backslash {
        out.push('E');
    }
    out.push('\'');
    for c in s.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            _ => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// The SQL text of a typed value as a value of `ty`: quoted and cast, so it
/// never depends on how the parser would guess its type.
pub fn literal(l: &Literal, ty: &Scalar) -> String {
    match l {
        // Quoted even though digits are safe: an unquoted -2147483648::integer
        // parses as -(2147483648::integer), which is out of range.
        Literal::Bool(b) => b.to_string(),
        Literal::Float(_) => format!("{}::double precision", quote_literal(&l.text())),
        Literal::Array(items) => {
            if items.is_empty() {
                format!("'{{}}'::{}[]", ty.cast_type())
            } else {
                let parts: Vec<String> = items.iter().map(|i| literal(i, ty)).collect();
                format!("ARRAY[{}]::{}[]", parts.join(", "), ty.cast_type())
            }
        }
        other => format!("{}::{}", quote_literal(&other.text()), ty.cast_type()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn literals() {
        assert_eq!(quote_literal("abc"), "'abc'");
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(quote_literal(r"a\b"), r"E'a\\b'");
        assert_eq!(quote_literal(r"'\'"), r"E'''\\'''");
        assert_eq!(quote_literal(""), "''");
        assert_eq!(quote_literal("$$; DROP TABLE x; --"), "'$$; DROP TABLE x; --'");
    }

    #[test]
    fn identifiers() {
        assert_eq!(quote_ident_str("orders"), "\"orders\"");
        assert_eq!(quote_ident_str("a\"b"), "\"a\"\"b\"");
    }

    /// Reads a literal back the way the Postgres lexer does, to prove the quoting
    /// is lossless for any input.
    fn unquote_literal(q: &str) -> String {
        let (escaped, body) = match q.strip_prefix('E') {
            Some(rest) => (true, rest),
            None => (false, q),
        };
        let body = &body[1..body.len() - 1];
        let mut out = String::new();
        let mut chars = body.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\'' => {
                    assert_eq!(chars.next(), Some('\''), "lone quote inside literal");
                    out.push('\'');
                }
                '\\' if escaped => out.push(chars.next().expect("dangling backslash")),
                _ => out.push(c),
            }
        }
        out
    }

    proptest! {
        #[test]
        fn literal_round_trips(s in "\\PC*") {
            prop_assume!(!s.contains('\0'));
            let q = quote_literal(&s);
            prop_assert_eq!(unquote_literal(&q), s);
        }
    }

    fn dec(p: Option<u32>, s: Option<u32>) -> Scalar {
        Scalar::Decimal {
            precision: p,
            scale: s,
        }
    }

    #[test]
    fn typed_literals_are_quoted_and_cast() {
        use serde_json::json;
        assert_eq!(literal(&Literal::Int(-3), &Scalar::BigInt), "'-3'::bigint");
        assert_eq!(
            literal(&Literal::Int(i32::MIN as i64), &Scalar::Integer),
            "'-2147483648'::integer"
        );
        assert_eq!(
            literal(&Literal::Decimal("12.5".into()), &dec(Some(12), Some(2))),
            "'12.5'::numeric"
        );
        assert_eq!(
            literal(&Literal::Text("it's".into()), &Scalar::Text),
            "'it''s'::text"
        );
        assert_eq!(
            literal(&Literal::Json(json!({"a": "b'c"})), &Scalar::Json),
            "'{\"a\":\"b''c\"}'::jsonb"
        );
        let arr = Literal::Array(vec![Literal::Int(1), Literal::Int(2)]);
        assert_eq!(
            literal(&arr, &Scalar::Integer),
            "ARRAY['1'::integer, '2'::integer]::integer[]"
        );
        assert_eq!(literal(&Literal::Array(vec![]), &Scalar::Text), "'{}'::text[]");
        assert_eq!(
            literal(&Literal::Float(0.1), &Scalar::Float),
            "'0.1'::double precision"
        );
        assert_eq!(
            literal(&Literal::Float(1e300), &Scalar::Float),
            "'1e300'::double precision"
        );
    }
}
