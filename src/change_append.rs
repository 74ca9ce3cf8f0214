//! Appending a row to a tenant's change log without the executor, as
//! PostgreSQL's catalog code and logical replication's apply worker write
//! rows: every column's value computed here, the tuple formed and inserted
//! into the heap (`simple_heap_insert`, which WAL-logs it and toasts and
//! compresses what is too large, as the executor's insert does), then each
//! index's entry (`index_insert`, the primary key with its unique check).
//! Both writers of the log use it: the history triggers'
//! `cot.log_changes` (src/change_writer.rs) and the workflow triggers'
//! `cot.log_transition`.
//!
//! Why: a one-row log entry written by an `INSERT` through SPI spent more
//! time starting the executor (`ExecInitModifyTable` and its plan's nodes,
//! about 11% of the backend) than on the heap insert and index entries
//! together (7.5%) (docs/benchmarks.md, "Record history").
//!
//! What the executor did that this does itself: the `NOT NULL` columns are
//! checked; the defaults (`xid`, `at`) are computed as `pg_current_xact_id()`
//! and `statement_timestamp()` compute them. What it does not do: fire
//! triggers, check CHECK constraints, or fill expression or partial index
//! entries; the log has none of these (Cot makes it), and one added by hand
//! is refused with `55000` rather than silently skipped.

use crate::change_log_shape as shape;
use cot_engine::error::{CotError, ErrorKind};
use pgrx::pg_sys::{self, Datum};
use pgrx::IntoDatum;
use std::ffi::{c_char, c_int, CStr};

/// The log's columns and their types (engine/src/ddl/history.rs `create`).
const COLUMNS: [(&CStr, pg_sys::Oid); 10] = [
    (c"id", pg_sys::INT8OID),
    (c"xid", pg_sys::XID8OID),
    (c"at", pg_sys::TIMESTAMPTZOID),
    (c"entity", pg_sys::TEXTOID),
    (c"op", pg_sys::TEXTOID),
    (c"record_ids", pg_sys::UUIDARRAYOID),
    (c"old", pg_sys::JSONBARRAYOID),
    (c"new", pg_sys::JSONBARRAYOID),
    (c"actor", pg_sys::JSONBOID),
    (c"transition", pg_sys::JSONBOID),
];
const ID: usize = 0;
const XID: usize = 1;
const AT: usize = 2;
const ENTITY: usize = 3;
const OP: usize = 4;
const RECORD_IDS: usize = 5;
const OLD: usize = 6;
const NEW: usize = 7;
const ACTOR: usize = 8;
const TRANSITION: usize = 9;

/// One row of the log: the changes of one statement (at most
/// `cot_engine::plan::history::BLOCK`) or one transition. Datums are
/// uuid (`record_ids`) and jsonb (the others) values of the current memory
/// context; `None` in a list is an SQL NULL element.
pub(crate) struct Entry<'a> {
    pub entity: &'a str,
    pub op: &'a str,
    pub record_ids: &'a [Option<Datum>],
    pub old: Option<&'a [Option<Datum>]>,
    pub new: Option<&'a [Option<Datum>]>,
    pub actor: Datum,
    pub transition: Option<Datum>,
}

/// A tenant's log, open for appending: the table and its indexes, locked
/// `RowExclusiveLock` (as an `INSERT` locks them) to the transaction's end.
pub(crate) struct Log {
    rel: pg_sys::Relation,
    /// The attribute index (0-based) of each of [`COLUMNS`].
    columns: [usize; 10],
    indexes: Vec<(pg_sys::Relation, *mut pg_sys::IndexInfo)>,
    /// The tenant whose log it is.
    pub slug: String,
}

fn no_log(slug: &str) -> ! {
    refuse(
        format!("tenant {slug} has no change log"),
        "an entity with \"history\": true or a state field makes it",
    )
}

fn refuse(message: String, hint: &str) -> ! {
    crate::raise::raise(CotError::new(ErrorKind::NotInPrerequisiteState, message).hint(hint))
}

