//! Authentication: password hashing and access tokens.

mod guest;
mod opaque;
pub mod outgoing;
mod passwords;
mod tokens;
pub mod webhook;

pub use guest::GuestTokens;
pub use opaque::{OpaqueToken, hex};
pub use passwords::{hash_password, verify_against_nothing, verify_password};
pub use tokens::{IssuedToken, KeyRing, Principal, SigningKey, TOKEN_TTL_SECONDS, TokenError, Tokens, random_hex};
