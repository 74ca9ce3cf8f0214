//! The jsonb values of the change log's entries: a row as `to_jsonb` makes
//! it, and what an update changed (the fields whose values differ, old and
//! new), computed in Rust rather than by a query.
//!
//! A row's object is built here column by column with what `to_jsonb` does
//! for each, worked out once per statement instead of once per value (its
//! type's category and output function are looked up in the catalog for
//! every value): booleans, integers, text, uuids and times directly, the
//! same values `to_jsonb` makes; every other type through `to_jsonb` of the
//! value itself, which is what `to_jsonb` of the row does for that field.
//! `to_jsonb` of the rows was about 15% of the backend's time on a
//! 10,000-row insert with history (bench/history.sh).

use pgrx::pg_sys::{self, Datum, JsonbIteratorToken as Tok, JsonbValue};
use std::ptr::null_mut;

/// How one column's values become jsonb.
enum Kind {
    Bool,
    /// An integer: a jsonb number, through the type's cast to numeric (the
    /// same number `to_jsonb` reads back from the integer's text).
    Integer(unsafe fn(pg_sys::FunctionCallInfo) -> Datum),
    /// text or varchar: a string of the same bytes (their output function).
    Text,
    Uuid,
    /// date, timestamp, timestamptz: `to_jsonb`'s own ISO 8601 encoder.
    DateTime(pg_sys::Oid),
    Jsonb,
    /// Anything else: `to_jsonb` of the value, its argument's type given.
    Other(Box<pg_sys::FmgrInfo>),
}

struct Column {
    /// 0-based attribute index.
    index: usize,
    name: *const std::ffi::c_char,
    name_len: usize,
    kind: Kind,
}

/// The jsonb of rows of one table, as `to_jsonb` makes it (see the module
/// comment).
pub(crate) struct RowToJsonb {
    columns: Vec<Column>,
    natts: i32,
}

impl RowToJsonb {
    /// For rows of `desc` (a table's descriptor, valid while this is used).
    pub(crate) fn new(desc: pg_sys::TupleDesc) -> Self {
        // SAFETY: the descriptor's attributes; fmgr_info fills a zeroed
        // FmgrInfo for a built-in function; the expression nodes are
        // palloc'd in the current memory context, which outlives every call.
        unsafe {
            let natts = (*desc).natts;
            let attrs = (*desc).attrs.as_slice(natts as usize);
            let mut columns = Vec::with_capacity(attrs.len());
            for (index, a) in attrs.iter().enumerate() {
                if a.attisdropped {
                    continue;
                }
                let t = a.atttypid;
                let kind = if t == pg_sys::BOOLOID {
                    Kind::Bool
                } else if t == pg_sys::INT2OID {
                    Kind::Integer(pg_sys::int2_numeric)
                } else if t == pg_sys::INT4OID {
                    Kind::Integer(pg_sys::int4_numeric)
                } else if t == pg_sys::INT8OID {
                    Kind::Integer(pg_sys::int8_numeric)
                } else if t == pg_sys::TEXTOID || t == pg_sys::VARCHAROID {
                    Kind::Text
                } else if t == pg_sys::UUIDOID {
                    Kind::Uuid
                } else if t == pg_sys::DATEOID || t == pg_sys::TIMESTAMPOID || t == pg_sys::TIMESTAMPTZOID {
                    Kind::DateTime(t)
                } else if t == pg_sys::JSONBOID {
                    Kind::Jsonb
                } else {
                    Kind::Other(Box::new(to_jsonb_of(t)))
                };
                let name = a.attname.data.as_ptr();
                columns.push(Column {
                    index,
                    name,
                    name_len: std::ffi::CStr::from_ptr(name).to_bytes().len(),
                    kind,
                });
            }
            RowToJsonb { columns, natts }
        }
    }