impl Log {
    /// Opens the log of tenant `slug`; `55000` when it has none, or when
    /// the table is not in the shape Cot made it in.
    pub(crate) fn open(slug: &str) -> Log {
        if let Some(log) = shape::kept(None, Some(slug)).and_then(Self::open_kept) {
            return log;
        }
        let names = cot_engine::stored::tenant_names(slug).unwrap_or_else(|e| crate::raise::raise(e));
        let schema = std::ffi::CString::new(names.storage_schema.as_str()).unwrap_or_default();
        // SAFETY: a catalog lookup by name (missing_ok: an invalid oid).
        let namespace = unsafe { pg_sys::get_namespace_oid(schema.as_ptr(), true) };
        if namespace == pg_sys::Oid::INVALID {
            no_log(slug);
        }
        Self::open_checked(namespace, slug.to_owned())
    }

    /// Opens the log in tenant storage schema `namespace` (the schema of the
    /// table whose changes are logged), as [`Log::open`].
    pub(crate) fn open_in(namespace: pg_sys::Oid) -> Log {
        if let Some(log) = shape::kept(Some(namespace), None).and_then(Self::open_kept) {
            return log;
        }
        // SAFETY: the schema's name from the syscache (NULL if it is gone).
        let schema = unsafe {
            let p = pg_sys::get_namespace_name(namespace);
            if p.is_null() {
                String::new()
            } else {
                CStr::from_ptr(p).to_string_lossy().into_owned()
            }
        };
        let Some(slug) = schema.strip_prefix("tenant_") else {
            pgrx::error!("cot.log_changes logs the tables of tenants' storage schemas only");
        };
        Self::open_checked(namespace, slug.to_owned())
    }

    /// Opens the log as found before (src/change_log_shape.rs), or `None`
    /// when it has changed since (or is gone): then it is looked up again.
    fn open_kept(found: shape::Shape) -> Option<Log> {
        // SAFETY: opened and locked as an INSERT would (NULL if the table was
        // dropped meanwhile); the indexes likewise. Locking processes pending
        // invalidations: the count is compared after it.
        unsafe {
            let rel = pg_sys::try_table_open(found.relid, pg_sys::RowExclusiveLock as pg_sys::LOCKMODE);
            if rel.is_null() {
                return None;
            }
            if shape::generation() != found.generation() {
                pg_sys::table_close(rel, pg_sys::NoLock as pg_sys::LOCKMODE);
                return None;
            }
            let indexes = found
                .indexes
                .iter()
                .map(|&oid| {
                    let index = pg_sys::index_open(oid, pg_sys::RowExclusiveLock as pg_sys::LOCKMODE);
                    (index, pg_sys::BuildIndexInfo(index))
                })
                .collect();
            Some(Log {
                rel,
                columns: found.columns,
                indexes,
                slug: found.slug,
            })
        }
    }

