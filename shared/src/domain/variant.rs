//! What a product is sold as: its options (`Size: S, M, L`), its variants (one per combination
//! of option values, each with its own SKU, price and stock) and the inventory of each variant
//! (units on the shelf, units promised to orders).

use super::{Invalid, Money, ProductId, Sku, Text};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// At most this many options per product.
pub const MAX_OPTIONS: usize = 3;
/// Each option has 1 to this many values.
pub const MAX_OPTION_VALUES: usize = 20;
/// At most this many variants per product, archived ones included (they stay for orders).
pub const MAX_VARIANTS: usize = 100;

/// An option's name (`Size`): 1–30 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OptionName(String);
string_newtype!(OptionName);

impl OptionName {
    pub const MAX_CHARS: usize = 30;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        Text::parse(raw, 1, Self::MAX_CHARS).map(|t| Self(t.into()))
    }

    /// The form uniqueness is decided on: `Size` and `size` are one option.
    fn folded(&self) -> String {
        self.0.to_lowercase()
    }
}

/// One value of an option (`M`): 1–50 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OptionValue(String);
string_newtype!(OptionValue);

impl OptionValue {
    pub const MAX_CHARS: usize = 50;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        Text::parse(raw, 1, Self::MAX_CHARS).map(|t| Self(t.into()))
    }

    fn folded(&self) -> String {
        self.0.to_lowercase()
    }
}

/// An option and the values a shopper chooses from, in the order shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductOption {
    pub name: OptionName,
    pub values: Vec<OptionValue>,
}

/// A product's options: at most [`MAX_OPTIONS`], names unique ignoring case, each with 1 to
/// [`MAX_OPTION_VALUES`] values unique ignoring case. Empty for a product sold one way.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "Vec<ProductOption>", into = "Vec<ProductOption>")]
pub struct Options(Vec<ProductOption>);

impl Options {
    pub fn parse(options: Vec<ProductOption>) -> Result<Self, Invalid> {
        if options.len() > MAX_OPTIONS {
            return Err(Invalid::new(format!("a product has at most {MAX_OPTIONS} options")));
        }
        let mut names = BTreeSet::new();
        for option in &options {
            if !names.insert(option.name.folded()) {
                return Err(Invalid::new(format!("option names must be unique; {} appears twice", option.name)));
            }
            if option.values.is_empty() || option.values.len() > MAX_OPTION_VALUES {
                return Err(Invalid::new(format!("option {} must have 1 to {MAX_OPTION_VALUES} values", option.name)));
            }
            let mut values = BTreeSet::new();
            if let Some(twice) = option.values.iter().find(|v| !values.insert(v.folded())) {
                return Err(Invalid::new(format!(
                    "the values of {} must be unique; {twice} appears twice",
                    option.name
                )));
            }
        }
        Ok(Self(options))
    }

    pub fn as_slice(&self) -> &[ProductOption] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `choice` names every option once, each with one of its values (spelled as
    /// listed), and nothing else. The message says what is wrong, for a 422.
    pub fn admit(&self, choice: &Choice) -> Result<(), Invalid> {
        for option in &self.0 {
            match choice.0.get(&option.name) {
                None => return Err(Invalid::new(format!("must choose a value of {}", option.name))),
                Some(value) if !option.values.contains(value) => {
                    let listed: Vec<&str> = option.values.iter().map(OptionValue::as_str).collect();
                    return Err(Invalid::new(format!(
                        "{value} is not a value of {}; its values are {}",
                        option.name,
                        listed.join(", ")
                    )));
                }
                Some(_) => {}
            }
        }
        if let Some(extra) = choice.0.keys().find(|name| !self.0.iter().any(|o| &o.name == *name)) {
            return Err(Invalid::new(format!("{extra} is not an option of this product")));
        }
        Ok(())
    }

    /// Every value of every option, for search.
    pub fn values(&self) -> impl Iterator<Item = &OptionValue> {
        self.0.iter().flat_map(|o| o.values.iter())
    }
}

impl TryFrom<Vec<ProductOption>> for Options {
    type Error = Invalid;
    fn try_from(options: Vec<ProductOption>) -> Result<Self, Invalid> {
        Self::parse(options)
    }
}

impl From<Options> for Vec<ProductOption> {
    fn from(options: Options) -> Self {
        options.0
    }
}

/// The option values one variant stands for: `{"Size": "M", "Colour": "Red"}`; `{}` for the one
/// variant of a product without options.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Choice(BTreeMap<OptionName, OptionValue>);

impl Choice {
    pub fn new(values: BTreeMap<OptionName, OptionValue>) -> Self {
        Self(values)
    }

