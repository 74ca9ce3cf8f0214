//! `cot.jwt_claim(name)`: one claim of the request's JWT, as PostgREST put the
//! payload in `request.jwt.claims`. The SQL helpers `cot.claim_tenant()`,
//! `cot.claim_sub()` and `cot.claim_role()` (sql/finalize.sql) wrap it.

use pgrx::prelude::*;
use serde_json::Value;

/// The claim `name` if it is a JSON string; NULL when the setting is missing,
/// empty, not a JSON object, or has no such claim, or the claim is not a
/// string (or holds NUL). Never an error: a policy calling it must deny, not
/// abort, the request.
#[pg_extern(stable, parallel_safe)]
fn jwt_claim(name: &str) -> Option<String> {
    json_setting_text(c"request.jwt.claims", name)
}

/// The member `key` of the JSON object held by setting `setting`, as text.
fn json_setting_text(setting: &std::ffi::CStr, key: &str) -> Option<String> {
    // SAFETY: GetConfigOption returns NULL or a NUL-terminated string owned by
    // the GUC machinery, read before anything else can change it.
    let text = unsafe {
        let p = pgrx::pg_sys::GetConfigOption(setting.as_ptr(), true, false);
        if p.is_null() {
            return None;
        }
        std::ffi::CStr::from_ptr(p).to_str().ok()?.to_owned()
    };
    match serde_json::from_str::<Value>(&text).ok()?.get(key)? {
        // Text cannot hold NUL; a claim with one is not a name anybody has.
        Value::String(s) if !s.contains('\0') => Some(s.clone()),
        // Numbers are refused rather than reformatted: through a double, two
        // different large `sub`s could become one owner. JWT says `sub` is a string.
        _ => None,
    }
}

/// One header of the current PostgREST request (`request.headers`, names in
/// lower case), or NULL. Like `jwt_claim`, never an error.
#[pg_extern(stable, parallel_safe)]
fn request_header(name: &str) -> Option<String> {
    json_setting_text(c"request.headers", name)
}
