//! Signatures of the webhooks storefront sends, per the Standard Webhooks specification (the
//! official `standardwebhooks` crate signs, so that receivers verify with the official
//! libraries): headers `webhook-id` (the event id), `webhook-timestamp` (unix seconds) and
//! `webhook-signature` (`v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, one per secret
//! in force, space-separated). Secrets are `whsec_` and the base64 of 32 random bytes.

pub use standardwebhooks::{HEADER_WEBHOOK_ID, HEADER_WEBHOOK_SIGNATURE, HEADER_WEBHOOK_TIMESTAMP};

pub use crate::domain::WebhookSecret;

/// A new secret: `whsec_` and the base64 of 32 bytes from the operating system's random source.
pub fn new_secret() -> WebhookSecret {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    use base64::Engine;
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let raw = format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(bytes));
    WebhookSecret::parse(&raw).unwrap_or_else(|| unreachable!("32 bytes make a valid secret"))
}

/// `v1,<signature>` of `body` sent as `id` at `timestamp`, with `secret`.
pub fn sign(secret: &WebhookSecret, id: &str, timestamp: i64, body: &str) -> String {
    // The secret was checked when parsed, and the body is text: neither can fail.
    standardwebhooks::Webhook::new(secret.reveal())
        .and_then(|w| w.sign(id, timestamp, body.as_bytes()))
        .unwrap_or_default()
}

/// The `webhook-signature` header of a delivery: a signature per secret in force (the newest
/// first; a rotated-out secret signs for a day after its rotation).
pub fn signature_header(secrets: &[&WebhookSecret], id: &str, timestamp: i64, body: &str) -> String {
    secrets.iter().map(|s| sign(s, id, timestamp, body)).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delivery_verifies_with_the_official_library_under_either_secret_in_force() {
        let (old, new) = (new_secret(), new_secret());
        assert_ne!(old, new);
        assert!(WebhookSecret::parse(new.reveal()).is_some());
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let body = r#"{"id":"01KBGQ3M7V2X9C4D6F8H0J2K4M","type":"order.paid"}"#;
        let header = signature_header(&[&new, &old], "01KBGQ3M7V2X9C4D6F8H0J2K4M", now, body);
        let mut headers = lambda_http::http::HeaderMap::new();
        headers.insert(HEADER_WEBHOOK_ID, "01KBGQ3M7V2X9C4D6F8H0J2K4M".parse().unwrap());
        headers.insert(HEADER_WEBHOOK_TIMESTAMP, now.to_string().parse().unwrap());
        headers.insert(HEADER_WEBHOOK_SIGNATURE, header.parse().unwrap());
        for secret in [&old, &new] {
            let receiver = standardwebhooks::Webhook::new(secret.reveal()).unwrap();
            assert!(receiver.verify(body.as_bytes(), &headers).is_ok());
        }
        let stranger = standardwebhooks::Webhook::new(new_secret().reveal()).unwrap();
        assert!(stranger.verify(body.as_bytes(), &headers).is_err());
        assert!(format!("{new:?}").contains("redacted") && !format!("{new:?}").contains("whsec_"));
    }

    #[test]
    fn only_well_formed_secrets_parse() {
        assert!(WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_some());
        assert!(WebhookSecret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_none(), "the prefix");
        assert!(WebhookSecret::parse("whsec_c2hvcnQ=").is_none(), "too short");
        assert!(WebhookSecret::parse("whsec_not base64!").is_none());
    }
}
