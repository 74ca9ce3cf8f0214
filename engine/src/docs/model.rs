//! The API as a client sees it: the views of a tenant's API schema (one per
//! entity, one per many-to-many junction), their columns in view order, their
//! foreign keys and who may use them. The three generators read this, so they
//! agree on every column, name and rule.

use crate::access::Access;
use crate::names::derived;
use crate::names::OWNER_COLUMN;
use crate::plan::Labels;
use crate::scalar::Scalar;
use crate::types::{Entity, Field, FieldType, Relation, RelationKind};

/// What a view shows.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// An entity's own view.
    Entity(&'a Entity),
    /// The view of a many-to-many relation's junction table.
    Junction(&'a Entity, &'a Relation),
}

/// Where a column comes from, for the facts a generator states about it.
#[derive(Debug, Clone, Copy)]
pub enum Role<'a> {
    /// The primary key `id`.
    Id,
    /// A user field.
    Field(&'a Field),
    /// The `<name>_id` column of a many-to-one or one-to-one relation.
    RelationColumn(&'a Field, &'a Relation),
    /// `created_at`, kept by the trigger.
    CreatedAt,
    /// `updated_at`, kept by the trigger.
    UpdatedAt,
    /// `owner_id`, the `sub` claim of whoever inserted the row.
    Owner,
    /// A junction's column referencing an entity (the source or the target).
    JunctionRef,
}

/// One column of a view.
#[derive(Debug, Clone)]
pub struct Column<'a> {
    /// Column name.
    pub name: String,
    /// Its type (`id` and junction columns are uuid, system times timestamp).
    pub ty: FieldType,
    /// Where it comes from.
    pub role: Role<'a>,
    /// May hold NULL.
    pub nullable: bool,
    /// Set by the database whatever a client sends (triggers).
    pub read_only: bool,
    /// The database fills it in when an insert omits it.
    pub has_default: bool,
    /// The label.
    pub title: String,
    /// The user's description, when there is one.
    pub description: Option<String>,
    /// Facts about the column, as sentences.
    pub notes: Vec<String>,
}

impl Column<'_> {
    /// The custom type of the field behind the column, if it has one.
    pub fn custom(&self) -> Option<&crate::field_types::CustomType> {
        match self.role {
            Role::Field(f) => f.custom.as_ref(),
            _ => None,
        }
    }
}

/// A foreign key of a view's table, as PostgREST and postgrest-js name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The constraint name (`<table>_<column>_fkey`, shortened like Cot shortens it).
    pub constraint: String,
    /// The referencing column.
    pub column: String,
    /// The referenced view (an entity).
    pub target: String,
    /// At most one row may reference each target row.
    pub one_to_one: bool,
}

/// One view of the API schema.
#[derive(Debug, Clone)]
pub struct View<'a> {
    /// The view (and path) name.
    pub name: String,
    /// What it shows.
    pub source: Source<'a>,
    /// Display name.
    pub title: String,
    /// What it holds.
    pub description: String,
    /// Who may read, insert, update and delete through it.
    pub access: Access,
    /// Columns, in view order.
    pub columns: Vec<Column<'a>>,
    /// Foreign keys.
    pub links: Vec<Link>,
}

impl View<'_> {
    /// The entity the view belongs to (a junction's is its relation's owner).
    pub fn entity(&self) -> &Entity {
        match self.source {
            Source::Entity(e) | Source::Junction(e, _) => e,
        }
    }

    /// Whether any command is open to someone over the API.
    pub fn reachable(&self) -> bool {
        use crate::access::Rule::None;
        let a = self.access;
        [a.read, a.create, a.update, a.delete].iter().any(|r| *r != None)
    }
}

fn column<'a>(name: &str, ty: FieldType, role: Role<'a>, title: &str) -> Column<'a> {
    Column {
        name: name.to_string(),
        ty,
        role,
        nullable: false,
        read_only: false,
        has_default: false,
        title: title.to_string(),
        description: None,
        notes: Vec::new(),
    }
}

fn created_at<'a>() -> Column<'a> {
    Column {
        read_only: true,
        has_default: true,
        notes: vec!["Set by the database when the row is inserted; a value sent is overwritten.".into()],
        ..column(
            "created_at",
            FieldType::Scalar(Scalar::Timestamp),
            Role::CreatedAt,
            "Created at",
        )
    }
}

/// The facts of a state field: where records start, and each transition
/// with the states it joins and who may take it.
fn workflow_note(w: &crate::workflow::Workflow) -> String {
    let ts: Vec<String> = w
        .transitions
        .iter()
        .map(|t| {
            let who: Vec<&str> = t.who.iter().map(crate::workflow::Who::name).collect();
            format!(
                "{} ({} to {}, by {}{})",
                t.name,
                t.from.join(" or "),
                t.to,
                who.join(" or "),
                if t.guard.is_some() { ", guarded" } else { "" }
            )
        })
        .collect();
    format!(
        "A state: new records start in {}; it changes only by a transition (an update of this field, or POST /rpc/transition): {}.",
        w.starts.join(" or "),
        if ts.is_empty() { "none".to_string() } else { ts.join("; ") }
    )
}

