//! `RawJsonb`: a jsonb datum passed through untouched, as an argument read
//! from a query or a return value built from a container's bytes, with no text
//! or serde_json conversion on the way (what `cot.query` returns).

use pgrx::callconv::{Arg, ArgAbi, BoxRet, FcInfo};
use pgrx::pg_sys;
use pgrx::pgrx_sql_entity_graph::metadata::{
    ArgumentError, ReturnsError, ReturnsRef, SqlMappingRef, SqlTranslatable, TypeOrigin,
};
use pgrx::FromDatum;

/// A jsonb value handed through untouched: read from a query and returned as
/// is, with no text or serde_json conversion on the way (what `cot.query`
/// returns: a page built in SQL).
pub struct RawJsonb(pg_sys::Datum);

impl FromDatum for RawJsonb {
    unsafe fn from_polymorphic_datum(datum: pg_sys::Datum, is_null: bool, _: pg_sys::Oid) -> Option<Self> {
        if is_null {
            return None;
        }
        // SAFETY: the datum is a jsonb varlena; the copy is made in the
        // current memory context, which pgrx's SPI reader sets to the one that
        // outlives the SPI connection.
        unsafe {
            let copy = pg_sys::pg_detoast_datum_copy(datum.cast_mut_ptr());
            Some(RawJsonb(pg_sys::Datum::from(copy)))
        }
    }
}

impl RawJsonb {
    /// A jsonb value made of a root container's bytes (see
    /// `cot_engine::jsonb_binary`), allocated in the current memory context.
    pub fn from_container(bytes: &[u8]) -> RawJsonb {
        let size = bytes.len() + pg_sys::VARHDRSZ;
        // SAFETY: a fresh allocation of `size` bytes: a 4-byte varlena header
        // and the container after it.
        unsafe {
            let v = pg_sys::palloc(size) as *mut pg_sys::varlena;
            pgrx::set_varsize_4b(v, size as i32);
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), (v as *mut u8).add(pg_sys::VARHDRSZ), bytes.len());
            RawJsonb(pg_sys::Datum::from(v))
        }
    }
}

impl pgrx::IntoDatum for RawJsonb {
    fn into_datum(self) -> Option<pg_sys::Datum> {
        Some(self.0)
    }
    fn type_oid() -> pg_sys::Oid {
        pg_sys::JSONBOID
    }
}

unsafe impl<'fcx> ArgAbi<'fcx> for RawJsonb {
    unsafe fn unbox_arg_unchecked(arg: Arg<'_, 'fcx>) -> Self {
        let index = arg.index();
        // SAFETY: pgrx calls this only for arguments declared jsonb (the SQL
        // signature below); the function is STRICT, so none is NULL.
        unsafe { arg.unbox_arg_using_from_datum() }
            .unwrap_or_else(|| panic!("argument {index} must not be null"))
    }
}

unsafe impl BoxRet for RawJsonb {
    unsafe fn box_into<'fcx>(self, fcinfo: &mut FcInfo<'fcx>) -> pgrx::datum::Datum<'fcx> {
        // SAFETY: a jsonb datum palloc'd in a context that lives to the
        // function's return.
        unsafe { fcinfo.return_raw_datum(self.0) }
    }
}

// SAFETY: the SQL type is jsonb.
unsafe impl SqlTranslatable for RawJsonb {
    const TYPE_IDENT: &'static str = pgrx::pgrx_resolved_type!(RawJsonb);
    const TYPE_ORIGIN: TypeOrigin = TypeOrigin::External;
    const ARGUMENT_SQL: Result<SqlMappingRef, ArgumentError> = Ok(SqlMappingRef::literal("jsonb"));
    const RETURN_SQL: Result<ReturnsRef, ReturnsError> = Ok(ReturnsRef::One(SqlMappingRef::literal("jsonb")));
}
