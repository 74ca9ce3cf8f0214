//! The options of `cot.create_webhook`, `cot.update_webhook` and
//! `cot.webhook_deliveries`, read with every problem reported at once, each
//! at its JSON pointer (`22023`).

use super::events::{Pattern, MAX_EVENTS};
use super::{signature, target};
use crate::error::{CotError, ErrorKind, Violation};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// At most this many extra headers per webhook.
pub const MAX_HEADERS: usize = 20;
/// The longest header name, in bytes.
pub const MAX_HEADER_NAME_BYTES: usize = 64;
/// The longest header value, in bytes.
pub const MAX_HEADER_VALUE_BYTES: usize = 1024;
/// The longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 1000;

/// Headers Cot sets itself, or that would change how the request is read:
/// an extra header may not be one of these (compared in lower case).
pub const RESERVED_HEADERS: [&str; 12] = [
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "content-type",
    "content-length",
    "content-encoding",
    "transfer-encoding",
    "host",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
];

const KEYS_HINT: &str = "the options are: url, events, secret, headers, enabled, description";

/// Options of a webhook, as given: `None` for a key left out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WebhookOptions {
    /// Checked URL.
    pub url: Option<target::Target>,
    /// The patterns, in the order given, without repeats.
    pub events: Option<Vec<Pattern>>,
    /// `whsec_...`; generated when a new webhook has none.
    pub secret: Option<String>,
    /// Extra headers, by name as given.
    pub headers: Option<BTreeMap<String, String>>,
    /// Deliver or pause.
    pub enabled: Option<bool>,
    /// Free text; `Some(None)` clears it.
    pub description: Option<Option<String>>,
}

/// Reads webhook options. `creating`: `url` and `events` are required.
pub fn webhook(doc: &Value, creating: bool) -> Result<WebhookOptions, CotError> {
    let Value::Object(map) = doc else {
        return Err(CotError::new(
            ErrorKind::InvalidParameter,
            "webhook options must be a JSON object",
        )
        .hint(KEYS_HINT));
    };
    let mut v = Vec::new();
    let mut out = WebhookOptions::default();
    for (key, value) in map {
        let at = format!("/{key}");
        match key.as_str() {
            "url" => match value.as_str().map(target::parse) {
                Some(Ok(t)) => out.url = Some(t),
                Some(Err(e)) => v.push(bad(&at, e, "an http:// or https:// URL with a host")),
                None => v.push(bad(&at, "url must be a string", "an http:// or https:// URL")),
            },
            "events" => out.events = events(value, &at, &mut v),
            "secret" => match value.as_str() {
                Some(s) => match signature::secret_key(s) {
                    Ok(_) => out.secret = Some(s.to_string()),
                    Err(e) => v.push(bad(&at, e, "leave secret out to have one generated")),
                },
                None => v.push(bad(
                    &at,
                    "secret must be a string",
                    "leave secret out to have one generated",
                )),
            },
            "headers" => out.headers = headers(value, &at, &mut v),
            "enabled" => match value.as_bool() {
                Some(b) => out.enabled = Some(b),
                None => v.push(bad(
                    &at,
                    "enabled must be true or false",
                    "true delivers, false pauses",
                )),
            },
            "description" => match value {
                Value::Null => out.description = Some(None),
                Value::String(s) if s.chars().count() <= MAX_DESCRIPTION_CHARS => {
                    out.description = Some(Some(s.clone()))
                }
                _ => v.push(bad(
                    &at,
                    format!("description must be a string of at most {MAX_DESCRIPTION_CHARS} characters"),
                    "free text, or null to clear it",
                )),
            },
            _ => v.push(bad(&at, format!("unknown webhook option {key:?}"), KEYS_HINT)),
        }
    }
    if creating {
        for key in ["url", "events"] {
            if !map.contains_key(key) {
                v.push(bad("", format!("{key} is required"), KEYS_HINT));
            }
        }
    }
    if v.is_empty() {
        Ok(out)
    } else {
        Err(CotError::from_violations("webhook options", &v))
    }
}

fn bad(at: &str, message: impl Into<String>, hint: impl Into<String>) -> Violation {
    Violation::new(ErrorKind::InvalidParameter, at, message, hint)
}

