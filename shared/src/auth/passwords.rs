//! Passwords are stored only as argon2id PHC strings with OWASP's parameters
//! (m = 19 MiB, t = 2, p = 1).

use crate::domain::Password;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

const MEMORY_KIB: u32 = 19 * 1024;
const ITERATIONS: u32 = 2;
const PARALLELISM: u32 = 1;

/// A well-formed hash with the same parameters that no password matches: checking a login
/// for an unknown email against it costs the same time as checking a real one.
const NOTHING: &str = "$argon2id$v=19$m=19456,t=2,p=1$bm8tc3VjaC1hY2NvdW50$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

fn argon2() -> Argon2<'static> {
    // The parameters are constants within argon2's limits, so this cannot fail.
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

pub fn hash_password(password: &Password) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.expose().as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// True when `password` matches the stored PHC string. A malformed stored hash never matches.
pub fn verify_password(password: &Password, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(hash) => argon2().verify_password(password.expose().as_bytes(), &hash).is_ok(),
        Err(_) => false,
    }
}

/// Spends the time of one verification and returns false: for logins with an unknown email.
pub fn verify_against_nothing(password: &Password) -> bool {
    verify_password(password, NOTHING)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_phc_strings_with_owasp_parameters() {
        let p = Password::parse_new("correct horse").unwrap();
        let h = hash_password(&p).unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(!h.contains("correct horse"));
    }

    #[test]
    fn verifies_the_right_password_only() {
        let p = Password::parse_new("correct horse").unwrap();
        let h = hash_password(&p).unwrap();
        assert!(verify_password(&p, &h));
        assert!(!verify_password(&Password::parse_new("correct horsf").unwrap(), &h));
        assert!(!verify_password(&p, "not a hash"));
    }

    #[test]
    fn the_dummy_hash_parses_and_matches_nothing() {
        assert!(PasswordHash::new(NOTHING).is_ok());
        assert!(!verify_against_nothing(&Password::parse_new("anything at all").unwrap()));
    }
}
