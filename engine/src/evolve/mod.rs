//! Schema evolution: the steps that turn an entity as it is stored into the
//! entity as newly defined, each classed by what it costs (metadata only, a
//! validating scan, a table rewrite, data loss), with the rows it would fail
//! or lose counted before anything runs.
//!
//! Fields are matched by id, so a new name with the same id is a rename that
//! keeps the data. Constraints and indexes are what [`crate::plan::create_entity`]
//! would make for each side; they are matched by what they check (after the
//! renames), so an unchanged rule keeps its object, a renamed field renames it,
//! and only a changed rule is dropped and made again. The database is asked
//! questions (how many rows hold a value, how many would not convert) through
//! [`Counter`], so this module stays free of Postgres.

use crate::access;
use crate::conversion::{conversion, Loss};
use crate::error::{ErrorKind, Violation};
use crate::names::{derived, fixed, Ident, TenantNames};
use crate::plan::{
    self, Check, ColumnAction, ColumnDefault, CommentTarget, Constraint, ConstraintKind, Labels, RelKind,
    RelationFunction, Step,
};
use crate::relations;
use crate::types::{Entity, Field, FieldType, RelationKind, Scalar};
use serde_json::Value;
use std::collections::HashMap;

/// What a step costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    /// The catalog changes; rows are not read. Instant, but still takes the
    /// table's ACCESS EXCLUSIVE lock for a moment.
    Metadata,
    /// Every row is read (a new constraint is checked, an index is built).
    Scan,
    /// Every row is written again (a type change, a volatile default).
    Rewrite,
    /// Stored values are lost (a dropped field holding data, a conversion that
    /// fails or rounds).
    DataLoss,
}

impl Class {
    /// The name in plans.
    pub fn name(self) -> &'static str {
        match self {
            Class::Metadata => "metadata",
            Class::Scan => "validating_scan",
            Class::Rewrite => "table_rewrite",
            Class::DataLoss => "data_loss",
        }
    }
}

/// A question about the rows of a table, answered with a count.
#[derive(Debug, Clone, PartialEq)]
pub enum Probe {
    /// Rows in the table.
    Rows,
    /// 1 if the table has a row, else 0 (stops at the first row).
    AnyRow,
    /// Rows holding a value in the column (what dropping it loses).
    Values(Ident),
    /// Rows with no value in the column.
    Nulls(Ident),
    /// Rows the check rejects.
    FailsCheck(Ident, Check),
    /// Rows whose values in the columns repeat another row's.
    Duplicates(Vec<Ident>),
    /// Rows whose value does not convert to the type (Postgres type text).
    NotCastable(Ident, String),
    /// Rows whose value converts but loses something (in any item, for an
    /// array column).
    Loses(Ident, Loss, bool),
}

/// A probe and the table it counts in.
#[derive(Debug, Clone, PartialEq)]
pub struct Count {
    /// Schema.
    pub schema: Ident,
    /// Table.
    pub table: Ident,
    /// The question.
    pub probe: Probe,
}

/// Answers probes; the extension runs them as queries, tests make them up.
pub trait Counter {
    /// The number of rows.
    fn count(&mut self, c: &Count) -> u64;
}

/// One step of a migration.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The DDL.
    pub step: Step,
    /// Its cost.
    pub class: Class,
    /// Rows it fails, converts with loss, or drops, when counted.
    pub rows: Option<u64>,
    /// Why, when the step alone does not say.
    pub note: Option<String>,
}

/// What the caller allows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// Drop fields holding data; convert with rounding, or to NULL where a
    /// value does not convert.
    pub allow_data_loss: bool,
    /// Leave new CHECK and FOREIGN KEY constraints NOT VALID on tables with
    /// rows: new and changed rows are checked, existing ones when
    /// `ALTER TABLE ... VALIDATE CONSTRAINT` runs later (`cot.check` lists it).
    pub defer_validation: bool,
    /// Leave new indexes on tables with rows unbuilt, to be built with
    /// `CREATE INDEX CONCURRENTLY` outside a transaction (`cot.check` lists it).
    pub defer_indexes: bool,
    /// Enum values renamed: (field name, old value, new value). Rows holding
    /// the old value get the new one.
    pub rename_values: Vec<(String, String, String)>,
}

