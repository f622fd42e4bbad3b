//! Opaque tokens (refresh tokens, emailed verification and reset tokens): 256 random bits,
//! shown once, stored only as their SHA-256.
//!
//! When a token is rotated its successor is kept beside its hash, sealed with a pad that only
//! the rotated token itself derives (HMAC-SHA256 keyed by the token). So a client that presents
//! the rotated token again within the grace window (a concurrent or retried refresh) gets the
//! same successor, while the table alone reveals no live token.

use aws_lc_rs::{digest, hmac};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::fmt;

const TOKEN_BYTES: usize = 32;
const SUCCESSOR_CONTEXT: &[u8] = b"storefront refresh-token successor v1";

/// A refresh token in the clear: only ever in an answer to its client.
#[derive(Clone, PartialEq, Eq)]
pub struct OpaqueToken([u8; TOKEN_BYTES]);

impl OpaqueToken {
    /// A fresh token from the operating system's random source.
    pub fn generate() -> Result<Self, super::TokenError> {
        let mut bytes = [0u8; TOKEN_BYTES];
        aws_lc_rs::rand::fill(&mut bytes).map_err(|_| super::TokenError::Signing)?;
        Ok(Self(bytes))
    }

    /// A token as a client sends it back; `None` if it cannot be one of ours.
    pub fn parse(raw: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(raw.trim()).ok()?;
        bytes.try_into().ok().map(Self)
    }

    /// The text form (43 characters of base64url).
    pub fn expose(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }

    /// What the table keys the token by: its SHA-256, hex.
    pub fn hash(&self) -> String {
        hex(digest::digest(&digest::SHA256, &self.0).as_ref())
    }

    /// `successor` sealed under this token (see the module docs), as text.
    pub fn seal(&self, successor: &OpaqueToken) -> String {
        URL_SAFE_NO_PAD.encode(xor(&self.pad(), &successor.0))
    }

    /// The successor this token sealed; `None` if `sealed` is not one.
    pub fn open(&self, sealed: &str) -> Option<OpaqueToken> {
        let bytes: [u8; TOKEN_BYTES] = URL_SAFE_NO_PAD.decode(sealed).ok()?.try_into().ok()?;
        Some(OpaqueToken(xor(&self.pad(), &bytes)))
    }

    fn pad(&self) -> [u8; TOKEN_BYTES] {
        let key = hmac::Key::new(hmac::HMAC_SHA256, &self.0);
        let tag = hmac::sign(&key, SUCCESSOR_CONTEXT);
        let mut pad = [0u8; TOKEN_BYTES];
        pad.copy_from_slice(&tag.as_ref()[..TOKEN_BYTES]);
        pad
    }
}

fn xor(a: &[u8; TOKEN_BYTES], b: &[u8; TOKEN_BYTES]) -> [u8; TOKEN_BYTES] {
    let mut out = [0u8; TOKEN_BYTES];
    for (o, (x, y)) in out.iter_mut().zip(a.iter().zip(b)) {
        *o = x ^ y;
    }
    out
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl fmt::Debug for OpaqueToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OpaqueToken(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_random_bits_in_43_characters_and_round_trip() {
        let a = OpaqueToken::generate().unwrap();
        let b = OpaqueToken::generate().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), 43);
        assert_eq!(OpaqueToken::parse(&a.expose()), Some(a.clone()));
        assert_eq!(a.hash().len(), 64);
        assert!(OpaqueToken::parse("short").is_none());
        assert!(OpaqueToken::parse(&format!("{}A", a.expose())).is_none());
        assert!(!format!("{a:?}").contains(&a.expose()));
    }

    #[test]
    fn only_the_rotated_token_opens_its_successor() {
        let old = OpaqueToken::generate().unwrap();
        let new = OpaqueToken::generate().unwrap();
        let sealed = old.seal(&new);
        assert_ne!(sealed, new.expose(), "the table does not hold the successor in the clear");
        assert_eq!(old.open(&sealed), Some(new.clone()));
        let other = OpaqueToken::generate().unwrap();
        assert_ne!(other.open(&sealed), Some(new));
        assert_eq!(old.open("not base64!"), None);
    }
}
