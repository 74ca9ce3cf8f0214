//! Describing entities: `cot.definition_schema` (what a definition must
//! look like), `cot.entity` (one stored definition) and `cot.entities` (a
//! tenant's entities).

use super::find;
use crate::catalog::meta;
use crate::permissions::require_define;
use crate::spi;
use crate::tenants::tenant_named;
use pgrx::prelude::*;
use pgrx::JsonB;

/// The JSON Schema (draft 2020-12) every entity definition must satisfy.
#[pg_extern(immutable, parallel_safe)]
fn definition_schema() -> JsonB {
    JsonB(cot_engine::schema::definition_schema().clone())
}

/// The normalized definition of one entity, with its ids and version, and
/// `referenced_by`: the relation fields of other entities that point at it.
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn entity(tenant: &str, name: &str) -> JsonB {
    require_define(tenant);
    let (_, e) = find(tenant, name);
    let mut def = e.definition;
    def["referenced_by"] = meta::referenced_by(e.id);
    JsonB(def)
}

/// A tenant's entities.
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
#[allow(clippy::type_complexity)]
fn entities(
    tenant: &str,
) -> TableIterator<
    'static,
    (
        name!(id, pgrx::Uuid),
        name!(name, String),
        name!(label, String),
        name!(description, Option<String>),
        name!(fields, i64),
        name!(version, i32),
        name!(created_at, pgrx::datum::TimestampWithTimeZone),
        name!(updated_at, pgrx::datum::TimestampWithTimeZone),
    ),
> {
    require_define(tenant);
    let t = tenant_named(tenant);
    let rows = Spi::connect(|c| {
        c.select(
            "SELECT e.id, e.name, e.label, e.description, (SELECT count(*) FROM cot.fields f WHERE f.entity_id = e.id), \
                    e.version, e.created_at, e.updated_at \
             FROM cot.entities e WHERE e.tenant_id = $1 ORDER BY e.name",
            None,
            &[spi::pg_uuid(t.id).into()],
        )?
        .map(|row| {
            Ok::<_, pgrx::spi::Error>((
                row.get::<pgrx::Uuid>(1)?.expect("id is NOT NULL"),
                row.get::<String>(2)?.unwrap_or_default(),
                row.get::<String>(3)?.unwrap_or_default(),
                row.get::<String>(4)?,
                row.get::<i64>(5)?.unwrap_or(0),
                row.get::<i32>(6)?.unwrap_or(1),
                row.get::<pgrx::datum::TimestampWithTimeZone>(7)?.expect("NOT NULL"),
                row.get::<pgrx::datum::TimestampWithTimeZone>(8)?.expect("NOT NULL"),
            ))
        })
        .collect::<Result<Vec<_>, _>>()
    });
    TableIterator::new(spi::spi(rows))
}
