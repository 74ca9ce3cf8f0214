//! Raising engine errors as Postgres errors. The SQLSTATE comes from
//! [`cot_engine::error::ErrorKind::sqlstate`]; this only converts its five
//! characters to the code Postgres uses.

use cot_engine::error::{CotError, ErrorKind, Violation};
use pgrx::pg_sys::panic::{CaughtError, ErrorReport};
use pgrx::{PgLogLevel, PgSqlErrorCode, PgTryBuilder};

/// `MAKE_SQLSTATE` from Postgres's elog.h: six bits per character.
fn sqlstate_code(sqlstate: &str) -> PgSqlErrorCode {
    let code = sqlstate.bytes().enumerate().fold(0i32, |acc, (i, ch)| {
        acc + ((((ch as i32) - ('0' as i32)) & 0x3F) << (6 * i))
    });
    PgSqlErrorCode::from(code)
}

/// Raises `err` as an ERROR: the transaction aborts and nothing is left half made.
pub fn raise(err: CotError) -> ! {
    let mut report = ErrorReport::new(sqlstate_code(err.kind.sqlstate()), err.message, "cot");
    if let Some(d) = err.detail {
        report = report.set_detail(d);
    }
    if let Some(h) = err.hint {
        report = report.set_hint(h);
    }
    report.report(PgLogLevel::ERROR);
    unreachable!("ereport(ERROR) returns control to Postgres")
}

/// Raises a list of violations as one error (see [`CotError::from_violations`]).
pub fn raise_violations(what: &str, violations: &[Violation]) -> ! {
    raise(CotError::from_violations(what, violations))
}

/// Runs `f`; a data error Postgres raises in it (SQLSTATE class 22: a value
/// its type cannot read, a number out of range, ...) is raised again with
/// `at <pointer>` as DETAIL, so the caller learns which value of the document
/// it was. The SQLSTATE, message and hint stay Postgres's own; any other
/// error passes through untouched.
pub fn at_pointer<R>(pointer: &str, f: impl FnOnce() -> R) -> R {
    let data_exception = PgSqlErrorCode::ERRCODE_DATA_EXCEPTION as i32 & 0xFFF;
    PgTryBuilder::new(std::panic::AssertUnwindSafe(f))
        .catch_others(|e: CaughtError| match e {
            CaughtError::PostgresError(ref r) if r.sql_error_code() as i32 & 0xFFF == data_exception => {
                let mut report = ErrorReport::new(r.sql_error_code(), r.message().to_string(), "cot")
                    .set_detail(format!("at {pointer}"));
                if let Some(h) = r.hint() {
                    report = report.set_hint(h.to_string());
                }
                report.report(PgLogLevel::ERROR);
                unreachable!("ereport(ERROR) returns control to Postgres")
            }
            other => other.rethrow(),
        })
        .execute()
}

/// Shorthand for an error with a hint.
pub fn error(kind: ErrorKind, message: impl Into<String>, hint: impl Into<String>) -> CotError {
    CotError::new(kind, message).hint(hint)
}

#[cfg(test)]
mod tests {
    #[test]
    fn sqlstate_encoding_matches_postgres() {
        use super::*;
        assert_eq!(
            sqlstate_code("22023"),
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE
        );
        assert_eq!(sqlstate_code("42P07"), PgSqlErrorCode::ERRCODE_DUPLICATE_TABLE);
        assert_eq!(
            sqlstate_code("2BP01"),
            PgSqlErrorCode::ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST
        );
    }
}