/// A plan, and what stops it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evolution {
    /// The steps, in the order they run.
    pub changes: Vec<Change>,
    /// Steps left for later (`defer_validation`, `defer_indexes`).
    pub pending: Vec<Step>,
    /// Why the change cannot be made as asked; empty when it can.
    pub refusals: Vec<Violation>,
}

/// One side of a change: the entity, its labels and its normalized definition
/// (for error pointers).
pub struct Side<'a> {
    /// The entity.
    pub entity: &'a Entity,
    /// Its labels.
    pub labels: &'a Labels,
    /// Its normalized definition.
    pub normalized: &'a Value,
}

/// Facts from the tenant that the plan depends on.
#[derive(Debug, Clone, Default)]
pub struct Surroundings {
    /// Computed relationships of other entities that return this entity's view
    /// type: they go and come back with the view.
    pub incoming: Vec<RelationFunction>,
    /// Relation fields of this entity that other entities' one-to-many
    /// relations name as `inverse`: (field, "entity.field" of the other).
    pub inverse_of: Vec<(String, String)>,
}

struct Builder<'a> {
    t: TenantNames,
    table: Ident,
    has_rows: bool,
    options: &'a Options,
    counter: &'a mut dyn Counter,
    out: Evolution,
}

impl Builder<'_> {
    fn push(&mut self, step: Step, class: Class) {
        self.out.changes.push(Change {
            step,
            class,
            rows: None,
            note: None,
        });
    }

    fn push_counted(&mut self, step: Step, class: Class, rows: u64, note: impl Into<String>) {
        self.out.changes.push(Change {
            step,
            class,
            rows: Some(rows),
            note: Some(note.into()),
        });
    }

    fn count(&mut self, probe: Probe) -> u64 {
        if !self.has_rows {
            return 0;
        }
        self.counter.count(&Count {
            schema: self.t.storage_schema.clone(),
            table: self.table.clone(),
            probe,
        })
    }

    fn refuse(&mut self, kind: ErrorKind, pointer: String, message: String, hint: &str) {
        self.out
            .refusals
            .push(Violation::new(kind, pointer, message, hint));
    }

    fn scanning(&self) -> Class {
        if self.has_rows {
            Class::Scan
        } else {
            Class::Metadata
        }
    }
}

mod matching;
mod steps;

pub use matching::carry_ids;
use matching::*;
use steps::*;

