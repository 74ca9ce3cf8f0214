//! Runs a compiled page statement (see `cot_engine::query::compile`) with a
//! kept plan, and assembles `{data, next_cursor, count}` from its rows
//! by copying each record's jsonb bytes into the answer
//! ([`cot_engine::jsonb_binary`]): the records are built once, by the
//! statement, and never taken apart again.

use crate::raw_jsonb::RawJsonb;
use cot_engine::jsonb_binary::{object, ArrayBuilder, Item};
use cot_engine::query::{encode_cursor, Compiled, Param};
use cot_engine::scalar::Scalar;
use pgrx::prelude::*;
use serde_json::Value;
use std::ffi::{CStr, CString};

/// The OID of a parameter's type, named as `Scalar::cast_type` names it
/// (`[]` for an array).
fn type_oid(name: &str) -> pg_sys::Oid {
    let (base, array) = match name.strip_suffix("[]") {
        Some(b) => (b, true),
        None => (name, false),
    };
    let (one, many) = match base {
        "text" => (pg_sys::TEXTOID, pg_sys::TEXTARRAYOID),
        "integer" => (pg_sys::INT4OID, pg_sys::INT4ARRAYOID),
        "bigint" => (pg_sys::INT8OID, pg_sys::INT8ARRAYOID),
        "numeric" => (pg_sys::NUMERICOID, pg_sys::NUMERICARRAYOID),
        "double precision" => (pg_sys::FLOAT8OID, pg_sys::FLOAT8ARRAYOID),
        "boolean" => (pg_sys::BOOLOID, pg_sys::BOOLARRAYOID),
        "date" => (pg_sys::DATEOID, pg_sys::DATEARRAYOID),
        "timestamptz" => (pg_sys::TIMESTAMPTZOID, pg_sys::TIMESTAMPTZARRAYOID),
        "time" => (pg_sys::TIMEOID, pg_sys::TIMEARRAYOID),
        "uuid" => (pg_sys::UUIDOID, pg_sys::UUIDARRAYOID),
        "jsonb" => (pg_sys::JSONBOID, pg_sys::JSONBARRAYOID),
        other => panic!("cot: the query compiler named an unknown parameter type {other}"),
    };
    if array {
        many
    } else {
        one
    }
}

fn param_type(p: &Param) -> pg_sys::Oid {
    match p {
        Param::Value { ty, .. } => type_oid(ty),
        Param::List { ty, .. } => type_oid(&format!("{ty}[]")),
    }
}

/// `text` read by the input function of type `oid`: a value that does not
/// fit the type fails here with the type's own error (22P02 and kin), as a
/// cast would.
///
/// # Safety
/// `oid` must be a type's OID.
unsafe fn input(oid: pg_sys::Oid, text: &str) -> pg_sys::Datum {
    let Ok(c) = CString::new(text) else {
        crate::raise::raise(crate::raise::error(
            cot_engine::error::ErrorKind::InvalidParameter,
            "a query value holds a NUL character",
            "",
        ));
    };
    let (mut func, mut ioparam) = (pg_sys::Oid::INVALID, pg_sys::Oid::INVALID);
    // SAFETY: the caller's promise; input functions read a NUL-terminated string.
    unsafe {
        pg_sys::getTypeInputInfo(oid, &mut func, &mut ioparam);
        pg_sys::OidInputFunctionCall(func, c.as_ptr() as *mut _, ioparam, -1)
    }
}

/// The parameters as datums of their types, allocated in the current memory
/// context.
///
/// # Safety
/// Callable wherever input functions are.
unsafe fn args(params: &[Param]) -> Vec<pg_sys::Datum> {
    params
        .iter()
        .map(|p| match p {
            // SAFETY: type_oid names a built-in type.
            Param::Value { ty, text, at } => {
                crate::raise::at_pointer(at, || unsafe { input(type_oid(ty), text) })
            }
            Param::List { ty, items, at } => unsafe {
                let elem = type_oid(ty);
                let mut values: Vec<pg_sys::Datum> = items
                    .iter()
                    .enumerate()
                    .map(|(i, t)| crate::raise::at_pointer(&format!("{at}/{i}"), || input(elem, t)))
                    .collect();
                let (mut len, mut byval, mut align) = (0i16, false, 0 as std::ffi::c_char);
                pg_sys::get_typlenbyvalalign(elem, &mut len, &mut byval, &mut align);
                let array = pg_sys::construct_array(
                    values.as_mut_ptr(),
                    values.len() as i32,
                    elem,
                    len as i32,
                    byval,
                    align,
                );
                pg_sys::Datum::from(array)
            },
        })
        .collect()
}

