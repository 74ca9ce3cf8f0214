//! Keyset cursors: the order a page was read in and the key of its last row,
//! as base64url JSON, made after each page and read back for the next one.
//! Opaque to clients, but not secret: a cursor only says where to continue; the query still runs as the caller, under row security.

use crate::error::{CotError, ErrorKind};
use base64::Engine;
use serde_json::json;
use serde_json::Value;

/// base64url without padding: the alphabet that passes through a query string
/// unescaped (the page statement writes cursors in the same form).
const CODEC: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

fn encode(bytes: &[u8]) -> String {
    CODEC.encode(bytes)
}

fn decode(text: &str) -> Option<Vec<u8>> {
    CODEC.decode(text).ok()
}

/// The cursor after a row whose key (order values, then id) is `key`.
pub fn encode_cursor(signature: &str, key: &Value) -> String {
    encode(json!({"o": signature, "k": key}).to_string().as_bytes())
}

/// The key a cursor holds, if it was made for this order and holds `len` values.
pub fn decode_cursor(cursor: &str, signature: &str, len: usize) -> Result<Vec<Value>, CotError> {
    let bad = |why: &str| {
        CotError::new(ErrorKind::InvalidParameter, format!("invalid cursor: {why}"))
            .hint("pass next_cursor from the previous page, with the same order")
    };
    if cursor.len() > 16 * 1024 {
        return Err(bad("too long"));
    }
    let bytes = decode(cursor).ok_or_else(|| bad("not base64url"))?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|_| bad("not a cursor"))?;
    if v["o"].as_str() != Some(signature) {
        return Err(bad("it belongs to another order"));
    }
    match v.get("k") {
        Some(Value::Array(k)) if k.len() == len && !k.last().is_some_and(Value::is_null) => Ok(k.clone()),
        _ => Err(bad("not a cursor")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_round_trips() {
        for text in [
            "",
            "a",
            "ab",
            "abc",
            "abcd",
            "{\"o\":\"-x\",\"k\":[1,null,\"é\"]}",
        ] {
            assert_eq!(decode(&encode(text.as_bytes())).unwrap(), text.as_bytes());
        }
        assert_eq!(encode(b"hello"), "aGVsbG8");
        assert!(decode("a").is_none() && decode("a=b").is_none());
    }

    #[test]
    fn cursors_belong_to_their_order() {
        let c = encode_cursor("-total,id", &json!([12.5, "0190"]));
        assert_eq!(
            decode_cursor(&c, "-total,id", 2).unwrap(),
            vec![json!(12.5), json!("0190")]
        );
        assert!(decode_cursor(&c, "total,id", 2).is_err());
        assert!(decode_cursor(&c, "-total,id", 3).is_err());
        assert!(decode_cursor("!!", "id", 1).is_err());
    }
}
