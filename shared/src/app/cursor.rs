//! Pagination cursors: opaque to clients, tamper-evident, and bound to the query they page.
//!
//! A cursor is a compact HS256 token (its own key, `CURSOR_SECRET`) over the query's
//! fingerprint and the position where the page ended. An altered cursor fails the signature;
//! a cursor of another query fails the fingerprint; either is 400 `invalid_cursor`.

use super::AppError;
use crate::store::Position;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Claims {
    /// The query this cursor pages.
    f: String,
    /// Where the previous page ended.
    p: Position,
}

pub fn encode(secret: &str, fingerprint: &str, position: &Position) -> Result<String, AppError> {
    let claims = Claims { f: fingerprint.to_owned(), p: position.clone() };
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret.as_bytes()))
        .map_err(|e| AppError::Internal(format!("signing a cursor: {e}")))
}

pub fn decode(secret: &str, fingerprint: &str, cursor: &str) -> Result<Position, AppError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_aud = false;
    let data = jsonwebtoken::decode::<Claims>(cursor, &DecodingKey::from_secret(secret.as_bytes()), &validation)
        .map_err(|_| AppError::InvalidCursor)?;
    if data.claims.f != fingerprint {
        return Err(AppError::InvalidCursor);
    }
    Ok(data.claims.p)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "cursor-secret-cursor-secret-cursor-secret";

    fn position() -> Position {
        Position(vec![("a".into(), "1".into()), ("b".into(), "2".into())])
    }

    #[test]
    fn a_cursor_round_trips_for_its_own_query() {
        let c = encode(SECRET, "q1", &position()).unwrap();
        assert_eq!(decode(SECRET, "q1", &c).unwrap(), position());
    }

    #[test]
    fn another_querys_or_an_altered_cursor_is_refused() {
        let c = encode(SECRET, "q1", &position()).unwrap();
        assert!(matches!(decode(SECRET, "q2", &c), Err(AppError::InvalidCursor)));
        let mut altered = c.clone().into_bytes();
        let i = altered.len() / 2;
        altered[i] = if altered[i] == b'A' { b'B' } else { b'A' };
        assert!(matches!(decode(SECRET, "q1", &String::from_utf8(altered).unwrap()), Err(AppError::InvalidCursor)));
        assert!(matches!(decode(SECRET, "q1", "garbage"), Err(AppError::InvalidCursor)));
        assert!(matches!(decode("another-secret-another-secret-another", "q1", &c), Err(AppError::InvalidCursor)));
    }
}
