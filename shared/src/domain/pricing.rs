//! Pricing: the one computation behind both a quote and an order, so they agree to the cent.
//!
//! - subtotal = Σ unit price × quantity
//! - discount: percent → round half up(subtotal × percent / 100); fixed → min(amount, subtotal)
//! - shipping: standard (free from a threshold of subtotal − discount) or express
//! - tax = round half up((subtotal − discount + shipping) × rate / 10,000), by destination
//! - total = subtotal − discount + shipping + tax

use super::{CountryCode, Currency, Invalid, Money, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `a × b / d`, rounded half up, for non-negative operands (no floats anywhere).
pub fn mul_div_round_half_up(a: i64, b: i64, d: i64) -> i64 {
    let product = i128::from(a) * i128::from(b);
    ((product * 2 + i128::from(d)) / (2 * i128::from(d))) as i64
}

/// How an order travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShippingMethod {
    Standard,
    Express,
}

impl ShippingMethod {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        match raw {
            "standard" => Ok(Self::Standard),
            "express" => Ok(Self::Express),
            _ => Err(Invalid::new("must be \"standard\" or \"express\"")),
        }
    }
}

/// Shipping amounts and tax rates: configuration, with documented defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricingRules {
    pub standard_shipping: Money,
    pub free_shipping_from: Money,
    pub express_shipping: Money,
    /// Tax rate in basis points (1/100 of a percent) by destination country.
    pub tax_rates_bps: BTreeMap<String, i64>,
}

/// The default tax table (basis points): a documented starting point, meant to be configured.
pub const DEFAULT_TAX_RATES: &str =
    "US=0,CA=500,GB=2000,IE=2300,DE=1900,FR=2000,NL=2100,ES=2100,IT=2200,AU=1000,JP=1000";

impl Default for PricingRules {
    fn default() -> Self {
        Self {
            standard_shipping: Money::from_cents(500),
            free_shipping_from: Money::from_cents(5000),
            express_shipping: Money::from_cents(1500),
            tax_rates_bps: parse_tax_rates(DEFAULT_TAX_RATES).unwrap_or_default(),
        }
    }
}

/// Parses `"US=0,GB=2000"` (country = basis points, 0–10,000).
pub fn parse_tax_rates(raw: &str) -> Result<BTreeMap<String, i64>, Invalid> {
    let mut rates = BTreeMap::new();
    for pair in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (country, bps) = pair.split_once('=').ok_or_else(|| Invalid::new(format!("{pair}: expected CC=bps")))?;
        let country = CountryCode::parse(country)?;
        let bps: i64 = bps.trim().parse().map_err(|_| Invalid::new(format!("{pair}: rate is not an integer")))?;
        if !(0..=10_000).contains(&bps) {
            return Err(Invalid::new(format!("{pair}: rate must be 0 to 10000 basis points")));
        }
        rates.insert(country.as_str().to_owned(), bps);
    }
    Ok(rates)
}

/// A discount's terms, as the rules need them.
/// Stored and shown as `{"percentOff": n}` or `{"amountOffCents": n}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DiscountKind {
    /// 1–100 percent off the subtotal.
    #[serde(rename = "percentOff")]
    PercentOff(i64),
    /// A fixed amount off, never more than the subtotal.
    #[serde(rename = "amountOffCents")]
    AmountOff(Money),
}

/// Why a discount code cannot be used (the `reason` of a 422 `invalid_discount`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DiscountRejection {
    Unknown,
    Inactive,
    NotStarted,
    Expired,
    BelowMinimum,
    Exhausted,
    /// This buyer's orders used the code as often as it allows each customer.
    AlreadyUsed,
}

impl DiscountRejection {
    pub fn explain(self) -> &'static str {
        match self {
            Self::Unknown => "There is no discount with this code.",
            Self::Inactive => "This discount is switched off.",
            Self::NotStarted => "This discount has not started yet.",
            Self::Expired => "This discount has ended.",
            Self::BelowMinimum => "The subtotal is below this discount's minimum.",
            Self::Exhausted => "This discount has been redeemed as often as it may be.",
            Self::AlreadyUsed => "You have used this discount as often as each customer may.",
        }
    }
}

/// A discount as checkout sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscountTerms {
    pub kind: DiscountKind,
    pub min_subtotal: Option<Money>,
    pub max_redemptions: Option<i64>,
    /// How many orders of one buyer may use it, and how many of theirs have.
    pub per_customer_limit: i64,
    pub used: i64,
    pub starts_at: Option<Timestamp>,
    pub ends_at: Option<Timestamp>,
    pub active: bool,
    pub redemptions: i64,
}

