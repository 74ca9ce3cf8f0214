//! Several PostgREST instances, each serving a group of tenants
//! (docs/gateway.md, "Several PostgREST instances"). PostgREST loads every
//! schema it serves into one schema cache and reloads all of it on any
//! change, so one instance per group keeps each cache bounded. A tenant is in
//! one group (`default` until moved); an authenticator bound to a group gets
//! only that group's tenants from `cot.pre_config`; the front door routes each
//! tenant to its group's instance by `cot.api_routes()`.

use crate::catalog::meta;
use crate::permissions::{require_platform, require_superuser};
use crate::raise::{error, raise};
use crate::spi::{self, first, pg_uuid, query};
use cot_engine::error::ErrorKind;
use cot_engine::names::{api_channel, check_api_group, shown};
use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::json;

const DEFAULT_GROUP: &str = "default";

/// The channel of the tenant with this id (`api_channel` of its group;
/// PostgREST's default when it is gone, as after `cot.drop_tenant`).
pub(crate) fn tenant_channel(tenant_id: uuid::Uuid) -> String {
    let group: Option<String> = query(
        "SELECT api_group FROM cot.tenants WHERE id = $1",
        &[pg_uuid(tenant_id).into()],
        first::<String>,
    );
    api_channel(group.as_deref().unwrap_or(DEFAULT_GROUP))
}

/// Asks the PostgREST instances of `group` to reload their configuration
/// (so `cot.pre_config` gives them the schemas of their group now) and their
/// schema cache, at commit.
fn reload_postgrest(group: &str) {
    query(
        "SELECT pg_catalog.pg_notify($1, 'reload config'), pg_catalog.pg_notify($1, 'reload schema')",
        &[api_channel(group).as_str().into()],
        |_| Ok(()),
    )
}

/// Moves `tenant` to the PostgREST instances of `api_group`. Returns the
/// tenant, its group and the one it was in. The instances reload at commit;
/// the front door follows once its routes are rewritten (gateway_routes).
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn set_tenant_api_group(tenant: &str, api_group: &str) -> JsonB {
    require_platform("move a tenant to another API group");
    check_api_group(api_group).unwrap_or_else(|e| raise(e));
    meta::lock_tenant(tenant);
    let before: Option<String> = query(
        "SELECT api_group FROM cot.tenants WHERE slug = $1 FOR UPDATE",
        &[tenant.into()],
        first::<String>,
    );
    let Some(before) = before else {
        raise(error(
            ErrorKind::UndefinedObject,
            format!("tenant {} does not exist", shown(tenant)),
            "cot.tenants() lists the tenants",
        ));
    };
    if before != api_group {
        query(
            "UPDATE cot.tenants SET api_group = $2 WHERE slug = $1",
            &[tenant.into(), api_group.into()],
            |_| Ok(()),
        );
        // The old group's instances drop the tenant, the new one's load it.
        reload_postgrest(&before);
        reload_postgrest(api_group);
    }
    JsonB(json!({"tenant": tenant, "api_group": api_group, "before": before}))
}

/// Binds PostgREST's login role `login_role` (registered with
/// `cot.add_authenticator`) to `api_group`: its instance then serves only
/// that group's tenants. NULL: every tenant again.
#[pg_extern]
#[search_path(pg_catalog, pg_temp)]
fn set_authenticator_api_group(login_role: Option<&str>, api_group: Option<&str>) -> JsonB {
    require_superuser(
        "bind an authenticator to an API group",
        "PostgREST wiring is managed by a superuser",
    );
    // Not STRICT (api_group may be NULL): a NULL role is refused here, not
    // by pgrx with XX000.
    let Some(login_role) = login_role else {
        raise(error(
            ErrorKind::InvalidParameter,
            "login_role must not be NULL",
            "cot.set_authenticator_api_group(login_role, api_group): api_group NULL unbinds the role",
        ));
    };
    if let Some(group) = api_group {
        check_api_group(group).unwrap_or_else(|e| raise(e));
    }
    // The group it had (NULL: none) and whether it is registered at all.
    let before = update_authenticator(
        "UPDATE cot.authenticators a SET api_group = $2 FROM cot.authenticators o \
         WHERE a.role = $1 AND o.role = a.role RETURNING o.api_group",
        &[login_role.into(), api_group.into()],
        login_role,
    );
    // Its instance listens on the channel of the group it had, or will
    // after a restart with the new group's db-channel: both are told.
    reload_postgrest(before.as_deref().unwrap_or(DEFAULT_GROUP));
    reload_postgrest(api_group.unwrap_or(DEFAULT_GROUP));
    JsonB(json!({"role": login_role, "api_group": api_group}))
}