/// The plan from `old` to `new` (the same entity: same id and name).
pub fn evolve(
    old: &Side<'_>,
    new: &Side<'_>,
    around: &Surroundings,
    options: &Options,
    counter: &mut dyn Counter,
) -> Evolution {
    let (o, n) = (old.entity, new.entity);
    let t = TenantNames::new(&n.tenant);
    let mut b = Builder {
        t: t.clone(),
        table: n.name.clone(),
        has_rows: false,
        options,
        counter,
        out: Evolution::default(),
    };
    b.has_rows = b.counter.count(&Count {
        schema: t.storage_schema.clone(),
        table: n.name.clone(),
        probe: Probe::AnyRow,
    }) > 0;
    let storage = t.storage_schema.clone();
    let table = n.name.clone();

    // Fields by id.
    let old_by_id: HashMap<uuid::Uuid, &Field> = o.fields.iter().map(|f| (f.id, f)).collect();
    let new_ids: Vec<uuid::Uuid> = n.fields.iter().map(|f| f.id).collect();
    let mut renames: HashMap<Ident, Ident> = HashMap::new();
    let mut retyped: Vec<Ident> = Vec::new();
    let mut added: Vec<&Field> = Vec::new();
    for f in &n.fields {
        match old_by_id.get(&f.id) {
            Some(of) if of.name != f.name => {
                renames.insert(of.name.clone(), f.name.clone());
            }
            None => added.push(f),
            _ => {}
        }
    }
    let dropped: Vec<&Field> = o.fields.iter().filter(|f| !new_ids.contains(&f.id)).collect();

    // Relations: kind and target stay.
    let old_rel: HashMap<uuid::Uuid, &crate::types::Relation> =
        o.relations.iter().map(|r| (r.id, r)).collect();
    for r in &n.relations {
        if let Some(or) = old_rel.get(&r.id) {
            if or.kind != r.kind || or.target != r.target {
                b.refuse(
                    ErrorKind::FeatureNotSupported,
                    format!("/fields/{}", r.at),
                    format!(
                        "relation \"{}\" cannot change from {} {} to {} {}",
                        r.name,
                        or.kind.name(),
                        or.target,
                        r.kind.name(),
                        r.target
                    ),
                    "add a new relation field (new name, no id) and drop this one",
                );
            }
        }
    }
    // A field stays a field and a relation a relation.
    for r in &n.relations {
        if old_by_id.contains_key(&r.id) && !old_rel.contains_key(&r.id) {
            let was = old_by_id
                .get(&r.id)
                .map_or("a field".to_string(), |f| format!("a {} field", type_text(&f.ty)));
            b.refuse(
                ErrorKind::FeatureNotSupported,
                format!("/fields/{}", r.at),
                format!("field \"{}\" cannot change from {was} to a relation", r.name),
                "add the relation as a new field (no id) and drop the old one",
            );
        }
    }
    for f in &n.fields {
        let is_relation = n.relations.iter().any(|r| r.id == f.id);
        if !is_relation && old_rel.contains_key(&f.id) {
            b.refuse(
                ErrorKind::FeatureNotSupported,
                pointer(new, f.id),
                format!(
                    "relation field \"{}\" cannot become a {} field",
                    f.name,
                    type_text(&f.ty)
                ),
                "add the field as a new one (no id) and drop the relation",
            );
        }
    }
    // Fields that other entities' one-to-many relations name as their inverse
    // cannot go; a rename is followed by those relations (see `inverse_renames`).
    for (field, other) in &around.inverse_of {
        let gone = dropped
            .iter()
            .any(|f| old_rel.get(&f.id).is_some_and(|r| r.name.as_str() == field));
        if gone {
            b.refuse(
                ErrorKind::DependentObjects,
                "/fields".into(),
                format!("relation \"{field}\" is the inverse of {other}; it cannot be dropped"),
                "change or drop that one-to-many relation first",
            );
        }
    }

    // What the view and the computed relationships depend on.
    // A view keeps the column names it was made with: a rename rebuilds it too.
    let rebuild_view = view_columns(o) != view_columns(n)
        // A dropped column is in the view: the view goes first, even when a new
        // field of the same name takes its place.
        || !dropped.is_empty()
        || n.fields.iter().any(|f| {
            old_by_id
                .get(&f.id)
                .is_some_and(|of| of.ty.sql_type() != f.ty.sql_type())
        });
    let old_fns = own_functions(o);
    let new_fns = own_functions(n);
    let fns_change = rebuild_view || old_fns != new_fns;

    // --- A: what depends on the view goes, then the view.
    if fns_change {
        for f in &old_fns {
            b.push(Step::DropRelationFunction(f.clone()), Class::Metadata);
        }
    }
    if rebuild_view {
        for f in &around.incoming {
            b.push(Step::DropRelationFunction(f.clone()), Class::Metadata);
        }
        b.push(
            Step::DropRelation {
                kind: RelKind::View,
                schema: t.api_schema.clone(),
                name: table.clone(),
            },
            Class::Metadata,
        );
    }

    // --- B: access rules that change lose their policies and grants.
    let access_change = o.access != n.access;
    let kept_junctions: Vec<(&crate::types::Relation, &crate::types::Relation)> = n
        .relations
        .iter()
        .filter(|r| r.kind == RelationKind::ManyToMany)
        .filter_map(|r| old_rel.get(&r.id).map(|or| (*or, r)))
        .filter(|(or, _)| or.kind == RelationKind::ManyToMany)
        .collect();
    if access_change {
        teardown_access(&mut b, &table, o.access, rebuild_view);
        if o.access.for_junction() != n.access.for_junction() {
            for (or, _) in &kept_junctions {
                let j = &or.junction.as_ref().expect("many_to_many").table;
                teardown_access(&mut b, j, o.access.for_junction(), false);
            }
        }
    }

    // --- C: constraints and indexes that change go.
    let (old_constraints, old_indexes) = table_objects(o, old.labels);
    let (new_constraints, new_indexes) = table_objects(n, new.labels);
    let old_c: Vec<(Ident, ConstraintKind)> = old_constraints
        .iter()
        .map(|c| (c.name.clone(), renamed_kind(&c.kind, &renames)))
        .collect();
    let new_c: Vec<(Ident, ConstraintKind, &Constraint)> = new_constraints
        .iter()
        .map(|c| (c.name.clone(), c.kind.clone(), c))
        .collect();
    let (c_renames, c_dropped, c_made) = match_by(&old_c, &new_c);
    let old_i: Vec<(Ident, (Vec<Ident>, bool))> = old_indexes
        .iter()
        .map(|(name, cols, gin)| (name.clone(), (rename_all(cols, &renames), *gin)))
        .collect();
    let new_i: Vec<(Ident, (Vec<Ident>, bool), ())> = new_indexes
        .iter()
        .map(|(name, cols, gin)| (name.clone(), (cols.clone(), *gin), ()))
        .collect();
    let (i_renames, i_dropped, i_made) = match_by(&old_i, &new_i);
    for name in c_dropped {
        b.push(
            Step::DropConstraint {
                schema: storage.clone(),
                table: table.clone(),
                name,
            },
            Class::Metadata,
        );
    }
    for name in i_dropped {
        b.push(
            Step::DropIndex {
                schema: storage.clone(),
                name,
            },
            Class::Metadata,
        );
    }
    let owner_before = o.access.needs_owner();
    let owner_after = n.access.needs_owner();
    if owner_before && !owner_after {
        b.push(
            Step::DropOwnerTrigger {
                schema: storage.clone(),
                table: table.clone(),
            },
            Class::Metadata,
        );
    }

    // --- D: junctions of removed many-to-many relations.
    for or in o.relations.iter().filter(|r| r.kind == RelationKind::ManyToMany) {
        if n.relations.iter().any(|r| r.id == or.id) {
            continue;
        }
        let j = or.junction.as_ref().expect("many_to_many").table.clone();
        let links = if b.has_rows {
            b.counter.count(&Count {
                schema: storage.clone(),
                table: j.clone(),
                probe: Probe::Rows,
            })
        } else {
            0
        };
        if links > 0 && !options.allow_data_loss {
            b.refuse(
                ErrorKind::DataLoss,
                "/fields".into(),
                format!("dropping relation \"{}\" would delete {links} links", or.name),
                "pass {\"allow_data_loss\": true} to drop it with its links",
            );
        }
        let mut steps = relations::drop_junctions(&t, std::slice::from_ref(&j)).into_iter();
        if let Some(view) = steps.next() {
            b.push(view, Class::Metadata);
        }
        for step in steps {
            let class = if links > 0 {
                Class::DataLoss
            } else {
                Class::Metadata
            };
            b.push_counted(step, class, links, format!("links of {}", or.name));
        }
    }

    // --- E: dropped fields (and the owner column).
    for f in &dropped {
        let held = b.count(Probe::Values(f.name.clone()));
        if held > 0 && !options.allow_data_loss {
            b.refuse(
                ErrorKind::DataLoss,
                "/fields".into(),
                format!(
                    "dropping field \"{}\" would lose the values of {held} rows",
                    field_name(o, f)
                ),
                "pass {\"allow_data_loss\": true} to drop it with its data, or keep the field",
            );
        }
        let step = Step::DropColumn {
            schema: storage.clone(),
            table: table.clone(),
            column: f.name.clone(),
        };
        if held > 0 {
            b.push_counted(step, Class::DataLoss, held, "rows holding a value");
        } else {
            b.push(step, Class::Metadata);
        }
    }
    if owner_before && !owner_after {
        let owner = fixed(access::OWNER_COLUMN);
        let held = b.count(Probe::Values(owner.clone()));
        if held > 0 && !options.allow_data_loss {
            b.refuse(
                ErrorKind::DataLoss,
                "/access".into(),
                format!("no rule needs the owner any more: dropping owner_id would forget the owner of {held} rows"),
                "pass {\"allow_data_loss\": true}, or keep an owner rule",
            );
        }
        let step = Step::DropColumn {
            schema: storage.clone(),
            table: table.clone(),
            column: owner,
        };
        let class = if held > 0 {
            Class::DataLoss
        } else {
            Class::Metadata
        };
        b.push_counted(step, class, held, "rows with an owner");
    }

    // --- F: renames of columns, constraints, indexes and junctions.
    for f in &n.fields {
        if let Some(of) = old_by_id.get(&f.id).filter(|of| of.name != f.name) {
            b.push(
                Step::AlterColumn {
                    schema: storage.clone(),
                    table: table.clone(),
                    column: of.name.clone(),
                    action: ColumnAction::Rename(f.name.clone()),
                },
                Class::Metadata,
            );
        }
    }
    for (from, to) in c_renames {
        b.push(
            Step::RenameConstraint {
                schema: storage.clone(),
                table: table.clone(),
                from,
                to,
            },
            Class::Metadata,
        );
    }
    for (from, to) in i_renames {
        b.push(
            Step::RenameIndex {
                schema: storage.clone(),
                from,
                to,
            },
            Class::Metadata,
        );
    }
    for (or, r) in &kept_junctions {
        let (oj, nj) = (
            or.junction.as_ref().expect("m2m"),
            r.junction.as_ref().expect("m2m"),
        );
        if oj.table == nj.table {
            continue;
        }
        if oj.target_column != nj.target_column {
            b.refuse(
                ErrorKind::FeatureNotSupported,
                format!("/fields/{}/name", r.at),
                format!(
                    "renaming \"{}\", a many-to-many relation of an entity to itself, is not supported",
                    or.name
                ),
                "add a new relation field and drop this one",
            );
            continue;
        }
        rename_junction(&mut b, oj, nj);
    }

    // --- G: type changes.
    for f in &n.fields {
        let Some(of) = old_by_id.get(&f.id) else { continue };
        if of.ty.sql_type() == f.ty.sql_type() {
            continue;
        }
        let at = pointer(new, f.id);
        let Some(conv) = conversion(&of.ty, &f.ty) else {
            b.refuse(
                ErrorKind::FeatureNotSupported,
                format!("{at}/type"),
                format!(
                    "field \"{}\" cannot change from {} to {}",
                    f.name,
                    type_text(&of.ty),
                    type_text(&f.ty)
                ),
                "add a new field of the new type, copy the values, then drop this one",
            );
            continue;
        };
        let failing = if conv.fallible {
            b.count(Probe::NotCastable(of.name.clone(), f.ty.sql_type()))
        } else {
            0
        };
        let lossy = match &conv.loss {
            Some(loss) => b.count(Probe::Loses(
                of.name.clone(),
                loss.clone(),
                matches!(of.ty, FieldType::Array(_)),
            )),
            None => 0,
        };
        if failing > 0 && (f.required || !options.allow_data_loss) {
            b.refuse(
                ErrorKind::DataLoss,
                format!("{at}/type"),
                format!(
                    "{failing} rows hold a value of \"{}\" that is not a valid {}",
                    of.name,
                    type_text(&f.ty)
                ),
                if f.required {
                    "fix those values first (a required field cannot take NULL instead)"
                } else {
                    "fix those values first, or pass {\"allow_data_loss\": true} to set them to NULL"
                },
            );
        }
        if lossy > 0 && !options.allow_data_loss {
            b.refuse(
                ErrorKind::DataLoss,
                format!("{at}/type"),
                format!(
                    "{lossy} values of \"{}\" would be rounded or cut converting to {}",
                    of.name,
                    type_text(&f.ty)
                ),
                "pass {\"allow_data_loss\": true} to convert them anyway",
            );
        }
        if of.default.is_some() {
            b.push(
                alter(&storage, &table, &f.name, ColumnAction::DropDefault),
                Class::Metadata,
            );
        }
        let step = alter(
            &storage,
            &table,
            &f.name,
            ColumnAction::Type {
                sql_type: f.ty.sql_type(),
                null_failures: failing > 0,
            },
        );
        if failing + lossy > 0 {
            b.push_counted(
                step,
                Class::DataLoss,
                failing + lossy,
                "values set to NULL or rounded",
            );
        } else {
            b.push(
                step,
                if conv.rewrite {
                    Class::Rewrite
                } else {
                    Class::Metadata
                },
            );
        }
        if let Some(d) = &f.default {
            b.push(
                alter(
                    &storage,
                    &table,
                    &f.name,
                    ColumnAction::SetDefault(user_default(f, d)),
                ),
                Class::Metadata,
            );
        }
    }

    // --- H: new fields (and the owner column).
    for f in &added {
        let step = Step::AddColumn {
            schema: storage.clone(),
            table: table.clone(),
            column: plan::column(f),
        };
        if f.required && f.default.is_none() && b.has_rows {
            let rows = b.count(Probe::Rows);
            b.refuse(
                ErrorKind::NotNullViolation,
                pointer(new, f.id),
                format!(
                    "required field \"{}\" has no default, and {rows} rows would have no value",
                    f.name
                ),
                "give it a default, or add it as optional, fill it, then make it required",
            );
        }
        let volatile = matches!(f.default, Some(crate::literal::DefaultValue::NewUuid));
        b.push(
            step,
            if volatile && b.has_rows {
                Class::Rewrite
            } else {
                Class::Metadata
            },
        );
    }
    if owner_after && !owner_before {
        b.push(
            Step::AddColumn {
                schema: storage.clone(),
                table: table.clone(),
                column: plan::Column {
                    name: fixed(access::OWNER_COLUMN),
                    sql_type: "text".into(),
                    not_null: false,
                    default: None,
                },
            },
            Class::Metadata,
        );
        b.out.changes.last_mut().expect("pushed").note =
            Some("existing rows have no owner: only admins reach them under owner rules".into());
        b.push(
            Step::CreateOwnerTrigger {
                schema: storage.clone(),
                table: table.clone(),
            },
            Class::Metadata,
        );
    }

    // --- I: NOT NULL, defaults, renamed enum values.
    for f in &n.fields {
        let Some(of) = old_by_id.get(&f.id) else { continue };
        if f.required && !of.required {
            let nulls = b.count(Probe::Nulls(of.name.clone()));
            if nulls > 0 {
                b.refuse(
                    ErrorKind::NotNullViolation,
                    format!("{}/required", pointer(new, f.id)),
                    format!("{nulls} rows have no value for \"{}\"", field_name(o, of)),
                    "fill those rows first, or keep the field optional",
                );
            }
            let class = b.scanning();
            b.push(alter(&storage, &table, &f.name, ColumnAction::SetNotNull), class);
        } else if of.required && !f.required {
            b.push(
                alter(&storage, &table, &f.name, ColumnAction::DropNotNull),
                Class::Metadata,
            );
        }
        let retyped_here = of.ty.sql_type() != f.ty.sql_type();
        if !retyped_here && of.default != f.default {
            let action = match &f.default {
                Some(d) => ColumnAction::SetDefault(user_default(f, d)),
                None => ColumnAction::DropDefault,
            };
            b.push(alter(&storage, &table, &f.name, action), Class::Metadata);
        }
        if retyped_here {
            retyped.push(f.name.clone());
        }
    }
    let mut renamed_from: HashMap<Ident, Vec<String>> = HashMap::new();
    for (field, from, to) in &options.rename_values {
        let target = n.fields.iter().find(|f| f.name.as_str() == field);
        let old_values = target
            .and_then(|f| old_by_id.get(&f.id))
            .and_then(|of| enum_values(&of.ty));
        let new_values = target.and_then(|f| enum_values(&f.ty));
        match (target, old_values, new_values) {
            (Some(f), Some(ov), Some(nv)) if ov.contains(from) && nv.contains(to) => {
                renamed_from.entry(f.name.clone()).or_default().push(from.clone());
                b.push(
                    Step::RenameValue {
                        schema: storage.clone(),
                        table: table.clone(),
                        column: f.name.clone(),
                        array: matches!(f.ty, FieldType::Array(_)),
                        from: from.clone(),
                        to: to.clone(),
                    },
                    if b.has_rows {
                        Class::Rewrite
                    } else {
                        Class::Metadata
                    },
                );
            }
            _ => b.refuse(
                ErrorKind::InvalidParameter,
                format!("/rename_values/{field}"),
                format!("cannot rename value \"{from}\" of \"{field}\" to \"{to}\""),
                "name an enum field of the new definition, a value it had and a value it now has",
            ),
        }
    }

    // --- J: constraints and indexes that are new or changed.
    for j in c_made {
        let c = new_c[j].2.clone();
        add_constraint(&mut b, c, &retyped, &added_names(&added), &renames, &renamed_from);
    }
    for j in i_made {
        let (name, (columns, gin), ()) = new_i[j].clone();
        let step = Step::CreateIndex {
            schema: storage.clone(),
            table: table.clone(),
            name,
            columns,
            gin,
        };
        if b.has_rows && options.defer_indexes {
            b.out.pending.push(step);
        } else {
            let class = b.scanning();
            b.push(step, class);
        }
    }

    // --- K: junctions of new many-to-many relations.
    for r in n.relations.iter().filter(|r| r.kind == RelationKind::ManyToMany) {
        if !old_rel.contains_key(&r.id) {
            for step in relations::junction(n, r, new.labels) {
                b.push(step, Class::Metadata);
            }
        }
    }

    // --- L: comments on the table (and the view when it stays).
    let mut kinds = vec![RelKind::Table];
    if !rebuild_view {
        kinds.push(RelKind::View);
    }
    for kind in kinds {
        let before: Vec<Step> = plan::comments(o, old.labels, kind)
            .into_iter()
            .map(|s| renamed_comment(s, &renames))
            .collect();
        for step in plan::comments(n, new.labels, kind) {
            if !before.contains(&step) {
                b.push(step, Class::Metadata);
            }
        }
    }

    // --- M, N: the view again, then what depends on it.
    if rebuild_view {
        for step in plan::view_steps(n, new.labels) {
            b.push(step, Class::Metadata);
        }
        for step in plan::policies::view_grants(&n.tenant, &table, n.access) {
            b.push(step, Class::Metadata);
        }
    }
    if fns_change {
        for f in &new_fns {
            b.push(Step::CreateRelationFunction(f.clone()), Class::Metadata);
            b.push(Step::SetRelationFunctionOwner(f.clone()), Class::Metadata);
        }
    }
    if rebuild_view {
        for f in &around.incoming {
            b.push(Step::CreateRelationFunction(f.clone()), Class::Metadata);
            b.push(Step::SetRelationFunctionOwner(f.clone()), Class::Metadata);
        }
    }

    // --- O: the new access rules.
    if access_change {
        setup_access(&mut b, &table, n.access, rebuild_view);
        if o.access.for_junction() != n.access.for_junction() {
            for (_, r) in &kept_junctions {
                let j = r.junction.as_ref().expect("many_to_many").table.clone();
                setup_access(&mut b, &j, n.access.for_junction(), false);
            }
        }
    }
    b.out
}

#[cfg(test)]
mod tests;

/// Relations renamed by this change that other entities' one-to-many
/// relations name as their inverse: (old name, new name, "entity.field" of
/// the one-to-many). Those definitions follow the new name (no DDL: a
/// one-to-many has none).
pub fn inverse_renames(old: &Entity, new: &Entity, around: &Surroundings) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for r in &old.relations {
        let Some(nr) = new.relations.iter().find(|nr| nr.id == r.id && nr.name != r.name) else {
            continue;
        };
        for (field, other) in &around.inverse_of {
            if field == r.name.as_str() {
                out.push((field.clone(), nr.name.to_string(), other.clone()));
            }
        }
    }
    out
}