    pub fn value(&self, option: &OptionName) -> Option<&OptionValue> {
        self.0.get(option)
    }

    pub fn values(&self) -> impl Iterator<Item = &OptionValue> {
        self.0.values()
    }

    /// No option at all (a product sold one way).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A variant's id: its product's id and its number within the product, `<productId>-<n>`
/// (n from 1, never reused). Finding a variant's product needs no lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct VariantId {
    product: ProductId,
    number: u32,
}

impl VariantId {
    pub fn new(product: ProductId, number: u32) -> Self {
        Self { product, number }
    }

    pub fn product(self) -> ProductId {
        self.product
    }

    pub fn number(self) -> u32 {
        self.number
    }

    /// `None` if `raw` is not a variant id (callers answer "not found").
    pub fn parse(raw: &str) -> Option<Self> {
        let (product, text) = raw.rsplit_once('-')?;
        let number: u32 = text.parse().ok().filter(|n| (1..=MAX_VARIANTS as u32).contains(n))?;
        // `parse` accepts `+1` and leading zeros; a variant id has one spelling.
        if number.to_string() != text {
            return None;
        }
        Some(Self { product: ProductId::parse(product)?, number })
    }
}

impl fmt::Display for VariantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.product, self.number)
    }
}

impl TryFrom<String> for VariantId {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value).ok_or_else(|| format!("not a variant id: {value}"))
    }
}

impl From<VariantId> for String {
    fn from(id: VariantId) -> Self {
        id.to_string()
    }
}

/// What a cart route names: a variant, or a product (accepted for a product without options,
/// standing for its one variant).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemId {
    Product(ProductId),
    Variant(VariantId),
}

impl ItemId {
    pub fn parse(raw: &str) -> Option<Self> {
        VariantId::parse(raw).map(Self::Variant).or_else(|| ProductId::parse(raw).map(Self::Product))
    }

    pub fn product(self) -> ProductId {
        match self {
            Self::Product(id) => id,
            Self::Variant(id) => id.product(),
        }
    }
}

/// A variant as its product describes it (its stock is kept apart: see [`Inventory`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Variant {
    pub id: VariantId,
    pub sku: Sku,
    /// Absent from the item when empty (a product sold one way): an empty map is a value
    /// DynamoDB Local's stream cannot write, and the table's stream carries product items.
    #[serde(default, skip_serializing_if = "Choice::is_empty")]
    pub options: Choice,
    pub price_cents: Money,
    /// False once archived: hidden from shoppers, kept for orders.
    pub active: bool,
    /// The product image that shows this variant, if one does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_id: Option<super::ImageId>,
}

/// Why a variant cannot join (or stay in) a product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VariantRule {
    /// Its option values do not fit the product's options.
    Mismatch(Invalid),
    /// Another variant of the product has the same option values (409 `variant_exists`).
    Exists(VariantId),
    /// Two variants of the product would have one SKU, ignoring case (409 `sku_taken`).
    SkuTwice,
    /// The product has [`MAX_VARIANTS`] already.
    TooMany,
}