/// # Safety
/// SPI must be connected.
unsafe fn prepare(sql: &str, params: &[Param], options: u32) -> pg_sys::SPIPlanPtr {
    let mut types: Vec<pg_sys::Oid> = params.iter().map(param_type).collect();
    let text =
        CString::new(sql).expect("query statements hold no NUL: names are checked, values are parameters");
    // SAFETY: the caller's promise; an error raised while preparing unwinds
    // past the plan cache, which then lacks the entry.
    let plan = unsafe {
        pg_sys::SPI_prepare_cursor(
            text.as_ptr(),
            types.len() as i32,
            types.as_mut_ptr(),
            options as i32,
        )
    };
    if plan.is_null() {
        panic!("cot: could not prepare a query statement (SPI code {})", unsafe {
            pg_sys::SPI_result
        });
    }
    plan
}

/// The kept plan of `c`, prepared on first use. Without a filter the plan
/// is generic (`Compiled::generic_plan`): planning such a page cost more than
/// running it. With one, PostgreSQL plans the first five calls for their
/// values and then keeps a generic plan only if it costs no more, as it does
/// for any prepared statement (forcing generic plans, a filtered 50-record
/// page ran 1.33 times as fast as the hand-written SQL, against 1.0 now; but
/// a generic plan assumes average selectivities: for `"status": {"in":
/// [...]}` it chose a scan in id order, which reads the whole table for a
/// value with fewer matches than the page).
///
/// # Safety
/// SPI must be connected.
unsafe fn plan(c: &Compiled) -> pg_sys::SPIPlanPtr {
    let options = if c.generic_plan {
        pg_sys::CURSOR_OPT_GENERIC_PLAN
    } else {
        0
    };
    // SAFETY: SPI is connected (the caller's promise).
    unsafe { crate::plan_cache::get_or_prepare(&c.sql, || prepare(&c.sql, &c.params, options)) }
}

/// Runs `f` with JIT off, as `SET LOCAL jit = off` would for its duration
/// (the way a function's `SET` clause does it: a GUC nesting level, undone
/// at the end, or by the (sub)transaction's abort on an error). The planner
/// decides on JIT when it plans and the executor compiles when it starts;
/// both happen inside `f`. A page statement is a small OLTP read: JIT
/// compiling a generated one cost 10-26 ms per call, more than running it,
/// and a statement of many embeds spent minutes compiling past
/// `statement_timeout`, which it does not check while compiling.
fn without_jit<R>(f: impl FnOnce() -> R) -> R {
    // SAFETY: reads this backend's copy of the `jit` setting.
    if !unsafe { pg_sys::jit_enabled } {
        return f();
    }
    // SAFETY: set_config_option and AtEOXact_GUC as fmgr_security_definer
    // calls them for a `SET` clause; `jit` is a user-settable boolean.
    unsafe {
        let level = pg_sys::NewGUCNestLevel();
        pg_sys::set_config_option(
            c"jit".as_ptr(),
            c"off".as_ptr(),
            pg_sys::GucContext::PGC_USERSET,
            pg_sys::GucSource::PGC_S_SESSION,
            pg_sys::GucAction::GUC_ACTION_SAVE,
            true,
            0,
            false,
        );
        let out = f();
        pg_sys::AtEOXact_GUC(true, level);
        out
    }
}

