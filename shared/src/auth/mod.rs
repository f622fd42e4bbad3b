//! Authentication: password hashing and access tokens.

pub mod outgoing;
mod passwords;
mod refresh;
mod tokens;
pub mod webhook;

pub use passwords::{hash_password, verify_against_nothing, verify_password};
pub use refresh::{RefreshToken, hex};
pub use tokens::{IssuedToken, KeyRing, Principal, SigningKey, TOKEN_TTL_SECONDS, TokenError, Tokens, random_hex};
