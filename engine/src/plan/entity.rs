//! The steps that create and drop an entity: table, constraints, indexes,
//! triggers, view, comments; and the labels they show.

use super::{
    policies::access_steps, Check, Column, ColumnDefault, CommentTarget, Constraint, ConstraintKind, RelKind,
    Step, Table,
};
use crate::names::{derived, fixed, Ident, TenantNames};
use crate::scalar::Scalar;
use crate::types::{Entity, Field, FieldType};
use std::collections::HashSet;

/// Gives each generated object its derived name, making it unique among the
/// names this plan uses (two derivations can meet: an index on field `a_b` and
/// a compound index on `a`, `b`).
#[derive(Default)]
struct Names(HashSet<Ident>);

impl Names {
    fn take(&mut self, parts: &[&str]) -> Ident {
        let mut name = derived(parts);
        let mut n = 2;
        while self.0.contains(&name) {
            let suffix = n.to_string();
            let mut p: Vec<&str> = parts.to_vec();
            p.push(&suffix);
            name = derived(&p);
            n += 1;
        }
        self.0.insert(name.clone());
        name
    }
}

/// The steps that create an entity: its table with every constraint, indexes,
/// the system-column trigger, the API view, ownership and comments.
pub fn create_entity(e: &Entity, labels: &Labels) -> Vec<Step> {
    let t = TenantNames::new(&e.tenant);
    let table = &e.name;
    let mut names = Names::default();
    let columns = table_columns(e);
    let mut constraints = vec![Constraint {
        name: names.take(&[table.as_str(), "pkey"]),
        kind: ConstraintKind::PrimaryKey(vec![fixed("id")]),
    }];
    let mut indexes = Vec::new();
    for f in &e.fields {
        for (suffix, check) in checks(f) {
            constraints.push(Constraint {
                name: names.take(&[table.as_str(), f.name.as_str(), suffix]),
                kind: ConstraintKind::Check(f.name.clone(), check, f.id),
            });
        }
        if f.unique {
            constraints.push(Constraint {
                name: names.take(&[table.as_str(), f.name.as_str(), "key"]),
                kind: ConstraintKind::Unique(vec![f.name.clone()]),
            });
        } else if f.index {
            indexes.push((vec![f.name.clone()], f.ty.wants_gin()));
        }
    }
    for idx in &e.indexes {
        if idx.unique {
            let mut parts = vec![table.as_str()];
            parts.extend(idx.columns.iter().map(Ident::as_str));
            parts.push("key");
            constraints.push(Constraint {
                name: names.take(&parts),
                kind: ConstraintKind::Unique(idx.columns.clone()),
            });
        } else {
            indexes.push((idx.columns.clone(), false));
        }
    }

    let mut steps = vec![Step::CreateTable(Table {
        schema: t.storage_schema.clone(),
        name: table.clone(),
        columns,
        constraints,
    })];
    for (cols, gin) in indexes {
        let mut parts = vec![table.as_str()];
        parts.extend(cols.iter().map(Ident::as_str));
        parts.push("idx");
        steps.push(Step::CreateIndex {
            schema: t.storage_schema.clone(),
            table: table.clone(),
            name: names.take(&parts),
            columns: cols,
            gin,
        });
    }
    steps.push(Step::CreateSystemTrigger {
        schema: t.storage_schema.clone(),
        table: table.clone(),
        junction: false,
    });
    if e.access.needs_owner() {
        steps.push(Step::CreateOwnerTrigger {
            schema: t.storage_schema.clone(),
            table: table.clone(),
        });
    }
    steps.push(Step::SetOwner {
        kind: RelKind::Table,
        schema: t.storage_schema.clone(),
        name: table.clone(),
    });
    steps.extend(comments(e, labels, RelKind::Table));
    steps.extend(view_steps(e, labels));
    steps.extend(access_steps(e));
    steps.extend(super::history::entity_steps(e));
    steps.extend(super::workflow::steps(e));
    steps
}

/// The API view of an entity: created over every column of its table, owned by
/// the owner role, commented. Also what regenerates the view after a column
/// goes.
pub fn view_steps(e: &Entity, labels: &Labels) -> Vec<Step> {
    let t = TenantNames::new(&e.tenant);
    let columns = table_columns(e);
    let mut steps = vec![Step::CreateView {
        schema: t.api_schema.clone(),
        name: e.name.clone(),
        table_schema: t.storage_schema.clone(),
        table: e.name.clone(),
        columns: columns.iter().map(|c| c.name.clone()).collect(),
    }];
    steps.extend(view_defaults(&t.api_schema, &e.name, &columns));
    steps.push(Step::SetOwner {
        kind: RelKind::View,
        schema: t.api_schema.clone(),
        name: e.name.clone(),
    });
    steps.extend(comments(e, labels, RelKind::View));
    steps
}

/// The columns of an entity's table, in order: `id`, the fields, the two
/// timestamps, and the owner column when a rule needs it. The view shows the
/// same columns with the same defaults.
pub fn table_columns(e: &Entity) -> Vec<Column> {
    let mut columns = vec![Column {
        name: fixed("id"),
        sql_type: "uuid".into(),
        not_null: true,
        default: Some(ColumnDefault::NewId),
    }];
    columns.extend(e.fields.iter().map(column));
    for sys in ["created_at", "updated_at"] {
        columns.push(Column {
            name: fixed(sys),
            sql_type: "timestamptz".into(),
            not_null: true,
            default: Some(ColumnDefault::Now),
        });
    }
    if e.access.needs_owner() {
        columns.push(Column {
            name: fixed(crate::names::OWNER_COLUMN),
            sql_type: "text".into(),
            not_null: false,
            default: None,
        });
    }
    columns
}

