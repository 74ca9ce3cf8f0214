//! The function of every history trigger, `cot.log_changes(entity, column)`
//! (docs/changes.md): a statement-level AFTER trigger that writes what the
//! statement changed to the tenant's change log, as one row per statement
//! (per `BLOCK` rows of it). Rust rather than a PL/pgSQL function per tenant:
//! a SECURITY DEFINER PL/pgSQL function set and restored its `search_path`
//! and ran its interpreter on every statement, about a third of what history
//! cost a single-row insert (bench/history.sh).
//!
//! It reads the statement's transition tables itself, makes each row's jsonb
//! (`to_jsonb`; for an update, the fields whose values differ) and appends
//! the log's rows without the executor (src/change_append.rs): an `INSERT`
//! run through SPI spent most of a one-row entry starting its executor. It
//! runs as the owner of this function (Cot's DDL makes the triggers as the
//! extension's owner), as a SECURITY DEFINER function would: no tenant role
//! may write the log. Nobody else may make a trigger with it (EXECUTE is
//! revoked from PUBLIC; PostgreSQL checks it when a trigger is made).

use crate::change_append::{Entry, Log};
use crate::change_jsonb::{changed_fields, RowToJsonb};
use cot_engine::plan::history::BLOCK;
use pgrx::pg_sys::{self, Datum};
use pgrx::prelude::*;

/// Logs the changes of the statement that fired it. Arguments: the name the
/// changes are logged under, and the column holding the record's id.
#[pg_trigger]
fn log_changes<'a>(
    trigger: &'a pgrx::PgTrigger<'a>,
) -> Result<Option<PgHeapTuple<'a, AllocatedByPostgres>>, pgrx::PgTriggerError> {
    let data = trigger.trigger_data() as *const pg_sys::TriggerData;
    // SAFETY: the trigger's arguments, NUL-terminated strings valid for this
    // call (read in place: pgrx's `extra_args` copies them into Strings).
    let args: Vec<&str> = unsafe {
        let t = (*data).tg_trigger;
        (0..(*t).tgnargs as usize)
            .map(|i| {
                std::ffi::CStr::from_ptr(*(*t).tgargs.add(i))
                    .to_str()
                    .unwrap_or_default()
            })
            .collect()
    };
    let (Some(&entity), Some(&column)) = (args.first(), args.get(1)) else {
        pgrx::error!("cot.log_changes takes the entity and the record's column");
    };
    let op = match trigger.op()? {
        pgrx::PgTriggerOperation::Insert => "insert",
        pgrx::PgTriggerOperation::Update => "update",
        pgrx::PgTriggerOperation::Delete => "delete",
        _ => pgrx::error!("cot.log_changes logs inserts, updates and deletes"),
    };
    // SAFETY: the trigger's data and its transition tables, valid for this call.
    let (old, new, relation) = unsafe { ((*data).tg_oldtable, (*data).tg_newtable, (*data).tg_relation) };
    let (old, new) = match op {
        "insert" => (None, Some(new)),
        "delete" => (Some(old), None),
        _ => (Some(old), Some(new)),
    };
    let stores = [old, new];
    // SAFETY: the transition tables of this call (NULL when the trigger was
    // made without them).
    let rows = unsafe {
        stores
            .iter()
            .flatten()
            .map(|&t| {
                if t.is_null() {
                    0
                } else {
                    pg_sys::tuplestore_tuple_count(t)
                }
            })
            .min()
            .unwrap_or(0)
    };
    if rows == 0 {
        // Nothing changed: nothing to log, no lock to take.
        return Ok(None);
    }
    // SAFETY: the trigger's relation, open for this call.
    let id_attribute = unsafe { key_column(relation, column) };
    let (mut saved, mut context) = (pg_sys::Oid::INVALID, 0i32);
    // SAFETY: the function's owner from the syscache; the user id is restored
    // right after the log is written, and an error in between aborts the
    // (sub)transaction, which restores it too.
    unsafe {
        let owner = function_owner(trigger.trigger().tgfoid);
        pg_sys::GetUserIdAndSecContext(&mut saved, &mut context);
        pg_sys::SetUserIdAndSecContext(owner, context | pg_sys::SECURITY_LOCAL_USERID_CHANGE as i32);
    }
    // SAFETY: the trigger's relation, open for this call.
    let log = Log::open_in(unsafe { (*(*relation).rd_rel).relnamespace });
    // The transaction's lock before the statement's ids (docs/changes.md),
    // as the owner (the sequence is not the tenant roles'). The actor is the
    // role the session set, not the user id.
    let (actor, mut key) = crate::change_log::begin(&log.slug);
    // SAFETY: the relation and transition tables of this call.
    let changes = unsafe { read_changes(relation, id_attribute, old, new) };
    let (ids, olds, news) = (&changes.ids, &changes.old, &changes.new);
    for start in (0..ids.len()).step_by(BLOCK as usize) {
        let end = (start + BLOCK as usize).min(ids.len());
        let entry = Entry {
            entity,
            op,
            record_ids: &ids[start..end],
            old: old.map(|_| &olds[start..end]),
            new: new.map(|_| &news[start..end]),
            actor,
            transition: None,
        };
        log.append(&entry, key.take());
    }
    log.close();
    // SAFETY: restores what was saved above.
    unsafe { pg_sys::SetUserIdAndSecContext(saved, context) };
    Ok(None)
}