/// Runs `plan` under a snapshot taken once the plan's locks are held, as a
/// plain SELECT does: read-only SPI would reuse the calling statement's
/// snapshot, taken before a wait for a table being rewritten, and a rewritten
/// table's rows (stamped with the rewriting transaction) would all be
/// invisible to it (concurrency_reads.test.mjs). The statement is a SELECT;
/// the rows stay in `SPI_tuptable` until the next SPI call or the end of the
/// connection.
///
/// # Safety
/// SPI must be connected; the rows must not be used after either.
unsafe fn execute<'a>(plan: pg_sys::SPIPlanPtr, params: &[Param]) -> &'a [pg_sys::HeapTuple] {
    unsafe {
        let mut values = args(params);
        let nulls = vec![b' ' as std::ffi::c_char; values.len()];
        let rc = pg_sys::SPI_execute_plan(plan, values.as_mut_ptr(), nulls.as_ptr(), false, 0);
        if rc != pg_sys::SPI_OK_SELECT as i32 {
            panic!("cot: a query statement failed (SPI code {rc})");
        }
        let table = pg_sys::SPI_tuptable;
        if table.is_null() || pg_sys::SPI_processed == 0 {
            return &[];
        }
        std::slice::from_raw_parts((*table).vals, pg_sys::SPI_processed as usize)
    }
}

/// `d`, a datum of type `oid`, as its type's output function writes it.
///
/// # Safety
/// `d` must be a non-NULL datum of type `oid`.
unsafe fn output(oid: pg_sys::Oid, d: pg_sys::Datum) -> String {
    let (mut func, mut varlena) = (pg_sys::Oid::INVALID, false);
    // SAFETY: the caller's promise.
    unsafe {
        pg_sys::getTypeOutputInfo(oid, &mut func, &mut varlena);
        c_text(pg_sys::OidOutputFunctionCall(func, d))
    }
}

