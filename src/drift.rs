//! `cot.check(tenant)`: differences between what a tenant's definitions say
//! and what the catalog holds (drift), and work deferred on purpose (pending
//! validations and index builds, with the statement to run). The drift guard
//! that refuses or records out-of-band DDL is SQL (`cot.guard_ddl`, in
//! sql/finalize.sql); Cot's own statements are flagged in `execute.rs`.

use crate::catalog::{meta, system};
use crate::entity::{read_stored, tenant_names, validated};
use crate::permissions::require_define;
use crate::tenants::tenant_named;
use cot_engine::drift::{compare, expected};
use cot_engine::plan::Labels;
use cot_engine::stored;
use pgrx::prelude::*;

/// One finding per row: the entity, `drift` or `pending`, the object, what
/// differs, and for pending work the statement that completes it. No rows:
/// the catalog matches the definitions.
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
#[allow(clippy::type_complexity)]
fn check(
    tenant: &str,
) -> TableIterator<
    'static,
    (
        name!(entity, Option<String>),
        name!(kind, String),
        name!(object, String),
        name!(problem, String),
        name!(sql, Option<String>),
    ),
> {
    require_define(tenant);
    let t = tenant_named(tenant);
    let names = tenant_names(&t);
    let mut rows = Vec::new();
    let mut known: Vec<String> = Vec::new();
    for def in meta::definitions(t.id) {
        let name = read_stored(&def).name;
        let v = validated(&stored::for_validation(&def), "stored definition");
        for x in expected(&v.entity, &Labels::of(&v.normalized)) {
            let qualified = cot_engine::sql::quote_qualified_str(&x.schema, &x.name);
            known.push(format!("{}.{}", x.schema, x.name));
            let actual = system::relation_state(&qualified);
            for f in compare(&x, &actual) {
                rows.push((Some(name.clone()), f.kind.to_string(), f.object, f.problem, f.sql));
            }
        }
    }
    // The change log is the tenant's, in no definition (docs/changes.md).
    known.push(format!(
        "{}.{}",
        names.storage_schema,
        cot_engine::plan::history::CHANGE_LOG
    ));
    for rel in system::managed_relations(vec![
        names.api_schema.to_string(),
        names.storage_schema.to_string(),
    ]) {
        if !known.contains(&rel) {
            rows.push((
                None,
                "drift".into(),
                rel,
                "relation is in a Cot-managed schema but in no definition".into(),
                None,
            ));
        }
    }
    TableIterator::new(rows)
}