/// The rules a product's variants obey together: each fits the options, no two share a
/// combination or a SKU, at most [`MAX_VARIANTS`], at least one.
pub fn check_variants(options: &Options, variants: &[Variant]) -> Result<(), VariantRule> {
    if variants.len() > MAX_VARIANTS {
        return Err(VariantRule::TooMany);
    }
    let mut choices: BTreeMap<&Choice, VariantId> = BTreeMap::new();
    let mut skus = BTreeSet::new();
    for variant in variants {
        options.admit(&variant.options).map_err(VariantRule::Mismatch)?;
        if let Some(existing) = choices.insert(&variant.options, variant.id) {
            return Err(VariantRule::Exists(existing));
        }
        if !skus.insert(variant.sku.unique_key()) {
            return Err(VariantRule::SkuTwice);
        }
    }
    Ok(())
}

/// The lowest and highest price of a product's active variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PriceRange {
    pub min_cents: Money,
    pub max_cents: Money,
}

impl PriceRange {
    /// `None` when no variant is active.
    pub fn of(variants: &[Variant]) -> Option<Self> {
        let prices = variants.iter().filter(|v| v.active).map(|v| v.price_cents);
        let min = prices.clone().min()?;
        Some(Self { min_cents: min, max_cents: prices.max().unwrap_or(min) })
    }
}

/// The inventory of one variant: `on_hand` units on the shelf, `reserved` of them promised to
/// orders placed but not yet shipped or cancelled. Shoppers see what is `available`.
///
/// - placing an order reserves (never more than is available);
/// - cancelling or expiring it releases;
/// - shipping it consumes (both counts fall, so `available` does not change);
/// - admins adjust or count `on_hand`; `reserved` changes only through orders.
///
/// A count may fall below `reserved` (the shelf has fewer than were sold): `available` is then
/// negative, nothing more can be reserved, and the orders that cannot be covered wait until
/// stock arrives or an admin cancels them; none of them ships without the units on the shelf.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Inventory {
    pub on_hand: i64,
    pub reserved: i64,
}

/// An inventory change that cannot be made; `available` (or for a shipment `on_hand`) says
/// how many units there were.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InventoryRefusal {
    Short {
        have: i64,
    },
    /// `on_hand` would leave 0 to [`super::Stock::MAX`].
    OutOfRange {
        on_hand: i64,
    },
}

impl Inventory {
    pub fn new(on_hand: i64) -> Self {
        Self { on_hand, reserved: 0 }
    }

    /// Units that can still be sold; negative when a count fell below what was reserved.
    pub fn available(self) -> i64 {
        self.on_hand - self.reserved
    }

    /// What a shopper is shown: never below zero.
    pub fn shown(self) -> i64 {
        self.available().max(0)
    }

    pub fn in_stock(self) -> bool {
        self.available() > 0
    }

    /// Promises `units` to an order.
    pub fn reserve(self, units: i64) -> Result<Self, InventoryRefusal> {
        if units > self.available() {
            return Err(InventoryRefusal::Short { have: self.available() });
        }
        Ok(Self { reserved: self.reserved + units, ..self })
    }

    /// Gives back what an order reserved (it was cancelled or expired).
    pub fn release(self, units: i64) -> Self {
        Self { reserved: (self.reserved - units).max(0), ..self }
    }

    /// Takes an order's units off the shelf (it shipped): only units that are there.
    pub fn ship(self, units: i64) -> Result<Self, InventoryRefusal> {
        if units > self.on_hand {
            return Err(InventoryRefusal::Short { have: self.on_hand });
        }
        Ok(Self { on_hand: self.on_hand - units, reserved: (self.reserved - units).max(0) })
    }

    /// Adds `delta` (negative: removes) to the shelf.
    pub fn adjust(self, delta: i64) -> Result<Self, InventoryRefusal> {
        self.count(self.on_hand + delta)
    }

    /// Sets the shelf to a counted number.
    pub fn count(self, on_hand: i64) -> Result<Self, InventoryRefusal> {
        if !(0..=super::Stock::MAX).contains(&on_hand) {
            return Err(InventoryRefusal::OutOfRange { on_hand: self.on_hand });
        }
        Ok(Self { on_hand, ..self })
    }
}

/// How a change to a variant's available units moves it in or out of stock (from 0 or less
/// to more, or back), which is when its product's listing entry must change too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crossing {
    None,
    /// It comes into stock.
    In,
    /// It sells out (or is counted out).
    Out,
}

