//! Access tokens: JWTs after RFC 8725.
//!
//! - exactly one algorithm (HS256), one key per `kid`, keys of at least 256 bits;
//! - an explicit type (`typ: at+jwt`, RFC 9068) so no other JWT can pass as an access token;
//! - `iss`, `aud`, `sub`, `sid` (the session), `role`, `iat`, `exp` and `jti` are all required
//!   and checked;
//! - the `kid` header is untrusted input: it only selects among keys we already hold.

use crate::domain::{Role, SessionId, Timestamp, User, UserId};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::fmt;

pub const TOKEN_TTL_SECONDS: i64 = 15 * 60;
const TOKEN_TYPE: &str = "at+jwt";
const MIN_SECRET_BYTES: usize = 32;

/// One HMAC key with its id.
#[derive(Clone, Deserialize)]
pub struct SigningKey {
    pub kid: String,
    secret: String,
}

impl SigningKey {
    pub fn new(kid: impl Into<String>, secret: impl Into<String>) -> Result<Self, TokenError> {
        let key = Self { kid: kid.into(), secret: secret.into() };
        key.check()?;
        Ok(key)
    }

    /// A fresh random key (256 bits of entropy, hex), e.g. for the local stack.
    pub fn generate(kid_prefix: &str) -> Self {
        let random = random_hex(36);
        Self { kid: format!("{kid_prefix}-{}", &random[..8]), secret: random[8..].to_owned() }
    }

    /// Parses the JSON form `{"kid": "...", "secret": "..."}` used by the key file and the secret.
    pub fn from_json(raw: &str) -> Result<Self, TokenError> {
        let key: Self = serde_json::from_str(raw).map_err(|_| TokenError::BadKey("not {kid, secret} JSON"))?;
        key.check()?;
        Ok(key)
    }

    /// One key in that form, or a JSON array of them (a key file mid-rotation): the first signs,
    /// the others only verify.
    pub fn ring_from_json(raw: &str) -> Result<KeyRing, TokenError> {
        if raw.trim_start().starts_with('[') {
            let keys: Vec<Self> =
                serde_json::from_str(raw).map_err(|_| TokenError::BadKey("not a JSON array of {kid, secret}"))?;
            let mut keys = keys.into_iter();
            let current = keys.next().ok_or(TokenError::BadKey("the key array is empty"))?;
            current.check()?;
            let previous: Vec<Self> = keys.collect();
            for key in &previous {
                key.check()?;
            }
            Ok(KeyRing { current, previous })
        } else {
            Self::from_json(raw).map(KeyRing::single)
        }
    }

    /// The JSON form, for writing a key file.
    pub fn to_json(&self) -> String {
        serde_json::json!({ "kid": self.kid, "secret": self.secret }).to_string()
    }

    fn check(&self) -> Result<(), TokenError> {
        if self.kid.is_empty() || self.kid.len() > 64 {
            return Err(TokenError::BadKey("kid must be 1 to 64 characters"));
        }
        if self.secret.len() < MIN_SECRET_BYTES {
            return Err(TokenError::BadKey("secret must be at least 32 bytes"));
        }
        Ok(())
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey({}, <redacted>)", self.kid)
    }
}

/// `bytes` random bytes from the operating system, as hex.
pub fn random_hex(bytes: usize) -> String {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    let mut buffer = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buffer);
    buffer.iter().map(|b| format!("{b:02x}")).collect()
}

/// The current key (signs and verifies) and any previous ones (verify only, during rotation).
#[derive(Debug, Clone)]
pub struct KeyRing {
    pub current: SigningKey,
    pub previous: Vec<SigningKey>,
}

impl KeyRing {
    pub fn single(key: SigningKey) -> Self {
        Self { current: key, previous: Vec::new() }
    }

    /// The ids of every key the ring holds, the signing one first.
    pub fn kids(&self) -> Vec<&str> {
        std::iter::once(&self.current).chain(&self.previous).map(|k| k.kid.as_str()).collect()
    }

    fn find(&self, kid: &str) -> Option<&SigningKey> {
        std::iter::once(&self.current).chain(&self.previous).find(|k| k.kid == kid)
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    sid: String,
    role: Role,
    iss: String,
    aud: String,
    iat: i64,
    exp: i64,
    jti: String,
}

/// Who made a request, as proven by a valid token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    pub user_id: UserId,
    pub session_id: SessionId,
    pub role: Role,
}

impl Principal {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

#[derive(Debug)]
pub struct IssuedToken {
    pub token: String,
    pub expires_in: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("invalid token")]
    Invalid,
    /// Signed with a key id this ring does not hold (yet, or any more).
    #[error("unknown signing key")]
    UnknownKey,
    #[error("token signing key: {0}")]
    BadKey(&'static str),
    #[error("token signing failed")]
    Signing,
}

/// Issues and verifies access tokens with one key ring, issuer and audience.
pub struct Tokens {
    keys: KeyRing,
    issuer: String,
    audience: String,
    validation: Validation,
}

impl Tokens {
    pub fn new(keys: KeyRing, issuer: &str, audience: &str) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iat", "sub", "iss", "aud"]);
        validation.leeway = 30;
        validation.validate_nbf = false;
        Self { keys, issuer: issuer.to_owned(), audience: audience.to_owned(), validation }
    }

    /// The ids of the keys that verify tokens now.
    pub fn kids(&self) -> Vec<&str> {
        self.keys.kids()
    }

    /// An access token for `user` in `session`.
    pub fn issue(&self, user: &User, session: SessionId, now: Timestamp) -> Result<IssuedToken, TokenError> {
        let iat = now.unix_seconds();
        let claims = Claims {
            sub: user.id.to_string(),
            sid: session.to_string(),
            role: user.role,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            iat,
            exp: iat + TOKEN_TTL_SECONDS,
            jti: ulid::Ulid::new().to_string(),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.typ = Some(TOKEN_TYPE.into());
        header.kid = Some(self.keys.current.kid.clone());
        let key = EncodingKey::from_secret(self.keys.current.secret.as_bytes());
        let token = jsonwebtoken::encode(&header, &claims, &key).map_err(|_| TokenError::Signing)?;
        Ok(IssuedToken { token, expires_in: TOKEN_TTL_SECONDS })
    }

    pub fn verify(&self, token: &str) -> Result<Principal, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Invalid)?;
        if header.alg != Algorithm::HS256 || header.typ.as_deref() != Some(TOKEN_TYPE) {
            return Err(TokenError::Invalid);
        }
        let kid = header.kid.as_deref().ok_or(TokenError::Invalid)?;
        let key = self.keys.find(kid).ok_or(TokenError::UnknownKey)?;
        let data =
            jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(key.secret.as_bytes()), &self.validation)
                .map_err(|_| TokenError::Invalid)?;
        let user_id = UserId::parse(&data.claims.sub).ok_or(TokenError::Invalid)?;
        let session_id = SessionId::parse(&data.claims.sid).ok_or(TokenError::Invalid)?;
        if data.claims.jti.is_empty() {
            return Err(TokenError::Invalid);
        }
        Ok(Principal { user_id, session_id, role: data.claims.role })
    }
}
