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
use crate::names::{derived, fixed, Ident, TenantNames, OWNER_COLUMN};
use crate::plan::policies;
use crate::plan::{
    self, Check, ColumnAction, ColumnDefault, CommentTarget, Constraint, ConstraintKind, Labels, RelKind,
    RelationFunction, Step,
};
use crate::relations;
use crate::scalar::Scalar;
use crate::types::{Entity, Field, FieldType, RelationKind};
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
    /// Rows the check rejects, of the column's value as it is or as a type
    /// change converts it.
    FailsCheck(Ident, Option<Cast>, Check),
    /// Rows whose values in the columns (as they are or converted) repeat
    /// another row's.
    Duplicates(Vec<(Ident, Option<Cast>)>),
    /// Rows whose value does not convert to the type (Postgres type text).
    NotCastable(Ident, String),
    /// Rows whose value converts but loses something (in any item, for an
    /// array column).
    Loses(Ident, Loss, bool),
}

/// A column's value as a type change converts it: a new rule on a retyped
/// column is counted against the converted values, before the change runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Cast {
    /// The new type (Postgres type text).
    pub sql_type: String,
    /// Some values may not convert: those count as NULL (they are refused or
    /// set to NULL by the type change itself).
    pub fallible: bool,
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

/// The plan being built, with what every phase needs to add a step to it.
/// Each phase of [`evolve`] is a method in the file named for what it does.
struct Builder<'a> {
    /// The tenant's schema names.
    t: TenantNames,
    /// The table (and view) name.
    table: Ident,
    /// The table has a row: counts and scans are only worth asking for then.
    has_rows: bool,
    /// What the caller allows.
    options: &'a Options,
    /// Answers the counts.
    counter: &'a mut dyn Counter,
    /// The plan so far.
    out: Evolution,
}

impl<'a> Builder<'a> {
    /// An empty plan for `e`'s table; asks once whether the table has a row.
    fn new(e: &Entity, options: &'a Options, counter: &'a mut dyn Counter) -> Builder<'a> {
        let mut b = Builder {
            t: TenantNames::new(&e.tenant),
            table: e.name.clone(),
            has_rows: false,
            options,
            counter,
            out: Evolution::default(),
        };
        b.has_rows = b.counter.count(&Count {
            schema: b.t.storage_schema.clone(),
            table: b.table.clone(),
            probe: Probe::AnyRow,
        }) > 0;
        b
    }

    /// Adds a step whose rows are not counted.
    fn push(&mut self, step: Step, class: Class) {
        self.out.changes.push(Change {
            step,
            class,
            rows: None,
            note: None,
        });
    }

    /// Adds a step with what it does to the rows already there.
    fn push_noted(&mut self, step: Step, class: Class, note: impl Into<String>) {
        self.out.changes.push(Change {
            step,
            class,
            rows: None,
            note: Some(note.into()),
        });
    }

    /// Adds a step with the rows it touches and what they are.
    fn push_counted(&mut self, step: Step, class: Class, rows: u64, note: impl Into<String>) {
        self.out.changes.push(Change {
            step,
            class,
            rows: Some(rows),
            note: Some(note.into()),
        });
    }

    /// Counts in this table; an empty table answers 0 without asking.
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

    /// Records why the change cannot be made as asked; planning goes on, so
    /// every refusal is reported at once.
    fn refuse(&mut self, kind: ErrorKind, pointer: String, message: String, hint: &str) {
        self.out
            .refusals
            .push(Violation::new(kind, pointer, message, hint));
    }

    /// A step that reads every row costs a scan only when there are rows.
    fn scanning(&self) -> Class {
        if self.has_rows {
            Class::Scan
        } else {
            Class::Metadata
        }
    }
}

mod access_rules;
mod additions;
mod columns;
mod comments;
mod constraints;
mod diff;
mod drops;
mod history;
mod matching;
mod renames;
mod retype;
mod shape;
mod steps;
mod view;
mod workflow;

use diff::Diff;
pub use matching::carry_ids;
use matching::*;
use steps::*;

/// The plan from `old` to `new` (the same entity: same id and name).
///
/// The phases run in an order that keeps every step valid when it runs: what
/// depends on the view, the view, changed access rules and changed table
/// objects go first (A-C); then junctions and fields are dropped (D, E),
/// renamed (F), retyped (G) and added (H); then columns change in place (I);
/// then new table objects, junctions and comments are made (J-L); and last
/// the view, what depends on it and the new access rules come back (M-O).
pub fn evolve(
    old: &Side<'_>,
    new: &Side<'_>,
    around: &Surroundings,
    options: &Options,
    counter: &mut dyn Counter,
) -> Evolution {
    let mut b = Builder::new(new.entity, options, counter);
    let d = Diff::new(old, new);
    b.refuse_shape_changes(&d, around);
    b.drop_workflow(&d); // before anything changes the state column
    b.drop_view(&d, around); // A
    b.drop_access(&d); // B
    b.drop_objects(&d); // C
    b.drop_owner_trigger(&d); // C, after the objects
    b.drop_junctions(&d); // D
    b.drop_fields(&d); // E
    b.rename(&d); // F
    b.retype(&d); // G
    b.add_fields(&d); // H
    let renamed_from = b.change_columns(&d); // I
    b.make_objects(&d, &renamed_from); // J
    b.add_junctions(&d); // K
    b.comment(&d); // L
    b.make_view(&d, around); // M, N
    b.make_access(&d); // O
    b.history(&d); // P
    b.make_workflow(&d); // Q
    b.out
}

#[cfg(test)]
mod fuzz;
#[cfg(test)]
pub(crate) mod tests;

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
