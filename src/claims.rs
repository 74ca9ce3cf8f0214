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
    // SAFETY: GetConfigOption returns NULL or a NUL-terminated string owned by
    // the GUC machinery, read before anything else can change it.
    let text = unsafe {
        let p = pgrx::pg_sys::GetConfigOption(c"request.jwt.claims".as_ptr(), true, false);
        if p.is_null() {
            return None;
        }
        std::ffi::CStr::from_ptr(p).to_str().ok()?.to_owned()
    };
    match serde_json::from_str::<Value>(&text).ok()?.get(name)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}
