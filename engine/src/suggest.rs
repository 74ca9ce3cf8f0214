//! "Did you mean ...?": the nearest valid word for a mistyped type, key or
//! option value, for the HINT of a violation. Words other systems use for the
//! same thing (`string`, `int`, `datetime`, `nullable`, `maxLength`) come from
//! small alias tables; plain typos (`intger`, `requird`) from the edit
//! distance. A suggestion is only ever one of the valid choices at that place.

/// A word of another system and the word Cot uses, with a note when the two
/// are not quite the same thing.
type Alias = (&'static str, &'static str, Option<&'static str>);

/// Where a word was written, which decides its aliases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// A key of the definition itself.
    EntityKey,
    /// A key of a field.
    FieldKey,
    /// A key of a compound index.
    IndexKey,
    /// A key of `access`.
    AccessKey,
    /// A field's `type` or an array's `items`.
    Type,
    /// An access rule (`public`, `tenant`, ...).
    Rule,
    /// A relation's `kind`.
    RelationKind,
    /// A relation's `on_delete`.
    OnDelete,
    /// Any other list of choices: edit distance only.
    Other,
}

const FLOAT_NOTE: &str = "or \"decimal\" for exact values such as money";

const TYPES: &[Alias] = &[
    ("string", "text", None),
    ("str", "text", None),
    ("varchar", "text", Some("add \"max_length\" for a length limit")),
    (
        "character_varying",
        "text",
        Some("add \"max_length\" for a length limit"),
    ),
    ("char", "text", None),
    ("character", "text", None),
    ("nvarchar", "text", None),
    ("longtext", "text", None),
    ("textarea", "text", None),
    ("int", "integer", None),
    ("int2", "integer", None),
    ("int4", "integer", None),
    ("int16", "integer", None),
    ("int32", "integer", None),
    ("smallint", "integer", None),
    ("serial", "integer", Some("every entity already has an \"id\"")),
    ("int8", "bigint", None),
    ("int64", "bigint", None),
    ("long", "bigint", None),
    ("bigserial", "bigint", Some("every entity already has an \"id\"")),
    ("number", "float", Some(FLOAT_NOTE)),
    ("double", "float", Some(FLOAT_NOTE)),
    ("double_precision", "float", Some(FLOAT_NOTE)),
    ("real", "float", Some(FLOAT_NOTE)),
    ("float4", "float", Some(FLOAT_NOTE)),
    ("float8", "float", Some(FLOAT_NOTE)),
    ("float64", "float", Some(FLOAT_NOTE)),
    ("numeric", "decimal", None),
    (
        "money",
        "decimal",
        Some("with \"precision\" and \"scale\", e.g. 12 and 2"),
    ),
    (
        "currency",
        "decimal",
        Some("with \"precision\" and \"scale\", e.g. 12 and 2"),
    ),
    ("bool", "boolean", None),
    ("datetime", "timestamp", None),
    ("date_time", "timestamp", None),
    ("timestamptz", "timestamp", None),
    ("timestamp_with_time_zone", "timestamp", None),
    ("instant", "timestamp", None),
    ("timetz", "time", None),
    ("jsonb", "json", None),
    ("object", "json", None),
    ("map", "json", None),
    ("dict", "json", None),
    ("guid", "uuid", None),
    ("enumeration", "enum", Some("with \"values\": the allowed values")),
    ("choice", "enum", Some("with \"values\": the allowed values")),
    ("select", "enum", Some("with \"values\": the allowed values")),
    (
        "single_select",
        "enum",
        Some("with \"values\": the allowed values"),
    ),
    ("mail", "email", None),
    ("e_mail", "email", None),
    ("uri", "url", None),
    ("link", "url", None),
    ("list", "array", Some("with \"items\": the item type")),
    (
        "multi_select",
        "array",
        Some("with \"items\": \"enum\" and \"values\""),
    ),
    ("reference", "relation", Some("with \"kind\" and \"target\"")),
    ("ref", "relation", Some("with \"kind\" and \"target\"")),
    ("foreign_key", "relation", Some("with \"kind\" and \"target\"")),
    ("fk", "relation", Some("with \"kind\" and \"target\"")),
    (
        "belongs_to",
        "relation",
        Some("with \"kind\": \"many_to_one\" and \"target\""),
    ),
    (
        "has_many",
        "relation",
        Some("with \"kind\": \"one_to_many\" and \"target\""),
    ),
];

