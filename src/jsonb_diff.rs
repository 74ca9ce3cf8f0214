//! The jsonb values of the change log's entries: a row as `to_jsonb` makes
//! it, and what an update changed (the fields whose values differ, old and
//! new), computed in Rust from the two rows' jsonb rather than by a query.

use pgrx::pg_sys::{self, Datum, JsonbIteratorToken as Tok, JsonbValue};
use std::ptr::null_mut;

/// `to_jsonb` of rows of one row type, called directly (no executor): its
/// `fn_expr` tells it the argument's type, as a query's call would.
pub(crate) struct RowToJsonb {
    call: pg_sys::FmgrInfo,
}

impl RowToJsonb {
    /// For rows of the composite type `rowtype`.
    pub(crate) fn new(rowtype: pg_sys::Oid) -> Self {
        let oid = pg_sys::Oid::from(pg_sys::F_TO_JSONB);
        // SAFETY: fmgr_info fills the zeroed FmgrInfo for a built-in function;
        // the expression nodes are palloc'd in the current memory context,
        // which outlives every call (the caller's).
        unsafe {
            let mut call: pg_sys::FmgrInfo = std::mem::zeroed();
            pg_sys::fmgr_info(oid, &mut call);
            let arg = pg_sys::makeConst(
                rowtype,
                -1,
                pg_sys::Oid::INVALID,
                -1,
                Datum::from(0usize),
                true,
                false,
            );
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
            RowToJsonb { call }
        }
    }

    /// The jsonb of the row in `slot` (whose descriptor has the row type),
    /// allocated in the current memory context.
    ///
    /// # Safety
    /// `slot` holds a row of the type this was made for.
    pub(crate) unsafe fn of(&mut self, slot: *mut pg_sys::TupleTableSlot) -> Datum {
        let row = pg_sys::ExecFetchSlotHeapTupleDatum(slot);
        pg_sys::FunctionCall1Coll(&mut self.call, pg_sys::Oid::INVALID, row)
    }
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
