//! `cot.jwt_claim(name)`: one claim of the request's JWT, as PostgREST put the
//! payload in `request.jwt.claims`. The SQL helpers `cot.claim_tenant()`,
//! `cot.claim_sub()` and `cot.claim_role()` (sql/finalize.sql) wrap it.

use pgrx::prelude::*;
use serde_json::Value;

/// The claim `name` as text: a string as it is, a number in its JSON form;
/// NULL when the setting is missing, empty, not a JSON object, or has no such
/// claim. Never an error: a policy calling it must deny, not abort, the request.
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
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// One header of the current PostgREST request (`request.headers`, names in
/// lower case), or NULL. Like `jwt_claim`, never an error.
#[pg_extern(stable, parallel_safe)]
fn request_header(name: &str) -> Option<String> {
    json_setting_text(c"request.headers", name)
}
