//! `cot.query(tenant, entity, query)`: the QueryBuilder. It runs as the caller
//! (SECURITY INVOKER) over the tenant's API views, so grants and row security
//! apply exactly as over HTTP; the engine ([`cot_engine::query`]) compiles the
//! JSON query with every value a parameter. The tenant's model comes from
//! `cot.query_model`, the one SECURITY DEFINER piece, and is cached per backend
//! until the model changes.

use crate::catalog::{meta, roles};
use crate::entity::validated;
use crate::jsonb_arg::JsonbText;
use crate::raise::{error, raise};
use crate::raw_jsonb::RawJsonb;
use cot_engine::error::{CotError, ErrorKind};
use cot_engine::names::{check_name, shown, Ident, Keywords, NameKind, TenantNames};
use cot_engine::query::{compile, parse, Model};
use cot_engine::stored;
use cot_engine::types::Entity;
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::HashMap;

/// Largest query document, in bytes.
const MAX_QUERY_BYTES: usize = 64 * 1024;

/// The model of a tenant for the caller: `{"stamp": s}` when `stamp` is still
/// current, else `{"stamp": s, "entities": [definitions]}` with only the
/// entities the caller may read (an admin-only entity's definition and rules
/// are not anon's to see). For the tenant's roles and superusers (who may use
/// its API schema); 42501 otherwise, the same whether or not the tenant exists.
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn query_model(tenant: &str, stamp: &str) -> JsonB {
    if !roles::may_use_schema(tenant, roles::caller()) {
        raise(error(
            ErrorKind::InsufficientPrivilege,
            format!("permission denied to query tenant {}", shown(tenant)),
            "cot.query is for the tenant's roles (anon, user, admin) and superusers",
        ));
    }
    let t = crate::tenants::tenant_named(tenant);
    let now = meta::model_stamp(t.id);
    if now == stamp {
        return JsonB(json!({"stamp": now}));
    }
    let entities = meta::readable_definitions(t.id, tenant, roles::caller());
    JsonB(json!({"stamp": now, "entities": entities}))
}

thread_local! {
    /// Validated entities per tenant and role (each role sees the entities it
    /// may read), with the stamp they were read at and the invalidation
    /// generation they are good for: validating a tenant's definitions costs
    /// far more than a query.
    /// At most `cot.query_model_cache` of them, the least recently used
    /// dropped first: a pooled session (PostgREST's) serves every tenant, and
    /// one model of 10 entities held about 70 KB here.
    static MODELS: RefCell<Models> = RefCell::new(Models::default());
    /// Bumped whenever `cot.model_signal` is invalidated (every model change
    /// announces one, see `catalog::ledger::announce_model_change`), here or in any
    /// other backend.
    static GENERATION: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    /// `cot.model_signal`, once known.
    static SIGNAL: std::cell::Cell<pg_sys::Oid> = const { std::cell::Cell::new(pg_sys::Oid::INVALID) };
}

/// A tenant's validated entities, the stamp they were read at, and the
/// invalidation generation they were read in.
type CachedModel = (String, u64, std::rc::Rc<Vec<Entity>>);

/// The cached models by (tenant, role), each with when it was last used.
#[derive(Default)]
struct Models {
    by_key: HashMap<(String, pg_sys::Oid), (CachedModel, u64)>,
    clock: u64,
}

impl Models {
    fn get(&mut self, key: &(String, pg_sys::Oid)) -> Option<CachedModel> {
        self.clock += 1;
        let now = self.clock;
        self.by_key.get_mut(key).map(|(m, used)| {
            *used = now;
            m.clone()
        })
    }

    /// Keeps `model`, dropping the least recently used others beyond `cap`.
    fn put(&mut self, key: (String, pg_sys::Oid), model: CachedModel, cap: usize) {
        self.clock += 1;
        self.by_key.insert(key.clone(), (model, self.clock));
        while self.by_key.len() > cap.max(1) {
            let Some(oldest) = self
                .by_key
                .iter()
                .filter(|(k, _)| **k != key)
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            self.by_key.remove(&oldest);
        }
    }
}

fn keep_model(key: (String, pg_sys::Oid), model: CachedModel) {
    let cap = usize::try_from(crate::settings::QUERY_MODEL_CACHE.get()).unwrap_or(1);
    MODELS.with(|m| m.borrow_mut().put(key, model, cap));
}

/// Registers the relcache callback that ages cached models (called once, when
/// the library loads).
pub fn register_invalidation() {
    // SAFETY: registering a callback is allowed at load time; the callback
    // touches only this backend's thread-locals and never errors.
    unsafe { pg_sys::CacheRegisterRelcacheCallback(Some(on_relcache), pg_sys::Datum::from(0)) }
}

unsafe extern "C-unwind" fn on_relcache(_arg: pg_sys::Datum, relid: pg_sys::Oid) {
    let watched = SIGNAL.with(|e| e.get());
    // InvalidOid: every relcache entry was reset.
    if relid == pg_sys::Oid::INVALID || watched == pg_sys::Oid::INVALID || relid == watched {
        GENERATION.with(|g| g.set(g.get() + 1));
    }
}

