use super::{Address, Email, Invalid, PersonName, Timestamp, UserId};
use serde::{Deserialize, Serialize};
use std::fmt;

/// What a user may do. Only the seed and the `grant-admin` ops command make admins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Customer,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A customer account as the API shows it. The password hash is not part of it: it lives
/// in a separate credentials record and never leaves storage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub name: PersonName,
    pub role: Role,
    pub created_at: Timestamp,
    /// Whether the owner proved the mailbox is theirs (a verification or reset email's token).
    /// Accounts of the version before verification read as unverified.
    #[serde(default)]
    pub email_verified: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_shipping_address: Option<Address>,
}

/// What an emailed account token proves, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenPurpose {
    /// `POST /auth/verify-email`: the mailbox is the owner's.
    Verify,
    /// `POST /auth/password-reset/confirm`: sets a new password.
    Reset,
}

impl TokenPurpose {
    /// Seconds a token is good for after it is emailed.
    pub fn lifetime_seconds(self) -> i64 {
        match self {
            TokenPurpose::Verify => 24 * 3600,
            TokenPurpose::Reset => 30 * 60,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TokenPurpose::Verify => "verify",
            TokenPurpose::Reset => "reset",
        }
    }
}

/// At most this many reset (or verification) emails per account in [`ACCOUNT_EMAIL_WINDOW_SECONDS`].
pub const MAX_ACCOUNT_EMAILS: i64 = 3;
pub const ACCOUNT_EMAIL_WINDOW_SECONDS: i64 = 3600;

/// A plaintext password on its way to being hashed or checked. Never printed, never stored.
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 8;
    pub const MAX_CHARS: usize = 128;

    /// A password for a new account: 8–128 characters, taken as typed (no trimming).
    pub fn parse_new(raw: &str) -> Result<Self, Invalid> {
        let len = raw.chars().count();
        if (Self::MIN_CHARS..=Self::MAX_CHARS).contains(&len) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(Invalid::new(format!("must be {} to {} characters", Self::MIN_CHARS, Self::MAX_CHARS)))
        }
    }

    /// A password offered at login: anything up to the maximum length is checked against the
    /// stored hash (an over-long one cannot match, and is refused without hashing it).
    pub fn parse_attempt(raw: &str) -> Result<Self, Invalid> {
        if raw.is_empty() {
            Err(Invalid::new("is required"))
        } else if raw.chars().count() > Self::MAX_CHARS {
            Err(Invalid::new(format!("must be at most {} characters", Self::MAX_CHARS)))
        } else {
            Ok(Self(raw.to_owned()))
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_passwords_are_8_to_128_characters() {
        assert!(Password::parse_new("1234567").is_err());
        assert!(Password::parse_new("12345678").is_ok());
        assert!(Password::parse_new(&"é".repeat(128)).is_ok());
        assert!(Password::parse_new(&"é".repeat(129)).is_err());
    }

    #[test]
    fn passwords_are_never_printed() {
        let p = Password::parse_new("correct horse battery staple").unwrap();
        assert!(!format!("{p:?}").contains("horse"));
    }

    #[test]
    fn roles_serialise_in_lower_case() {
        assert_eq!(serde_json::to_string(&Role::Admin).unwrap(), "\"admin\"");
    }
}

/// A change to a profile; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct ProfileChange {
    pub name: Option<PersonName>,
    /// `Some(None)` removes the default shipping address.
    pub default_shipping_address: Option<Option<Address>>,
}

impl ProfileChange {
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.default_shipping_address.is_none()
    }
}
