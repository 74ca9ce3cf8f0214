//! The SPI layer every catalog query goes through: Cot's fixed queries run
//! with plans kept per backend, their results read into Rust values, DDL
//! statements run in order, and settings read and set. Values are always SPI
//! parameters; the SQL text of a kept plan is fixed.

use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;
use pgrx::spi::{OwnedPreparedStatement, SpiTupleTable};
use pgrx::{PgOid, Uuid as PgUuid};
use std::cell::RefCell;
use std::collections::HashMap;

/// Converts between the engine's uuid type and pgrx's.
pub fn pg_uuid(u: uuid::Uuid) -> PgUuid {
    PgUuid::from_bytes(*u.as_bytes())
}

/// The reverse of [`pg_uuid`].
pub fn from_pg_uuid(u: PgUuid) -> uuid::Uuid {
    uuid::Uuid::from_bytes(*u.as_bytes())
}

/// An SPI failure that is not a Postgres ERROR (those unwind on their own) is a
/// bug in Cot's fixed SQL, never a user mistake.
pub(crate) fn spi<T>(r: Result<T, pgrx::spi::Error>) -> T {
    r.unwrap_or_else(|e| panic!("cot: internal SPI failure: {e}"))
}

thread_local! {
    /// Plans for Cot's fixed queries, prepared once per backend: parsing and
    /// planning each of them on every call cost about a third of
    /// `create_entity`'s own time (bench/create_entities.sh).
    static PLANS: RefCell<HashMap<&'static str, OwnedPreparedStatement>> = RefCell::new(HashMap::new());
}

/// Runs one of Cot's fixed queries with its kept plan and hands the result to
/// `read`. Plans are prepared as mutating so every execution takes a fresh
/// snapshot, as a volatile PL/pgSQL function's queries do: checks made after
/// [`crate::catalog::meta::lock_tenant`] must see what the session that held the lock committed.
pub(crate) fn query<R>(
    sql: &'static str,
    args: &[DatumWithOid<'_>],
    read: impl FnOnce(SpiTupleTable<'_>) -> Result<R, pgrx::spi::Error>,
) -> R {
    spi(Spi::connect_mut(|client| {
        PLANS.with(|plans| {
            let mut plans = plans.borrow_mut();
            if !plans.contains_key(sql) {
                let oids: Vec<PgOid> = args.iter().map(|a| PgOid::from(a.oid())).collect();
                let plan = client.prepare_mut(sql, &oids)?.keep();
                plans.insert(sql, plan);
            }
            let table = client.update(&plans[sql], None, args)?;
            read(table)
        })
    }))
}

/// The first column of every row, as text.
pub(crate) fn texts(t: SpiTupleTable<'_>) -> Result<Vec<String>, pgrx::spi::Error> {
    t.map(|row| row.get::<String>(1).map(Option::unwrap_or_default))
        .collect()
}

/// The first column of the first row.
pub(crate) fn first<T: FromDatum + IntoDatum>(t: SpiTupleTable<'_>) -> Result<Option<T>, pgrx::spi::Error> {
    if t.is_empty() {
        Ok(None)
    } else {
        t.first().get_one::<T>()
    }
}

/// Runs DDL statements in order on one SPI connection, calling `after` after
/// each (the failpoint counter). A Postgres ERROR unwinds out of here untouched.
pub fn run_statements(statements: &[String], mut after: impl FnMut()) {
    spi(Spi::connect_mut(|client| {
        for sql in statements {
            client.update(sql.as_str(), None, &[])?;
            after();
        }
        Ok::<_, pgrx::spi::Error>(())
    }))
}

/// Runs one probe query of a schema change (fixed shape, from the engine's
/// renderer) and returns its count.
pub fn count(sql: &str) -> u64 {
    spi(Spi::connect(|c| {
        let t = c.select(sql, None, &[])?;
        first::<i64>(t)
    }))
    .map_or(0, |n| n.max(0) as u64)
}

/// The current value of a setting, as `SHOW` prints it.
pub fn setting(name: &str) -> String {
    query(
        "SELECT pg_catalog.current_setting($1)",
        &[name.into()],
        first::<String>,
    )
    .unwrap_or_default()
}

/// Sets a setting until the end of the transaction (`SET LOCAL`).
pub fn set_local(name: &str, value: &str) {
    query(
        "SELECT pg_catalog.set_config($1, $2, true)",
        &[name.into(), value.into()],
        |_| Ok(()),
    )
}