/// Runs `sql`, an UPDATE of the row of `login_role` in `cot.authenticators`
/// returning one group column, and answers that group (NULL: none); 42704
/// when the role is not registered.
fn update_authenticator(sql: &'static str, args: &[DatumWithOid<'_>], login_role: &str) -> Option<String> {
    let found: Option<Option<String>> = query(sql, args, |t| {
        if t.is_empty() {
            Ok(None)
        } else {
            t.first().get_one::<String>().map(Some)
        }
    });
    found.unwrap_or_else(|| {
        raise(error(
            ErrorKind::UndefinedObject,
            format!("{} is not a registered authenticator", shown(login_role)),
            "register it first: SELECT cot.add_authenticator('<role>')",
        ))
    })
}

/// Every tenant and the group whose PostgREST instances serve it: what the
/// front door routes by.
#[pg_extern(security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn api_routes() -> TableIterator<'static, (name!(tenant, String), name!(api_group, String))> {
    require_platform("list the API routes");
    let rows = Spi::connect(|c| {
        c.select("SELECT slug, api_group FROM cot.tenants ORDER BY slug", None, &[])?
            .map(|row| {
                Ok::<_, pgrx::spi::Error>((
                    row.get::<String>(1)?.unwrap_or_default(),
                    row.get::<String>(2)?.unwrap_or_default(),
                ))
            })
            .collect::<Result<Vec<_>, _>>()
    });
    TableIterator::new(spi::spi(rows))
}

/// Makes the PostgREST instance of `login_role` (registered with
/// `cot.add_authenticator`) serve tokens only, or everything again: without
/// `cot.pre_request` its requests skip one statement each, and API keys and
/// anonymous access are refused (docs/postgrest.md, "Tokens only"). The login
/// role gets the generic plans the pre-request gave each request (for new
/// connections); its instances reload their configuration at commit.
#[pg_extern]
#[search_path(pg_catalog, pg_temp)]
fn set_authenticator_tokens_only(login_role: &str, tokens_only: bool) -> JsonB {
    require_superuser(
        "make an authenticator serve tokens only",
        "PostgREST wiring is managed by a superuser",
    );
    let group = update_authenticator(
        "UPDATE cot.authenticators SET tokens_only = $2 WHERE role = $1 RETURNING api_group",
        &[login_role.into(), tokens_only.into()],
        login_role,
    );
    let role = cot_engine::names::Ident::from_catalog(login_role).unwrap_or_else(|| {
        raise(error(
            ErrorKind::InvalidParameter,
            format!(
                "login role {} does not follow Cot's naming rules",
                shown(login_role)
            ),
            "a login role name matching ^[a-z][a-z0-9_]*$",
        ))
    });
    let sql = cot_engine::ddl::render(&cot_engine::plan::Step::SetLoginGenericPlans {
        role,
        on: tokens_only,
    });
    spi::run_statements(std::slice::from_ref(&sql), || {});
    reload_postgrest(group.as_deref().unwrap_or(DEFAULT_GROUP));
    JsonB(json!({"role": login_role, "tokens_only": tokens_only, "statements": [sql]}))
}

/// Does the session's login role serve tokens only? (`cot.pre_config`)
pub(crate) fn session_tokens_only() -> bool {
    query(
        "SELECT tokens_only FROM cot.authenticators WHERE role = session_user",
        &[],
        first::<bool>,
    )
    .unwrap_or(false)
}