fn events(value: &Value, at: &str, v: &mut Vec<Violation>) -> Option<Vec<Pattern>> {
    const HINT: &str = "a non-empty array of \"<entity>.<operation>\", \"<entity>.*\" or \"*\"; operations: insert, update, delete";
    let Some(items) = value.as_array().filter(|a| !a.is_empty()) else {
        v.push(bad(at, "events must be a non-empty array of strings", HINT));
        return None;
    };
    if items.len() > MAX_EVENTS {
        v.push(bad(
            at,
            format!("at most {MAX_EVENTS} events, here {}", items.len()),
            HINT,
        ));
        return None;
    }
    let before = v.len();
    let mut out: Vec<Pattern> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match item.as_str().map(Pattern::parse) {
            Some(Ok(p)) if !out.contains(&p) => out.push(p),
            Some(Ok(_)) => {}
            Some(Err(e)) => v.push(bad(&format!("{at}/{i}"), e, HINT)),
            None => v.push(bad(&format!("{at}/{i}"), "an event must be a string", HINT)),
        }
    }
    (v.len() == before).then_some(out)
}

fn headers(value: &Value, at: &str, v: &mut Vec<Violation>) -> Option<BTreeMap<String, String>> {
    const HINT: &str =
        "an object of header names and string values, e.g. {\"Authorization\": \"Bearer ...\"}";
    let Value::Object(map) = value else {
        v.push(bad(at, "headers must be an object", HINT));
        return None;
    };
    if map.len() > MAX_HEADERS {
        v.push(bad(
            at,
            format!("at most {MAX_HEADERS} headers, here {}", map.len()),
            HINT,
        ));
        return None;
    }
    let before = v.len();
    let mut out = BTreeMap::new();
    let mut seen = Vec::new();
    for (name, val) in map {
        let here = format!("{at}/{}", name.replace('~', "~0").replace('/', "~1"));
        let lower = name.to_ascii_lowercase();
        if let Err(e) = header_name(name) {
            v.push(bad(&here, e, HINT));
        } else if RESERVED_HEADERS.contains(&lower.as_str()) {
            v.push(bad(
                &here,
                format!("header {name:?} is set by Cot"),
                format!("these are set by Cot: {}", RESERVED_HEADERS.join(", ")),
            ));
        } else if seen.contains(&lower) {
            v.push(bad(
                &here,
                format!("header {name:?} is given twice (names ignore case)"),
                HINT,
            ));
        }
        seen.push(lower);
        match val.as_str() {
            Some(s) if s.len() > MAX_HEADER_VALUE_BYTES => v.push(bad(
                &here,
                format!("a header value is at most {MAX_HEADER_VALUE_BYTES} bytes"),
                HINT,
            )),
            Some(s) if !s.bytes().all(|b| b == b'\t' || (0x20..0x7f).contains(&b)) => v.push(bad(
                &here,
                "a header value holds printable ASCII only (no line breaks)",
                HINT,
            )),
            Some(s) => {
                out.insert(name.clone(), s.to_string());
            }
            None => v.push(bad(&here, "a header value must be a string", HINT)),
        }
    }
    (v.len() == before).then_some(out)
}

/// An HTTP header name: a token (RFC 9110 §5.6.2) of at most 64 bytes.
fn header_name(name: &str) -> Result<(), String> {
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() || name.len() > MAX_HEADER_NAME_BYTES || !name.bytes().all(token) {
        return Err(format!(
            "{name:?} is not a header name (letters, digits and !#$%&'*+-.^_`|~, at most {MAX_HEADER_NAME_BYTES} bytes)"
        ));
    }
    Ok(())
}

/// Options of `cot.webhook_deliveries`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryQuery {
    /// Only this webhook's.
    pub webhook: Option<uuid::Uuid>,
    /// Only in this state.
    pub state: Option<String>,
    /// Only for this change.
    pub change_id: Option<i64>,
    /// At most this many, newest first.
    pub limit: i64,
    /// Only older than this delivery (the last id of the previous page).
    pub before: Option<uuid::Uuid>,
}

/// The most deliveries one call returns.
pub const MAX_DELIVERIES_LIMIT: i64 = 1000;