    /// Looks the log up in `namespace`, checks its shape and keeps what was
    /// found.
    fn open_checked(namespace: pg_sys::Oid, slug: String) -> Log {
        let generation = shape::generation();
        let table = std::ffi::CString::new(cot_engine::plan::history::CHANGE_LOG).unwrap_or_default();
        // SAFETY: a catalog lookup by name (an invalid oid when missing),
        // then the table opened and locked as an INSERT would.
        let rel = unsafe {
            let relid = pg_sys::get_relname_relid(table.as_ptr(), namespace);
            if relid == pg_sys::Oid::INVALID {
                no_log(&slug);
            }
            pg_sys::table_open(relid, pg_sys::RowExclusiveLock as pg_sys::LOCKMODE)
        };
        let what = format!("the change log of tenant {slug}");
        // SAFETY: the open relation's catalog data, valid while it is open.
        unsafe {
            let form = (*rel).rd_rel;
            let triggers = (*rel).trigdesc;
            let constr = (*(*rel).rd_att).constr;
            if (*form).relkind != pg_sys::RELKIND_RELATION as c_char {
                refuse(
                    format!("{what} is not a plain table"),
                    "drop the tenant's log and let Cot make it again",
                );
            }
            if !triggers.is_null() && (*triggers).numtriggers > 0 {
                refuse(
                    format!("{what} has triggers, which Cot's writer does not fire"),
                    "drop them; read the log with cot.changes",
                );
            }
            if !constr.is_null() && (*constr).num_check > 0 {
                refuse(
                    format!("{what} has CHECK constraints, which Cot's writer does not check"),
                    "drop them",
                );
            }
        }
        let columns = Self::columns(rel, &what);
        // SAFETY: the relation is open; RelationGetIndexList returns a list
        // of index oids, each opened and locked as an INSERT opens them.
        let indexes = unsafe {
            let list = pg_sys::RelationGetIndexList(rel);
            let n = if list.is_null() {
                0
            } else {
                (*list).length as usize
            };
            let mut indexes = Vec::with_capacity(n);
            for i in 0..n {
                let oid = (*(*list).elements.add(i)).oid_value;
                let index = pg_sys::index_open(oid, pg_sys::RowExclusiveLock as pg_sys::LOCKMODE);
                let info = pg_sys::BuildIndexInfo(index);
                if !(*info).ii_Expressions.is_null()
                    || !(*info).ii_Predicate.is_null()
                    || !(*info).ii_ExclusionOps.is_null()
                    || !(*(*index).rd_index).indimmediate
                {
                    refuse(
                        format!("{what} has an expression, partial, exclusion or deferred index, which Cot's writer does not fill"),
                        "drop it",
                    );
                }
                indexes.push((index, info));
            }
            pg_sys::list_free(list);
            indexes
        };
        // SAFETY: the open relations' oids.
        let (relid, oids) = unsafe {
            (
                (*rel).rd_id,
                indexes.iter().map(|&(i, _)| (*i).rd_id).collect::<Vec<_>>(),
            )
        };
        shape::keep(namespace, slug.clone(), relid, columns, oids, generation);
        Log {
            rel,
            columns,
            indexes,
            slug,
        }
    }

    /// Each of [`COLUMNS`] in `rel`, with its type checked.
    fn columns(rel: pg_sys::Relation, what: &str) -> [usize; 10] {
        let mut found = [usize::MAX; 10];
        // SAFETY: the open relation's tuple descriptor.
        unsafe {
            let desc = (*rel).rd_att;
            let attrs = (*desc).attrs.as_slice((*desc).natts as usize);
            for (i, a) in attrs.iter().enumerate() {
                if a.attisdropped {
                    continue;
                }
                let name = CStr::from_ptr(a.attname.data.as_ptr());
                if let Some(c) = COLUMNS.iter().position(|(n, _)| *n == name) {
                    if a.atttypid != COLUMNS[c].1 {
                        refuse(
                            format!(
                                "{what}: column {} has another type than Cot's",
                                name.to_string_lossy()
                            ),
                            "drop the tenant's log and let Cot make it again",
                        );
                    }
                    found[c] = i;
                }
            }
        }
        if let Some(c) = found.iter().position(|&i| i == usize::MAX) {
            refuse(
                format!("{what} has no column {}", COLUMNS[c].0.to_string_lossy()),
                "drop the tenant's log and let Cot make it again",
            );
        }
        found
    }

