//! Identifiers as PostgreSQL 15 prints them back (`quote_identifier` in
//! `ruleutils.c`): plain when made of lower-case letters, digits and
//! underscores and not a keyword outside the unreserved category, quoted
//! otherwise. `cot.check` compares the policies it expects, in this form, with
//! what `pg_get_expr` prints.

use std::borrow::Cow;

/// The keywords PostgreSQL 15 quotes when it prints an identifier
/// (`SELECT word FROM pg_get_keywords() WHERE catcode <> 'U'`; 151 words).
const QUOTED_KEYWORDS: [&str; 151] = [
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "authorization",
    "between",
    "bigint",
    "binary",
    "bit",
    "boolean",
    "both",
    "case",
    "cast",
    "char",
    "character",
    "check",
    "coalesce",
    "collate",
    "collation",
    "column",
    "concurrently",
    "constraint",
    "create",
    "cross",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "dec",
    "decimal",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "exists",
    "extract",
    "false",
    "fetch",
    "float",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "grant",
    "greatest",
    "group",
    "grouping",
    "having",
    "ilike",
    "in",
    "initially",
    "inner",
    "inout",
    "int",
    "integer",
    "intersect",
    "interval",
    "into",
    "is",
    "isnull",
    "join",
    "lateral",
    "leading",
    "least",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "national",
    "natural",
    "nchar",
    "none",
    "normalize",
    "not",
    "notnull",
    "null",
    "nullif",
    "numeric",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "out",
    "outer",
    "overlaps",
    "overlay",
    "placing",
    "position",
    "precision",
    "primary",
    "real",
    "references",
    "returning",
    "right",
    "row",
    "select",
    "session_user",
    "setof",
    "similar",
    "smallint",
    "some",
    "substring",
    "symmetric",
    "table",
    "tablesample",
    "then",
    "time",
    "timestamp",
    "to",
    "trailing",
    "treat",
    "trim",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "values",
    "varchar",
    "variadic",
    "verbose",
    "when",
    "where",
    "window",
    "with",
    "xmlattributes",
    "xmlconcat",
    "xmlelement",
    "xmlexists",
    "xmlforest",
    "xmlnamespaces",
    "xmlparse",
    "xmlpi",
    "xmlroot",
    "xmlserialize",
    "xmltable",
];

/// `name` as `pg_get_expr` prints it.
pub fn printed_ident(name: &str) -> Cow<'_, str> {
    let mut chars = name.chars();
    let plain = matches!(chars.next(), Some('a'..='z' | '_'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
        && QUOTED_KEYWORDS.binary_search(&name).is_err();
    if plain {
        Cow::Borrowed(name)
    } else {
        Cow::Owned(format!("\"{}\"", name.replace('"', "\"\"")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_sorted_for_the_binary_search() {
        assert!(QUOTED_KEYWORDS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn plain_names_stay_plain_and_keywords_are_quoted() {
        assert_eq!(printed_ident("notes_tags"), "notes_tags");
        assert_eq!(printed_ident("_x1"), "_x1");
        // Reserved (R), type or function name (T), column name (C) keywords.
        assert_eq!(printed_ident("user"), "\"user\"");
        assert_eq!(printed_ident("left"), "\"left\"");
        assert_eq!(printed_ident("position"), "\"position\"");
        // Unreserved keywords print plain.
        assert_eq!(printed_ident("name"), "name");
        assert_eq!(printed_ident("Big"), "\"Big\"");
        assert_eq!(printed_ident("1a"), "\"1a\"");
    }
}
