//! A module's sample rows, inserted on request when it is installed
//! (`cot.install_module(..., '{"samples": true}')`). Each row is an object
//! of column values, read into the table's row type by PostgreSQL itself
//! (`jsonb_populate_record`), so values are converted and checked exactly as
//! any insert's; columns a row leaves out take their defaults.

use super::store;
use crate::catalog::meta::{self, TenantRow};
use crate::entity::tenant_names;
use crate::raise::{at_pointer, error, raise};
use cot_engine::ddl::render_sample_insert;
use cot_engine::error::ErrorKind;
use cot_engine::module::format::entity_key;
use cot_engine::module::tenant::module_id;
use cot_engine::module::Module;
use cot_engine::names::shown;
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::Value;

/// Inserts the module's sample rows, entity by entity in the module's order
/// (so rows may refer to rows of entities listed before them); returns how
/// many.
pub fn insert(t: &TenantRow, m: &Module) -> u64 {
    let schema = tenant_names(t).storage_schema.as_str().to_string();
    let mut count = 0;
    for def in &m.entities {
        let Some(name) = def.get("name").and_then(Value::as_str) else {
            continue;
        };
        let Some(rows) = m.samples.get(name) else {
            continue;
        };
        let id = module_id(t.id, &m.name, entity_key(def).unwrap_or_default(), None);
        let Some((table, _)) = meta::entity_by_id(t.id, id) else {
            continue;
        };
        let columns = store::columns(&schema, &table);
        for (i, row) in rows.iter().enumerate() {
            let at = format!("/samples/{name}/{i}");
            let keys: Vec<String> = row
                .as_object()
                .map(|o| o.keys().cloned().collect())
                .unwrap_or_default();
            if let Some(k) = keys.iter().find(|k| !columns.contains(k)) {
                raise(
                    error(
                        ErrorKind::UndefinedColumn,
                        format!(
                            "sample row of {} names {}, which is no column of it",
                            shown(name),
                            shown(k)
                        ),
                        "a sample row holds the values of the entity's fields (and optionally its id)",
                    )
                    .detail(format!("at {at}/{}", k.replace('~', "~0").replace('/', "~1"))),
                );
            }
            if keys.is_empty() {
                continue;
            }
            let sql = render_sample_insert(&schema, &table, &keys);
            at_pointer(&at, || {
                crate::spi::spi(Spi::connect_mut(|c| {
                    c.update(sql.as_str(), None, &[JsonB(row.clone()).into()])
                        .map(|_| ())
                }))
            });
            count += 1;
        }
    }
    count
}