/// A view's copies of its table's column defaults. A view column has no
/// default of its own, and an INSERT through the view that says `DEFAULT`
/// for it (PostgREST does for `Prefer: missing=default`, and postgrest-js
/// for a bulk insert of rows with different keys) stores NULL instead of
/// the table's default.
pub fn view_defaults(schema: &Ident, view: &Ident, columns: &[Column]) -> Vec<Step> {
    columns
        .iter()
        .filter_map(|c| {
            c.default.as_ref().map(|d| Step::SetViewDefault {
                schema: schema.clone(),
                view: view.clone(),
                column: c.name.clone(),
                default: Some(d.clone()),
            })
        })
        .collect()
}

/// Comments on the table or the view and their columns: PostgREST shows the
/// view's in its OpenAPI output; the table's are for whoever reads `\d+`. A
/// field without a description is described by its label (an empty
/// description would remove the comment, so it falls back to the label too).
pub fn comments(e: &Entity, labels: &Labels, kind: RelKind) -> Vec<Step> {
    let t = TenantNames::new(&e.tenant);
    let schema = match kind {
        RelKind::Table => &t.storage_schema,
        RelKind::View => &t.api_schema,
    };
    let described = |d: &Option<String>| d.clone().filter(|d| !d.is_empty());
    let mut steps = vec![Step::Comment {
        target: CommentTarget::Relation(kind, schema.clone(), e.name.clone()),
        text: described(&e.description).unwrap_or_else(|| labels.entity.clone()),
    }];
    for f in &e.fields {
        let label = labels
            .columns
            .get(f.name.as_str())
            .cloned()
            .unwrap_or_else(|| f.name.to_string());
        steps.push(Step::Comment {
            target: CommentTarget::Column(kind, schema.clone(), e.name.clone(), f.name.clone()),
            text: described(&f.description).unwrap_or(label),
        });
    }
    steps
}

/// The display labels of an entity and its fields, from its normalized definition.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Labels {
    /// The entity's label.
    pub entity: String,
    /// Label by column name (a relation's label under its `<name>_id` column).
    pub columns: std::collections::HashMap<String, String>,
    /// Label by relation field name.
    pub relations: std::collections::HashMap<String, String>,
}

impl Labels {
    /// Reads the labels of a normalized definition.
    pub fn of(normalized: &serde_json::Value) -> Labels {
        let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
        let mut labels = Labels {
            entity: text(&normalized["label"]),
            ..Labels::default()
        };
        for f in normalized["fields"].as_array().into_iter().flatten() {
            let label = text(&f["label"]);
            if f["type"] == "relation" {
                labels.relations.insert(text(&f["name"]), label.clone());
                if f["column"].is_string() {
                    labels.columns.insert(text(&f["column"]), label);
                }
            } else {
                labels.columns.insert(text(&f["name"]), label);
            }
        }
        labels
    }
}

/// The steps that drop an entity: view first, it depends on the table.
pub fn drop_entity(tenant: &TenantNames, name: &Ident) -> Vec<Step> {
    vec![
        Step::DropRelation {
            kind: RelKind::View,
            schema: tenant.api_schema.clone(),
            name: name.clone(),
        },
        Step::DropRelation {
            kind: RelKind::Table,
            schema: tenant.storage_schema.clone(),
            name: name.clone(),
        },
    ]
}

/// The column of a field.
pub fn column(f: &Field) -> Column {
    Column {
        name: f.name.clone(),
        sql_type: f.ty.sql_type(),
        not_null: f.required,
        default: f
            .default
            .clone()
            .map(|d| ColumnDefault::User(d, f.ty.scalar().clone(), matches!(f.ty, FieldType::Array(_)))),
    }
}

/// The CHECK constraints a field needs, each with its name suffix.
fn checks(f: &Field) -> Vec<(&'static str, Check)> {
    let mut out = Vec::new();
    let scalar = f.ty.scalar();
    match &f.ty {
        FieldType::Scalar(s) => {
            if let Some(n) = f.min_length {
                out.push(("min_length", Check::MinLength(n)));
            }
            if let Some(n) = f.max_length {
                out.push(("max_length", Check::MaxLength(n)));
            }
            if let Some(p) = &f.pattern {
                out.push(("pattern", Check::Pattern(p.clone())));
            }
            if let Some(p) = s.format_pattern() {
                out.push(("format", Check::Pattern(p.to_string())));
            }
            if let Scalar::Enum(values) = s {
                out.push(("values", Check::OneOf(values.clone())));
            }
            if let Some(l) = &f.min {
                out.push(("min", Check::Min(l.clone(), scalar.clone())));
            }
            if let Some(l) = &f.max {
                out.push(("max", Check::Max(l.clone(), scalar.clone())));
            }
        }
        FieldType::Array(s) => {
            out.push(("items", Check::ArrayShape));
            if let Scalar::Enum(values) = s {
                out.push(("values", Check::ArrayOneOf(values.clone())));
            }
            if let Some(p) = s.format_pattern() {
                out.push(("format", Check::ArrayPattern(p.to_string())));
            }
        }
    }
    out
}
