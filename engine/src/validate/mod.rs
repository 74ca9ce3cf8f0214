//! The semantic step of validation: from a schema-valid document to an
//! [`Entity`] the planner can use, or every violation found, each with its
//! JSON pointer. Pure: what needs the server (reserved words, regex syntax) comes
//! in through [`Environment`].

use crate::definition::{EntityDef, FieldDef, IndexDef};
use crate::error::{ErrorKind, Violation};
use crate::literal::{self, DefaultValue, Literal};
use crate::names::{check_name, Ident, Keywords, NameKind, MAX_IDENT_BYTES, SYSTEM_FIELDS};
use crate::schema;
use crate::types::{
    Entity, Field, FieldType, Index, Junction, OnDelete, Relation, RelationKind, Scalar, EMAIL_MAX_LENGTH,
};
use serde_json::{json, Map, Value};
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// Largest definition accepted, in bytes of JSON text. A 500-field definition
/// with every option set is about 150 kB.
pub const MAX_DEFINITION_BYTES: usize = 1024 * 1024;

/// What validation needs from the database.
pub trait Environment {
    /// Postgres's reserved words.
    fn keywords(&self) -> &Keywords;
    /// `Err(reason)` if `pattern` is not a valid Postgres regular expression.
    fn check_regex(&self, pattern: &str) -> Result<(), String>;
    /// Whether `text ~ pattern` under Postgres's rules.
    fn regex_matches(&self, pattern: &str, text: &str) -> Result<bool, String>;
}

/// A definition that passed: the entity and its normalized JSON form.
#[derive(Debug, Clone)]
pub struct Validated {
    /// What the planner uses.
    pub entity: Entity,
    /// The definition with ids, labels and every flag made explicit: what Cot
    /// stores and returns.
    pub normalized: Value,
    /// Whether the caller chose any id (entity or field) rather than letting Cot
    /// generate them; only chosen ids can already be in use.
    pub ids_given: bool,
}

/// Validates a whole definition. Every violation is collected, not just the first.
pub fn validate(def: &Value, env: &dyn Environment) -> Result<Validated, Vec<Violation>> {
    let size = serde_json::to_string(def).map(|s| s.len()).unwrap_or(usize::MAX);
    if size > MAX_DEFINITION_BYTES {
        return Err(vec![Violation::new(
            ErrorKind::ProgramLimit,
            "",
            format!("definition is {size} bytes, at most {MAX_DEFINITION_BYTES} are accepted"),
            "split the model into several entities",
        )]);
    }
    let mut out = Vec::new();
    check_raw_names(def, env.keywords(), &mut out);
    let schema_violations = schema::check(def);
    let structural = !schema_violations.is_empty();
    out.extend(schema_violations);
    if structural {
        return Err(sorted(out));
    }
    let parsed: EntityDef = match serde_json::from_value(def.clone()) {
        Ok(d) => d,
        Err(e) => {
            out.push(Violation::new(
                ErrorKind::InvalidParameter,
                "",
                e.to_string(),
                "see cot.definition_schema()",
            ));
            return Err(sorted(out));
        }
    };
    if !out.is_empty() {
        // Names are wrong; the rest could only produce follow-on noise.
        return Err(sorted(out));
    }
    let mut cx = Checker { env, out: Vec::new() };
    let entity = cx.entity(&parsed);
    if cx.out.is_empty() {
        let entity = entity.expect("no violations means an entity");
        let normalized = normalize(&parsed, &entity);
        let ids_given = parsed.id.is_some() || parsed.fields.iter().any(|f| f.id.is_some());
        Ok(Validated {
            entity,
            normalized,
            ids_given,
        })
    } else {
        Err(sorted(cx.out))
    }
}

fn sorted(mut v: Vec<Violation>) -> Vec<Violation> {
    // Document order: "/fields/10" after "/fields/9".
    v.sort_by_key(|a| pointer_key(&a.pointer));
    v.dedup();
    v
}

fn pointer_key(p: &str) -> Vec<(u64, String)> {
    p.split('/')
        .map(|s| {
            s.parse::<u64>()
                .map_or((u64::MAX, s.to_string()), |n| (n, String::new()))
        })
        .collect()
}

/// Names are checked on the raw document so a bad name is reported with its own
/// SQLSTATE even when the rest of the document does not fit the schema.
fn check_raw_names(def: &Value, keywords: &Keywords, out: &mut Vec<Violation>) {
    let Some(obj) = def.as_object() else { return };
    if let Some(Value::String(t)) = obj.get("tenant") {
        if let Err(v) = check_name(NameKind::Tenant, t, "/tenant", keywords) {
            out.push(v);
        }
    }
    if let Some(Value::String(n)) = obj.get("name") {
        if let Err(v) = check_name(NameKind::Entity, n, "/name", keywords) {
            out.push(v);
        }
    }
    if let Some(Value::Array(fields)) = obj.get("fields") {
        for (i, f) in fields.iter().enumerate().take(schema::MAX_FIELDS) {
            if let Some(Value::String(n)) = f.get("name") {
                if let Err(v) = check_name(NameKind::Field, n, &format!("/fields/{i}/name"), keywords) {
                    out.push(v);
                }
            }
        }
    }
}

struct Checker<'a> {
    env: &'a dyn Environment,
    out: Vec<Violation>,
}