fn model(tenant: &str) -> std::rc::Rc<Vec<Entity>> {
    let generation = GENERATION.with(|g| g.get());
    // SAFETY: reads a backend global, always set inside a transaction.
    let role = unsafe { pg_sys::GetUserId() };
    let key = (tenant.to_string(), role);
    let cached = MODELS.with(|m| m.borrow_mut().get(&key));
    if let Some((_, at, entities)) = &cached {
        if *at == generation
            && SIGNAL.with(|e| e.get()) != pg_sys::Oid::INVALID
            && roles::may_use_schema(tenant, role)
        {
            return entities.clone();
        }
    }
    let stamp = cached.as_ref().map_or(String::new(), |c| c.0.clone());
    let (answer, signal_oid): (Value, Option<pg_sys::Oid>) = Spi::connect(|c| {
        let answer = c
            .select(
                "SELECT cot.query_model($1, $2)",
                None,
                &[tenant.into(), stamp.as_str().into()],
            )?
            .first()
            .get_one::<JsonB>()?;
        let oid = c
            .select("SELECT 'cot.model_signal'::regclass::oid", None, &[])?
            .first()
            .get_one::<pg_sys::Oid>()?;
        Ok::<_, pgrx::spi::Error>((answer.map_or(Value::Null, |j| j.0), oid))
    })
    .unwrap_or_else(|e| panic!("cot: internal SPI failure: {e}"));
    if let Some(oid) = signal_oid {
        SIGNAL.with(|e| e.set(oid));
    }
    let now = answer["stamp"].as_str().unwrap_or_default().to_string();
    if let Some((_, _, entities)) = cached.filter(|c| c.0 == now) {
        keep_model(key, (now, generation, entities.clone()));
        return entities;
    }
    let entities: Vec<Entity> = answer["entities"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| validated(&stored::for_validation(d), "stored definition").entity)
        .collect();
    let entities = std::rc::Rc::new(entities);
    keep_model(key, (now, generation, entities.clone()));
    entities
}

/// A query compiled for the caller, with its page size.
fn compiled(tenant: &str, entity: &str, query: JsonbText) -> (cot_engine::query::Compiled, usize) {
    let q = JsonbText(cot_engine::query::exact_numbers(&query.0))
        .parse("query", MAX_QUERY_BYTES)
        .unwrap_or_else(|e| raise(e));
    let entities = model(tenant);
    let slug: Ident = check_name(NameKind::Tenant, tenant, "", &Keywords::default())
        .unwrap_or_else(|v| raise(CotError::from_violations("tenant", &[v])));
    let m = Model {
        tenant: &slug,
        entities: &entities,
    };
    let Some(e) = m.entity(entity) else {
        // The same answer for an entity that does not exist and one the
        // caller may not read; the hint lists only what it may read.
        let known: Vec<&str> = entities.iter().map(|e| e.name.as_str()).collect();
        raise(error(
            ErrorKind::UndefinedObject,
            format!("entity {} does not exist in tenant \"{tenant}\"", shown(entity)),
            if known.is_empty() {
                "this role may read no entity of the tenant".to_string()
            } else {
                format!("the entities this role may read: {}", known.join(", "))
            },
        ));
    };
    let parsed = parse(&m, e, &q).unwrap_or_else(|err| raise(err));
    (
        compile(&parsed, &TenantNames::new(&slug), &e.name).unwrap_or_else(|err| raise(err)),
        parsed.limit as usize,
    )
}

fn run(tenant: &str, entity: &str, query: JsonbText) -> RawJsonb {
    let (compiled, _) = compiled(tenant, entity, query);
    crate::query_page::run(&compiled)
}

/// Reads records of `entity` in `tenant` (NULL: the tenant of the request's
/// JWT): `query` selects fields and related records, filters, sorts and pages
/// (see docs/query.md). Runs as the caller: grants and row security decide
/// what it sees. Returns `{data, next_cursor, count}`.
#[pg_extern]
#[search_path(pg_catalog, pg_temp)]
fn query(tenant: Option<&str>, entity: Option<&str>, query: default!(Option<JsonbText>, "'{}'")) -> RawJsonb {
    let Some(entity) = entity else {
        raise(error(
            ErrorKind::InvalidParameter,
            "no entity given",
            "cot.query(tenant, entity, query)",
        ));
    };
    let query = query.unwrap_or_else(|| JsonbText("{}".into()));
    let tenant = match tenant {
        Some(t) => t.to_string(),
        None => crate::claims::claim("tenant").unwrap_or_else(|| {
            raise(error(
                ErrorKind::InvalidParameter,
                "no tenant given, and the request has no tenant claim",
                "name the tenant: cot.query(tenant, entity, query)",
            ))
        }),
    };
    run(&tenant, entity, query)
}

/// The plan of the statement `cot.query` would run (EXPLAIN, JSON format),
/// for the tenant's admins and superusers: plans show estimates over the whole
/// table, which row security would hide from others. `analyze` runs it.
#[pg_extern]
#[search_path(pg_catalog, pg_temp)]
fn explain_query(
    tenant: &str,
    entity: &str,
    query: default!(JsonbText, "'{}'"),
    analyze: default!(bool, false),
) -> JsonB {
    crate::permissions::require_define(tenant);
    let (compiled, _) = compiled(tenant, entity, query);
    let plan = crate::query_page::explain(&compiled, analyze);
    JsonB(json!({"sql": compiled.sql, "plan": plan}))
}