const NULLABLE_NOTE: &str = "fields accept null unless \"required\": true";

const FIELD_KEYS: &[Alias] = &[
    ("options", "values", Some("the allowed values of an enum")),
    ("choices", "values", Some("the allowed values of an enum")),
    ("enum", "values", Some("the allowed values of an enum")),
    ("allowed_values", "values", None),
    ("enum_values", "values", None),
    ("nullable", "required", Some(NULLABLE_NOTE)),
    ("null", "required", Some(NULLABLE_NOTE)),
    ("optional", "required", Some(NULLABLE_NOTE)),
    ("not_null", "required", None),
    ("notnull", "required", None),
    ("mandatory", "required", None),
    ("is_required", "required", None),
    ("maxlength", "max_length", None),
    ("max_len", "max_length", None),
    ("length", "max_length", None),
    ("size", "max_length", None),
    ("minlength", "min_length", None),
    ("min_len", "min_length", None),
    ("minimum", "min", None),
    ("maximum", "max", None),
    ("regex", "pattern", None),
    ("regexp", "pattern", None),
    ("default_value", "default", None),
    ("defaultvalue", "default", None),
    ("indexed", "index", None),
    ("is_unique", "unique", None),
    ("item_type", "items", None),
    ("item", "items", None),
    ("of", "items", None),
    ("title", "label", None),
    ("display_name", "label", None),
    ("comment", "description", None),
    ("desc", "description", None),
    ("help", "description", None),
    ("data_type", "type", None),
    ("datatype", "type", None),
    ("field_type", "type", None),
    ("references", "target", None),
    ("to", "target", None),
    ("entity", "target", None),
    ("relation", "kind", None),
    ("cardinality", "kind", None),
    ("ondelete", "on_delete", None),
];

const ENTITY_KEYS: &[Alias] = &[
    ("table", "name", None),
    ("entity", "name", None),
    ("table_name", "name", None),
    ("columns", "fields", None),
    ("attributes", "fields", None),
    ("properties", "fields", None),
    ("field", "fields", None),
    ("schema", "tenant", None),
    ("slug", "tenant", None),
    ("namespace", "tenant", None),
    ("permissions", "access", None),
    ("rules", "access", None),
    ("policies", "access", None),
    ("acl", "access", None),
    ("indices", "indexes", None),
    ("index", "indexes", None),
    ("title", "label", None),
    ("display_name", "label", None),
    ("comment", "description", None),
];

const INDEX_KEYS: &[Alias] = &[
    ("columns", "fields", None),
    ("keys", "fields", None),
    ("on", "fields", None),
    ("is_unique", "unique", None),
];

const ACCESS_KEYS: &[Alias] = &[
    ("select", "read", None),
    ("get", "read", None),
    ("list", "read", None),
    ("view", "read", None),
    ("insert", "create", None),
    ("post", "create", None),
    ("add", "create", None),
    ("edit", "update", None),
    ("patch", "update", None),
    ("modify", "update", None),
    ("remove", "delete", None),
    ("destroy", "delete", None),
];

const RULES: &[Alias] = &[
    (
        "authenticated",
        "tenant",
        Some("any signed-in user of the tenant"),
    ),
    ("users", "tenant", Some("any signed-in user of the tenant")),
    ("user", "tenant", Some("any signed-in user of the tenant")),
    ("everyone", "public", None),
    ("anyone", "public", None),
    ("anon", "public", None),
    ("anonymous", "public", None),
    ("own", "owner", None),
    ("self", "owner", None),
    ("private", "owner", None),
    ("admins", "admin", None),
    ("nobody", "none", None),
    ("never", "none", None),
];

