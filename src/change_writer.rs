//! The function of every history trigger, `cot.log_changes(entity, column)`
//! (docs/changes.md): a statement-level AFTER trigger that writes what the
//! statement changed to the tenant's change log, as one row per statement
//! (per `BLOCK` rows of it). Rust rather than a PL/pgSQL function per tenant:
//! a SECURITY DEFINER PL/pgSQL function set and restored its `search_path`
//! and ran its interpreter on every statement, about a third of what history
//! cost a single-row insert (bench/history.sh).
//!
//! The statement that writes the log is rendered by the engine
//! (`cot_engine::ddl::history::log_statement`, every name qualified) and kept
//! prepared per tenant and operation for the session; it reads the
//! statement's transition tables, which the trigger hands to SPI. It runs as
//! the owner of this function (Cot's DDL makes the triggers as the
//! extension's owner), as a SECURITY DEFINER function would: no tenant role
//! may write the log. Nobody else may make a trigger with it (EXECUTE is
//! revoked from PUBLIC; PostgreSQL checks it when a trigger is made).

use pgrx::prelude::*;
use pgrx::spi::OwnedPreparedStatement;
use pgrx::{pg_sys, PgOid};
use std::cell::RefCell;
use std::collections::HashMap;

/// A kept plan: the table's (row type hash, statement), by (table,
/// operation, one row or more).
type Plans = HashMap<(pg_sys::Oid, u8, bool), (u64, OwnedPreparedStatement)>;

thread_local! {
    /// The log statement of each (table, operation, one row or more),
    /// prepared once per backend, with the shape of the table it was
    /// prepared for: its plan reads the transition tables with the table's
    /// row type, so another table (or this one changed) needs its own.
    static PLANS: RefCell<Plans> = RefCell::new(HashMap::new());
}

/// Logs the changes of the statement that fired it. Arguments: the name the
/// changes are logged under, and the column holding the record's id.
#[pg_trigger]
fn log_changes<'a>(
    trigger: &'a pgrx::PgTrigger<'a>,
) -> Result<Option<PgHeapTuple<'a, AllocatedByPostgres>>, pgrx::PgTriggerError> {
    let args = trigger.extra_args()?;
    let (Some(entity), Some(column)) = (args.first(), args.get(1)) else {
        pgrx::error!("cot.log_changes takes the entity and the record's column");
    };
    let schema = trigger.table_schema()?;
    let Some(slug) = schema.strip_prefix("tenant_") else {
        pgrx::error!("cot.log_changes logs the tables of tenants' storage schemas only");
    };
    let (op, command) = match trigger.op()? {
        pgrx::PgTriggerOperation::Insert => (0u8, cot_engine::access::Command::Insert),
        pgrx::PgTriggerOperation::Update => (1, cot_engine::access::Command::Update),
        pgrx::PgTriggerOperation::Delete => (2, cot_engine::access::Command::Delete),
        _ => pgrx::error!("cot.log_changes logs inserts, updates and deletes"),
    };
    let data = trigger.trigger_data() as *const pg_sys::TriggerData as *mut pg_sys::TriggerData;
    // SAFETY: the trigger's data and its transition table, valid for this call.
    let rows = unsafe {
        let table = if op == 2 {
            (*data).tg_oldtable
        } else {
            (*data).tg_newtable
        };
        if table.is_null() {
            0
        } else {
            pg_sys::tuplestore_tuple_count(table)
        }
    };
    if rows == 0 {
        // Nothing changed: nothing to log, no lock to take.
        return Ok(None);
    }
    let one = rows == 1;
    let relid = trigger.relid()?;
    let (mut saved, mut context) = (pg_sys::Oid::INVALID, 0i32);
    // SAFETY: the function's owner from the syscache; the user id is restored
    // right after the statement, and an error in between aborts the
    // (sub)transaction, which restores it too.
    unsafe {
        let owner = function_owner(trigger.trigger().tgfoid);
        pg_sys::GetUserIdAndSecContext(&mut saved, &mut context);
        pg_sys::SetUserIdAndSecContext(owner, context | pg_sys::SECURITY_LOCAL_USERID_CHANGE as i32);
    }
    // The transaction's lock before the statement's ids (docs/changes.md),
    // as the owner (the sequence is not the tenant roles'). The actor is the
    // role the session set, not the user id.
    let actor = crate::change_log::change_begin(slug);
    let result = Spi::connect_mut(|client| {
        // SAFETY: the trigger's data, valid for this call; registers its
        // transition tables (cot_new, cot_old) with this SPI connection.
        unsafe { pg_sys::SPI_register_trigger_data(data) };
        PLANS.with(|plans| {
            let mut plans = plans.borrow_mut();
            let key = (relid, op, one);
            // SAFETY: the trigger's relation, open for this call.
            let shape = unsafe { row_shape((*data).tg_relation) };
            if plans.get(&key).map(|(s, _)| *s) != Some(shape) {
                let names = cot_engine::stored::tenant_names(slug)
                    .unwrap_or_else(|_| pgrx::error!("cot.log_changes: {schema} is not a tenant's schema"));
                let sql = cot_engine::ddl::log_statement(&names, command, one);
                let types = [
                    PgOid::from(pg_sys::TEXTOID),
                    PgOid::from(pg_sys::TEXTOID),
                    PgOid::from(pg_sys::JSONBOID),
                ];
                let plan = client.prepare_mut(sql.as_str(), &types)?.keep();
                plans.insert(key, (shape, plan));
            }
            client.update(
                &plans[&key].1,
                None,
                &[entity.as_str().into(), column.as_str().into(), actor.into()],
            )?;
            Ok::<_, pgrx::spi::Error>(())
        })
    });
    // SAFETY: restores what was saved above.
    unsafe { pg_sys::SetUserIdAndSecContext(saved, context) };
    crate::spi::spi(result);
    Ok(None)
}

/// A hash of the row type of `relation` (each column's name, type, typmod
/// and whether it was dropped).
unsafe fn row_shape(relation: pg_sys::Relation) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    let desc = (*relation).rd_att;
    let attrs = (*desc).attrs.as_slice((*desc).natts as usize);
    for a in attrs {
        std::ffi::CStr::from_ptr(a.attname.data.as_ptr()).hash(&mut h);
        a.atttypid.to_u32().hash(&mut h);
        a.atttypmod.hash(&mut h);
        a.attisdropped.hash(&mut h);
    }
    h.finish()
}

/// The owner of function `oid`.
unsafe fn function_owner(oid: pg_sys::Oid) -> pg_sys::Oid {
    let tuple = pg_sys::SearchSysCache1(pg_sys::SysCacheIdentifier::PROCOID as i32, oid.into());
    if tuple.is_null() {
        pgrx::error!("cot.log_changes: function {oid:?} not found");
    }
    let form = pg_sys::GETSTRUCT(tuple) as *const pg_sys::FormData_pg_proc;
    let owner = (*form).proowner;
    pg_sys::ReleaseSysCache(tuple);
    owner
}
