//! Discount codes.

use super::pricing::{DiscountKind, DiscountTerms};
use super::{Invalid, Money, Timestamp};
use serde::{Deserialize, Serialize};

/// A discount code: `[A-Za-z0-9_-]{1,32}`, case-insensitive (kept upper-case).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DiscountCode(String);
string_newtype!(DiscountCode);

impl DiscountCode {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let code = raw.trim();
        let ok =
            (1..=32).contains(&code.len()) && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if ok { Ok(Self(code.to_ascii_uppercase())) } else { Err(Invalid::new("must be 1 to 32 of A-Z, 0-9, _ and -")) }
    }
}

/// A discount as stored and shown to admins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Discount {
    pub code: DiscountCode,
    /// `percentOff` or `amountOffCents`, exactly one.
    #[serde(flatten)]
    pub kind: DiscountKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_subtotal_cents: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_redemptions: Option<i64>,
    /// How many orders of one buyer (an account, or a guest's email) may use the code; a
    /// cancelled or expired order gives its use back. Discounts from before the limit: 1.
    #[serde(default = "one_per_customer")]
    pub per_customer_limit: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<Timestamp>,
    pub active: bool,
    pub redemptions: i64,
    pub created_at: Timestamp,
}

fn one_per_customer() -> i64 {
    DEFAULT_PER_CUSTOMER_LIMIT
}

/// How many orders of one buyer may use a code unless its admin says otherwise.
pub const DEFAULT_PER_CUSTOMER_LIMIT: i64 = 1;

/// The most a percentage discount takes off.
pub const MAX_PERCENT_OFF: i64 = 100;

/// What an admin asks for when creating a discount, each field as given (if at all).
#[derive(Debug, Clone, Default)]
pub struct NewDiscount {
    pub percent_off: Option<i64>,
    pub amount_off: Option<Money>,
    pub min_subtotal: Option<Money>,
    pub max_redemptions: Option<i64>,
    pub per_customer_limit: Option<i64>,
    pub starts_at: Option<Timestamp>,
    pub ends_at: Option<Timestamp>,
}

/// A minimum subtotal: not negative.
pub fn parse_min_subtotal(cents: i64) -> Result<Money, Invalid> {
    if cents >= 0 { Ok(Money::from_cents(cents)) } else { Err(Invalid::new("must not be negative")) }
}

/// A redemption limit (in all, or per customer): at least one.
pub fn parse_max_redemptions(limit: i64) -> Result<i64, Invalid> {
    if limit >= 1 { Ok(limit) } else { Err(Invalid::new("must be at least 1")) }
}

impl Discount {
    /// Builds a new discount, checking the rules that involve several fields: exactly one of
    /// `percent_off` (1 to [`MAX_PERCENT_OFF`]) and `amount_off` (> 0); an end after the start.
    /// `Err` lists every field at fault.
    pub fn new(code: DiscountCode, new: NewDiscount, now: Timestamp) -> Result<Self, Vec<(&'static str, Invalid)>> {
        let mut errors = Vec::new();
        let kind = match (new.percent_off, new.amount_off) {
            (Some(_), Some(_)) | (None, None) => {
                errors.push(("percentOff", Invalid::new("give exactly one of percentOff and amountOffCents")));
                None
            }
            (Some(p), None) if !(1..=MAX_PERCENT_OFF).contains(&p) => {
                errors.push(("percentOff", Invalid::new(format!("must be an integer from 1 to {MAX_PERCENT_OFF}"))));
                None
            }
            (None, Some(a)) if a.cents() <= 0 => {
                errors.push(("amountOffCents", Invalid::new("must be a positive integer")));
                None
            }
            (Some(p), None) => Some(DiscountKind::PercentOff(p)),
            (None, Some(a)) => Some(DiscountKind::AmountOff(a)),
        };
        if let (Some(s), Some(e)) = (new.starts_at, new.ends_at)
            && e <= s
        {
            errors.push(("endsAt", Invalid::new("must be after startsAt")));
        }
        match kind {
            Some(kind) if errors.is_empty() => Ok(Self {
                code,
                kind,
                min_subtotal_cents: new.min_subtotal,
                max_redemptions: new.max_redemptions,
                per_customer_limit: new.per_customer_limit.unwrap_or(DEFAULT_PER_CUSTOMER_LIMIT),
                starts_at: new.starts_at,
                ends_at: new.ends_at,
                active: true,
                redemptions: 0,
                created_at: now,
            }),
            _ => Err(errors),
        }
    }

    /// The terms checkout applies, for a buyer who used the code in `used` orders so far.
    pub fn terms(&self, used: i64) -> DiscountTerms {
        DiscountTerms {
            kind: self.kind,
            min_subtotal: self.min_subtotal_cents,
            max_redemptions: self.max_redemptions,
            per_customer_limit: self.per_customer_limit,
            used,
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

    fn percent(p: i64) -> NewDiscount {
        NewDiscount { percent_off: Some(p), ..NewDiscount::default() }
    }

    fn amount(cents: i64) -> NewDiscount {
        NewDiscount { amount_off: Some(Money::from_cents(cents)), ..NewDiscount::default() }
    }

    #[test]
    fn exactly_one_kind_of_discount_within_its_bounds() {
        let now = Timestamp::EPOCH;
        let both = NewDiscount { amount_off: Some(Money::from_cents(5)), ..percent(10) };
        for refused in [NewDiscount::default(), both, percent(0), percent(MAX_PERCENT_OFF + 1), amount(0), amount(-1)] {
            assert!(Discount::new(code(), refused.clone(), now).is_err(), "{refused:?}");
        }
        assert_eq!(
            Discount::new(code(), percent(MAX_PERCENT_OFF), now).map(|d| d.kind),
            Ok(DiscountKind::PercentOff(100))
        );
        assert_eq!(
            Discount::new(code(), amount(1), now).map(|d| d.kind),
            Ok(DiscountKind::AmountOff(Money::from_cents(1)))
        );
        assert!(parse_min_subtotal(-1).is_err() && parse_min_subtotal(0).is_ok());
        assert!(parse_max_redemptions(0).is_err() && parse_max_redemptions(1).is_ok());
    }

    #[test]
    fn a_discount_ends_after_it_starts() {
        let t = |ms| Some(Timestamp::from_unix_millis(ms));
        let now = Timestamp::EPOCH;
        let window = |start, end| NewDiscount { starts_at: start, ends_at: end, ..percent(5) };
        assert!(Discount::new(code(), window(t(10), t(10)), now).is_err());
        assert!(Discount::new(code(), window(t(10), t(11)), now).is_ok());
    }

    #[test]
    fn a_discount_shows_and_stores_one_of_percent_off_and_amount_off_cents() {
        let now = Timestamp::EPOCH;
        let shown = serde_json::to_value(Discount::new(code(), percent(10), now).expect("valid")).expect("json");
        assert_eq!((shown["percentOff"].as_i64(), shown.get("amountOffCents")), (Some(10), None));
        let shown = serde_json::to_value(Discount::new(code(), amount(250), now).expect("valid")).expect("json");
        assert_eq!((shown.get("percentOff"), shown["amountOffCents"].as_i64()), (None, Some(250)));
        let back: Discount = serde_json::from_value(shown.clone()).expect("reads back");
        assert_eq!(back.kind, DiscountKind::AmountOff(Money::from_cents(250)));
    }
}
