//! `JsonbText`: a jsonb argument received as its text, parsed by Cot (with
//! a size limit and real SQLSTATEs) instead of by pgrx.
//!
//! pgrx's own `JsonB` argument parses the text with serde_json and panics when
//! that fails, which valid jsonb can make it do (a number beyond double range
//! such as `1e400`, nesting deeper than 128 levels): an `XX000` on user input.
//! Taking the text lets Cot refuse those with a real SQLSTATE, and refuse an
//! oversized document before parsing it at all.

use cot_engine::error::{CotError, ErrorKind};
use pgrx::callconv::{Arg, ArgAbi};
use pgrx::pg_sys;
use pgrx::pgrx_sql_entity_graph::metadata::{
    ArgumentError, ReturnsError, ReturnsRef, SqlMappingRef, SqlTranslatable, TypeOrigin,
};
use pgrx::FromDatum;
use serde_json::Value;

/// The text form of a jsonb argument (`jsonb_out`).
pub struct JsonbText(pub String);

impl FromDatum for JsonbText {
    unsafe fn from_polymorphic_datum(datum: pg_sys::Datum, is_null: bool, _: pg_sys::Oid) -> Option<Self> {
        if is_null {
            return None;
        }
        // SAFETY: the datum is a jsonb (the SQL signature says so); jsonb_out
        // returns a palloc'd C string in the current memory context.
        unsafe {
            let cstr = pgrx::direct_function_call::<&core::ffi::CStr>(pg_sys::jsonb_out, &[Some(datum)])?;
            Some(JsonbText(cstr.to_string_lossy().into_owned()))
        }
    }
}

unsafe impl<'fcx> ArgAbi<'fcx> for JsonbText {
    unsafe fn unbox_arg_unchecked(arg: Arg<'_, 'fcx>) -> Self {
        let index = arg.index();
        // SAFETY: pgrx calls this only for arguments declared jsonb below.
        unsafe { arg.unbox_arg_using_from_datum() }
            .unwrap_or_else(|| panic!("argument {index} must not be null"))
    }
}

// SAFETY: the SQL type is jsonb, which FromDatum above reads.
unsafe impl SqlTranslatable for JsonbText {
    const TYPE_IDENT: &'static str = pgrx::pgrx_resolved_type!(JsonbText);
    const TYPE_ORIGIN: TypeOrigin = TypeOrigin::External;
    const ARGUMENT_SQL: Result<SqlMappingRef, ArgumentError> = Ok(SqlMappingRef::literal("jsonb"));
    const RETURN_SQL: Result<ReturnsRef, ReturnsError> = Ok(ReturnsRef::One(SqlMappingRef::literal("jsonb")));
}

impl JsonbText {
    /// Parses the document; `what` names it in errors. Larger than `max_bytes`
    /// is refused before parsing.
    pub fn parse(&self, what: &str, max_bytes: usize) -> Result<Value, CotError> {
        if self.0.len() > max_bytes {
            return Err(CotError::new(
                ErrorKind::ProgramLimit,
                format!(
                    "{what} is {} bytes, at most {max_bytes} are accepted",
                    self.0.len()
                ),
            )
            .hint("split it into smaller documents"));
        }
        serde_json::from_str(&self.0).map_err(|e| {
            let (kind, hint) = if e.to_string().contains("recursion limit") {
                (ErrorKind::ProgramLimit, "nest at most 128 levels deep")
            } else {
                (
                    ErrorKind::InvalidParameter,
                    "numbers must fit a double precision value; write exact decimals as strings",
                )
            };
            CotError::new(kind, format!("{what} cannot be read: {e}")).hint(hint)
        })
    }
}
