//! Standard Webhooks signatures (<https://www.standardwebhooks.com>): a
//! secret is `whsec_` followed by the base64 of 24 to 64 random bytes; the
//! signature of a message is `v1,` followed by the base64 of
//! HMAC-SHA256(secret bytes, "<webhook-id>.<webhook-timestamp>.<body>").
//! Receivers verify it with any Standard Webhooks library.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// What every secret starts with.
pub const SECRET_PREFIX: &str = "whsec_";
/// Bytes of a generated secret: 24, the least the specification accepts
/// (192 bits, more than HMAC-SHA256 needs to resist guessing).
pub const GENERATED_SECRET_BYTES: usize = 24;
/// The specification's bounds on the decoded secret.
pub const MIN_SECRET_BYTES: usize = 24;
/// See [`MIN_SECRET_BYTES`].
pub const MAX_SECRET_BYTES: usize = 64;

/// The secret text of `bytes` random bytes.
pub fn secret_text(bytes: &[u8]) -> String {
    format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes))
}

/// The key bytes of a secret, or why it is not one.
pub fn secret_key(secret: &str) -> Result<Vec<u8>, String> {
    let Some(encoded) = secret.strip_prefix(SECRET_PREFIX) else {
        return Err(format!("a secret starts with {SECRET_PREFIX}"));
    };
    let key = STANDARD
        .decode(encoded)
        .map_err(|_| format!("the part after {SECRET_PREFIX} must be standard base64"))?;
    if !(MIN_SECRET_BYTES..=MAX_SECRET_BYTES).contains(&key.len()) {
        return Err(format!(
            "a secret holds {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes (base64-decoded), this one {}",
            key.len()
        ));
    }
    Ok(key)
}

/// The `webhook-signature` header value of a message.
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification and its reference
    /// libraries' tests.
    #[test]
    fn the_specifications_example() {
        let key = secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let sig = sign(
            &key,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn generated_secrets_read_back() {
        let bytes = [7u8; GENERATED_SECRET_BYTES];
        let s = secret_text(&bytes);
        assert!(s.starts_with("whsec_"));
        assert_eq!(secret_key(&s).unwrap(), bytes);
    }

    #[test]
    fn bad_secrets_are_refused() {
        assert!(secret_key("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .unwrap_err()
            .contains("starts with"));
        assert!(secret_key("whsec_not base64!").unwrap_err().contains("base64"));
        assert!(secret_key(&secret_text(&[1u8; 16]))
            .unwrap_err()
            .contains("24 to 64"));
        assert!(secret_key(&secret_text(&[1u8; 65]))
            .unwrap_err()
            .contains("24 to 64"));
        assert!(secret_key(&secret_text(&[1u8; 64])).is_ok());
    }
}