const RELATION_KINDS: &[Alias] = &[
    ("belongs_to", "many_to_one", None),
    ("has_many", "one_to_many", None),
    ("has_one", "one_to_one", None),
    ("has_and_belongs_to_many", "many_to_many", None),
];

const ON_DELETE: &[Alias] = &[
    ("nullify", "set_null", None),
    ("no_action", "restrict", None),
    ("delete", "cascade", None),
];

impl Place {
    fn aliases(self) -> &'static [Alias] {
        match self {
            Place::EntityKey => ENTITY_KEYS,
            Place::FieldKey => FIELD_KEYS,
            Place::IndexKey => INDEX_KEYS,
            Place::AccessKey => ACCESS_KEYS,
            Place::Type => TYPES,
            Place::Rule => RULES,
            Place::RelationKind => RELATION_KINDS,
            Place::OnDelete => ON_DELETE,
            Place::Other => &[],
        }
    }
}

/// The valid word nearest to what was written, with a note when needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion<'a> {
    /// One of the choices.
    pub word: &'a str,
    /// What else to write, or how the meaning differs.
    pub note: Option<String>,
}

/// The nearest of `choices` to `written` at `place`: an alias, the same word
/// written another way (`maxLength`, `Text`, `set null`), or a word at most
/// a third of its length away in edits (one edit for words under six
/// characters). `None` when nothing is that close.
pub fn nearest<'a>(written: &str, choices: &[&'a str], place: Place) -> Option<Suggestion<'a>> {
    let word = normalize(written);
    if word.is_empty() {
        return None;
    }
    // `text[]`, Postgres's array syntax: an array of that item type.
    if place == Place::Type {
        if let Some(item) = word.strip_suffix("[]") {
            let item = nearest(item, choices, place).map(|s| s.word)?;
            let array = choices.iter().find(|c| **c == "array")?;
            return Some(Suggestion {
                word: array,
                note: Some(format!("with \"items\": \"{item}\"")),
            });
        }
    }
    let pick = |target: &str| choices.iter().find(|c| **c == target).copied();
    if let Some(exact) = pick(&word) {
        return Some(Suggestion {
            word: exact,
            note: None,
        });
    }
    let base = word.split('(').next().unwrap_or(&word).trim_end_matches('_');
    for (from, to, note) in place.aliases() {
        if *from == base {
            if let Some(w) = pick(to) {
                return Some(Suggestion {
                    word: w,
                    note: note.map(str::to_string),
                });
            }
        }
    }
    if base != word {
        if let Some(exact) = pick(base) {
            return Some(Suggestion {
                word: exact,
                note: None,
            });
        }
    }
    let limit = (base.chars().count() / 3).max(1);
    choices
        .iter()
        .map(|c| (strsim::osa_distance(base, c), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| Suggestion { word: c, note: None })
}