/// The changes of a statement, in the order the statement made them: each
/// record's id (uuid), and its old and new jsonb (the whole row for an insert
/// or delete, the fields that differ for an update).
struct Changes {
    ids: Vec<Option<Datum>>,
    old: Vec<Option<Datum>>,
    new: Vec<Option<Datum>>,
}

/// The attribute number of the record's column `name` in `relation` (a
/// uuid column).
unsafe fn key_column(relation: pg_sys::Relation, name: &str) -> i32 {
    let desc = (*relation).rd_att;
    let attrs = (*desc).attrs.as_slice((*desc).natts as usize);
    for (i, a) in attrs.iter().enumerate() {
        if !a.attisdropped && std::ffi::CStr::from_ptr(a.attname.data.as_ptr()).to_bytes() == name.as_bytes()
        {
            if a.atttypid != pg_sys::UUIDOID {
                pgrx::error!("cot.log_changes: column {name} is not a uuid");
            }
            return i as i32 + 1;
        }
    }
    pgrx::error!("cot.log_changes: the table has no column {name}")
}

/// Reads the transition tables: the new rows (insert), the old rows
/// (delete), or both side by side (update: PostgreSQL adds each updated row's
/// old and new versions together, so they pair by position; a pair whose
/// record id changed is left out, as the join by id it replaced left it).
/// Each row's jsonb is made in a memory context reset after it, and copied
/// out.
unsafe fn read_changes(
    relation: pg_sys::Relation,
    key: i32,
    old: Option<*mut pg_sys::Tuplestorestate>,
    new: Option<*mut pg_sys::Tuplestorestate>,
) -> Changes {
    let desc = (*relation).rd_att;
    let mut to_jsonb = RowToJsonb::new(desc);
    let outer = pg_sys::CurrentMemoryContext;
    let row_context = pg_sys::AllocSetContextCreateExtended(
        outer,
        c"cot.log_changes row".as_ptr(),
        pg_sys::ALLOCSET_DEFAULT_MINSIZE as usize,
        pg_sys::ALLOCSET_DEFAULT_INITSIZE as usize,
        pg_sys::ALLOCSET_DEFAULT_MAXSIZE as usize,
    );
    let mut readers: Vec<Reader> = [old, new]
        .iter()
        .flatten()
        .map(|&s| Reader::new(s, desc))
        .collect();
    let mut changes = Changes {
        ids: Vec::new(),
        old: Vec::new(),
        new: Vec::new(),
    };
    loop {
        if !readers.iter_mut().all(|r| r.next()) {
            break;
        }
        let slots: Vec<*mut pg_sys::TupleTableSlot> = readers.iter().map(|r| r.slot).collect();
        let id = uuid_of(slots[0], key);
        if slots.len() == 2 && uuid_of(slots[1], key) != id {
            continue;
        }
        pg_sys::MemoryContextSwitchTo(row_context);
        let values: Vec<Datum> = slots.iter().map(|&s| to_jsonb.of(s)).collect();
        let (o, n) = match (old.is_some(), new.is_some()) {
            (true, true) => match changed_fields(values[0], values[1]) {
                Some((o, n)) => (Some(o), Some(n)),
                None => (None, None),
            },
            (true, false) => (Some(values[0]), None),
            _ => (None, Some(values[0])),
        };
        pg_sys::MemoryContextSwitchTo(outer);
        changes.old.push(o.map(|d| copy_varlena(d)));
        changes.new.push(n.map(|d| copy_varlena(d)));
        changes.ids.push(id.map(|u| {
            let p = pg_sys::palloc(16) as *mut u8;
            std::ptr::copy_nonoverlapping(u.as_ptr(), p, 16);
            Datum::from(p)
        }));
        pg_sys::MemoryContextReset(row_context);
    }
    for r in readers {
        r.done();
    }
    pg_sys::MemoryContextDelete(row_context);
    changes
}