/// Reads the options of `cot.webhook_deliveries`.
pub fn delivery_query(doc: &Value) -> Result<DeliveryQuery, CotError> {
    const HINT: &str = "the options are: webhook (id), state (pending, delivered, failed), change_id, limit (1 to 1000, 100 by default), before (a delivery id: the page after it)";
    let empty = Map::new();
    let map = match doc {
        Value::Object(m) => m,
        Value::Null => &empty,
        _ => {
            return Err(CotError::new(
                ErrorKind::InvalidParameter,
                "delivery options must be a JSON object",
            )
            .hint(HINT))
        }
    };
    let mut v = Vec::new();
    let mut q = DeliveryQuery {
        webhook: None,
        state: None,
        change_id: None,
        limit: 100,
        before: None,
    };
    let id = |value: &Value| value.as_str().and_then(|s| uuid::Uuid::parse_str(s).ok());
    for (key, value) in map {
        let at = format!("/{key}");
        match key.as_str() {
            "webhook" => match id(value) {
                Some(u) => q.webhook = Some(u),
                None => v.push(bad(&at, "webhook must be a webhook id (uuid)", HINT)),
            },
            "before" => match id(value) {
                Some(u) => q.before = Some(u),
                None => v.push(bad(&at, "before must be a delivery id (uuid)", HINT)),
            },
            "state" => match value.as_str() {
                Some(s @ ("pending" | "delivered" | "failed")) => q.state = Some(s.to_string()),
                _ => v.push(bad(&at, "state must be pending, delivered or failed", HINT)),
            },
            "change_id" => match value.as_i64() {
                Some(n) => q.change_id = Some(n),
                None => v.push(bad(&at, "change_id must be a whole number", HINT)),
            },
            "limit" => match value.as_i64().filter(|n| (1..=MAX_DELIVERIES_LIMIT).contains(n)) {
                Some(n) => q.limit = n,
                None => v.push(bad(
                    &at,
                    format!("limit must be a whole number from 1 to {MAX_DELIVERIES_LIMIT}"),
                    HINT,
                )),
            },
            _ => v.push(bad(&at, format!("unknown delivery option {key:?}"), HINT)),
        }
    }
    if v.is_empty() {
        Ok(q)
    } else {
        Err(CotError::from_violations("delivery options", &v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_full_webhook() {
        let o = webhook(
            &json!({"url": "https://example.com/in", "events": ["orders.insert", "orders.*", "orders.insert"],
                    "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "headers": {"Authorization": "Bearer x"},
                    "enabled": false, "description": "ERP"}),
            true,
        )
        .unwrap();
        assert_eq!(o.url.unwrap().url, "https://example.com/in");
        assert_eq!(o.events.unwrap().len(), 2, "repeats are dropped");
        assert_eq!(o.headers.unwrap()["Authorization"], "Bearer x");
        assert_eq!(o.enabled, Some(false));
        assert_eq!(o.description, Some(Some("ERP".into())));
    }

    #[test]
    fn every_problem_at_once() {
        let e = webhook(
            &json!({"url": "ftp://x", "events": ["orders", 3], "secret": "abc", "headers": {"Host": "x", "X-A": "a\nb"},
                    "enabled": "yes", "colour": 1}),
            true,
        )
        .unwrap_err();
        assert_eq!(e.kind.sqlstate(), "22023");
        let detail = e.detail.unwrap();
        for at in [
            "/url:",
            "/events/0:",
            "/events/1:",
            "/secret:",
            "/headers/Host:",
            "/headers/X-A:",
            "/enabled:",
            "/colour:",
        ] {
            assert!(detail.contains(at), "{at} missing from {detail}");
        }
    }

    #[test]
    fn required_on_create_only() {
        let e = webhook(&json!({}), true).unwrap_err();
        assert!(e.detail.unwrap().contains("url is required"));
        assert_eq!(webhook(&json!({}), false).unwrap(), WebhookOptions::default());
        assert!(webhook(&json!([]), false).is_err());
        assert!(webhook(&json!({"events": []}), false).is_err());
    }

    #[test]
    fn header_rules() {
        let many: Map<String, Value> = (0..=MAX_HEADERS)
            .map(|i| (format!("x-{i}"), json!("v")))
            .collect();
        assert!(webhook(&json!({"headers": many}), false).is_err());
        for bad in [
            json!({"x y": "v"}),
            json!({"": "v"}),
            json!({"x-a": 1}),
            json!({"X-A": "1", "x-a": "2"}),
            json!({"webhook-signature": "v1,x"}),
            json!({"x": "a".repeat(MAX_HEADER_VALUE_BYTES + 1)}),
        ] {
            assert!(webhook(&json!({"headers": bad}), false).is_err(), "{bad}");
        }
        assert!(webhook(&json!({"headers": {"X-Team": "a b\tc"}}), false).is_ok());
    }

    #[test]
    fn delivery_queries() {
        let q = delivery_query(&json!({})).unwrap();
        assert_eq!(q.limit, 100);
        let id = uuid::Uuid::now_v7();
        let q =
            delivery_query(&json!({"webhook": id, "state": "failed", "limit": 5, "change_id": 9})).unwrap();
        assert_eq!(
            (q.webhook, q.state.as_deref(), q.limit, q.change_id),
            (Some(id), Some("failed"), 5, Some(9))
        );
        for bad in [
            json!({"limit": 0}),
            json!({"limit": 1001}),
            json!({"state": "done"}),
            json!({"webhook": "x"}),
            json!({"x": 1}),
            json!(3),
        ] {
            assert!(delivery_query(&bad).is_err(), "{bad}");
        }
    }
}