impl Checker<'_> {
    fn bad(&mut self, pointer: String, message: impl Into<String>, hint: impl Into<String>) {
        self.out.push(Violation::new(
            ErrorKind::InvalidParameter,
            pointer,
            message,
            hint,
        ));
    }

    fn name(&mut self, kind: NameKind, name: &str, pointer: &str) -> Option<Ident> {
        check_name(kind, name, pointer, self.env.keywords())
            .map_err(|v| self.out.push(v))
            .ok()
    }

    fn id(&mut self, id: &Option<String>, pointer: String) -> Uuid {
        match id {
            None => Uuid::now_v7(),
            Some(s) => Uuid::try_parse(s).unwrap_or_else(|_| {
                self.bad(pointer, "id is not a uuid", "omit the id to have one generated");
                Uuid::nil()
            }),
        }
    }

    fn entity(&mut self, d: &EntityDef) -> Option<Entity> {
        let tenant = self.name(NameKind::Tenant, &d.tenant, "/tenant");
        let name = self.name(NameKind::Entity, &d.name, "/name");
        let id = self.id(&d.id, "/id".into());
        let mut fields = Vec::new();
        let mut relations = Vec::new();
        let mut seen_names: HashMap<&str, usize> = HashMap::new();
        let mut seen_ids: HashMap<Uuid, usize> = HashMap::new();
        for (i, f) in d.fields.iter().enumerate() {
            if let Some(first) = seen_names.insert(&f.name, i) {
                self.out.push(Violation::new(
                    ErrorKind::DuplicateColumn,
                    format!("/fields/{i}/name"),
                    format!("field \"{}\" is defined twice (also at /fields/{first})", f.name),
                    "give each field its own name",
                ));
                seen_names.insert(&f.name, first);
            }
            let field_id = if f.field_type == "relation" {
                let Some((relation, column)) = self.relation(i, f, &d.name) else {
                    continue;
                };
                let rid = relation.id;
                relations.push((i, relation));
                fields.extend(column.map(|c| (i, c)));
                rid
            } else {
                let Some(field) = self.field(i, f) else {
                    continue;
                };
                let fid = field.id;
                fields.push((i, field));
                fid
            };
            if let Some(first) = seen_ids.insert(field_id, i) {
                self.out.push(Violation::new(
                    ErrorKind::DuplicateObject,
                    format!("/fields/{i}/id"),
                    format!("field id {field_id} is used twice (also at /fields/{first})"),
                    "each field needs its own id; omit ids to have them generated",
                ));
            }
        }
        if let Some(&i) = seen_ids.get(&id) {
            self.out.push(Violation::new(
                ErrorKind::DuplicateObject,
                format!("/fields/{i}/id"),
                format!("field id {id} is the entity's own id"),
                "entities and fields share one space of ids; omit ids to have them generated",
            ));
        }
        // A relation's column `<name>_id` may meet another field's name.
        let mut columns: HashMap<&str, usize> = HashMap::new();
        for (i, f) in &fields {
            if let Some(first) = columns.insert(f.name.as_str(), *i) {
                if d.fields[*i].name == d.fields[first].name {
                    continue; // the same name twice: reported above
                }
                let (at, other) = if d.fields[*i].field_type == "relation" {
                    (*i, first)
                } else {
                    (first, *i)
                };
                self.out.push(Violation::new(
                    ErrorKind::DuplicateColumn,
                    format!("/fields/{at}/name"),
                    format!(
                        "the relation's column \"{}\" is also the name of /fields/{other}",
                        f.name
                    ),
                    "rename one of the two fields",
                ));
            }
        }
        let fields: Vec<Field> = fields.into_iter().map(|(_, f)| f).collect();
        let relations: Vec<Relation> = relations.into_iter().map(|(_, r)| r).collect();
        let indexes = self.indexes(&d.indexes, &fields);
        Some(Entity {
            id,
            tenant: tenant?,
            name: name?,
            description: d.description.clone(),
            fields,
            indexes,
            relations,
            access: d.access,
        })
    }

    /// A relation field: its kind, target and options, and for many-to-one and
    /// one-to-one the `<name>_id` column it adds. Whether the target exists is
    /// checked later, against the tenant ([`crate::relations`]).
    fn relation(&mut self, i: usize, f: &FieldDef, entity: &str) -> Option<(Relation, Option<Field>)> {
        let at = |key: &str| format!("/fields/{i}/{key}");
        let name = self.name(NameKind::Field, &f.name, &at("name"));
        let id = self.id(&f.id, at("id"));
        let kind = match f.kind.as_deref() {
            Some("many_to_one") => RelationKind::ManyToOne,
            Some("one_to_one") => RelationKind::OneToOne,
            Some("one_to_many") => RelationKind::OneToMany,
            Some("many_to_many") => RelationKind::ManyToMany,
            _ => {
                self.bad(
                    at("kind"),
                    "relation fields need a kind",
                    "one of many_to_one, one_to_one, one_to_many, many_to_many",
                );
                return None;
            }
        };
        let Some(target_text) = f.target.as_deref() else {
            self.bad(
                at("target"),
                "relation fields need a target: the entity they point to",
                "e.g. \"target\": \"customers\"",
            );
            return None;
        };
        let target = self.name(NameKind::Entity, target_text, &at("target"));
        let mut not_for = |present: bool, key: &str| {
            if present {
                self.bad(
                    at(key),
                    format!("option {key} does not apply to {} relations", kind.name()),
                    "remove it; the relationship reference lists the options of each kind",
                );
            }
        };
        for (key, present) in [
            ("items", f.items.is_some()),
            ("unique", f.unique),
            ("index", f.index),
            ("default", f.default.is_some()),
            ("min", f.min.is_some()),
            ("max", f.max.is_some()),
            ("min_length", f.min_length.is_some()),
            ("max_length", f.max_length.is_some()),
            ("pattern", f.pattern.is_some()),
            ("precision", f.precision.is_some()),
            ("scale", f.scale.is_some()),
            ("values", f.values.is_some()),
        ] {
            not_for(present, key);
        }
        not_for(f.on_delete.is_some() && !kind.has_column(), "on_delete");
        not_for(f.required && !kind.has_column(), "required");
        not_for(f.inverse.is_some() && kind != RelationKind::OneToMany, "inverse");
        let on_delete = match f.on_delete.as_deref() {
            None | Some("restrict") => OnDelete::Restrict,
            Some("cascade") => OnDelete::Cascade,
            Some(_) => OnDelete::SetNull,
        };
        if on_delete == OnDelete::SetNull && f.required {
            self.bad(
                at("on_delete"),
                "on_delete set_null cannot apply to a required relation",
                "make the relation optional, or use restrict or cascade",
            );
        }
        let inverse = match (kind, f.inverse.as_deref()) {
            (RelationKind::OneToMany, None) => {
                self.bad(
                    at("inverse"),
                    "one_to_many relations need inverse: the target's many_to_one field that points back",
                    "e.g. \"inverse\": \"customer\" for customers.orders over orders.customer",
                );
                return None;
            }
            (RelationKind::OneToMany, Some(inv)) => Some(self.name(NameKind::Field, inv, &at("inverse"))?),
            _ => None,
        };
        let (name, target) = (name?, target?);
        let too_long = |this: &mut Self, what: String| {
            this.out.push(Violation::new(
                ErrorKind::NameTooLong,
                at("name"),
                format!("{what} would be longer than {MAX_IDENT_BYTES} bytes"),
                "choose a shorter field (or entity) name",
            ));
        };
        let column = if kind.has_column() {
            let col = format!("{name}_id");
            if col.len() > MAX_IDENT_BYTES {
                too_long(self, format!("the column {col}"));
                return None;
            }
            Some(crate::names::composed(col))
        } else {
            None
        };
        let junction = if kind == RelationKind::ManyToMany {
            let table = format!("{entity}_{name}");
            let source_column = format!("{entity}_id");
            let target_column = if target.as_str() == entity {
                format!("{name}_id")
            } else {
                format!("{target}_id")
            };
            for n in [&table, &source_column, &target_column] {
                if n.len() > MAX_IDENT_BYTES {
                    too_long(self, format!("the junction's name {n}"));
                    return None;
                }
            }
            if source_column == target_column {
                self.out.push(Violation::new(
                    ErrorKind::DuplicateColumn,
                    at("name"),
                    format!("the junction would have two columns named {source_column}"),
                    "name the field differently from the entity",
                ));
                return None;
            }
            Some(Junction {
                table: crate::names::composed(table),
                source_column: crate::names::composed(source_column),
                target_column: crate::names::composed(target_column),
            })
        } else {
            None
        };
        // `column` and `junction` are read only: Cot returns them; sent back they
        // must say what Cot would make, never choose another name.
        let made = [
            column.as_ref().map(|c| c.to_string()),
            junction.as_ref().map(|j| j.table.to_string()),
        ];
        for ((key, given), expected) in [("column", &f.column), ("junction", &f.junction)]
            .into_iter()
            .zip(made)
        {
            if let Some(given) = given {
                if expected.as_deref() != Some(given.as_str()) {
                    self.bad(
                        at(key),
                        match &expected {
                            Some(e) => format!("{key} is read only: for this relation it is \"{e}\""),
                            None => format!("option {key} does not apply to {} relations", kind.name()),
                        },
                        "omit it; Cot names the column and the junction from the field and entity names",
                    );
                }
            }
        }
        let column_field = column.clone().map(|c| Field {
            id,
            name: c,
            ty: FieldType::Scalar(Scalar::Uuid),
            required: f.required,
            unique: kind == RelationKind::OneToOne,
            index: kind == RelationKind::ManyToOne,
            default: None,
            min: None,
            max: None,
            min_length: None,
            max_length: None,
            pattern: None,
            description: f.description.clone(),
        });
        Some((
            Relation {
                id,
                at: i,
                name,
                kind,
                target,
                on_delete,
                required: f.required,
                column,
                inverse,
                junction,
                description: f.description.clone(),
            },
            column_field,
        ))
    }

    fn field(&mut self, i: usize, f: &FieldDef) -> Option<Field> {
        let at = |key: &str| format!("/fields/{i}/{key}");
        let name = self.name(NameKind::Field, &f.name, &at("name"));
        let id = self.id(&f.id, at("id"));
        let ty = self.field_type(i, f)?;
        let scalar = ty.scalar().clone();
        let is_array = matches!(ty, FieldType::Array(_));
        let type_name = if is_array {
            format!("array of {}", scalar.name())
        } else {
            scalar.name().to_string()
        };

        // Options that do not fit the type.
        let mut not_for = |present: bool, key: &str, fits: bool| {
            if present && !fits {
                self.bad(
                    at(key),
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
            !is_array && scalar == Scalar::Text,
        );
        not_for(f.min.is_some(), "min", !is_array && scalar.is_ordered());
        not_for(f.max.is_some(), "max", !is_array && scalar.is_ordered());

        // Lengths.
        let mut max_length = f.max_length;
        if scalar == Scalar::Email && !is_array {
            max_length = Some(max_length.map_or(EMAIL_MAX_LENGTH, |m| m.min(EMAIL_MAX_LENGTH)));
        }
        if let (Some(lo), Some(hi)) = (f.min_length, max_length) {
            if lo > hi {
                self.bad(
                    at("min_length"),
                    format!("min_length {lo} is greater than max_length {hi}"),
                    "make min_length at most max_length",
                );
            }
        }

        // Pattern.
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

        // Default.
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
        })
    }

    fn field_type(&mut self, i: usize, f: &FieldDef) -> Option<FieldType> {
        let at = |key: &str| format!("/fields/{i}/{key}");
        let is_array = f.field_type == "array";
        let scalar_name = if is_array {
            match &f.items {
                Some(t) => t.as_str(),
                None => {
                    self.bad(
                        at("items"),
                        "array fields need items: the type of their items",
                        "add e.g. \"items\": \"text\"",
                    );
                    return None;
                }
            }
        } else {
            if f.items.is_some() {
                self.bad(
                    at("items"),
                    format!("option items does not apply to {} fields", f.field_type),
                    "items is for array fields",
                );
            }
            f.field_type.as_str()
        };
        let takes_values = scalar_name == "enum";
        let takes_precision = scalar_name == "decimal";
        if f.values.is_some() && !takes_values {
            self.bad(
                at("values"),
                format!("option values does not apply to {} fields", f.field_type),
                "values is for enum fields (and arrays of enum)",
            );
        }
        if !takes_precision {
            for (key, present) in [("precision", f.precision.is_some()), ("scale", f.scale.is_some())] {
                if present {
                    self.bad(
                        at(key),
                        format!("option {key} does not apply to {} fields", f.field_type),
                        "precision and scale are for decimal fields",
                    );
                }
            }
        }
        let scalar = match scalar_name {
            "text" => Scalar::Text,
            "integer" => Scalar::Integer,
            "bigint" => Scalar::BigInt,
            "decimal" => {
                if let (Some(p), Some(s)) = (f.precision, f.scale) {
                    if s > p {
                        self.bad(
                            at("scale"),
                            format!("scale {s} is greater than precision {p}"),
                            "scale counts digits after the point, so it cannot exceed precision",
                        );
                    }
                }
                if f.scale.is_some() && f.precision.is_none() {
                    self.bad(
                        at("scale"),
                        "scale needs a precision",
                        "add precision (total digits), e.g. \"precision\": 12",
                    );
                }
                Scalar::Decimal {
                    precision: f.precision,
                    scale: f.scale,
                }
            }
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
                        at("values"),
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
                    at("type"),
                    format!("unknown type {other}"),
                    "see cot.definition_schema()",
                );
                return None;
            }
        };
        Some(if is_array {
            FieldType::Array(scalar)
        } else {
            FieldType::Scalar(scalar)
        })
    }

    fn literal(&mut self, v: Option<&Value>, ty: &Scalar, pointer: String) -> Option<Literal> {
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

    fn default(
        &mut self,
        v: &Value,
        ty: &FieldType,
        f: &FieldDef,
        (min, max, max_length): (&Option<Literal>, &Option<Literal>, Option<u64>),
        pointer: String,
    ) -> Option<DefaultValue> {
        let keyword = v.as_str();
        match (ty, keyword) {
            (FieldType::Scalar(Scalar::Timestamp | Scalar::Time), Some("now")) => {
                return Some(DefaultValue::Now)
            }
            (FieldType::Scalar(Scalar::Date), Some("today")) => return Some(DefaultValue::Today),
            (FieldType::Scalar(Scalar::Uuid), Some("uuid")) => return Some(DefaultValue::NewUuid),
            _ => {}
        }
        let scalar = ty.scalar();
        let lit = match ty {
            FieldType::Scalar(s) => self.literal(Some(v), s, pointer.clone())?,
            FieldType::Array(s) => {
                let Some(items) = v.as_array() else {
                    self.bad(
                        pointer,
                        "the default of an array field must be an array",
                        "e.g. \"default\": []",
                    );
                    return None;
                };
                let mut parsed = Vec::with_capacity(items.len());
                for (j, item) in items.iter().enumerate() {
                    parsed.push(self.literal(Some(item), s, format!("{pointer}/{j}"))?);
                }
                Literal::Array(parsed)
            }
        };
        // The default must pass the field's own constraints, or every insert that
        // relies on it would fail.
        let items: Vec<&Literal> = match &lit {
            Literal::Array(items) => items.iter().collect(),
            one => vec![one],
        };
        for item in items {
            if let Scalar::Enum(values) = scalar {
                if let Literal::Text(t) = item {
                    if !values.contains(t) {
                        self.bad(
                            pointer.clone(),
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
                            pointer.clone(),
                            format!("default is not a valid {}", scalar.name()),
                            format!("{} values must match {pat}", scalar.name()),
                        );
                    }
                }
            }
        }
        if let Some(len) = lit.char_len() {
            if f.min_length.is_some_and(|m| len < m) || max_length.is_some_and(|m| len > m) {
                self.bad(
                    pointer.clone(),
                    format!("default is {len} characters long, outside min_length/max_length"),
                    "shorten or lengthen the default",
                );
            }
        }
        if let (Some(p), Literal::Text(t)) = (&f.pattern, &lit) {
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
        Some(DefaultValue::Literal(lit))
    }

    fn indexes(&mut self, defs: &[IndexDef], fields: &[Field]) -> Vec<Index> {
        let known: HashSet<&str> = fields
            .iter()
            .map(|f| f.name.as_str())
            .chain(SYSTEM_FIELDS)
            .collect();
        let mut out: Vec<Index> = Vec::new();
        for (i, d) in defs.iter().enumerate() {
            let mut cols = Vec::new();
            let mut ok = true;
            for (j, name) in d.fields.iter().enumerate() {
                let at = format!("/indexes/{i}/fields/{j}");
                if !known.contains(name.as_str()) {
                    let mut names: Vec<&str> = known.iter().copied().collect();
                    names.sort();
                    self.out.push(Violation::new(
                        ErrorKind::UndefinedColumn,
                        at,
                        format!("index names unknown field {}", crate::names::shown(name)),
                        format!("known fields: {}", names.join(", ")),
                    ));
                    ok = false;
                } else if d.fields[..j].contains(name) {
                    self.bad(
                        at,
                        format!("field \"{name}\" appears twice in one index"),
                        "list each field once",
                    );
                    ok = false;
                } else {
                    cols.push(
                        fields
                            .iter()
                            .find(|f| f.name.as_str() == name)
                            .map_or_else(|| crate::names::fixed(system_name(name)), |f| f.name.clone()),
                    );
                }
            }
            if !ok {
                continue;
            }
            if let [only] = cols.as_slice() {
                let field = fields.iter().find(|f| &f.name == only);
                if field.is_some_and(|f| if d.unique { f.unique } else { f.index || f.unique }) {
                    self.bad(
                        format!("/indexes/{i}"),
                        format!(
                            "field \"{only}\" already has this index through its own unique or index option"
                        ),
                        "remove the compound entry or the field's option",
                    );
                    continue;
                }
            }
            let index = Index {
                columns: cols,
                unique: d.unique,
            };
            if out.contains(&index) {
                self.bad(
                    format!("/indexes/{i}"),
                    "the same index is defined twice",
                    "remove the duplicate",
                );
                continue;
            }
            out.push(index);
        }
        out
    }
}

fn system_name(name: &str) -> &'static str {
    SYSTEM_FIELDS
        .iter()
        .find(|s| **s == name)
        .copied()
        .expect("a system field")
}

