use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use ulid::Ulid;

/// A user's id: a ULID, so ids sort by creation time and reveal no count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UserId(Ulid);

impl UserId {
    pub fn new() -> Self {
        Self(Ulid::new())
    }

    /// Parses an id that came from outside (a token's `sub`, a path). `None` if it is not one.
    pub fn parse(raw: &str) -> Option<Self> {
        Ulid::from_str(raw).ok().map(Self)
    }
}

impl Default for UserId {
    fn default() -> Self {
        Self::new()
    }
}

impl TryFrom<String> for UserId {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value).ok_or_else(|| format!("not a user id: {value}"))
    }
}

impl From<UserId> for String {
    fn from(value: UserId) -> Self {
        value.0.to_string()
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_its_text_form() {
        let id = UserId::new();
        assert_eq!(UserId::parse(&id.to_string()), Some(id));
    }

    #[test]
    fn refuses_text_that_is_not_a_ulid() {
        assert_eq!(UserId::parse("not-an-id"), None);
        assert_eq!(UserId::parse(""), None);
    }
}
