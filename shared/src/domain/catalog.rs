//! The catalog: products, their fields' rules, stock arithmetic and word-prefix search.

use super::{
    Choice, Image, ImageId, Invalid, ItemId, MAX_IMAGES, MAX_VARIANTS, Options, PriceRange, ProductId, Text, Timestamp,
    Variant, VariantId, VariantRule, check_variants,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// A stock-keeping unit: `[A-Za-z0-9_-]{1,64}`. Unique across the catalog, ignoring case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sku(String);
string_newtype!(Sku);

impl Sku {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let ok =
            (1..=64).contains(&raw.len()) && raw.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if ok { Ok(Self(raw.to_owned())) } else { Err(Invalid::new("must be 1 to 64 of A-Z, a-z, 0-9, _ and -")) }
    }

    /// The form uniqueness is decided on: `wm-100` and `WM-100` are one SKU.
    pub fn unique_key(&self) -> String {
        self.0.to_ascii_uppercase()
    }
}

/// A category slug: `[a-z0-9-]{1,50}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CategorySlug(String);
string_newtype!(CategorySlug);

impl CategorySlug {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let ok = (1..=50).contains(&raw.len())
            && raw.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if ok { Ok(Self(raw.to_owned())) } else { Err(Invalid::new("must be 1 to 50 of a-z, 0-9 and -")) }
    }

    /// The name shown for a category: its slug in words, capitalised (`home-office` → `Home office`).
    pub fn display_name(&self) -> String {
        let words = self.0.split('-').filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ");
        let mut chars = words.chars();
        match chars.next() {
            Some(first) => first.to_uppercase().chain(chars).collect(),
            None => self.0.clone(),
        }
    }
}

/// A product name: 1–200 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProductName(Text);
string_newtype!(ProductName);

impl ProductName {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        Text::parse(raw, 1, Self::MAX_CHARS).map(Self)
    }
}

/// A product description: up to 5,000 characters; line breaks and tabs allowed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Description(String);
string_newtype!(Description);

impl Description {
    pub const MAX_CHARS: usize = 5000;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let text = raw.trim();
        if text.chars().count() > Self::MAX_CHARS {
            return Err(Invalid::new(format!("must be at most {} characters", Self::MAX_CHARS)));
        }
        if text.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
            return Err(Invalid::new("must not contain control characters"));
        }
        Ok(Self(text.to_owned()))
    }
}

/// An amount of money in the store currency's minor units (cents). Never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Money(i64);

impl Money {
    pub const ZERO: Money = Money(0);

    pub fn from_cents(cents: i64) -> Self {
        Self(cents)
    }

    pub fn cents(self) -> i64 {
        self.0
    }

    /// The amount `units` times over: a line's total is its unit price times its quantity.
    /// (Prices and quantities are bounded far below `i64` overflow; it saturates regardless.)
    pub fn times(self, units: i64) -> Money {
        Money(self.0.saturating_mul(units))
    }
}

impl std::ops::Add for Money {
    type Output = Money;
    fn add(self, other: Money) -> Money {
        Money(self.0.saturating_add(other.0))
    }
}

impl std::ops::Sub for Money {
    type Output = Money;
    fn sub(self, other: Money) -> Money {
        Money(self.0.saturating_sub(other.0))
    }
}

impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Money>>(amounts: I) -> Money {
        amounts.fold(Money::ZERO, |total, amount| total + amount)
    }
}

/// The highest catalog price, in cents.
pub const MAX_PRICE_CENTS: i64 = 100_000_000;

/// A catalog price: 0 to [`MAX_PRICE_CENTS`].
pub fn parse_price(cents: i64) -> Result<Money, Invalid> {
    if (0..=MAX_PRICE_CENTS).contains(&cents) {
        Ok(Money(cents))
    } else {
        Err(Invalid::new(format!("must be an integer from 0 to {MAX_PRICE_CENTS}")))
    }
}

/// Units on hand: 0 to 1,000,000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Stock(i64);

impl Stock {
    pub const MAX: i64 = 1_000_000;