/// `order_items` → `Order items`.
pub fn label_from_name(name: &str) -> String {
    let spaced = name.replace('_', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(c) => c.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

fn normalize(d: &EntityDef, e: &Entity) -> Value {
    let mut root = Map::new();
    root.insert("id".into(), json!(e.id));
    root.insert("tenant".into(), json!(e.tenant.as_str()));
    root.insert("name".into(), json!(e.name.as_str()));
    root.insert(
        "label".into(),
        json!(d.label.clone().unwrap_or_else(|| label_from_name(&d.name))),
    );
    if let Some(desc) = &d.description {
        root.insert("description".into(), json!(desc));
    }
    // Definition order; a relation's column is listed under the relation.
    let mut plain = e
        .fields
        .iter()
        .filter(|f| !e.relations.iter().any(|r| r.id == f.id));
    let mut relations = e.relations.iter();
    let fields: Vec<Value> = d
        .fields
        .iter()
        .map(|fd| {
            let label = json!(fd.label.clone().unwrap_or_else(|| label_from_name(&fd.name)));
            if fd.field_type == "relation" {
                normalize_relation(relations.next().expect("one relation per relation field"), label)
            } else {
                normalize_field(fd, plain.next().expect("one field per field definition"), label)
            }
        })
        .collect();
    root.insert("fields".into(), Value::Array(fields));
    let indexes: Vec<Value> = e
        .indexes
        .iter()
        .map(|i| json!({"fields": i.columns.iter().map(Ident::as_str).collect::<Vec<_>>(), "unique": i.unique}))
        .collect();
    root.insert("indexes".into(), Value::Array(indexes));
    root.insert("access".into(), e.access.to_json());
    Value::Object(root)
}

fn normalize_field(fd: &FieldDef, f: &Field, label: Value) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(f.id));
    m.insert("name".into(), json!(f.name.as_str()));
    m.insert("type".into(), json!(f.ty.name()));
    if let FieldType::Array(s) = &f.ty {
        m.insert("items".into(), json!(s.name()));
    }
    m.insert("label".into(), label);
    if let Some(desc) = &f.description {
        m.insert("description".into(), json!(desc));
    }
    m.insert("required".into(), json!(f.required));
    m.insert("unique".into(), json!(f.unique));
    m.insert("index".into(), json!(f.index));
    if let Some(d) = &f.default {
        m.insert("default".into(), d.to_json());
    }
    if let Some(v) = &f.min {
        m.insert("min".into(), v.to_json());
    }
    if let Some(v) = &f.max {
        m.insert("max".into(), v.to_json());
    }
    if let Some(v) = fd.min_length {
        m.insert("min_length".into(), json!(v));
    }
    if let Some(v) = f.max_length {
        m.insert("max_length".into(), json!(v));
    }
    if let Some(v) = &f.pattern {
        m.insert("pattern".into(), json!(v));
    }
    if let Scalar::Decimal { precision, scale } = f.ty.scalar() {
        if let Some(p) = precision {
            m.insert("precision".into(), json!(p));
        }
        if let Some(s) = scale {
            m.insert("scale".into(), json!(s));
        }
    }
    if let Scalar::Enum(values) = f.ty.scalar() {
        m.insert("values".into(), json!(values));
    }
    Value::Object(m)
}

