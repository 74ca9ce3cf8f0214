//! Record history: the tenant's change log (`tenant_<slug>._changes`) and the
//! statement-level triggers that write an entity's changes to it, in the same
//! transaction, for entities defined with `"history": true`. The log is made
//! with the first such entity (`IF NOT EXISTS`: it is the tenant's, shared by
//! its entities) and outlives them; its name starts with `_`, which no entity
//! name can. Junction tables of such an entity log their links too.

use super::{RelKind, Step};
use crate::access::Command;
use crate::names::{fixed, Ident, TenantNames};
use crate::types::{Entity, Junction};

/// The change log's table name in the storage schema.
pub const CHANGE_LOG: &str = "_changes";

/// The function that wrote a tenant's change log in earlier builds of 0.2.0,
/// in the storage schema: dropped with the log. The log is written by
/// `cot.log_changes()` now (src/change_writer.rs in the extension).
pub const LOG_FUNCTION: &str = "_log_changes";

/// Ids per row of the change log: `cot.change_seq` counts by this much, and
/// a row holds at most this many changes of one statement, whose ids are the
/// row's `id` and the ones after it (docs/changes.md).
pub const BLOCK: i64 = 4096;

/// The history triggers' names, one per command.
pub const TRIGGERS: [&str; 3] = ["cot_history_insert", "cot_history_update", "cot_history_delete"];

/// The commands an entity's (or junction's) history records. A junction row is
/// never updated through the API (links are added and removed).
fn commands(junction: bool) -> &'static [Command] {
    if junction {
        &[Command::Insert, Command::Delete]
    } else {
        &[Command::Insert, Command::Update, Command::Delete]
    }
}

/// The name of the trigger recording `command`.
pub fn trigger_name(command: Command) -> Ident {
    match command {
        Command::Insert => fixed(TRIGGERS[0]),
        Command::Update => fixed(TRIGGERS[1]),
        _ => fixed(TRIGGERS[2]),
    }
}

/// The tenant's change log, made if missing: table, its index by record,
/// owner, row security on with no policy (no tenant role reads it directly).
pub fn change_log(t: &TenantNames) -> Vec<Step> {
    vec![
        Step::CreateChangeLog {
            schema: t.storage_schema.clone(),
        },
        Step::SetOwner {
            kind: RelKind::Table,
            schema: t.storage_schema.clone(),
            name: fixed(CHANGE_LOG),
        },
        Step::EnableRls {
            schema: t.storage_schema.clone(),
            table: fixed(CHANGE_LOG),
        },
    ]
}

/// The triggers recording the changes of `table` under the name `entity`,
/// with the record's id in `record_column`.
pub fn triggers(
    t: &TenantNames,
    table: &Ident,
    entity: &Ident,
    record_column: &Ident,
    junction: bool,
) -> Vec<Step> {
    commands(junction)
        .iter()
        .map(|&command| Step::CreateHistoryTrigger {
            schema: t.storage_schema.clone(),
            table: table.clone(),
            entity: entity.clone(),
            record_column: record_column.clone(),
            command,
        })
        .collect()
}

/// The steps that drop what [`triggers`] made.
pub fn drop_triggers(t: &TenantNames, table: &Ident, junction: bool) -> Vec<Step> {
    commands(junction)
        .iter()
        .map(|&command| Step::DropTriggerIfExists {
            schema: t.storage_schema.clone(),
            table: table.clone(),
            name: trigger_name(command),
        })
        .collect()
}

/// An entity's history: the log and its triggers, when the entity has history.
pub fn entity_steps(e: &Entity) -> Vec<Step> {
    if !e.history {
        return Vec::new();
    }
    let t = TenantNames::new(&e.tenant);
    let mut steps = change_log(&t);
    steps.extend(triggers(&t, &e.name, &e.name, &fixed("id"), false));
    steps
}

/// A junction's history: its links are the changes of the record they start
/// from, logged under the junction's name.
pub fn junction_steps(e: &Entity, j: &Junction) -> Vec<Step> {
    if !e.history {
        return Vec::new();
    }
    let t = TenantNames::new(&e.tenant);
    triggers(&t, &j.table, &j.table, &j.source_column, true)
}