    /// The jsonb of the row in `slot`, allocated in the current memory
    /// context.
    ///
    /// # Safety
    /// `slot` holds a row of the descriptor this was made for.
    pub(crate) unsafe fn of(&mut self, slot: *mut pg_sys::TupleTableSlot) -> Datum {
        pg_sys::slot_getsomeattrs(slot, self.natts);
        let (values, nulls) = ((*slot).tts_values, (*slot).tts_isnull);
        let mut state: *mut pg_sys::JsonbParseState = null_mut();
        pg_sys::pushJsonbValue(&mut state, Tok::WJB_BEGIN_OBJECT, null_mut());
        let mut last_time: Option<(pg_sys::Oid, Datum, JsonbValue)> = None;
        for c in &mut self.columns {
            let mut key: JsonbValue = std::mem::zeroed();
            key.type_ = pg_sys::jbvType::jbvString;
            key.val.string.val = c.name as *mut _;
            key.val.string.len = c.name_len as i32;
            pg_sys::pushJsonbValue(&mut state, Tok::WJB_KEY, &mut key);
            let mut v: JsonbValue = std::mem::zeroed();
            let d = *values.add(c.index);
            if *nulls.add(c.index) {
                v.type_ = pg_sys::jbvType::jbvNull;
            } else if let Kind::DateTime(t) = c.kind {
                // A row's times are often one value (an insert's created_at
                // and updated_at): encoded once, with the time zone's rules.
                match last_time {
                    Some((lt, ld, lv)) if lt == t && ld == d => v = lv,
                    _ => {
                        value(&mut c.kind, d, &mut v);
                        last_time = Some((t, d, v));
                    }
                }
            } else {
                value(&mut c.kind, d, &mut v);
            }
            pg_sys::pushJsonbValue(&mut state, Tok::WJB_VALUE, &mut v);
        }
        let root = pg_sys::pushJsonbValue(&mut state, Tok::WJB_END_OBJECT, null_mut());
        Datum::from(pg_sys::JsonbValueToJsonb(root))
    }
}

/// `v` set to the jsonb value of `d` (not NULL), as `to_jsonb` makes it.
unsafe fn value(kind: &mut Kind, d: Datum, v: &mut JsonbValue) {
    use pg_sys::jbvType::*;
    match kind {
        Kind::Bool => {
            v.type_ = jbvBool;
            v.val.boolean = d.value() != 0;
        }
        Kind::Integer(cast) => {
            v.type_ = jbvNumeric;
            v.val.numeric = pgrx::direct_function_call_as_datum(*cast, &[Some(d)])
                .unwrap_or(Datum::from(0usize))
                .cast_mut_ptr();
        }
        Kind::Text => {
            let t = pg_sys::pg_detoast_datum_packed(d.cast_mut_ptr());
            v.type_ = jbvString;
            v.val.string.val = pgrx::vardata_any(t) as *mut _;
            v.val.string.len = pgrx::varsize_any_exhdr(t) as i32;
        }
        Kind::Uuid => {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            let bytes = std::slice::from_raw_parts(d.cast_mut_ptr::<u8>(), 16);
            let out = pg_sys::palloc(36) as *mut u8;
            let mut n = 0;
            for (i, b) in bytes.iter().enumerate() {
                if matches!(i, 4 | 6 | 8 | 10) {
                    *out.add(n) = b'-';
                    n += 1;
                }
                *out.add(n) = HEX[(b >> 4) as usize];
                *out.add(n + 1) = HEX[(b & 15) as usize];
                n += 2;
            }
            v.type_ = jbvString;
            v.val.string.val = out as *mut _;
            v.val.string.len = 36;
        }
        Kind::DateTime(t) => {
            let s = pg_sys::JsonEncodeDateTime(null_mut(), d, *t, std::ptr::null());
            v.type_ = jbvString;
            v.val.string.val = s;
            v.val.string.len = std::ffi::CStr::from_ptr(s).to_bytes().len() as i32;
        }
        Kind::Jsonb => binary(pg_sys::pg_detoast_datum(d.cast_mut_ptr()).cast(), v),
        Kind::Other(call) => {
            let j = pg_sys::FunctionCall1Coll(&mut **call, pg_sys::Oid::INVALID, d);
            binary(j.cast_mut_ptr(), v);
        }
    }
}

/// `v` set to a jsonb value (scalar or container) as a binary value, which
/// pushJsonbValue unpacks.
unsafe fn binary(j: *mut pg_sys::Jsonb, v: &mut JsonbValue) {
    v.type_ = pg_sys::jbvType::jbvBinary;
    v.val.binary.data = &mut (*j).root;
    v.val.binary.len = pgrx::varsize_any_exhdr(j.cast()) as i32;
}

/// `to_jsonb` for values of type `t`, called directly (no executor): its
/// `fn_expr` tells it the argument's type, as a query's call would.
unsafe fn to_jsonb_of(t: pg_sys::Oid) -> pg_sys::FmgrInfo {
    let oid = pg_sys::Oid::from(pg_sys::F_TO_JSONB);
    let mut call: pg_sys::FmgrInfo = std::mem::zeroed();
    pg_sys::fmgr_info(oid, &mut call);
    let arg = pg_sys::makeConst(t, -1, pg_sys::Oid::INVALID, -1, Datum::from(0usize), true, false);
    let args = pg_sys::lappend(null_mut(), arg.cast());
    let expr = pg_sys::makeFuncExpr(
        oid,
        pg_sys::JSONBOID,
        args,
        pg_sys::Oid::INVALID,
        pg_sys::Oid::INVALID,
        pg_sys::CoercionForm::COERCE_EXPLICIT_CALL,
    );
    call.fn_expr = expr.cast();
    call
}