fn normalize_relation(r: &Relation, label: Value) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(r.id));
    m.insert("name".into(), json!(r.name.as_str()));
    m.insert("type".into(), json!("relation"));
    m.insert("kind".into(), json!(r.kind.name()));
    m.insert("target".into(), json!(r.target.as_str()));
    m.insert("label".into(), label);
    if let Some(desc) = &r.description {
        m.insert("description".into(), json!(desc));
    }
    if let Some(c) = &r.column {
        m.insert("required".into(), json!(r.required));
        m.insert("on_delete".into(), json!(r.on_delete.name()));
        m.insert("column".into(), json!(c.as_str()));
    }
    if let Some(i) = &r.inverse {
        m.insert("inverse".into(), json!(i.as_str()));
    }
    if let Some(j) = &r.junction {
        m.insert("junction".into(), json!(j.table.as_str()));
    }
    Value::Object(m)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::names::tests::pg15_keywords;

    /// A stand-in for the server in unit tests: reserved words from PostgreSQL 15
    /// and a regex check that accepts balanced patterns. The server's real regex
    /// engine is exercised by the SQL tests.
    pub(crate) struct TestEnv(Keywords);

    impl TestEnv {
        pub(crate) fn new() -> Self {
            TestEnv(pg15_keywords())
        }
    }

    impl Environment for TestEnv {
        fn keywords(&self) -> &Keywords {
            &self.0
        }
        fn check_regex(&self, p: &str) -> Result<(), String> {
            let open = p.matches('(').count();
            let close = p.matches(')').count();
            if open == close {
                Ok(())
            } else {
                Err("parentheses () not balanced".into())
            }
        }
        fn regex_matches(&self, p: &str, t: &str) -> Result<bool, String> {
            // Enough for the patterns used in these tests.
            Ok(match p {
                crate::types::EMAIL_PATTERN => t.contains('@') && t.contains('.') && !t.contains(' '),
                crate::types::URL_PATTERN => t.starts_with("http://") || t.starts_with("https://"),
                "^[A-Z]+$" => !t.is_empty() && t.chars().all(|c| c.is_ascii_uppercase()),
                _ => true,
            })
        }
    }

    fn run(def: Value) -> Result<Validated, Vec<Violation>> {
        validate(&def, &TestEnv::new())
    }

    fn errors(def: Value) -> Vec<(String, ErrorKind)> {
        run(def)
            .expect_err("should fail")
            .into_iter()
            .map(|v| (v.pointer, v.kind))
            .collect()
    }

    fn one_field(field: Value) -> Value {
        json!({"tenant": "acme", "name": "things", "fields": [field]})
    }

    #[test]
    fn a_full_definition_normalizes() {
        let v = run(json!({
            "tenant": "acme", "name": "order_items", "description": "Lines of an order",
            "fields": [
                {"name": "title", "type": "text", "required": true, "max_length": 200},
                {"name": "status", "type": "enum", "values": ["draft", "paid"], "default": "draft"},
                {"name": "total", "type": "decimal", "precision": 12, "scale": 2, "min": 0},
                {"name": "email", "type": "email", "unique": true},
                {"name": "tags", "type": "array", "items": "text", "default": []},
                {"name": "placed_at", "type": "timestamp", "default": "now"},
            ],
            "indexes": [{"fields": ["status", "created_at"]}]
        }))
        .unwrap();
        let n = &v.normalized;
        assert_eq!(n["label"], "Order items");
        assert_eq!(n["fields"][0]["label"], "Title");
        assert_eq!(n["fields"][0]["required"], true);
        assert_eq!(n["fields"][1]["default"], "draft");
        assert_eq!(n["fields"][3]["max_length"], 254);
        assert_eq!(n["fields"][4]["items"], "text");
        assert_eq!(n["fields"][5]["default"], "now");
        assert_eq!(n["indexes"][0]["fields"], json!(["status", "created_at"]));
        assert!(n["id"].is_string() && n["fields"][0]["id"].is_string());
        assert_eq!(v.entity.fields[5].default, Some(DefaultValue::Now));
        // Fed back in, the normalized form is accepted and keeps its ids.
        let again = validate(&n.clone(), &TestEnv::new()).unwrap();
        assert_eq!(again.normalized, *n);
    }

    #[test]
    fn every_violation_is_reported_with_its_pointer() {
        let e = errors(json!({"tenant": "acme", "name": "things", "fields": [
            {"name": "a", "type": "text", "min_length": 5, "max_length": 2},
            {"name": "b", "type": "integer", "min": 10, "max": 1},
            {"name": "c", "type": "decimal", "precision": 4, "scale": 6},
            {"name": "d", "type": "enum", "values": ["x", "y"], "default": "z"},
            {"name": "a", "type": "boolean"},
            {"name": "e", "type": "integer", "max_length": 3},
        ], "indexes": [{"fields": ["nope"]}]}));
        let expect = [
            ("/fields/0/min_length", ErrorKind::InvalidParameter),
            ("/fields/1/min", ErrorKind::InvalidParameter),
            ("/fields/2/scale", ErrorKind::InvalidParameter),
            ("/fields/3/default", ErrorKind::InvalidParameter),
            ("/fields/4/name", ErrorKind::DuplicateColumn),
            ("/fields/5/max_length", ErrorKind::InvalidParameter),
            ("/indexes/0/fields/0", ErrorKind::UndefinedColumn),
        ];
        for (p, k) in expect {
            assert!(e.contains(&(p.to_string(), k)), "missing {p} {k:?} in {e:?}");
        }
    }

    /// Each option and the types it does not fit: a table of (field, pointer).
    #[test]
    fn options_that_do_not_fit_the_type() {
        let cases = [
            (
                json!({"name": "f", "type": "integer", "pattern": "x"}),
                "/fields/0/pattern",
            ),
            (json!({"name": "f", "type": "text", "min": 1}), "/fields/0/min"),
            (json!({"name": "f", "type": "boolean", "max": 1}), "/fields/0/max"),
            (
                json!({"name": "f", "type": "text", "values": ["a"]}),
                "/fields/0/values",
            ),
            (
                json!({"name": "f", "type": "text", "precision": 3}),
                "/fields/0/precision",
            ),
            (
                json!({"name": "f", "type": "text", "items": "text"}),
                "/fields/0/items",
            ),
            (json!({"name": "f", "type": "array"}), "/fields/0/items"),
            (json!({"name": "f", "type": "enum"}), "/fields/0/values"),
            (
                json!({"name": "f", "type": "array", "items": "text", "max_length": 3}),
                "/fields/0/max_length",
            ),
            (
                json!({"name": "f", "type": "email", "pattern": "x"}),
                "/fields/0/pattern",
            ),
            (
                json!({"name": "f", "type": "decimal", "scale": 2}),
                "/fields/0/scale",
            ),
            (
                json!({"name": "f", "type": "text", "pattern": "(a"}),
                "/fields/0/pattern",
            ),
        ];
        for (field, pointer) in cases {
            let e = errors(one_field(field.clone()));
            assert!(e.iter().any(|(p, _)| p == pointer), "{field}: {e:?}");
        }
    }

    #[test]
    fn defaults_are_typed_and_checked() {
        let ok = [
            json!({"name": "f", "type": "integer", "default": 3, "min": 0, "max": 5}),
            json!({"name": "f", "type": "date", "default": "today"}),
            json!({"name": "f", "type": "date", "default": "2024-01-31"}),
            json!({"name": "f", "type": "time", "default": "now"}),
            json!({"name": "f", "type": "uuid", "default": "uuid"}),
            json!({"name": "f", "type": "json", "default": {"a": [1, 2]}}),
            json!({"name": "f", "type": "text", "default": "now"}),
            json!({"name": "f", "type": "array", "items": "enum", "values": ["a", "b"], "default": ["a"]}),
            json!({"name": "f", "type": "boolean", "default": null}),
            json!({"name": "f", "type": "text", "pattern": "^[A-Z]+$", "default": "ABC"}),
        ];
        for f in ok {
            assert!(run(one_field(f.clone())).is_ok(), "{f}");
        }
        let bad = [
            json!({"name": "f", "type": "integer", "default": "3"}),
            json!({"name": "f", "type": "integer", "default": 9, "max": 5}),
            json!({"name": "f", "type": "date", "default": "now"}),
            json!({"name": "f", "type": "timestamp", "default": "today"}),
            json!({"name": "f", "type": "uuid", "default": "now()"}),
            json!({"name": "f", "type": "text", "default": "now()", "max_length": 3}),
            json!({"name": "f", "type": "email", "default": "not an email"}),
            json!({"name": "f", "type": "url", "default": "javascript:alert(1)"}),
            json!({"name": "f", "type": "array", "items": "integer", "default": [1, "x"]}),
            json!({"name": "f", "type": "array", "items": "enum", "values": ["a"], "default": ["b"]}),
            json!({"name": "f", "type": "text", "pattern": "^[A-Z]+$", "default": "abc"}),
            json!({"name": "f", "type": "decimal", "precision": 3, "scale": 1, "default": 100}),
        ];
        for f in bad {
            let e = errors(one_field(f.clone()));
            assert!(
                e.iter().any(|(p, _)| p.starts_with("/fields/0/default")),
                "{f}: {e:?}"
            );
        }
    }

    #[test]
    fn names_keep_their_codes_inside_definitions() {
        let e = errors(
            json!({"tenant": "Acme", "name": "select", "fields": [{"name": "x y", "type": "text"}, {"name": "id", "type": "text"}]}),
        );
        assert_eq!(
            e,
            vec![
                ("/fields/0/name".to_string(), ErrorKind::InvalidName),
                ("/fields/1/name".to_string(), ErrorKind::ReservedName),
                ("/name".to_string(), ErrorKind::ReservedName),
                ("/tenant".to_string(), ErrorKind::InvalidName),
            ]
        );
    }

    #[test]
    fn duplicate_and_unknown_index_columns() {
        let e = errors(
            json!({"tenant": "acme", "name": "t", "fields": [{"name": "a", "type": "text"}],
            "indexes": [{"fields": ["a", "a"]}, {"fields": ["a"]}, {"fields": ["a"]}]}),
        );
        assert!(e.contains(&("/indexes/0/fields/1".into(), ErrorKind::InvalidParameter)));
        assert!(e.contains(&("/indexes/2".into(), ErrorKind::InvalidParameter)));
    }

    #[test]
    fn an_entity_and_its_field_cannot_share_an_id() {
        let id = "0190b000-0000-7000-8000-0000000000bb";
        let e = errors(
            json!({"tenant": "acme", "name": "t", "id": id, "fields": [{"name": "a", "type": "text", "id": id}]}),
        );
        assert_eq!(e, vec![("/fields/0/id".to_string(), ErrorKind::DuplicateObject)]);
    }

    #[test]
    fn bugs_found_by_review_stay_fixed() {
        // The lowest integer as a bound renders as a literal Postgres can read.
        let v = run(one_field(
            json!({"name": "f", "type": "integer", "min": -2147483648i64, "default": -2147483648i64}),
        ))
        .unwrap();
        assert_eq!(v.entity.fields[0].min, Some(Literal::Int(-2147483648)));
        // An email's min_length is held to the 254 cap.
        let e = errors(one_field(
            json!({"name": "f", "type": "email", "min_length": 300}),
        ));
        assert!(
            e.contains(&("/fields/0/min_length".to_string(), ErrorKind::InvalidParameter)),
            "{e:?}"
        );
        // A one-field compound index that repeats the field's own option.
        let e = errors(
            json!({"tenant": "acme", "name": "t", "fields": [{"name": "a", "type": "text", "index": true}],
            "indexes": [{"fields": ["a"]}]}),
        );
        assert!(
            e.contains(&("/indexes/0".to_string(), ErrorKind::InvalidParameter)),
            "{e:?}"
        );
        // Messages quote a value once.
        let e = run(one_field(
            json!({"name": "f", "type": "enum", "values": ["a"], "default": "void"}),
        ))
        .unwrap_err();
        assert!(
            e[0].message.contains("default \"void\" is not"),
            "{}",
            e[0].message
        );
    }

    #[test]
    fn oversized_definition_is_refused_quickly() {
        let big = "x".repeat(10 * 1024 * 1024);
        let start = std::time::Instant::now();
        let e = errors(json!({"tenant": "acme", "name": "t", "description": big}));
        assert_eq!(e, vec![("".to_string(), ErrorKind::ProgramLimit)]);
        assert!(start.elapsed().as_secs() < 5);
    }

    #[test]
    fn many_fields_with_violations_stay_bounded() {
        let fields: Vec<Value> = (0..5000)
            .map(|i| json!({"name": format!("f{i}"), "type": "nope"}))
            .collect();
        let e = run(json!({"tenant": "acme", "name": "t", "fields": fields})).unwrap_err();
        assert!(e.len() <= 400, "{}", e.len());
    }
}