/// The plan of `c` (EXPLAIN, JSON format) for its values, which are given
/// to the planner as constants; `analyze` runs it. (`cot.query` runs such a
/// plan for the first calls of a query shape, and a generic one after if
/// PostgreSQL finds it no costlier.) EXPLAIN may not run read-only, hence the
/// parameter list rather than `execute`.
pub fn explain(c: &Compiled, analyze: bool) -> Value {
    let sql = format!(
        "EXPLAIN (FORMAT JSON{}) {}",
        if analyze { ", ANALYZE, BUFFERS" } else { "" },
        c.sql
    );
    let text = without_jit(|| {
        Spi::connect(|_| {
            // SAFETY: SPI is connected; the parameter list holds as many slots
            // as parameters; the one row is read before the next SPI call.
            unsafe {
                let plan = prepare(&sql, &c.params, 0);
                let values = args(&c.params);
                let list = pg_sys::makeParamList(values.len() as i32);
                let slots = (*list).params.as_mut_slice(values.len());
                for (i, (value, param)) in values.iter().zip(&c.params).enumerate() {
                    slots[i] = pg_sys::ParamExternData {
                        value: *value,
                        isnull: false,
                        pflags: pg_sys::PARAM_FLAG_CONST as u16,
                        ptype: param_type(param),
                    };
                }
                let rc = pg_sys::SPI_execute_plan_with_paramlist(plan, list, false, 0);
                if rc != pg_sys::SPI_OK_UTILITY as i32 || pg_sys::SPI_processed == 0 {
                    panic!("cot: EXPLAIN failed (SPI code {rc})");
                }
                let table = pg_sys::SPI_tuptable;
                let mut null = false;
                let d = pg_sys::SPI_getbinval(*(*table).vals, (*table).tupdesc, 1, &mut null);
                let out = output(pg_sys::SPI_gettypeid((*table).tupdesc, 1), d);
                pg_sys::SPI_freeplan(plan);
                out
            }
        })
    });
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// The bytes of a varlena datum, without its header (detoasted if needed).
///
/// # Safety
/// `d` must be a varlena datum that lives as long as the returned slice.
unsafe fn varlena_data<'a>(d: pg_sys::Datum) -> &'a [u8] {
    unsafe {
        let v = pg_sys::pg_detoast_datum_packed(d.cast_mut_ptr());
        std::slice::from_raw_parts(pgrx::vardata_any(v) as *const u8, pgrx::varsize_any_exhdr(v))
    }
}

fn c_text(p: *mut std::ffi::c_char) -> String {
    // SAFETY: output functions return a palloc'd NUL-terminated string.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

/// A key value as cursors carry it: the text `to_jsonb(value) #>> '{}'`
/// gives, which casts back to the value whatever the session's DateStyle.
///
/// # Safety
/// `d` must be a non-NULL datum of the column's type.
unsafe fn key_text(d: pg_sys::Datum, ty: &Scalar) -> String {
    // SAFETY (each use): the datum is of the column's type, a built-in one.
    let output = |oid: pg_sys::Oid| unsafe { output(oid, d) };
    let datetime = |oid: pg_sys::Oid| {
        // SAFETY: a date or timestamptz datum, encoded as to_jsonb does.
        c_text(unsafe { pg_sys::JsonEncodeDateTime(std::ptr::null_mut(), d, oid, std::ptr::null()) })
    };
    match ty {
        Scalar::Integer => (d.value() as i32).to_string(),
        Scalar::BigInt => (d.value() as i64).to_string(),
        Scalar::Boolean => (d.value() & 0xff != 0).to_string(),
        Scalar::Date => datetime(pg_sys::DATEOID),
        Scalar::Timestamp => datetime(pg_sys::TIMESTAMPTZOID),
        Scalar::Decimal { .. } => output(pg_sys::NUMERICOID),
        Scalar::Float => output(pg_sys::FLOAT8OID),
        Scalar::Time => output(pg_sys::TIMEOID),
        Scalar::Uuid => output(pg_sys::UUIDOID),
        Scalar::Json => output(pg_sys::JSONBOID),
        Scalar::Text | Scalar::Enum(_) | Scalar::Email | Scalar::Url => output(pg_sys::TEXTOID),
    }
}

/// Runs `c` and returns its answer.
pub fn run(c: &Compiled) -> RawJsonb {
    let container = without_jit(|| {
        Spi::connect(|_| {
            // SAFETY: SPI is connected for the closure; the tuple table is read
            // right after the statement, before any other SPI call, and the
            // slices into it are copied before the connection ends.
            unsafe { assemble(c) }
        })
    });
    crate::plan_cache::after_run(&c.sql);
    RawJsonb::from_container(&container)
}

/// # Safety
/// SPI must be connected.
unsafe fn assemble(c: &Compiled) -> Vec<u8> {
    unsafe {
        let rows = execute(plan(c), &c.params);
        let desc = if rows.is_empty() {
            std::ptr::null_mut()
        } else {
            (*pg_sys::SPI_tuptable).tupdesc
        };
        let get = |row: pg_sys::HeapTuple, column: usize| {
            let mut null = false;
            let d = pg_sys::SPI_getbinval(row, desc, column as i32, &mut null);
            (!null).then_some(d)
        };
        let mut data = ArrayBuilder::new();
        let mut records = 0u64;
        let mut last: Option<pg_sys::HeapTuple> = None;
        for &row in rows {
            // With a count, an empty page is one row without a record.
            let Some(r) = get(row, 1) else { continue };
            records += 1;
            if records > c.limit {
                break;
            }
            data.push(Item::Jsonb(varlena_data(r)))
                .unwrap_or_else(|e| crate::raise::raise(e));
            last = Some(row);
        }
        let cursor = match last {
            Some(row) if records > c.limit => {
                let key: Vec<Value> = c
                    .keys
                    .iter()
                    .enumerate()
                    .map(|(i, ty)| get(row, i + 2).map_or(Value::Null, |d| Value::String(key_text(d, ty))))
                    .collect();
                Some(encode_cursor(&c.signature, &Value::Array(key)))
            }
            _ => None,
        };
        let count = match rows.first() {
            Some(&row) if c.count => get(row, c.keys.len() + 2).map(|n| {
                let numeric = pgrx::direct_function_call_as_datum(pg_sys::int8_numeric, &[Some(n)])
                    .expect("int8_numeric returns a value");
                let v = numeric.cast_mut_ptr::<pg_sys::varlena>();
                std::slice::from_raw_parts(v as *const u8, pgrx::varsize_any(v))
            }),
            _ => None,
        };
        let data = data.finish();
        object(&[
            ("data", Item::Jsonb(&data)),
            (
                "next_cursor",
                cursor
                    .as_deref()
                    .map_or(Item::Null, |s| Item::String(s.as_bytes())),
            ),
            ("count", count.map_or(Item::Null, Item::Numeric)),
        ])
        .unwrap_or_else(|e| crate::raise::raise(e))
    }
}
