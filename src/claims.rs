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

thread_local! {
    /// The last text read from each setting and what it parsed to. A request
    /// reads the same claims several times (every policy's InitPlan, the owner
    /// trigger): parsing them once per distinct text saved about 1 µs of the
    /// 2.7 µs a primary-key read through a view paid for row security
    /// (bench/rls_reads.sh). Keyed by the full text, so a changed setting is
    /// always parsed afresh.
    static PARSED: std::cell::RefCell<Vec<(&'static std::ffi::CStr, String, Option<Value>)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// The member `key` of the JSON object held by setting `setting`, as text.
fn json_setting_text(setting: &'static std::ffi::CStr, key: &str) -> Option<String> {
    // SAFETY: GetConfigOption returns NULL or a NUL-terminated string owned by
    // the GUC machinery, read before anything else can change it.
    let text = unsafe {
        let p = pgrx::pg_sys::GetConfigOption(setting.as_ptr(), true, false);
        if p.is_null() {
            return None;
        }
        std::ffi::CStr::from_ptr(p).to_str().ok()?
    };
    PARSED.with(|cache| {
        let mut cache = cache.borrow_mut();
        let slot = match cache.iter().position(|(s, _, _)| *s == setting) {
            Some(i) => i,
            None => {
                cache.push((setting, String::new(), None));
                cache.len() - 1
            }
        };
        let (_, cached_text, parsed) = &mut cache[slot];
        if cached_text != text {
            *cached_text = text.to_owned();
            *parsed = serde_json::from_str::<Value>(text).ok();
        }
        match parsed.as_ref()?.get(key)? {
            // Text cannot hold NUL; a claim with one is not a name anybody has.
            Value::String(s) if !s.contains('\0') => Some(s.clone()),
            // Numbers are refused rather than reformatted: through a double, two
            // different large `sub`s could become one owner. JWT says `sub` is a string.
            _ => None,
        }
    })
}

/// One header of the current PostgREST request (`request.headers`, names in
/// lower case), or NULL. Like `jwt_claim`, never an error.
#[pg_extern(stable, parallel_safe)]
fn request_header(name: &str) -> Option<String> {
    json_setting_text(c"request.headers", name)
}

/// One claim of the request's JWT, for Cot's own functions.
pub(crate) fn claim(name: &str) -> Option<String> {
    json_setting_text(c"request.jwt.claims", name)
}