#[cfg(test)]
mod fuzz {
    use super::tests::TestEnv;
    use super::*;
    use proptest::prelude::*;

    /// Any JSON value, biased towards the keys and shapes a definition has, so
    /// the generator reaches deep into validation rather than stopping at the
    /// schema.
    fn json_value() -> impl Strategy<Value = Value> {
        let key = prop_oneof![
            Just("name".to_string()),
            Just("type".to_string()),
            Just("default".to_string()),
            Just("min".to_string()),
            Just("max".to_string()),
            Just("values".to_string()),
            Just("items".to_string()),
            Just("precision".to_string()),
            Just("scale".to_string()),
            Just("max_length".to_string()),
            Just("pattern".to_string()),
            "[a-z_]{1,8}",
        ];
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            prop_oneof![
                Just("text"),
                Just("integer"),
                Just("decimal"),
                Just("enum"),
                Just("array"),
                Just("date"),
                Just("timestamp"),
                Just("time"),
                Just("uuid"),
                Just("now"),
                Just("today"),
                Just("2024-02-30"),
                Just("12:00"),
                Just("2024-01-01T00:00:00Z"),
                Just("1e400"),
            ]
            .prop_map(Value::from),
            "\\PC{0,12}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 48, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec((key.clone(), inner), 0..8)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    fn field() -> impl Strategy<Value = Value> {
        (
            prop_oneof![
                Just("a".to_string()),
                Just("b".to_string()),
                Just("select".to_string()),
                Just("Bad".to_string()),
                "[a-z]{1,3}"
            ],
            prop::sample::select(
                crate::types::SCALAR_TYPE_NAMES
                    .iter()
                    .copied()
                    .chain(["array"])
                    .collect::<Vec<_>>(),
            ),
            prop::collection::vec(
                (
                    prop::sample::select(vec![
                        "default",
                        "min",
                        "max",
                        "values",
                        "items",
                        "precision",
                        "scale",
                        "min_length",
                        "max_length",
                        "pattern",
                        "required",
                        "unique",
                        "index",
                    ]),
                    json_value(),
                ),
                0..5,
            ),
        )
            .prop_map(|(name, ty, opts)| {
                let mut m = Map::new();
                m.insert("name".into(), json!(name));
                m.insert("type".into(), json!(ty));
                for (k, v) in opts {
                    m.insert(k.into(), v);
                }
                Value::Object(m)
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// No input makes validation panic; every rejection carries a known code
        /// and a pointer into the document.
        #[test]
        fn validation_never_panics(fields in prop::collection::vec(field(), 0..6), extra in json_value()) {
            let mut def = json!({"tenant": "acme", "name": "things", "fields": fields});
            if let Value::Object(m) = &extra {
                if let Some((k, v)) = m.iter().next() {
                    def[k.as_str()] = v.clone();
                }
            }
            match validate(&def, &TestEnv::new()) {
                Ok(v) => {
                    // An accepted definition renders without panicking too.
                    let steps = crate::plan::create_entity(&v.entity, &crate::plan::Labels::of(&v.normalized));
                    prop_assert!(!crate::ddl::render_all(&steps).is_empty());
                }
                Err(vs) => {
                    prop_assert!(!vs.is_empty());
                    for v in vs {
                        prop_assert!(v.pointer.is_empty() || v.pointer.starts_with('/'));
                        prop_assert!(!matches!(v.kind, ErrorKind::Failpoint | ErrorKind::InsufficientPrivilege));
                    }
                }
            }
        }

        #[test]
        fn arbitrary_documents_never_panic(doc in json_value()) {
            let _ = validate(&doc, &TestEnv::new());
        }
    }
}