impl DiscountTerms {
    /// Whether the discount may be used now on this subtotal, and if so how much it takes off.
    pub fn amount(&self, subtotal: Money, now: Timestamp) -> Result<Money, DiscountRejection> {
        if !self.active {
            return Err(DiscountRejection::Inactive);
        }
        if self.starts_at.is_some_and(|s| now < s) {
            return Err(DiscountRejection::NotStarted);
        }
        if self.ends_at.is_some_and(|e| now >= e) {
            return Err(DiscountRejection::Expired);
        }
        if self.min_subtotal.is_some_and(|m| subtotal < m) {
            return Err(DiscountRejection::BelowMinimum);
        }
        if self.max_redemptions.is_some_and(|m| self.redemptions >= m) {
            return Err(DiscountRejection::Exhausted);
        }
        if self.used >= self.per_customer_limit {
            return Err(DiscountRejection::AlreadyUsed);
        }
        Ok(match self.kind {
            DiscountKind::PercentOff(percent) => {
                Money::from_cents(mul_div_round_half_up(subtotal.cents(), percent, 100).min(subtotal.cents()))
            }
            DiscountKind::AmountOff(amount) => amount.min(subtotal),
        })
    }
}

/// The amounts of a quote or an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    pub subtotal_cents: Money,
    pub discount_cents: Money,
    pub shipping_cents: Money,
    pub tax_cents: Money,
    pub total_cents: Money,
    pub currency: Currency,
}

/// Why a price cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PricingError {
    Discount(DiscountRejection),
    UnsupportedCountry,
}