    /// Appends `e` and returns its id (the first of its changes): `id`, a
    /// value of `cot.change_seq` nothing has used (the key of the lock the
    /// transaction has just taken), or else a fresh one, taken now (so after
    /// the transaction's lock, which the caller took with
    /// `change_log::begin`).
    pub(crate) fn append(&self, e: &Entry<'_>, id: Option<i64>) -> i64 {
        // SAFETY: nextval on the extension's sequence (the caller runs as a
        // role that may use it); the transaction and statement getters read
        // this backend's state.
        let (id, xid, at) = unsafe {
            let id = id.unwrap_or_else(|| {
                pgrx::direct_function_call::<i64>(pg_sys::nextval_oid, &[shape::sequence().into_datum()])
                    .unwrap_or_default()
            });
            let xid = pg_sys::GetTopFullTransactionId().value;
            (id, xid, pg_sys::GetCurrentStatementStartTimestamp())
        };
        // SAFETY: the relation is open; the values are datums of the types
        // checked in `columns`, and the tuple is formed from them.
        unsafe {
            let desc = (*self.rel).rd_att;
            let natts = (*desc).natts as usize;
            let mut values = vec![Datum::from(0usize); natts];
            let mut nulls = vec![true; natts];
            let mut set = |column: usize, value: Option<Datum>| {
                if let Some(v) = value {
                    values[self.columns[column]] = v;
                    nulls[self.columns[column]] = false;
                }
            };
            set(ID, Some(Datum::from(id)));
            set(XID, Some(Datum::from(xid)));
            set(AT, Some(Datum::from(at)));
            set(ENTITY, e.entity.into_datum());
            set(OP, e.op.into_datum());
            set(RECORD_IDS, Some(array(e.record_ids, pg_sys::UUIDOID, 16, b'c')));
            set(OLD, e.old.map(|l| array(l, pg_sys::JSONBOID, -1, b'i')));
            set(NEW, e.new.map(|l| array(l, pg_sys::JSONBOID, -1, b'i')));
            set(ACTOR, Some(e.actor));
            set(TRANSITION, e.transition);
            let attrs = (*desc).attrs.as_slice(natts);
            for (a, null) in attrs.iter().zip(&nulls) {
                if a.attnotnull && *null && !a.attisdropped {
                    let column = CStr::from_ptr(a.attname.data.as_ptr()).to_string_lossy();
                    crate::raise::raise(CotError::new(
                        ErrorKind::NotNullViolation,
                        format!("null value in column \"{column}\" of the change log"),
                    ));
                }
            }
            let tuple = pg_sys::heap_form_tuple(desc, values.as_mut_ptr(), nulls.as_mut_ptr());
            pg_sys::simple_heap_insert(self.rel, tuple);
            self.index(tuple);
            pg_sys::heap_freetuple(tuple);
        }
        id
    }

    /// The index entries of `tuple`, just inserted (its `t_self` is set).
    unsafe fn index(&self, tuple: pg_sys::HeapTuple) {
        let slot = pg_sys::MakeSingleTupleTableSlot((*self.rel).rd_att, &pg_sys::TTSOpsHeapTuple);
        pg_sys::ExecStoreHeapTuple(tuple, slot, false);
        let mut values = [Datum::from(0usize); pg_sys::INDEX_MAX_KEYS as usize];
        let mut nulls = [false; pg_sys::INDEX_MAX_KEYS as usize];
        for &(index, info) in &self.indexes {
            // An index being built concurrently takes no entries yet.
            if !(*info).ii_ReadyForInserts {
                continue;
            }
            pg_sys::FormIndexDatum(
                info,
                slot,
                std::ptr::null_mut(),
                values.as_mut_ptr(),
                nulls.as_mut_ptr(),
            );
            let check = if (*(*index).rd_index).indisunique {
                pg_sys::IndexUniqueCheck::UNIQUE_CHECK_YES
            } else {
                pg_sys::IndexUniqueCheck::UNIQUE_CHECK_NO
            };
            pg_sys::index_insert(
                index,
                values.as_mut_ptr(),
                nulls.as_mut_ptr(),
                &mut (*tuple).t_self,
                self.rel,
                check,
                false,
                info,
            );
        }
        pg_sys::ExecDropSingleTupleTableSlot(slot);
    }

    /// Closes the table and its indexes; their locks are kept to the
    /// transaction's end, as the executor keeps them.
    pub(crate) fn close(self) {
        // SAFETY: each relation was opened by `open` and is closed once.
        unsafe {
            for (index, _) in self.indexes {
                pg_sys::index_close(index, pg_sys::NoLock as pg_sys::LOCKMODE);
            }
            pg_sys::table_close(self.rel, pg_sys::NoLock as pg_sys::LOCKMODE);
        }
    }
}

/// A one-dimensional array of `items` (not by value) in the current memory
/// context; the elements are copied.
unsafe fn array(items: &[Option<Datum>], element: pg_sys::Oid, len: i16, align: u8) -> Datum {
    let mut values: Vec<Datum> = items.iter().map(|d| d.unwrap_or(Datum::from(0usize))).collect();
    let mut nulls: Vec<bool> = items.iter().map(Option::is_none).collect();
    let mut dims = [items.len() as c_int];
    let mut lower = [1 as c_int];
    let a = pg_sys::construct_md_array(
        values.as_mut_ptr(),
        nulls.as_mut_ptr(),
        1,
        dims.as_mut_ptr(),
        lower.as_mut_ptr(),
        element,
        len as c_int,
        false,
        align as c_char,
    );
    Datum::from(a)
}
