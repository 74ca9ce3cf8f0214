//! Unit and property tests of the naming rules.

use super::*;
use proptest::prelude::*;

/// The reserved keywords of PostgreSQL 15 (catcode R and T of
/// `pg_get_keywords()`); the extension asks the server for the real list.
pub(crate) fn pg15_keywords() -> Keywords {
    Keywords::new([
        "all",
        "analyse",
        "analyze",
        "and",
        "any",
        "array",
        "as",
        "asc",
        "asymmetric",
        "both",
        "case",
        "cast",
        "check",
        "collate",
        "column",
        "constraint",
        "create",
        "current_catalog",
        "current_date",
        "current_role",
        "current_time",
        "current_timestamp",
        "current_user",
        "default",
        "deferrable",
        "desc",
        "distinct",
        "do",
        "else",
        "end",
        "except",
        "false",
        "fetch",
        "for",
        "foreign",
        "from",
        "grant",
        "group",
        "having",
        "in",
        "initially",
        "intersect",
        "into",
        "lateral",
        "leading",
        "limit",
        "localtime",
        "localtimestamp",
        "not",
        "null",
        "offset",
        "on",
        "only",
        "or",
        "order",
        "placing",
        "primary",
        "references",
        "returning",
        "select",
        "session_user",
        "some",
        "symmetric",
        "system_user",
        "table",
        "then",
        "to",
        "trailing",
        "true",
        "union",
        "unique",
        "user",
        "using",
        "variadic",
        "when",
        "where",
        "window",
        "with",
        "authorization",
        "binary",
        "collation",
        "concurrently",
        "cross",
        "current_schema",
        "freeze",
        "full",
        "ilike",
        "inner",
        "is",
        "isnull",
        "join",
        "left",
        "like",
        "natural",
        "notnull",
        "outer",
        "overlaps",
        "right",
        "similar",
        "tablesample",
        "verbose",
    ])
}

fn field(name: &str) -> Result<Ident, Violation> {
    check_name(NameKind::Field, name, "/fields/0/name", &pg15_keywords())
}

#[test]
fn good_names_pass() {
    for n in ["title", "a", "total_2", "x_y_z", "orders"] {
        assert_eq!(field(n).unwrap().as_str(), n);
    }
}

#[test]
fn reserved_words_are_entity_and_field_names_but_not_slugs() {
    let k = pg15_keywords();
    for n in [
        "user",
        "group",
        "end",
        "from",
        "to",
        "desc",
        "table",
        "default",
        "null",
        "current_user",
        "all",
    ] {
        assert!(k.contains(n), "{n} is a PostgreSQL reserved word");
        assert_eq!(field(n).unwrap().as_str(), n);
        assert_eq!(check_name(NameKind::Entity, n, "/name", &k).unwrap().as_str(), n);
        let slug = check_name(NameKind::Tenant, n, "/tenant", &k).unwrap_err();
        assert_eq!(slug.kind, ErrorKind::ReservedName, "{n}");
        assert!(check_name(NameKind::Role, n, "", &k).is_err(), "{n}");
    }
}

#[test]
fn refused_names_suggest_one_that_works() {
    let cases: &[(NameKind, &str, &str)] = &[
        (NameKind::Field, "order", "sort_order"),
        (NameKind::Field, "limit", "max_items"),
        (NameKind::Field, "select", "selection"),
        (NameKind::Field, "offset", "start_offset"),
        (NameKind::Field, "on_conflict", "conflict_rule"),
        (NameKind::Field, "columns", "column_list"),
        (NameKind::Field, "and", "conjunction"),
        (NameKind::Field, "or", "alternative"),
        (NameKind::Field, "not", "negated"),
        (NameKind::Field, "id", "external_id"),
        (NameKind::Field, "created_at", "recorded_at"),
        (NameKind::Field, "updated_at", "changed_at"),
        (NameKind::Field, "owner_id", "assignee_id"),
        (NameKind::Field, "xmin", "x_min"),
        (NameKind::Field, "ctid", "ct_id"),
        (NameKind::Field, "oid", "object_id"),
        (NameKind::Field, "tableoid", "table_oid"),
        (NameKind::Entity, "rpc", "rpc_calls"),
        (NameKind::Entity, "pg_things", "things"),
    ];
    let k = pg15_keywords();
    for (kind, name, other) in cases {
        let v = check_name(*kind, name, "/x", &k).unwrap_err();
        assert_eq!(v.kind, ErrorKind::ReservedName, "{name}");
        assert_eq!(v.hint, format!("choose another name, e.g. \"{other}\""), "{name}");
        // The alternative itself passes.
        assert!(check_name(*kind, other, "/x", &k).is_ok(), "{other}");
    }
    assert_eq!(
        check_name(NameKind::Tenant, "user", "/t", &k).unwrap_err().hint,
        "choose another name, e.g. add a prefix or suffix"
    );
}

