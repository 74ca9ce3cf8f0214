//! Who may call what. Cot's functions run as the extension's owner (SECURITY
//! DEFINER); each asks here about the caller (`catalog::roles::caller`)
//! before it reads or changes anything, so someone without the right learns
//! nothing else, not even whether the tenant exists.

use crate::catalog::roles;
use crate::raise::{error, raise};
use cot_engine::error::{CotError, ErrorKind};
use cot_engine::names::{shown, TenantNames};

/// The names of tenant `slug`'s roles; `None` when `slug` is no valid slug,
/// which no tenant has.
fn names_of(slug: &str) -> Option<TenantNames> {
    cot_engine::stored::tenant_names(slug).ok()
}

/// Is the caller a member of one of tenant `slug`'s roles `pick` chooses?
fn member_of(slug: &str, pick: impl Fn(&TenantNames) -> Vec<&cot_engine::names::Ident>) -> bool {
    names_of(slug).is_some_and(|n| {
        pick(&n)
            .into_iter()
            .any(|role| roles::is_member_of(role.as_str()))
    })
}

/// Raises 42501 unless the caller is a superuser; `hint` says who may.
pub(crate) fn require_superuser(what: &str, hint: &str) {
    if !roles::is_superuser() {
        raise(error(
            ErrorKind::InsufficientPrivilege,
            format!("permission denied to {what}"),
            hint,
        ));
    }
}

/// Raises 42501 unless the caller is a superuser or a member of the platform
/// role (`cot_platform`), which provisions tenants, API keys and tokens but
/// is granted nothing on any tenant's data.
pub(crate) fn require_platform(what: &str) {
    let platform = cot_engine::names::platform_role();
    if !roles::is_superuser() && !roles::is_member_of(platform.as_str()) {
        raise(error(
            ErrorKind::InsufficientPrivilege,
            format!("permission denied to {what}"),
            format!("this is done by a superuser or a member of {platform}"),
        ));
    }
}

/// May the caller define entities for this tenant? Superusers may, and
/// members of the tenant's admin role.
pub(crate) fn may_define(tenant: &str) -> bool {
    roles::is_superuser() || member_of(tenant, |n| vec![&n.admin_role])
}

/// The error for a caller who may not define entities of `tenant`.
pub(crate) fn denied(tenant: &str) -> CotError {
    let who = match names_of(tenant) {
        Some(n) => format!("a member of {}", n.admin_role),
        None => "a member of the tenant's admin role".to_string(),
    };
    error(
        ErrorKind::InsufficientPrivilege,
        format!("permission denied to define entities of tenant \"{tenant}\""),
        format!("entities are defined and dropped by a superuser or {who}"),
    )
}

/// Raises [`denied`] unless the caller may define entities of `tenant`.
pub(crate) fn require_define(tenant: &str) {
    if !may_define(tenant) {
        raise(denied(tenant));
    }
}

/// Raises 42501 unless the caller may read the generated documentation of
/// `tenant`: superusers, and members of the tenant's admin or user role, the
/// same people who see the API itself.
pub(crate) fn require_docs_reader(tenant: &str) {
    if roles::is_superuser() || member_of(tenant, |n| vec![&n.admin_role, &n.user_role]) {
        return;
    }
    let who = match names_of(tenant) {
        Some(n) => format!("a member of {} or {}", n.admin_role, n.user_role),
        None => "a member of the tenant's admin or user role".to_string(),
    };
    raise(error(
        ErrorKind::InsufficientPrivilege,
        format!(
            "permission denied to read the API documentation of tenant {}",
            shown(tenant)
        ),
        format!("it is read by a superuser or {who}"),
    ));
}
