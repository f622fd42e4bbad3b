use super::Invalid;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Free text supplied by a client, trimmed, within a length range counted in characters,
/// and free of control characters (no NULs, no terminal escapes, no line breaks).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Text(String);

impl Text {
    pub fn parse(raw: &str, min: usize, max: usize) -> Result<Self, Invalid> {
        let text = raw.trim();
        let len = text.chars().count();
        if len < min || len > max {
            return Err(if min <= 1 {
                Invalid::new(format!("must be 1 to {max} characters"))
            } else {
                Invalid::new(format!("must be {min} to {max} characters"))
            });
        }
        if text.chars().any(char::is_control) {
            return Err(Invalid::new("must not contain control characters"));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<Text> for String {
    fn from(text: Text) -> Self {
        text.0
    }
}

/// A person's display name: 1–100 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PersonName(Text);
string_newtype!(PersonName);

impl PersonName {
    pub const MAX_LEN: usize = 100;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        Text::parse(raw, 1, Self::MAX_LEN).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_counts_characters_not_bytes() {
        assert_eq!(Text::parse("  Zoë  ", 1, 3).unwrap().as_str(), "Zoë");
    }

    #[test]
    fn rejects_blank_overlong_and_control_characters() {
        assert!(PersonName::parse("   ").is_err());
        assert!(PersonName::parse(&"x".repeat(101)).is_err());
        assert!(PersonName::parse(&"x".repeat(100)).is_ok());
        assert!(PersonName::parse("Ada\u{0}Lovelace").is_err());
        assert!(PersonName::parse("Ada\nLovelace").is_err());
    }
}