#[test]
fn each_bad_name_gets_its_code() {
    let cases: &[(&str, ErrorKind)] = &[
        ("", ErrorKind::InvalidName),
        ("Title", ErrorKind::InvalidName),
        ("1abc", ErrorKind::InvalidName),
        ("_x", ErrorKind::InvalidName),
        ("a-b", ErrorKind::InvalidName),
        ("a b", ErrorKind::InvalidName),
        ("a\"b", ErrorKind::InvalidName),
        ("a;drop table x", ErrorKind::InvalidName),
        ("a--", ErrorKind::InvalidName),
        ("a$$", ErrorKind::InvalidName),
        ("a\0b", ErrorKind::InvalidName),
        ("a\u{202e}b", ErrorKind::InvalidName),
        ("café", ErrorKind::InvalidName),
        ("select", ErrorKind::ReservedName),
        ("id", ErrorKind::ReservedName),
        ("created_at", ErrorKind::ReservedName),
        ("xmin", ErrorKind::ReservedName),
        ("columns", ErrorKind::ReservedName),
        ("on_conflict", ErrorKind::ReservedName),
    ];
    for (name, kind) in cases {
        let v = field(name).unwrap_err();
        assert_eq!(v.kind, *kind, "{name:?}");
        assert_eq!(v.pointer, "/fields/0/name");
    }
    let long = "a".repeat(64);
    assert_eq!(field(&long).unwrap_err().kind, ErrorKind::NameTooLong);
    assert!(field(&"a".repeat(63)).is_ok());
    // 32 two-byte characters are 64 bytes: too long, counted in bytes.
    assert_eq!(field(&"é".repeat(32)).unwrap_err().kind, ErrorKind::NameTooLong);
}

#[test]
fn tenant_rules() {
    let k = pg15_keywords();
    let t = |s: &str| check_name(NameKind::Tenant, s, "/tenant", &k);
    assert!(t("acme").is_ok());
    assert_eq!(t(&"a".repeat(31)).unwrap_err().kind, ErrorKind::NameTooLong);
    for bad in ["cot", "public", "pg_x", "tenant_x", "user"] {
        assert_eq!(t(bad).unwrap_err().kind, ErrorKind::ReservedName, "{bad}");
    }
    let names = TenantNames::new(&t("acme").unwrap());
    assert_eq!(names.storage_schema.as_str(), "tenant_acme");
    assert_eq!(names.api_schema.as_str(), "acme");
    assert_eq!(names.admin_role.as_str(), "cot_acme_admin");
    let longest = TenantNames::new(&t(&"z".repeat(30)).unwrap());
    assert!(longest.admin_role.as_str().len() <= MAX_IDENT_BYTES);
}

#[test]
fn messages_do_not_carry_invisible_marks() {
    let v = field("evil\u{202e}name").unwrap_err();
    assert!(!v.message.contains('\u{202e}'));
    assert!(v.message.contains("\\u{202e}"));
}

#[test]
fn derived_names_fit_and_stay_distinct() {
    assert_eq!(derived(&["orders", "title", "key"]).as_str(), "orders_title_key");
    let a = "a".repeat(60);
    let x = derived(&[&a, "first_field", "key"]);
    let y = derived(&[&a, "second_field", "key"]);
    assert!(x.as_str().len() <= MAX_IDENT_BYTES);
    assert_ne!(x, y);
    assert_eq!(x, derived(&[&a, "first_field", "key"]));
}

proptest! {
    /// Any string either fails with a name error or is a plain name that
    /// round-trips unchanged: no third outcome.
    #[test]
    fn any_string_is_a_clean_error_or_a_plain_name(s in "\\PC{0,80}|[a-z_0-9\"';$\\- ]{0,70}") {
        match field(&s) {
            Ok(id) => {
                prop_assert_eq!(id.as_str(), s.as_str());
                prop_assert!(is_plain(&s) && s.len() <= 63);
            }
            Err(v) => prop_assert!(matches!(
                v.kind,
                ErrorKind::InvalidName | ErrorKind::NameTooLong | ErrorKind::ReservedName
            )),
        }
    }

    #[test]
    fn derived_names_are_always_valid(parts in proptest::collection::vec("[a-z][a-z0-9_]{0,62}", 1..5)) {
        let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
        let d = derived(&refs);
        prop_assert!(d.as_str().len() <= MAX_IDENT_BYTES);
        prop_assert!(is_plain(d.as_str()));
    }
}

#[test]
fn api_groups_use_the_slug_alphabet() {
    for good in ["default", "b", "eu_1", "a23456789012345678901234567890"] {
        assert!(check_api_group(good).is_ok(), "{good}");
    }
    for bad in [
        "",
        "1a",
        "Eu",
        "eu-1",
        "a b",
        "é",
        "a2345678901234567890123456789012",
    ] {
        let e = check_api_group(bad).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidName, "{bad}");
    }
}

#[test]
fn api_group_channels_keep_postgrest_default_for_default() {
    assert_eq!(api_channel("default"), "pgrst");
    assert_eq!(api_channel("eu_1"), "pgrst_eu_1");
}
