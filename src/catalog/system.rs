//! Reads of Postgres's own catalogs that are not about roles: reserved words,
//! schemas, and what a table or view looks like (for `cot.check`).

use crate::spi::{first, query, spi, texts};
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::Value;

/// Postgres's reserved words: categories R (reserved) and T (reserved, but can
/// be a function or type name).
pub fn reserved_keywords() -> Vec<String> {
    spi(Spi::connect(|c| {
        c.select(
            "SELECT word FROM pg_catalog.pg_get_keywords() WHERE catcode IN ('R', 'T')",
            None,
            &[],
        )?
        .map(|row| row.get::<String>(1).map(Option::unwrap_or_default))
        .collect::<Result<Vec<_>, _>>()
    }))
}

/// Does a schema of this name exist?
pub fn schema_exists(name: &str) -> bool {
    query(
        "SELECT EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = $1)",
        &[name.into()],
        first::<bool>,
    )
    .unwrap_or(false)
}

/// What the catalog holds for one table or view, in the shape
/// `cot_engine::drift::compare` reads; grants to every role but the owner,
/// PUBLIC included.
pub fn relation_state(qualified: &str) -> Value {
    query(
        "SELECT pg_catalog.jsonb_build_object( \
           'exists', c.oid IS NOT NULL, 'rls', c.relrowsecurity, 'force', c.relforcerowsecurity, \
           'columns', (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_array(a.attname, \
                          pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull, a.atthasdef) ORDER BY a.attnum), '[]') \
                       FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), \
           'constraints', (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_array(k.conname, k.convalidated)), '[]') \
                       FROM pg_catalog.pg_constraint k WHERE k.conrelid = c.oid AND k.contype <> 'n'), \
           'indexes', (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_array(i.relname, x.indisvalid)), '[]') \
                       FROM pg_catalog.pg_index x JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid \
                       WHERE x.indrelid = c.oid \
                         AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid = x.indexrelid)), \
           'policies', (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('name', p.polname, \
                          'command', p.polcmd, 'permissive', p.polpermissive, \
                          'roles', (SELECT COALESCE(pg_catalog.jsonb_agg(CASE WHEN r.oid = 0 THEN 'public' ELSE r.oid::pg_catalog.regrole::text END), '[]') \
                                    FROM pg_catalog.unnest(p.polroles) AS r(oid)), \
                          'using', pg_catalog.pg_get_expr(p.polqual, p.polrelid), \
                          'check', pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid))), '[]') \
                       FROM pg_catalog.pg_policy p WHERE p.polrelid = c.oid), \
           'triggers', (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_array(g.tgname, g.tgenabled <> 'D', \
                          CASE WHEN f.pronamespace = c.relnamespace THEN f.prosrc END)), '[]') \
                       FROM pg_catalog.pg_trigger g JOIN pg_catalog.pg_proc f ON f.oid = g.tgfoid \
                       WHERE g.tgrelid = c.oid AND NOT g.tgisinternal), \
           'grants', (SELECT COALESCE(pg_catalog.jsonb_agg(DISTINCT pg_catalog.jsonb_build_array( \
                          CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE r.rolname END, g.privilege_type)), '[]') \
                       FROM pg_catalog.aclexplode(c.relacl) g LEFT JOIN pg_catalog.pg_roles r ON r.oid = g.grantee \
                       WHERE g.grantee <> c.relowner)) \
         FROM (SELECT pg_catalog.to_regclass($1) AS oid) AS o LEFT JOIN pg_catalog.pg_class c ON c.oid = o.oid",
        &[qualified.into()],
        first::<JsonB>,
    )
    .map_or(Value::Null, |j| j.0)
}

/// Tables and views in a tenant's two schemas, as `schema.name`.
pub fn managed_relations(schemas: Vec<String>) -> Vec<String> {
    query(
        "SELECT n.nspname || '.' || c.relname FROM pg_catalog.pg_class c \
           JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = ANY ($1) AND c.relkind IN ('r', 'v', 'm', 'p', 'f') ORDER BY 1",
        &[schemas.into()],
        texts,
    )
}

/// The policies on the tables of a schema: (table, policy), as `pg_policy`
/// lists them.
pub fn policies(schema: &str) -> Vec<(String, String)> {
    query(
        "SELECT c.relname::text, p.polname::text FROM pg_catalog.pg_policy p \
         JOIN pg_catalog.pg_class c ON c.oid = p.polrelid \
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = $1 ORDER BY 1, 2",
        &[schema.into()],
        |t| {
            t.map(|row| {
                Ok((
                    row.get::<String>(1)?.unwrap_or_default(),
                    row.get::<String>(2)?.unwrap_or_default(),
                ))
            })
            .collect()
        },
    )
}