    pub fn parse(units: i64) -> Result<Self, Invalid> {
        if (0..=Self::MAX).contains(&units) {
            Ok(Self(units))
        } else {
            Err(Invalid::new(format!("must be an integer from 0 to {}", Self::MAX)))
        }
    }

    pub fn units(self) -> i64 {
        self.0
    }
}

/// A change of stock by an admin: non-zero, at most 1,000,000 either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StockDelta(i64);

impl StockDelta {
    pub fn parse(delta: i64) -> Result<Self, Invalid> {
        if delta != 0 && (-Stock::MAX..=Stock::MAX).contains(&delta) {
            Ok(Self(delta))
        } else {
            Err(Invalid::new(format!("must be a non-zero integer from -{max} to {max}", max = Stock::MAX)))
        }
    }

    pub fn units(self) -> i64 {
        self.0
    }
}

/// A currency code: three upper-case letters (`USD`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency(String);
string_newtype!(Currency);

impl Currency {
    pub fn usd() -> Self {
        Self("USD".into())
    }

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        if raw.len() == 3 && raw.chars().all(|c| c.is_ascii_uppercase()) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(Invalid::new("must be an ISO 4217 code such as USD"))
        }
    }
}

/// A product as stored: what it is, the options it is sold in and its variants (SKU, price
/// and whether each is on sale). Stock is kept per variant apart from it (see [`Inventory`]),
/// so that selling a unit does not rewrite the product. `version` grows with every change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", from = "StoredProduct")]
pub struct Product {
    pub id: ProductId,
    pub name: ProductName,
    pub description: Description,
    pub currency: Currency,
    pub category: CategorySlug,
    pub active: bool,
    pub options: Options,
    pub variants: Vec<Variant>,
    /// In the order the shop shows them; the first is the product's picture.
    pub images: Vec<Image>,
    /// A variant whose available units fall to this or below is reported (`inventory.low`).
    pub low_stock_threshold: i64,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The low-stock threshold of a product that does not set its own.
pub const DEFAULT_LOW_STOCK_THRESHOLD: i64 = 5;

/// A product's low-stock threshold as a client gives it: 0 (report selling out only) to
/// [`Stock::MAX`].
pub fn parse_low_stock_threshold(units: i64) -> Result<i64, Invalid> {
    if (0..=Stock::MAX).contains(&units) {
        Ok(units)
    } else {
        Err(Invalid::new(format!("must be a whole number of units from 0 to {}", Stock::MAX)))
    }
}

fn default_low_stock_threshold() -> i64 {
    DEFAULT_LOW_STOCK_THRESHOLD
}

/// A product as stored. One written before products had variants has a top-level `sku` and
/// `priceCents` instead: it reads as a product with that one variant (number 1), so that it
/// can be shown until `storefront-admin migrate` gives it its stock item.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredProduct {
    id: ProductId,
    name: ProductName,
    description: Description,
    currency: Currency,
    category: CategorySlug,
    active: bool,
    #[serde(default)]
    options: Options,
    #[serde(default)]
    variants: Vec<Variant>,
    #[serde(default)]
    images: Vec<Image>,
    #[serde(default = "default_low_stock_threshold")]
    low_stock_threshold: i64,
    sku: Option<Sku>,
    price_cents: Option<Money>,
    version: i64,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl From<StoredProduct> for Product {
    fn from(p: StoredProduct) -> Self {
        let variants = match (p.variants.is_empty(), p.sku, p.price_cents) {
            (true, Some(sku), Some(price_cents)) => vec![Variant {
                id: VariantId::new(p.id, 1),
                sku,
                options: Choice::default(),
                price_cents,
                active: true,
                image_id: None,
            }],
            _ => p.variants,
        };
        Self {
            id: p.id,
            name: p.name,
            description: p.description,
            currency: p.currency,
            category: p.category,
            active: p.active,
            options: p.options,
            variants,
            images: p.images,
            low_stock_threshold: p.low_stock_threshold,
            version: p.version,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

impl Product {
    /// The entity tag of this version: strong, changes with every write.
    pub fn etag(&self) -> String {
        format!("\"{}-v{}\"", self.id, self.version)
    }

    /// The version an entity tag names, if it names this product at all (a tag may carry a
    /// stock suffix, `-s<n>`, which If-Match ignores: stock changes are not edits).
    pub fn version_in_etag(&self, etag: &str) -> Option<i64> {
        let inner = etag.trim().strip_prefix('"')?.strip_suffix('"')?;
        let inner = match inner.rsplit_once("-s") {
            Some((head, stock)) if stock.parse::<i64>().is_ok() && head.contains("-v") => head,
            _ => inner,
        };
        let (id, version) = inner.rsplit_once("-v")?;
        if id != self.id.to_string() {
            return None;
        }
        version.parse().ok()
    }

    /// Whether an `If-Match` header value (`*`, or a list of entity tags) matches this version.
    /// Weak tags never match (RFC 9110 uses strong comparison for If-Match).
    pub fn matches_if_match(&self, header: &str) -> bool {
        header.trim() == "*" || header.split(',').any(|tag| self.version_in_etag(tag) == Some(self.version))
    }

    pub fn variant(&self, id: VariantId) -> Option<&Variant> {
        self.variants.iter().find(|v| v.id == id)
    }

    /// The one variant of a product sold without options.
    pub fn single(&self) -> Option<&Variant> {
        if self.options.is_empty() { self.variants.first() } else { None }
    }

    /// Whether a shopper can buy this variant: it and its product are on sale.
    pub fn sells(&self, variant: &Variant) -> bool {
        self.active && variant.active
    }

    /// The variant a cart route names: a variant of this product, or the product itself when
    /// it has exactly one variant.
    pub fn resolve(&self, item: ItemId) -> Result<&Variant, Unresolved> {
        match item {
            ItemId::Variant(id) => self.variant(id).ok_or(Unresolved::NoSuchVariant),
            ItemId::Product(_) => match self.variants.as_slice() {
                [only] if self.options.is_empty() => Ok(only),
                _ => Err(Unresolved::VariantRequired),
            },
        }
    }

    pub fn price_range(&self) -> Option<PriceRange> {
        PriceRange::of(&self.variants)
    }

    /// The id the next variant gets (numbers are never reused: archived variants stay).
    pub fn next_variant_id(&self) -> Result<VariantId, VariantRule> {
        let next = self.variants.iter().map(|v| v.id.number()).max().unwrap_or(0) + 1;
        if self.variants.len() >= MAX_VARIANTS || next as usize > MAX_VARIANTS {
            return Err(VariantRule::TooMany);
        }
        Ok(VariantId::new(self.id, next))
    }

    /// The words a search finds this product by: its name and its option values.
    pub fn searchable(&self) -> String {
        let mut text = self.name.as_str().to_owned();
        for value in self.options.values() {
            text.push(' ');
            text.push_str(value.as_str());
        }
        text
    }
}

/// Why a cart route's id does not name a variant of the product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unresolved {
    NoSuchVariant,
    /// A product id for a product sold in options: the variant must be named (422 `variant_required`).
    VariantRequired,
}

/// A change to a variant; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct VariantChange {
    pub sku: Option<Sku>,
    pub options: Option<Choice>,
    pub price_cents: Option<Money>,
    pub active: Option<bool>,
    /// `Some(None)` takes the variant's image away.
    pub image_id: Option<Option<ImageId>>,
}

impl VariantChange {
    fn apply(&self, variant: &mut Variant) {
        if let Some(v) = &self.sku {
            variant.sku = v.clone();
        }
        if let Some(v) = &self.options {
            variant.options = v.clone();
        }
        if let Some(v) = self.price_cents {
            variant.price_cents = v;
        }
        if let Some(v) = self.active {
            variant.active = v;
        }
        if let Some(v) = self.image_id {
            variant.image_id = v;
        }
    }
}

/// A change to a product; `None` leaves a field as it is. `variant` changes one variant (the
/// top-level `sku` and `priceCents` of a product without options change its one variant).
#[derive(Debug, Clone, Default)]
pub struct ProductChange {
    pub name: Option<ProductName>,
    pub description: Option<Description>,
    pub category: Option<CategorySlug>,
    pub active: Option<bool>,
    pub options: Option<Options>,
    pub variant: Option<(VariantId, VariantChange)>,
    /// A variant to add.
    pub add: Option<Variant>,
    /// The product's images, all of them, in order: variants showing one left out show none.
    pub images: Option<Vec<Image>>,
    pub low_stock_threshold: Option<i64>,
}

/// Why a change cannot be made to a product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeRefused {
    NoSuchVariant,
    Rule(VariantRule),
    /// A variant would show an image the product does not have.
    NoSuchImage(ImageId),
    /// The product would have more than [`MAX_IMAGES`] images.
    TooManyImages,
}

impl ProductChange {
    /// The product after the change, one version on; `Ok(None)` if nothing would change.
    pub fn apply(&self, product: &Product, now: Timestamp) -> Result<Option<Product>, ChangeRefused> {
        let mut next = product.clone();
        if let Some(v) = &self.name {
            next.name = v.clone();
        }
        if let Some(v) = &self.description {
            next.description = v.clone();
        }
        if let Some(v) = &self.category {
            next.category = v.clone();
        }
        if let Some(v) = self.active {
            next.active = v;
        }
        if let Some(v) = &self.options {
            next.options = v.clone();
        }
        if let Some(v) = self.low_stock_threshold {
            next.low_stock_threshold = v;
        }
        if let Some(images) = &self.images {
            next.images = images.clone();
            for variant in &mut next.variants {
                variant.image_id = variant.image_id.filter(|id| images.iter().any(|i| i.id == *id));
            }
        }
        if let Some((id, change)) = &self.variant {
            let variant = next.variants.iter_mut().find(|v| v.id == *id).ok_or(ChangeRefused::NoSuchVariant)?;
            change.apply(variant);
        }
        if let Some(variant) = &self.add {
            next.variants.push(variant.clone());
        }
        if next == *product {
            return Ok(None);
        }
        check_variants(&next.options, &next.variants).map_err(ChangeRefused::Rule)?;
        if next.images.len() > MAX_IMAGES && next.images.len() > product.images.len() {
            return Err(ChangeRefused::TooManyImages);
        }
        if let Some(missing) =
            next.variants.iter().filter_map(|v| v.image_id).find(|id| !next.images.iter().any(|i| i.id == *id))
        {
            return Err(ChangeRefused::NoSuchImage(missing));
        }
        next.version = product.version + 1;
        next.updated_at = now;
        Ok(Some(next))
    }
}

/// The words of a text for search: maximal runs of letters and digits, lower-cased.
pub fn search_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

/// How many leading characters of a word key the search index.
pub const INDEX_PREFIX_CHARS: usize = 3;
/// At most this many distinct prefixes of one name are indexed (a transaction holds 100 items).
pub const MAX_INDEXED_PREFIXES: usize = 30;

fn prefix(word: &str) -> String {
    word.chars().take(INDEX_PREFIX_CHARS).collect()
}

/// The index keys of a product name: the first three characters of each word of at least
/// three, distinct, at most [`MAX_INDEXED_PREFIXES`] of them in order of appearance. (Queries
/// made only of shorter words are answered by filtering the listing, so shorter words need no
/// entries.)
pub fn index_prefixes(name: &str) -> Vec<String> {
    let mut seen = BTreeSet::new();
    search_words(name)
        .iter()
        .filter(|w| w.chars().count() >= INDEX_PREFIX_CHARS)
        .map(|w| prefix(w))
        .filter(|p| seen.insert(p.clone()))
        .take(MAX_INDEXED_PREFIXES)
        .collect()
}

/// The text a search filters on: every word, each preceded by a space, so that `" mou"` is found
/// in it exactly when some word starts with `mou`.
pub fn search_text(name: &str) -> String {
    search_words(name).iter().map(|w| format!(" {w}")).collect()
}

/// Which products a listing shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listing {
    /// Every product, archived too (admins).
    All,
    /// Active products.
    Active,
    /// Active products of one category.
    Category(CategorySlug),
}

