//! Roles: who called Cot, whether the caller is a superuser or a member of a
//! role, what state a role is in, and the authenticators (PostgREST's login
//! roles) registered with `cot.add_authenticator`.

use crate::spi::{first, query, texts};
use pgrx::prelude::*;

/// The role that called Cot: the session's role as `SET ROLE` (or PostgREST,
/// which switches role per request) left it. Inside Cot's SECURITY DEFINER
/// functions `current_user` is the extension's owner; the caller is the outer
/// user, and every permission check is about the caller.
pub fn caller() -> pgrx::pg_sys::Oid {
    // SAFETY: reads a backend global, always set inside a transaction.
    unsafe { pgrx::pg_sys::GetOuterUserId() }
}

/// The caller's role name, for the ledger.
pub fn caller_name() -> String {
    // SAFETY: with noerr = true a missing role gives NULL, handled below; the
    // name is palloc'd and copied out at once.
    unsafe {
        let p = pgrx::pg_sys::GetUserNameFromId(caller(), true);
        if p.is_null() {
            return String::new();
        }
        std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}

/// Is the caller a superuser?
pub fn is_superuser() -> bool {
    // SAFETY: reads the role's flags from the syscache; valid inside a transaction.
    unsafe { pgrx::pg_sys::superuser_arg(caller()) }
}

/// Is the caller a member (directly or not) of `role`?
pub fn is_member_of(role: &str) -> bool {
    query(
        "SELECT EXISTS (SELECT FROM pg_catalog.pg_roles r WHERE r.rolname = $1 \
           AND pg_catalog.pg_has_role($2, r.oid, 'MEMBER'))",
        &[role.into(), caller().into()],
        first::<bool>,
    )
    .unwrap_or(false)
}

/// Does a role of this name exist?
pub fn role_exists(name: &str) -> bool {
    query(
        "SELECT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = $1)",
        &[name.into()],
        first::<bool>,
    )
    .unwrap_or(false)
}

/// Does a role of this name exist and may it log in?
pub fn role_can_login(name: &str) -> bool {
    query(
        "SELECT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = $1 AND rolcanlogin)",
        &[name.into()],
        first::<bool>,
    )
    .unwrap_or(false)
}

/// The owner role's state: `None` if it does not exist, `Some(true)` if it is
/// safe to own generated objects (cannot log in, is no superuser, cannot
/// bypass row-level security), `Some(false)` if someone changed it.
pub fn owner_role_is_safe(name: &str) -> Option<bool> {
    query(
        "SELECT NOT (rolcanlogin OR rolsuper OR rolbypassrls) FROM pg_catalog.pg_roles WHERE rolname = $1",
        &[name.into()],
        first::<bool>,
    )
}

/// May `role` use the tenant's API schema (it is one of the tenant's roles,
/// or a superuser)? Asked of the ACL directly, no query: `cot.query` asks on
/// every call.
pub fn may_use_schema(schema: &str, role: pg_sys::Oid) -> bool {
    let Ok(name) = std::ffi::CString::new(schema) else {
        return false;
    };
    // SAFETY: catalog lookups with missing_ok; both return codes.
    unsafe {
        let nsp = pg_sys::get_namespace_oid(name.as_ptr(), true);
        nsp != pg_sys::Oid::INVALID
            && pg_sys::pg_namespace_aclcheck(nsp, role, pg_sys::ACL_USAGE as pg_sys::AclMode)
                == pg_sys::AclResult::ACLCHECK_OK
    }
}

/// The login roles registered with `cot.add_authenticator`.
pub fn authenticators() -> Vec<String> {
    query("SELECT role FROM cot.authenticators ORDER BY role", &[], texts)
}

/// The registered authenticators that exist, as identifiers: a new or
/// upgraded tenant's roles are granted to each.
pub fn authenticator_idents() -> Vec<cot_engine::names::Ident> {
    authenticators()
        .iter()
        .filter(|r| role_exists(r))
        .filter_map(|r| {
            cot_engine::names::check_name(cot_engine::names::NameKind::Role, r, "", &Default::default()).ok()
        })
        .collect()
}

/// Registers an authenticator (idempotent).
pub fn insert_authenticator(role: &str) {
    query(
        "INSERT INTO cot.authenticators (role) VALUES ($1) ON CONFLICT (role) DO NOTHING",
        &[role.into()],
        |_| Ok(()),
    )
}

/// Unregisters an authenticator; whether it was registered.
pub fn delete_authenticator(role: &str) -> bool {
    query(
        "DELETE FROM cot.authenticators WHERE role = $1 RETURNING 1",
        &[role.into()],
        |t| Ok(!t.is_empty()),
    )
}
