//! Standard Webhooks signatures (<https://www.standardwebhooks.com/>).
//!
//! Each signed request carries `webhook-id` (the same for every attempt of one event, so
//! receivers can de-duplicate retries), `webhook-timestamp` (Unix seconds of the attempt,
//! so receivers can reject replays) and `webhook-signature: v1,<base64 HMAC-SHA256>` of
//! `"{id}.{timestamp}.{body}"`, keyed with the base64-decoded secret (`whsec_` prefix
//! optional), as the reference libraries of the spec do.
//!
//! [`decode_secret`] is the one decoder of secrets. It is built without the `http`
//! feature, so the settings compiler (`notifier check`, `settings!`) accepts exactly the
//! secrets the signer can use.

use base64::Engine as _;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
#[cfg(feature = "http")]
use hmac::{Hmac, KeyInit, Mac};
#[cfg(feature = "http")]
use sha2::Sha256;

/// A secret that is not valid base64.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the signing secret is not base64 (optionally prefixed with `whsec_`)")]
pub struct BadSigningSecret;

/// Decodes a Standard Webhooks secret into its key bytes: surrounding white space
/// ignored, optional `whsec_` prefix, then standard base64 with or without its `=`
/// padding (the reference libraries accept both). Fails on anything else, and on an
/// empty key.
pub fn decode_secret(secret: &str) -> Result<Vec<u8>, BadSigningSecret> {
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let body = secret.trim().strip_prefix("whsec_").unwrap_or(secret.trim());
    match LENIENT.decode(body) {
        Ok(key) if !key.is_empty() => Ok(key),
        _ => Err(BadSigningSecret),
    }
}

/// A signing key decoded from a `whsec_…` secret.
#[cfg(feature = "http")]
#[derive(Clone)]
pub struct SigningKey(Vec<u8>);

#[cfg(feature = "http")]
impl SigningKey {
    /// The key of a Standard Webhooks secret (see [`decode_secret`]).
    pub fn from_secret(secret: &str) -> Result<SigningKey, BadSigningSecret> {
        decode_secret(secret).map(SigningKey)
    }

    /// The `webhook-signature` header value for one request.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0).expect("HMAC takes keys of any size");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()))
    }
}

#[cfg(feature = "http")]
impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(***)")
    }
}

/// A fresh message id, `msg_` followed by 32 hex digits.
#[cfg(feature = "http")]
pub fn new_message_id() -> String {
    format!("msg_{:032x}", fastrand::u128(..))
}

#[cfg(all(test, feature = "http"))]
mod tests {
    use super::*;

    #[test]
    fn known_vector() {
        // Computed independently with Python: hmac.new(b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        // b"msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{\"test\": 2432232314}", sha256).
        let key = SigningKey::from_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            key.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, br#"{"test": 2432232314}"#),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn bad_secrets_are_refused() {
        assert_eq!(SigningKey::from_secret("whsec_!!!").unwrap_err(), BadSigningSecret);
        assert!(SigningKey::from_secret("").is_err());
        // Padding is optional, as in the reference libraries.
        let padded = SigningKey::from_secret("whsec_c2VjcmV0").unwrap().sign("m", 1, b"x");
        assert_eq!(SigningKey::from_secret("c2VjcmV0").unwrap().sign("m", 1, b"x"), padded);
        let padded = SigningKey::from_secret("c2VjcmV0cw==").unwrap().sign("m", 1, b"x");
        assert_eq!(SigningKey::from_secret("whsec_c2VjcmV0cw").unwrap().sign("m", 1, b"x"), padded);
        assert!(new_message_id().starts_with("msg_"));
        assert_eq!(format!("{:?}", SigningKey::from_secret("c2VjcmV0").unwrap()), "SigningKey(***)");
    }
}