/// What changed between two rows' jsonb objects (of the same row type): an
/// object of the fields whose values differ with their old values, and one
/// with their new values; `None` when no value differs. Values are compared
/// as jsonb's `=` compares them (numbers by value, strings by bytes).
///
/// # Safety
/// `old` and `new` are jsonb objects, not toasted.
pub(crate) unsafe fn changed_fields(old: Datum, new: Datum) -> Option<(Datum, Datum)> {
    let (a, b) = (
        old.cast_mut_ptr::<pg_sys::Jsonb>(),
        new.cast_mut_ptr::<pg_sys::Jsonb>(),
    );
    let mut ia = pg_sys::JsonbIteratorInit(&mut (*a).root);
    let mut ib = pg_sys::JsonbIteratorInit(&mut (*b).root);
    let (mut va, mut vb): (JsonbValue, JsonbValue) = (std::mem::zeroed(), std::mem::zeroed());
    let mut key: JsonbValue = std::mem::zeroed();
    let (mut so, mut sn): (*mut pg_sys::JsonbParseState, *mut pg_sys::JsonbParseState) =
        (null_mut(), null_mut());
    let mut any = false;
    loop {
        let ta = pg_sys::JsonbIteratorNext(&mut ia, &mut va, true);
        let tb = pg_sys::JsonbIteratorNext(&mut ib, &mut vb, true);
        if ta != tb {
            pgrx::error!("cot.log_changes: the old and new rows have different fields");
        }
        match ta {
            Tok::WJB_DONE => break,
            Tok::WJB_BEGIN_OBJECT | Tok::WJB_END_OBJECT => {}
            Tok::WJB_KEY => {
                if !same(&va, &vb) {
                    pgrx::error!("cot.log_changes: the old and new rows have different fields");
                }
                key = va;
            }
            Tok::WJB_VALUE => {
                if same(&va, &vb) {
                    continue;
                }
                if !any {
                    pg_sys::pushJsonbValue(&mut so, Tok::WJB_BEGIN_OBJECT, null_mut());
                    pg_sys::pushJsonbValue(&mut sn, Tok::WJB_BEGIN_OBJECT, null_mut());
                    any = true;
                }
                pg_sys::pushJsonbValue(&mut so, Tok::WJB_KEY, &mut key);
                pg_sys::pushJsonbValue(&mut so, Tok::WJB_VALUE, &mut va);
                pg_sys::pushJsonbValue(&mut sn, Tok::WJB_KEY, &mut key);
                pg_sys::pushJsonbValue(&mut sn, Tok::WJB_VALUE, &mut vb);
            }
            _ => pgrx::error!("cot.log_changes: a row's jsonb is not an object"),
        }
    }
    if !any {
        return None;
    }
    let o = pg_sys::pushJsonbValue(&mut so, Tok::WJB_END_OBJECT, null_mut());
    let n = pg_sys::pushJsonbValue(&mut sn, Tok::WJB_END_OBJECT, null_mut());
    Some((
        Datum::from(pg_sys::JsonbValueToJsonb(o)),
        Datum::from(pg_sys::JsonbValueToJsonb(n)),
    ))
}

/// Are two values (scalars, or nested containers) equal as jsonb's `=`
/// finds them?
unsafe fn same(a: &JsonbValue, b: &JsonbValue) -> bool {
    use pg_sys::jbvType::*;
    if a.type_ != b.type_ {
        return false;
    }
    match a.type_ {
        t if t == jbvNull => true,
        t if t == jbvBool => a.val.boolean == b.val.boolean,
        t if t == jbvString => {
            let (x, y) = (a.val.string, b.val.string);
            x.len == y.len
                && std::slice::from_raw_parts(x.val as *const u8, x.len as usize)
                    == std::slice::from_raw_parts(y.val as *const u8, y.len as usize)
        }
        t if t == jbvNumeric => pgrx::direct_function_call::<bool>(
            pg_sys::numeric_eq,
            &[Some(Datum::from(a.val.numeric)), Some(Datum::from(b.val.numeric))],
        )
        .unwrap_or(false),
        t if t == jbvBinary => pg_sys::compareJsonbContainers(a.val.binary.data, b.val.binary.data) == 0,
        _ => false,
    }
}