/// The uuid in attribute `key` of the row in `slot`.
unsafe fn uuid_of(slot: *mut pg_sys::TupleTableSlot, key: i32) -> Option<[u8; 16]> {
    let mut null = false;
    let d = pg_sys::slot_getattr(slot, key, &mut null);
    (!null).then(|| {
        let mut u = [0u8; 16];
        std::ptr::copy_nonoverlapping(d.cast_mut_ptr::<u8>(), u.as_mut_ptr(), 16);
        u
    })
}

/// A copy of the (untoasted) varlena `d` in the current memory context.
unsafe fn copy_varlena(d: Datum) -> Datum {
    let size = pgrx::varsize_any(d.cast_mut_ptr());
    let p = pg_sys::palloc(size);
    std::ptr::copy_nonoverlapping(d.cast_mut_ptr::<u8>(), p as *mut u8, size);
    Datum::from(p)
}

/// A reader of one transition table, with its own read pointer (as a scan of
/// it in a query has), so that it reads from the first row whoever read the
/// table before.
struct Reader {
    store: *mut pg_sys::Tuplestorestate,
    pointer: i32,
    slot: *mut pg_sys::TupleTableSlot,
}

impl Reader {
    unsafe fn new(store: *mut pg_sys::Tuplestorestate, desc: pg_sys::TupleDesc) -> Reader {
        // Transition tables are made with EXEC_FLAG_REWIND, so a pointer may
        // ask for it.
        let pointer = pg_sys::tuplestore_alloc_read_pointer(store, pg_sys::EXEC_FLAG_REWIND as i32);
        pg_sys::tuplestore_select_read_pointer(store, pointer);
        pg_sys::tuplestore_rescan(store);
        let slot = pg_sys::MakeSingleTupleTableSlot(desc, &pg_sys::TTSOpsMinimalTuple);
        Reader { store, pointer, slot }
    }

    /// The next row into `slot` (valid until the next call); false at the end.
    unsafe fn next(&mut self) -> bool {
        pg_sys::tuplestore_select_read_pointer(self.store, self.pointer);
        pg_sys::tuplestore_gettupleslot(self.store, true, false, self.slot)
    }

    unsafe fn done(self) {
        pg_sys::tuplestore_select_read_pointer(self.store, 0);
        pg_sys::ExecDropSingleTupleTableSlot(self.slot);
    }
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