impl PricingRules {
    /// Prices lines of `(unit price, quantity)` for a destination, method and optional discount.
    pub fn price(
        &self,
        lines: &[(Money, i64)],
        discount: Option<&DiscountTerms>,
        method: ShippingMethod,
        country: &CountryCode,
        currency: &Currency,
        now: Timestamp,
    ) -> Result<Totals, PricingError> {
        let rate = *self.tax_rates_bps.get(country.as_str()).ok_or(PricingError::UnsupportedCountry)?;
        let subtotal: Money = lines.iter().map(|(unit, qty)| unit.times(*qty)).sum();
        let discount = match discount {
            Some(terms) => terms.amount(subtotal, now).map_err(PricingError::Discount)?,
            None => Money::ZERO,
        };
        let discounted = subtotal.cents() - discount.cents();
        let shipping = match method {
            ShippingMethod::Standard if discounted >= self.free_shipping_from.cents() => Money::ZERO,
            ShippingMethod::Standard => self.standard_shipping,
            ShippingMethod::Express => self.express_shipping,
        };
        let taxable = discounted + shipping.cents();
        let tax = Money::from_cents(mul_div_round_half_up(taxable, rate, 10_000));
        Ok(Totals {
            subtotal_cents: subtotal,
            discount_cents: discount,
            shipping_cents: shipping,
            tax_cents: tax,
            total_cents: Money::from_cents(taxable + tax.cents()),
            currency: currency.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn usd() -> Currency {
        Currency::usd()
    }

    fn country(c: &str) -> CountryCode {
        CountryCode::parse(c).unwrap()
    }

    fn terms(kind: DiscountKind) -> DiscountTerms {
        DiscountTerms {
            kind,
            min_subtotal: None,
            max_redemptions: None,
            per_customer_limit: 1,
            used: 0,
            starts_at: None,
            ends_at: None,
            active: true,
            redemptions: 0,
        }
    }

    const NOW: Timestamp = Timestamp::EPOCH;

    #[test]
    fn rounds_half_up_at_half_a_cent() {
        assert_eq!(mul_div_round_half_up(1050, 5, 100), 53); // 52.5 → 53
        assert_eq!(mul_div_round_half_up(1049, 5, 100), 52); // 52.45 → 52
        assert_eq!(mul_div_round_half_up(250, 2000, 10_000), 50);
        assert_eq!(mul_div_round_half_up(1, 5000, 10_000), 1); // 0.5 → 1
    }

    #[test]
    fn a_worked_example() {
        let rules = PricingRules::default();
        let lines = [(Money::from_cents(2499), 2), (Money::from_cents(1050), 1)];
        let ten = terms(DiscountKind::PercentOff(10));
        let t = rules.price(&lines, Some(&ten), ShippingMethod::Standard, &country("GB"), &usd(), NOW).unwrap();
        assert_eq!(t.subtotal_cents.cents(), 6048);
        assert_eq!(t.discount_cents.cents(), 605); // 604.8 → 605
        assert_eq!(t.shipping_cents.cents(), 0); // 5443 ≥ 5000
        assert_eq!(t.tax_cents.cents(), 1089); // 5443 × 20% = 1088.6 → 1089
        assert_eq!(t.total_cents.cents(), 6532);
    }

    #[test]
    fn shipping_is_free_from_the_threshold_after_discount() {
        let rules = PricingRules::default();
        let price = |cents, method| {
            rules.price(&[(Money::from_cents(cents), 1)], None, method, &country("US"), &usd(), NOW).unwrap()
        };
        assert_eq!(price(4999, ShippingMethod::Standard).shipping_cents.cents(), 500);
        assert_eq!(price(5000, ShippingMethod::Standard).shipping_cents.cents(), 0);
        assert_eq!(price(5000, ShippingMethod::Express).shipping_cents.cents(), 1500);
        let five_off = terms(DiscountKind::AmountOff(Money::from_cents(1)));
        let t = rules
            .price(
                &[(Money::from_cents(5000), 1)],
                Some(&five_off),
                ShippingMethod::Standard,
                &country("US"),
                &usd(),
                NOW,
            )
            .unwrap();
        assert_eq!(t.shipping_cents.cents(), 500, "the threshold applies after the discount");
    }

    #[test]
    fn unknown_countries_are_refused() {
        let err = PricingRules::default()
            .price(&[(Money::from_cents(1), 1)], None, ShippingMethod::Standard, &country("BR"), &usd(), NOW)
            .unwrap_err();
        assert_eq!(err, PricingError::UnsupportedCountry);
    }

    #[test]
    fn discounts_apply_only_within_their_terms() {
        let now = Timestamp::from_unix_millis(10_000);
        let mut t = terms(DiscountKind::AmountOff(Money::from_cents(700)));
        assert_eq!(t.amount(Money::from_cents(500), now), Ok(Money::from_cents(500)), "never more than the subtotal");
        t.min_subtotal = Some(Money::from_cents(1000));
        assert_eq!(t.amount(Money::from_cents(999), now), Err(DiscountRejection::BelowMinimum));
        t.max_redemptions = Some(5);
        t.redemptions = 5;
        assert_eq!(t.amount(Money::from_cents(1000), now), Err(DiscountRejection::Exhausted));
        t.redemptions = 4;
        t.used = 1;
        assert_eq!(t.amount(Money::from_cents(1000), now), Err(DiscountRejection::AlreadyUsed));
        t.per_customer_limit = 2;
        assert!(t.amount(Money::from_cents(1000), now).is_ok(), "a limit of 2 allows a second order");
        t.starts_at = Some(Timestamp::from_unix_millis(10_001));
        assert_eq!(t.amount(Money::from_cents(1000), now), Err(DiscountRejection::NotStarted));
        t.starts_at = Some(now);
        t.ends_at = Some(now);
        assert_eq!(t.amount(Money::from_cents(1000), now), Err(DiscountRejection::Expired));
        t.ends_at = None;
        t.active = false;
        assert_eq!(t.amount(Money::from_cents(1000), now), Err(DiscountRejection::Inactive));
    }

    #[test]
    fn tax_rates_parse_from_configuration() {
        let rates = parse_tax_rates("us=725, GB=2000").unwrap();
        assert_eq!(rates.get("US"), Some(&725));
        assert!(parse_tax_rates("GB=20000").is_err());
        assert!(parse_tax_rates("XX=1").is_err());
        assert!(parse_tax_rates("GB").is_err());
    }

    proptest! {
        /// Whatever the cart, discount, method and country: every amount is a whole, non-negative
        /// number of cents, the discount never exceeds the subtotal, and the parts add up.
        #[test]
        fn totals_always_add_up(
            lines in prop::collection::vec((0i64..=100_000_000, 1i64..=99), 0..50),
            percent in prop::option::of(1i64..=100),
            amount in 1i64..=1_000_000_000,
            express in any::<bool>(),
            country_index in 0usize..11,
        ) {
            let rules = PricingRules::default();
            let countries: Vec<String> = rules.tax_rates_bps.keys().cloned().collect();
            let destination = CountryCode::parse(&countries[country_index % countries.len()]).unwrap();
            let lines: Vec<(Money, i64)> = lines.into_iter().map(|(c, q)| (Money::from_cents(c), q)).collect();
            let kind = percent.map_or(DiscountKind::AmountOff(Money::from_cents(amount)), DiscountKind::PercentOff);
            let discount = terms(kind);
            let method = if express { ShippingMethod::Express } else { ShippingMethod::Standard };
            let t = rules.price(&lines, Some(&discount), method, &destination, &usd(), NOW).unwrap();
            for part in [t.subtotal_cents, t.discount_cents, t.shipping_cents, t.tax_cents, t.total_cents] {
                prop_assert!(part.cents() >= 0);
            }
            prop_assert!(t.discount_cents <= t.subtotal_cents);
            prop_assert_eq!(
                t.total_cents.cents(),
                t.subtotal_cents.cents() - t.discount_cents.cents() + t.shipping_cents.cents() + t.tax_cents.cents()
            );
            if percent == Some(100) {
                prop_assert_eq!(t.discount_cents, t.subtotal_cents);
            }
            // Pricing is a function: the same inputs give the same totals (quote = order).
            prop_assert_eq!(rules.price(&lines, Some(&discount), method, &destination, &usd(), NOW).unwrap(), t);
        }
    }
}