/// `maxLength` → `max_length`, `Set-Null` → `set_null`, `  Text ` → `text`.
fn normalize(written: &str) -> String {
    let mut out = String::new();
    let mut previous_lower = false;
    for c in written.trim().chars().take(64) {
        if c.is_uppercase() && previous_lower {
            out.push('_');
        }
        previous_lower = c.is_lowercase() || c.is_ascii_digit();
        match c {
            '-' | ' ' | '.' => out.push('_'),
            _ => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// The HINT for a word that is not one of `choices` (`what` names them:
/// "types", "rules"): the suggestion, if there is one, then the choices.
pub fn value_hint(written: &str, choices: &[&str], place: Place, what: &str) -> String {
    let list = choices.join(", ");
    match nearest(written, choices, place) {
        Some(s) => format!("did you mean \"{}\"{}? The {what} are: {list}", s.word, note(&s)),
        None => format!("use one of the {what}: {list}"),
    }
}

/// The HINT for an unknown key (`whose` names the object: "a field"): the
/// key meant, if one is near, then the keys that object may have.
pub fn key_hint(written: &str, choices: &[&str], place: Place, whose: &str) -> String {
    let list = choices.join(", ");
    match nearest(written, choices, place) {
        Some(s) => format!(
            "did you mean \"{}\"{}? The keys of {whose} are: {list}",
            s.word,
            note(&s)
        ),
        None => format!("remove the key; the keys of {whose} are: {list}"),
    }
}

fn note(s: &Suggestion<'_>) -> String {
    s.note.as_ref().map(|n| format!(" ({n})")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scalar::SCALAR_TYPE_NAMES;

    fn types() -> Vec<&'static str> {
        SCALAR_TYPE_NAMES
            .iter()
            .copied()
            .chain(["array", "relation"])
            .collect()
    }

    #[test]
    fn types_people_write() {
        let cases: &[(&str, Option<&str>)] = &[
            ("string", Some("text")),
            ("String", Some("text")),
            ("varchar", Some("text")),
            ("varchar(10)", Some("text")),
            ("VARCHAR(255)", Some("text")),
            ("character varying", Some("text")),
            ("int", Some("integer")),
            ("intger", Some("integer")),
            ("integr", Some("integer")),
            ("Integer", Some("integer")),
            ("int8", Some("bigint")),
            ("datetime", Some("timestamp")),
            ("DateTime", Some("timestamp")),
            ("timestamptz", Some("timestamp")),
            ("timestmp", Some("timestamp")),
            ("bool", Some("boolean")),
            ("bolean", Some("boolean")),
            ("number", Some("float")),
            ("double", Some("float")),
            ("numeric", Some("decimal")),
            ("numeric(12,2)", Some("decimal")),
            ("money", Some("decimal")),
            ("jsonb", Some("json")),
            ("text[]", Some("array")),
            ("string[]", Some("array")),
            ("uid", Some("uuid")),
            ("e-mail", Some("email")),
            ("reference", Some("relation")),
            ("emum", Some("enum")),
            ("blob", None),
            ("geometry", None),
            ("", None),
            ("x", None),
        ];
        for (written, want) in cases {
            let got = nearest(written, &types(), Place::Type).map(|s| s.word);
            assert_eq!(got, *want, "{written:?}");
        }
    }

    #[test]
    fn notes_say_what_else_to_write() {
        let s = nearest("number", &types(), Place::Type).unwrap();
        assert!(s.note.unwrap().contains("decimal"));
        let s = nearest("text[]", &types(), Place::Type).unwrap();
        assert_eq!(s.note.as_deref(), Some("with \"items\": \"text\""));
        // An alias whose target is not a choice here is no suggestion: json
        // cannot be an array item.
        let items: Vec<&str> = crate::scalar::ARRAY_ITEM_TYPE_NAMES.to_vec();
        assert_eq!(nearest("jsonb", &items, Place::Type), None);
        assert_eq!(nearest("string", &items, Place::Type).unwrap().word, "text");
    }

    #[test]
    fn keys_people_write() {
        let field = [
            "name",
            "type",
            "items",
            "label",
            "description",
            "required",
            "unique",
            "index",
            "default",
            "min",
            "max",
            "min_length",
            "max_length",
            "pattern",
            "precision",
            "scale",
            "values",
            "kind",
            "target",
            "on_delete",
            "inverse",
        ];
        let entity = [
            "tenant",
            "name",
            "id",
            "label",
            "description",
            "fields",
            "access",
            "indexes",
        ];
        let cases: &[(Place, &[&str], &str, Option<&str>)] = &[
            (Place::FieldKey, &field, "options", Some("values")),
            (Place::FieldKey, &field, "enum", Some("values")),
            (Place::FieldKey, &field, "nullable", Some("required")),
            (Place::FieldKey, &field, "not_null", Some("required")),
            (Place::FieldKey, &field, "notNull", Some("required")),
            (Place::FieldKey, &field, "maxLength", Some("max_length")),
            (Place::FieldKey, &field, "maxlength", Some("max_length")),
            (Place::FieldKey, &field, "max-length", Some("max_length")),
            (Place::FieldKey, &field, "minLength", Some("min_length")),
            (Place::FieldKey, &field, "requird", Some("required")),
            (Place::FieldKey, &field, "lable", Some("label")),
            (Place::FieldKey, &field, "onDelete", Some("on_delete")),
            (Place::FieldKey, &field, "regex", Some("pattern")),
            (Place::FieldKey, &field, "colour", None),
            (Place::EntityKey, &entity, "columns", Some("fields")),
            (Place::EntityKey, &entity, "feilds", Some("fields")),
            (Place::EntityKey, &entity, "permissions", Some("access")),
            (Place::EntityKey, &entity, "colour", None),
            (Place::IndexKey, &["fields", "unique"], "columns", Some("fields")),
            (
                Place::AccessKey,
                &["read", "create", "update", "delete"],
                "insert",
                Some("create"),
            ),
            (
                Place::AccessKey,
                &["read", "create", "update", "delete"],
                "select",
                Some("read"),
            ),
        ];
        for (place, choices, written, want) in cases {
            let got = nearest(written, choices, *place).map(|s| s.word);
            assert_eq!(got, *want, "{place:?} {written:?}");
        }
    }

    #[test]
    fn option_values_people_write() {
        let rules = ["public", "tenant", "owner", "admin", "none"];
        let kinds = ["many_to_one", "one_to_one", "one_to_many", "many_to_many"];
        let on_delete = ["restrict", "cascade", "set_null"];
        let cases: &[(Place, &[&str], &str, Option<&str>)] = &[
            (Place::Rule, &rules, "authenticated", Some("tenant")),
            (Place::Rule, &rules, "everyone", Some("public")),
            (Place::Rule, &rules, "owners", Some("owner")),
            (Place::RelationKind, &kinds, "manyToOne", Some("many_to_one")),
            (Place::RelationKind, &kinds, "many-to-many", Some("many_to_many")),
            (Place::RelationKind, &kinds, "belongs_to", Some("many_to_one")),
            (Place::OnDelete, &on_delete, "set null", Some("set_null")),
            (Place::OnDelete, &on_delete, "nullify", Some("set_null")),
            (Place::OnDelete, &on_delete, "cascde", Some("cascade")),
            (Place::Other, &on_delete, "nullify", None),
        ];
        for (place, choices, written, want) in cases {
            let got = nearest(written, choices, *place).map(|s| s.word);
            assert_eq!(got, *want, "{place:?} {written:?}");
        }
    }

    #[test]
    fn hints_name_the_word_and_list_the_choices() {
        let h = value_hint("string", &types(), Place::Type, "types");
        assert!(
            h.starts_with("did you mean \"text\"? The types are: text, integer,"),
            "{h}"
        );
        assert!(h.ends_with("array, relation"), "{h}");
        let h = value_hint("number", &types(), Place::Type, "types");
        assert!(
            h.starts_with("did you mean \"float\" (or \"decimal\" for exact values"),
            "{h}"
        );
        let h = value_hint("blob", &types(), Place::Type, "types");
        assert!(h.starts_with("use one of the types: text, integer"), "{h}");
        let h = key_hint("options", &["name", "values"], Place::FieldKey, "a field");
        assert_eq!(
            h,
            "did you mean \"values\" (the allowed values of an enum)? The keys of a field are: name, values"
        );
        let h = key_hint("colour", &["name", "values"], Place::FieldKey, "a field");
        assert_eq!(h, "remove the key; the keys of a field are: name, values");
    }

    #[test]
    fn long_or_strange_input_is_harmless() {
        let long = "x".repeat(100_000);
        assert_eq!(nearest(&long, &types(), Place::Type), None);
        for odd in ["\u{202e}text", "ǅ", "((", "[]", "text[][]", "_", "-"] {
            let _ = nearest(odd, &types(), Place::Type);
        }
    }
}