/// The crossing a change of `delta` available units makes from `before`, and the band of
/// `before` values (inclusive; `None`: unbounded) that make the same crossing. A write
/// decided from a read is conditioned on that band: if the units moved meanwhile so that the
/// crossing would differ, the write is refused and decided again.
pub fn crossing(before: i64, delta: i64) -> (Crossing, Option<i64>, Option<i64>) {
    let after = before + delta;
    if delta == 0 {
        return (Crossing::None, None, None);
    }
    match (before > 0, after > 0) {
        (false, true) => (Crossing::In, Some(1 - delta), Some(0)),
        (true, false) => (Crossing::Out, Some(1), Some(-delta)),
        // Staying in stock: above the band that would cross out (or, adding, anything positive).
        (true, true) => (Crossing::None, Some(1 + (-delta).max(0)), None),
        // Staying out: at or below the band that would cross in (or, removing, anything).
        (false, false) => (Crossing::None, None, Some((-delta).min(0))),
    }
}

/// [`crossing`] over `level` instead of zero: `In` when the units come to more than `level`,
/// `Out` when they fall to it or below (a variant running low), with the band of `before`
/// values that cross the same way.
pub fn crossing_at(level: i64, before: i64, delta: i64) -> (Crossing, Option<i64>, Option<i64>) {
    let (kind, lo, hi) = crossing(before - level, delta);
    (kind, lo.map(|v| v + level), hi.map(|v| v + level))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn option(name: &str, values: &[&str]) -> ProductOption {
        ProductOption {
            name: OptionName::parse(name).unwrap(),
            values: values.iter().map(|v| OptionValue::parse(v).unwrap()).collect(),
        }
    }

    fn choice(pairs: &[(&str, &str)]) -> Choice {
        Choice::new(
            pairs.iter().map(|(n, v)| (OptionName::parse(n).unwrap(), OptionValue::parse(v).unwrap())).collect(),
        )
    }

    fn tee() -> Options {
        Options::parse(vec![option("Size", &["S", "M", "L"]), option("Colour", &["Red", "Blue"])]).unwrap()
    }

    fn variant(product: ProductId, n: u32, sku: &str, pairs: &[(&str, &str)]) -> Variant {
        Variant {
            image_id: None,
            id: VariantId::new(product, n),
            sku: Sku::parse(sku).unwrap(),
            options: choice(pairs),
            price_cents: Money::from_cents(1000 + i64::from(n)),
            active: true,
        }
    }

    #[test]
    fn a_crossing_and_its_band_agree_with_the_arithmetic() {
        for before in -6..=6 {
            for delta in -6..=6 {
                let (kind, lo, hi) = crossing(before, delta);
                let expected = match (before > 0, before + delta > 0) {
                    (false, true) => Crossing::In,
                    (true, false) => Crossing::Out,
                    _ => Crossing::None,
                };
                assert_eq!(kind, expected, "{before} + {delta}");
                // Every value in the band crosses the same way; the neighbours just outside do not.
                for other in -20..=20 {
                    let inside = lo.is_none_or(|l| other >= l) && hi.is_none_or(|h| other <= h);
                    if inside {
                        assert_eq!(crossing(other, delta).0, kind, "{other} in band of {before} + {delta}");
                    } else {
                        assert_ne!(crossing(other, delta), (kind, lo, hi), "{other} outside the band");
                    }
                }
            }
        }
        assert_eq!(crossing(3, -3), (Crossing::Out, Some(1), Some(3)), "the last units of a reserve");
        assert_eq!(crossing_at(5, 7, -2), (Crossing::Out, Some(6), Some(7)), "7 - 2 falls to a threshold of 5");
        assert_eq!(crossing_at(5, 9, -2), (Crossing::None, Some(8), None), "9 - 2 stays above it");
        assert_eq!(crossing(5, -3), (Crossing::None, Some(4), None));
    }

    #[test]
    fn options_have_bounds_and_unique_names_and_values() {
        assert!(Options::parse(vec![]).unwrap().is_empty());
        let four = vec![option("A", &["1"]), option("B", &["1"]), option("C", &["1"]), option("D", &["1"])];
        assert!(Options::parse(four).is_err());
        assert!(Options::parse(vec![option("Size", &["S"]), option("size", &["M"])]).is_err(), "names ignore case");
        assert!(Options::parse(vec![option("Size", &["S", "s"])]).is_err(), "values ignore case");
        assert!(Options::parse(vec![option("Size", &[])]).is_err());
        let twenty: Vec<String> = (0..20).map(|i| format!("v{i}")).collect();
        let refs: Vec<&str> = twenty.iter().map(String::as_str).collect();
        assert!(Options::parse(vec![option("Size", &refs)]).is_ok());
        let mut more = refs.clone();
        more.push("v20");
        assert!(Options::parse(vec![option("Size", &more)]).is_err());
        assert!(OptionName::parse("").is_err() && OptionName::parse(&"n".repeat(31)).is_err());
    }

    #[test]
    fn a_choice_names_every_option_with_a_listed_value() {
        let options = tee();
        assert!(options.admit(&choice(&[("Size", "M"), ("Colour", "Red")])).is_ok());
        let missing = options.admit(&choice(&[("Size", "M")])).unwrap_err();
        assert!(missing.0.contains("Colour"), "{missing}");
        let unknown = options.admit(&choice(&[("Size", "XL"), ("Colour", "Red")])).unwrap_err();
        assert_eq!(unknown.0, "XL is not a value of Size; its values are S, M, L");
        assert!(options.admit(&choice(&[("Size", "M"), ("Colour", "Red"), ("Fit", "Slim")])).is_err());
        assert!(Options::default().admit(&Choice::default()).is_ok());
        assert!(Options::default().admit(&choice(&[("Size", "M")])).is_err());
    }

    #[test]
    fn variants_differ_in_combination_and_sku() {
        let p = ProductId::new();
        let options = tee();
        let red_m = variant(p, 1, "TEE-M-RED", &[("Size", "M"), ("Colour", "Red")]);
        let blue_m = variant(p, 2, "TEE-M-BLUE", &[("Size", "M"), ("Colour", "Blue")]);
        assert_eq!(check_variants(&options, &[red_m.clone(), blue_m.clone()]), Ok(()));
        let again = variant(p, 3, "TEE-M-RED-2", &[("Colour", "Red"), ("Size", "M")]);
        assert_eq!(check_variants(&options, &[red_m.clone(), again]), Err(VariantRule::Exists(red_m.id)));
        let same_sku = variant(p, 3, "tee-m-red", &[("Size", "L"), ("Colour", "Red")]);
        assert_eq!(check_variants(&options, &[red_m.clone(), same_sku]), Err(VariantRule::SkuTwice));
        let odd = variant(p, 3, "TEE-X", &[("Size", "M")]);
        assert!(matches!(check_variants(&options, &[odd]), Err(VariantRule::Mismatch(_))));
    }

    #[test]
    fn the_price_range_covers_active_variants() {
        let p = ProductId::new();
        let mut variants = vec![variant(p, 1, "A", &[]), variant(p, 2, "B", &[]), variant(p, 3, "C", &[])];
        variants[0].active = false;
        let range = PriceRange::of(&variants).unwrap();
        assert_eq!((range.min_cents.cents(), range.max_cents.cents()), (1002, 1003));
        variants.iter_mut().for_each(|v| v.active = false);
        assert_eq!(PriceRange::of(&variants), None);
    }

    #[test]
    fn variant_ids_name_their_product_and_have_one_spelling() {
        let p = ProductId::new();
        let id = VariantId::new(p, 7);
        assert_eq!(id.to_string(), format!("{p}-7"));
        assert_eq!(VariantId::parse(&id.to_string()), Some(id));
        assert_eq!(VariantId::parse(&format!("{p}-07")), None);
        assert_eq!(VariantId::parse(&format!("{p}-+7")), None);
        assert_eq!(VariantId::parse(&format!("{p}-0")), None);
        assert_eq!(VariantId::parse(&format!("{p}-101")), None);
        assert_eq!(VariantId::parse("nonsense-1"), None);
        assert_eq!(ItemId::parse(&p.to_string()), Some(ItemId::Product(p)));
        assert_eq!(ItemId::parse(&id.to_string()), Some(ItemId::Variant(id)));
        assert_eq!(ItemId::parse(&id.to_string()).map(ItemId::product), Some(p));
        let json = serde_json::to_value(id).unwrap();
        assert_eq!(serde_json::from_value::<VariantId>(json).unwrap(), id);
    }

    #[test]
    fn inventory_reserves_releases_ships_and_counts() {
        let inv = Inventory::new(10);
        let inv = inv.reserve(4).unwrap();
        assert_eq!((inv.on_hand, inv.reserved, inv.available()), (10, 4, 6));
        assert_eq!(inv.reserve(7), Err(InventoryRefusal::Short { have: 6 }));
        let shipped = inv.ship(3).unwrap();
        assert_eq!((shipped.on_hand, shipped.reserved, shipped.available()), (7, 1, 6), "shipping keeps available");
        let released = shipped.release(1);
        assert_eq!(released.available(), 7);
        // A count below what is reserved: nothing more sells, and the shortfall shows.
        let short = inv.count(2).unwrap();
        assert_eq!((short.available(), short.shown(), short.in_stock()), (-2, 0, false));
        assert_eq!(short.reserve(1), Err(InventoryRefusal::Short { have: -2 }));
        assert_eq!(short.ship(3), Err(InventoryRefusal::Short { have: 2 }));
        assert!(inv.adjust(-11).is_err() && inv.count(1_000_001).is_err());
    }

    #[derive(Debug, Clone)]
    enum Step {
        Place(i64),
        Cancel(usize),
        Ship(usize),
        Adjust(i64),
        Count(i64),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (1i64..6).prop_map(Step::Place),
            any::<usize>().prop_map(Step::Cancel),
            any::<usize>().prop_map(Step::Ship),
            (-8i64..8).prop_map(Step::Adjust),
            (0i64..20).prop_map(Step::Count),
        ]
    }

    proptest! {
        /// Whatever happens, the shelf is conserved (initial + adjustments = on hand + shipped),
        /// `reserved` is exactly what open orders hold, and no unit is ever sold that the shelf
        /// count at the time did not cover.
        #[test]
        fn inventory_is_conserved(initial in 0i64..20, steps in proptest::collection::vec(step(), 0..60)) {
            let mut inv = Inventory::new(initial);
            let mut open: Vec<i64> = Vec::new();
            let (mut adjusted, mut shipped) = (0i64, 0i64);
            for step in steps {
                match step {
                    Step::Place(q) => {
                        let before = inv;
                        match inv.reserve(q) {
                            Ok(next) => { prop_assert!(q <= before.on_hand - before.reserved); inv = next; open.push(q); }
                            Err(_) => prop_assert!(q > before.available()),
                        }
                    }
                    Step::Cancel(i) if !open.is_empty() => { let q = open.remove(i % open.len()); inv = inv.release(q); }
                    Step::Ship(i) if !open.is_empty() => {
                        let at = i % open.len();
                        if let Ok(next) = inv.ship(open[at]) { shipped += open.remove(at); inv = next; }
                    }
                    Step::Adjust(d) => if let Ok(next) = inv.adjust(d) { adjusted += d; inv = next; },
                    Step::Count(n) => if let Ok(next) = inv.count(n) { adjusted += n - inv.on_hand; inv = next; },
                    _ => {}
                }
                prop_assert!(inv.on_hand >= 0 && inv.reserved >= 0);
                prop_assert_eq!(initial + adjusted, inv.on_hand + shipped);
                prop_assert_eq!(inv.reserved, open.iter().sum::<i64>());
            }
        }
    }
}