/// The view of an entity.
pub fn entity_view<'a>(e: &'a Entity, labels: &Labels) -> View<'a> {
    let described = |d: &Option<String>| d.clone().filter(|d| !d.is_empty());
    let mut columns = vec![Column {
        has_default: true,
        notes: vec!["A time-ordered uuid (v7) made by the database when an insert omits it.".into()],
        ..column("id", FieldType::Scalar(Scalar::Uuid), Role::Id, "Id")
    }];
    let mut links = Vec::new();
    for f in &e.fields {
        let title = labels
            .columns
            .get(f.name.as_str())
            .cloned()
            .unwrap_or_else(|| f.name.to_string());
        let relation = e.relations.iter().find(|r| r.id == f.id && r.column.is_some());
        let mut c = Column {
            nullable: !f.required,
            has_default: f.default.is_some(),
            description: described(&f.description),
            ..column(f.name.as_str(), f.ty.clone(), Role::Field(f), &title)
        };
        if let Some(r) = relation {
            c.role = Role::RelationColumn(f, r);
            c.notes.push(format!(
                "Id of the related {} row (relation {}, {}; on delete {}).",
                r.target,
                r.name,
                r.kind.name(),
                r.on_delete.name()
            ));
            if r.kind == RelationKind::OneToOne {
                c.notes.push(format!(
                    "Unique: at most one {} row per {} row.",
                    e.name, r.target
                ));
            }
            links.push(Link {
                constraint: derived(&[e.name.as_str(), f.name.as_str(), "fkey"]).to_string(),
                column: f.name.to_string(),
                target: r.target.to_string(),
                one_to_one: r.kind == RelationKind::OneToOne,
            });
        } else if f.unique {
            c.notes.push(format!("Unique among {} rows.", e.name));
        }
        if let Some(w) = e.workflow.as_ref().filter(|w| w.field_id == f.id) {
            c.notes.push(workflow_note(w));
        }
        if let Some(t) = &f.custom {
            c.notes.push(match &t.description {
                Some(d) => format!("Type {}: {}", t.name, sentence(d)),
                None => format!("Type {}.", t.name),
            });
        }
        columns.push(c);
    }
    columns.push(created_at());
    columns.push(Column {
        read_only: true,
        has_default: true,
        notes: vec!["Set by the database on every insert and update; a value sent is overwritten.".into()],
        ..column(
            "updated_at",
            FieldType::Scalar(Scalar::Timestamp),
            Role::UpdatedAt,
            "Updated at",
        )
    });
    if e.access.needs_owner() {
        columns.push(Column {
            nullable: true,
            read_only: true,
            has_default: true,
            notes: vec![
                "The sub claim of whoever inserted the row, set by the database; owner access rules compare it with the caller's sub.".into(),
            ],
            ..column(OWNER_COLUMN, FieldType::Scalar(Scalar::Text), Role::Owner, "Owner")
        });
    }
    View {
        name: e.name.to_string(),
        source: Source::Entity(e),
        title: labels.entity.clone(),
        description: described(&e.description).unwrap_or_else(|| labels.entity.clone()),
        access: e.access,
        columns,
        links,
    }
}

/// The view of a many-to-many relation's junction table.
pub fn junction_view<'a>(e: &'a Entity, r: &'a Relation, labels: &Labels) -> Option<View<'a>> {
    let j = r.junction.as_ref()?;
    let label = labels.relations.get(r.name.as_str());
    let description = crate::relations::junction_description(e, r, label.map(String::as_str));
    let reference = |name: &str, target: &str| Column {
        notes: vec![format!(
            "Id of the linked {target} row; the link goes when that row is deleted."
        )],
        ..column(name, FieldType::Scalar(Scalar::Uuid), Role::JunctionRef, name)
    };
    let link = |column: &str, target: &str| Link {
        constraint: derived(&[j.table.as_str(), column, "fkey"]).to_string(),
        column: column.to_string(),
        target: target.to_string(),
        one_to_one: false,
    };
    Some(View {
        name: j.table.to_string(),
        source: Source::Junction(e, r),
        title: label.cloned().unwrap_or_else(|| r.name.to_string()),
        description,
        access: e.access.for_junction(),
        columns: vec![
            reference(j.source_column.as_str(), e.name.as_str()),
            reference(j.target_column.as_str(), r.target.as_str()),
            created_at(),
        ],
        links: vec![
            link(j.source_column.as_str(), e.name.as_str()),
            link(j.target_column.as_str(), r.target.as_str()),
        ],
    })
}

/// Every view of a tenant: entities in name order, each followed by the
/// junctions of its many-to-many fields in field-name order.
pub fn views<'a>(entities: &'a [(Entity, Labels)]) -> Vec<View<'a>> {
    let mut sorted: Vec<&(Entity, Labels)> = entities.iter().collect();
    sorted.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    let mut out = Vec::new();
    for (e, labels) in sorted {
        out.push(entity_view(e, labels));
        let mut rels: Vec<&Relation> = e.relations.iter().collect();
        rels.sort_by(|a, b| a.name.cmp(&b.name));
        out.extend(rels.into_iter().filter_map(|r| junction_view(e, r, labels)));
    }
    out
}

/// The relations a `select` can embed from an entity's view, as
/// `(embedding, what it is)`, for documentation.
pub fn embeddings(e: &Entity) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for r in &e.relations {
        match r.kind {
            RelationKind::ManyToOne | RelationKind::OneToOne => {
                out.push((
                    format!("{}(...)", r.name),
                    format!("the {} row ({})", r.target, r.kind.name()),
                ));
                out.push((
                    format!("{}(...)", r.target),
                    format!("the same {} row, by the target's name", r.target),
                ));
            }
            RelationKind::OneToMany => out.push((
                format!("{}(...)", r.target),
                format!(
                    "the {} rows whose {} points here ({})",
                    r.target,
                    r.inverse.as_ref().map_or("", |i| i.as_str()),
                    r.name
                ),
            )),
            RelationKind::ManyToMany => out.push((
                format!("{}(...)", r.target),
                format!("the linked {} rows ({}, many_to_many)", r.target, r.name),
            )),
        }
    }
    out
}

/// `d` ending with a full stop.
fn sentence(d: &str) -> String {
    let d = d.trim_end();
    if d.ends_with(['.', '!', '?']) {
        d.to_string()
    } else {
        format!("{d}.")
    }
}
