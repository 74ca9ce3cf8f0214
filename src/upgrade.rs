//! `cot.upgrade_tenant(slug)`: a tenant's generated objects (views and their
//! defaults, policies, grants, triggers, comments, `/rpc/` functions,
//! computed relationships) made again as this version of Cot makes them,
//! around the tenant's data, in the caller's transaction. After `ALTER
//! EXTENSION cot UPDATE`, `CALL cot.upgrade_tenants()` (sql/finalize.sql)
//! runs it for every tenant, one transaction each. What it runs is planned by
//! `cot_engine::regenerate` and recorded in `cot.migrations`.

use crate::catalog::ledger::{self, Migration};
use crate::catalog::{meta, roles, system};
use crate::entity::{tenant_names, validated};
use crate::execute::Run;
use crate::permissions::require_superuser;
use crate::tenants::tenant_named;
use cot_engine::plan::Labels;
use cot_engine::regenerate::{self, Tenant, TenantCatalog};
use cot_engine::stored;
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::{json, Value};

/// Makes tenant `slug`'s generated objects again; returns what it did:
/// `{"tenant", "steps", "skipped"}` (`skipped`: catalog objects it had to
/// leave, which `cot.check` reports).
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn upgrade_tenant(slug: &str) -> JsonB {
    require_superuser(
        "upgrade a tenant",
        "tenants are upgraded by a superuser, after ALTER EXTENSION cot UPDATE",
    );
    meta::lock_tenant(slug);
    let t = tenant_named(slug);
    let names = tenant_names(&t);
    let entities: Vec<_> = meta::definitions(t.id)
        .iter()
        .map(|def| {
            let v = validated(&stored::for_validation(def), "stored definition");
            let labels = Labels::of(&v.normalized);
            (v.entity, labels)
        })
        .collect();
    let authenticators = roles::authenticator_idents();
    let display_name = meta::tenant_name(t.id);
    let catalog = TenantCatalog {
        policies: system::policies(names.storage_schema.as_str()),
    };
    let (steps, skipped) = regenerate::tenant(
        &Tenant {
            names: &names,
            display_name: &display_name,
            authenticators: &authenticators,
            entities: &entities,
        },
        &catalog,
    );
    let mut run = Run::new();
    let (plan, sql) = run.ddl(&steps);
    let version = json!({"extension": env!("CARGO_PKG_VERSION")});
    ledger::record_migration(Migration {
        tenant_id: t.id,
        tenant: slug,
        entity_id: None,
        entity: None,
        operation: "upgrade_tenant",
        plan: Value::Array(plan),
        sql,
        before: None,
        after: Some(version),
    });
    JsonB(json!({"tenant": slug, "steps": steps.len(), "skipped": skipped}))
}
