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

    /// RFC 4231, test case 2: the MAC itself is HMAC-SHA256 as published.
    #[test]
    fn the_mac_is_rfc_4231_hmac_sha256() {
        let key = hmac::Key::new(hmac::HMAC_SHA256, b"Jefe");
        let tag: String =
            hmac::sign(&key, b"what do ya want for nothing?").as_ref().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(tag, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }

    /// A header made outside this code, by OpenSSL, as a provider (and the README's walkthrough)
    /// makes one: `printf '%s' '<t>.<body>' | openssl dgst -sha256 -hmac <secret>`.
    #[test]
    fn a_signature_made_by_openssl_verifies_and_signing_makes_the_same() {
        let secret = "whsec_storefront_local_development_secret";
        let body = br#"{"id":"evt_1","orderId":"01HZX","amountCents":6478,"currency":"USD","status":"succeeded"}"#;
        let header = "t=1700000000,v1=752741f90dab94ac81a110d45e7d6295b1df6caafa177bbbb6553fb0e1ea919d";
        assert_eq!(verify(secret, Some(header), body, 1_700_000_000), Ok(()));
        assert_eq!(sign(secret, 1_700_000_000, body), header);
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
        let late = now + TOLERANCE_SECONDS + 1;
        assert_eq!(verify(SECRET, Some(&header), BODY, late), Err(SignatureError::Stale));
        assert_eq!(verify(SECRET, Some(&header), BODY, now - TOLERANCE_SECONDS - 1), Err(SignatureError::Stale));
    }

    #[test]
    fn any_of_several_signatures_may_match() {
        let header = sign(SECRET, 5, BODY);
        let v1 = header.split("v1=").nth(1).unwrap();
        let both = format!("t=5,v1={},v1={v1}", "00".repeat(32));
        assert_eq!(verify(SECRET, Some(&both), BODY, 5), Ok(()));
    }
}
