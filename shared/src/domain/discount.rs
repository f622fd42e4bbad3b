//! Discount codes.

use super::pricing::{DiscountKind, DiscountTerms};
use super::{Invalid, Money, Timestamp};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A discount code: `[A-Za-z0-9_-]{1,32}`, case-insensitive (kept upper-case).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DiscountCode(String);

impl DiscountCode {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let code = raw.trim();
        let ok =
            (1..=32).contains(&code.len()) && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if ok { Ok(Self(code.to_ascii_uppercase())) } else { Err(Invalid::new("must be 1 to 32 of A-Z, 0-9, _ and -")) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DiscountCode {
    type Error = Invalid;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<DiscountCode> for String {
    fn from(value: DiscountCode) -> Self {
        value.0
    }
}

impl fmt::Display for DiscountCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A discount as stored and shown to admins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Discount {
    pub code: DiscountCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent_off: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_off_cents: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_subtotal_cents: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_redemptions: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<Timestamp>,
    pub active: bool,
    pub redemptions: i64,
    pub created_at: Timestamp,
}

impl Discount {
    /// Builds a new discount, checking the rules that involve several fields: exactly one of
    /// `percent_off` (1–100) and `amount_off` (> 0); an end after the start.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        code: DiscountCode,
        percent_off: Option<i64>,
        amount_off: Option<Money>,
        min_subtotal: Option<Money>,
        max_redemptions: Option<i64>,
        starts_at: Option<Timestamp>,
        ends_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<Self, Vec<(&'static str, Invalid)>> {
        let mut errors = Vec::new();
        match (percent_off, amount_off) {
            (Some(_), Some(_)) | (None, None) => {
                errors.push(("percentOff", Invalid::new("give exactly one of percentOff and amountOffCents")))
            }
            (Some(p), None) if !(1..=100).contains(&p) => {
                errors.push(("percentOff", Invalid::new("must be an integer from 1 to 100")))
            }
            (None, Some(a)) if a.cents() <= 0 => {
                errors.push(("amountOffCents", Invalid::new("must be a positive integer")))
            }
            _ => {}
        }
        if let (Some(s), Some(e)) = (starts_at, ends_at)
            && e <= s
        {
            errors.push(("endsAt", Invalid::new("must be after startsAt")));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Self {
            code,
            percent_off,
            amount_off_cents: amount_off,
            min_subtotal_cents: min_subtotal,
            max_redemptions,
            starts_at,
            ends_at,
            active: true,
            redemptions: 0,
            created_at: now,
        })
    }

    pub fn terms(&self) -> DiscountTerms {
        DiscountTerms {
            kind: match (self.percent_off, self.amount_off_cents) {
                (Some(p), _) => DiscountKind::PercentOff(p),
                (None, Some(a)) => DiscountKind::AmountOff(a),
                (None, None) => DiscountKind::AmountOff(Money::ZERO),
            },
            min_subtotal: self.min_subtotal_cents,
            max_redemptions: self.max_redemptions,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            active: self.active,
            redemptions: self.redemptions,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code() -> DiscountCode {
        DiscountCode::parse("welcome10").unwrap()
    }

    #[test]
    fn codes_are_case_insensitive() {
        assert_eq!(code().as_str(), "WELCOME10");
        assert!(DiscountCode::parse("").is_err());
        assert!(DiscountCode::parse("has space").is_err());
    }

    #[test]
    fn exactly_one_kind_of_discount() {
        let now = Timestamp::EPOCH;
        assert!(Discount::new(code(), None, None, None, None, None, None, now).is_err());
        assert!(Discount::new(code(), Some(10), Some(Money::from_cents(5)), None, None, None, None, now).is_err());
        assert!(Discount::new(code(), Some(101), None, None, None, None, None, now).is_err());
        assert!(Discount::new(code(), None, Some(Money::from_cents(0)), None, None, None, None, now).is_err());
        assert!(Discount::new(code(), Some(100), None, None, None, None, None, now).is_ok());
    }

    #[test]
    fn a_discount_ends_after_it_starts() {
        let t = |ms| Some(Timestamp::from_unix_millis(ms));
        let now = Timestamp::EPOCH;
        assert!(Discount::new(code(), Some(5), None, None, None, t(10), t(10), now).is_err());
        assert!(Discount::new(code(), Some(5), None, None, None, t(10), t(11), now).is_ok());
    }
}