/// The order of a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// Newest first.
    #[default]
    Newest,
    /// By the lowest price of the active variants, cheapest first (ties: oldest first).
    PriceAsc,
    /// By the lowest price of the active variants, dearest first (ties: newest first).
    PriceDesc,
}

impl Sort {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        match raw {
            "newest" => Ok(Self::Newest),
            "price_asc" => Ok(Self::PriceAsc),
            "price_desc" => Ok(Self::PriceDesc),
            _ => Err(Invalid::new("must be newest, price_asc or price_desc")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Newest => "newest",
            Self::PriceAsc => "price_asc",
            Self::PriceDesc => "price_desc",
        }
    }

    pub fn by_price(self) -> bool {
        self != Self::Newest
    }
}

/// A category and how many active products it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryCount {
    pub slug: CategorySlug,
    pub product_count: i64,
}

/// A search: one or more words, each of which must start a word of the product's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    words: Vec<String>,
}

impl SearchQuery {
    pub const MAX_CHARS: usize = 100;

    /// `Ok(None)` for a blank query (no search).
    pub fn parse(raw: &str) -> Result<Option<Self>, Invalid> {
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(Invalid::new("must be at most 100 characters"));
        }
        let mut words = search_words(raw);
        words.sort();
        words.dedup();
        Ok((!words.is_empty()).then_some(Self { words }))
    }

    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// Whether a name matches: every query word starts some word of the name.
    pub fn matches(&self, name: &str) -> bool {
        let words = search_words(name);
        self.words.iter().all(|q| words.iter().any(|w| w.starts_with(q.as_str())))
    }

    /// The index key to look up, if one can serve this query: the prefix of its longest word,
    /// when that word is at least [`INDEX_PREFIX_CHARS`] long. Shorter queries are answered by
    /// filtering the listing instead.
    pub fn index_key(&self) -> Option<String> {
        let longest = self.words.iter().max_by_key(|w| w.chars().count())?;
        (longest.chars().count() >= INDEX_PREFIX_CHARS).then(|| prefix(longest))
    }

    /// Canonical text of the query, for cursors.
    pub fn canonical(&self) -> String {
        self.words.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::Money;

    #[test]
    fn money_adds_subtracts_sums_and_multiplies_by_a_quantity() {
        let (a, b) = (Money::from_cents(1999), Money::from_cents(1));
        assert_eq!((a + b).cents(), 2000);
        assert_eq!((a - b).cents(), 1998);
        assert_eq!(a.times(3).cents(), 5997);
        assert_eq!([a, b, a].into_iter().sum::<Money>().cents(), 3999);
        assert_eq!(std::iter::empty::<Money>().sum::<Money>(), Money::ZERO);
        assert_eq!(Money::from_cents(i64::MAX).times(2).cents(), i64::MAX, "saturates, never wraps");
    }

    use super::*;
    use proptest::prelude::*;

    #[test]
    fn skus_are_unique_ignoring_case() {
        assert_eq!(Sku::parse("wm-100").unwrap().unique_key(), Sku::parse("WM-100").unwrap().unique_key());
        assert!(Sku::parse("").is_err());
        assert!(Sku::parse("has space").is_err());
        assert!(Sku::parse(&"x".repeat(65)).is_err());
        assert!(Sku::parse(&"x".repeat(64)).is_ok());
    }

    #[test]
    fn category_slugs_and_their_names() {
        assert_eq!(CategorySlug::parse("home-office").unwrap().display_name(), "Home office");
        assert!(CategorySlug::parse("Home").is_err());
        assert!(CategorySlug::parse("").is_err());
        assert!(CategorySlug::parse(&"a".repeat(51)).is_err());
    }

    #[test]
    fn prices_stock_and_deltas_have_bounds() {
        assert!(parse_price(-1).is_err() && parse_price(100_000_001).is_err());
        assert!(parse_price(0).is_ok() && parse_price(100_000_000).is_ok());
        assert!(Stock::parse(-1).is_err() && Stock::parse(1_000_001).is_err());
        assert!(StockDelta::parse(0).is_err() && StockDelta::parse(-1_000_001).is_err());
        assert!(StockDelta::parse(-3).is_ok());
    }

    #[test]
    fn word_prefix_search_is_case_insensitive() {
        let q = SearchQuery::parse("wire MOU").unwrap().unwrap();
        assert!(q.matches("Wireless Mouse"));
        assert!(q.matches("Mouse, wireless (black)"));
        assert!(!q.matches("Wired keyboard"));
        assert!(!q.matches("Haywire Mouse"), "words must start with the query word");
        assert_eq!(q.index_key().as_deref(), Some("wir"));
        assert_eq!(SearchQuery::parse("  ").unwrap(), None);
        assert_eq!(SearchQuery::parse("tv").unwrap().unwrap().index_key(), None);
    }

    #[test]
    fn the_index_holds_each_words_prefix_once() {
        assert_eq!(index_prefixes("Wireless Mouse, wireless dock"), ["wir", "mou", "doc"]);
        assert_eq!(index_prefixes("TV Stand 4K"), ["sta"], "short words need no entries");
        assert_eq!(search_text("USB-C Hub"), " usb c hub");
        assert!(
            index_prefixes(&(0..50).map(|i| format!("w{i:03}")).collect::<Vec<_>>().join(" ")).len()
                <= MAX_INDEXED_PREFIXES
        );
    }

    #[test]
    fn etags_name_the_product_and_its_version() {
        let p = sample();
        assert_eq!(p.version_in_etag(&p.etag()), Some(p.version));
        assert_eq!(p.version_in_etag("\"01ARZ3NDEKTSV4RRFFQ69G5FAV-v1\""), None);
        assert_eq!(p.version_in_etag("garbage"), None);
        assert!(p.matches_if_match("*"));
        assert!(p.matches_if_match(&format!("\"other\", {}", p.etag())));
        assert!(!p.matches_if_match(&format!("W/{}", p.etag())));
    }

    #[test]
    fn a_change_bumps_the_version_only_when_something_changes() {
        let p = sample();
        let same = ProductChange { name: Some(p.name.clone()), ..Default::default() };
        assert_eq!(same.apply(&p, p.updated_at), Ok(None));
        let id = p.variants[0].id;
        let cheaper = VariantChange { price_cents: Some(Money::from_cents(100)), ..Default::default() };
        let change = ProductChange { variant: Some((id, cheaper)), ..Default::default() };
        let next = change.apply(&p, Timestamp::from_unix_millis(5)).unwrap().unwrap();
        assert_eq!((next.version, next.variants[0].price_cents.cents()), (2, 100));
        let elsewhere = ProductChange { variant: Some((VariantId::new(p.id, 9), VariantChange::default())), ..change };
        assert_eq!(elsewhere.apply(&p, p.updated_at), Err(ChangeRefused::NoSuchVariant));
    }

    #[test]
    fn a_product_without_options_is_named_by_its_id_and_one_with_options_is_not() {
        let mut p = sample();
        let only = p.variants[0].id;
        assert_eq!(p.resolve(ItemId::Product(p.id)).map(|v| v.id), Ok(only));
        assert_eq!(p.resolve(ItemId::Variant(only)).map(|v| v.id), Ok(only));
        assert_eq!(p.resolve(ItemId::Variant(VariantId::new(p.id, 2))).err(), Some(Unresolved::NoSuchVariant));
        let size = super::super::ProductOption {
            name: super::super::OptionName::parse("Size").unwrap(),
            values: vec![super::super::OptionValue::parse("M").unwrap()],
        };
        p.options = Options::parse(vec![size]).unwrap();
        assert_eq!(p.resolve(ItemId::Product(p.id)).err(), Some(Unresolved::VariantRequired));
        assert_eq!(p.next_variant_id().map(|v| v.number()), Ok(2));
        assert!(p.searchable().ends_with(" M"));
    }

    #[test]
    fn a_product_stored_before_variants_reads_with_its_one_variant() {
        let id = ProductId::new();
        let old = serde_json::json!({"id": id, "sku": "WM-100", "name": "Wireless Mouse", "description": "",
            "priceCents": 2499, "currency": "USD", "category": "electronics", "stock": 3, "active": true,
            "version": 4, "createdAt": "2026-11-21T11:30:00.000Z", "updatedAt": "2026-11-21T11:30:00.000Z"});
        let product: Product = serde_json::from_value(old).unwrap();
        assert_eq!(
            product.single().map(|v| (v.id, v.sku.as_str(), v.price_cents.cents())),
            Some((VariantId::new(id, 1), "WM-100", 2499))
        );
        let again: Product = serde_json::from_value(serde_json::to_value(&product).unwrap()).unwrap();
        assert_eq!(again, product, "reads back what it writes");
    }

    #[test]
    fn an_etag_with_a_stock_suffix_still_names_the_version() {
        let p = sample();
        assert_eq!(p.version_in_etag(&format!("\"{}-v1-s42\"", p.id)), Some(1));
        assert!(p.matches_if_match(&format!("\"{}-v1-s7\"", p.id)));
    }

    #[test]
    fn images_come_and_go_with_the_variants_that_show_them() {
        use super::super::{AltText, ImageFormat};
        let p = sample();
        let now = p.updated_at;
        let only = p.variants[0].id;
        let image =
            Image { id: ImageId::new(), format: ImageFormat::Png, alt: AltText::default(), width: 2, height: 3 };
        let show = |id| ProductChange {
            variant: Some((only, VariantChange { image_id: Some(Some(id)), ..Default::default() })),
            ..Default::default()
        };
        assert_eq!(show(image.id).apply(&p, now), Err(ChangeRefused::NoSuchImage(image.id)), "not the product's");
        let attach = ProductChange { images: Some(vec![image.clone()]), ..Default::default() };
        let with = attach.apply(&p, now).unwrap().unwrap();
        let shown = show(image.id).apply(&with, now).unwrap().unwrap();
        assert_eq!(shown.variants[0].image_id, Some(image.id));
        let removed = ProductChange { images: Some(Vec::new()), ..Default::default() }.apply(&shown, now).unwrap();
        assert_eq!(removed.unwrap().variants[0].image_id, None, "a removed image shows no variant");
        let many = ProductChange { images: Some(vec![image; MAX_IMAGES + 1]), ..Default::default() };
        assert_eq!(many.apply(&p, now), Err(ChangeRefused::TooManyImages));
    }

    fn sample() -> Product {
        let id = ProductId::new();
        Product {
            id,
            name: ProductName::parse("Wireless Mouse").unwrap(),
            description: Description::default(),
            currency: Currency::parse("USD").unwrap(),
            category: CategorySlug::parse("electronics").unwrap(),
            active: true,
            options: Options::default(),
            variants: vec![Variant {
                id: VariantId::new(id, 1),
                sku: Sku::parse("WM-100").unwrap(),
                options: Choice::default(),
                price_cents: Money::from_cents(2499),
                active: true,
                image_id: None,
            }],
            images: Vec::new(),
            low_stock_threshold: DEFAULT_LOW_STOCK_THRESHOLD,
            version: 1,
            created_at: Timestamp::from_unix_millis(0),
            updated_at: Timestamp::from_unix_millis(0),
        }
    }

    proptest! {
        /// A name is always found by any of its words, or any prefix of them, in any case.
        #[test]
        fn a_name_is_found_by_prefixes_of_its_own_words(name in "[A-Za-z0-9 ,.-]{1,60}", cut in 1usize..10, pick in 0usize..20) {
            let words = search_words(&name);
            prop_assume!(!words.is_empty());
            let word = &words[pick % words.len()];
            let query: String = word.chars().take(cut).collect::<String>().to_uppercase();
            let q = SearchQuery::parse(&query).unwrap().unwrap();
            prop_assert!(q.matches(&name));
            // The index can serve it: the query's key is one of the name's indexed prefixes.
            if let Some(key) = q.index_key() {
                prop_assert!(index_prefixes(&name).contains(&key) || index_prefixes(&name).len() == MAX_INDEXED_PREFIXES);
            }
            // And the filter text agrees with `matches`.
            let needle = format!(" {}", q.words()[0]);
            prop_assert!(search_text(&name).contains(&needle));
        }
    }
}
