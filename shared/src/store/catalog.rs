//! Products, SKU claims, category counters and the word-prefix search index (their keys are
//! in `keys`; docs/data-model.md describes them).

use super::inventory::{Move, StockLevel, listing_flags, stock_item, stock_level};
use super::item::{Item, b, decode, encode, n, number, s, text};
use super::keys::{self, Partition};
use super::page::{Page, Position};
use super::schema::{PK, SK};
use super::tx::{Transaction, Write};
use super::{Store, StoreError};
use crate::domain::{
    CategoryCount, CategorySlug, Event, Inventory, Listing, LowStock, Product, ProductId, SearchQuery, Sort, Timestamp,
    Variant, VariantId, index_prefixes, search_text,
};
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Why a product write did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOutcome {
    Written,
    SkuTaken,
    /// The product is not at the version the change was computed from (or is gone).
    Stale,
}

/// The outcome of a stock adjustment.
#[derive(Debug)]
pub enum StockOutcome {
    Adjusted(StockLevel),
    NotFound,
    /// The shelf would hold fewer than no units; `on_hand` is what it holds.
    Insufficient {
        on_hand: i64,
    },
    /// The shelf would hold more than the maximum.
    TooMuch {
        on_hand: i64,
    },
}

/// How an admin changes the units on a shelf.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShelfChange {
    /// Adds (or, negative, removes) units.
    By(i64),
    /// Sets the count.
    To(i64),
}

/// A product with the stock of each of its variants, as read together.
#[derive(Debug, Clone)]
pub struct Stocked {
    pub product: Product,
    pub stock: BTreeMap<VariantId, StockLevel>,
}

impl Stocked {
    /// The entity tag of what a product page shows: the product's version and its stock's.
    pub fn etag(&self) -> String {
        let stock: i64 = self.stock.values().map(|s| s.version).sum();
        format!("\"{}-v{}-s{stock}\"", self.product.id, self.product.version)
    }

    pub fn inventory(&self, variant: VariantId) -> Inventory {
        self.stock.get(&variant).map(|s| s.inventory).unwrap_or_default()
    }
}

/// A product as a listing shows it: without counts, with the variants that have units available.
#[derive(Debug, Clone)]
pub struct Listed {
    pub product: Product,
    pub in_stock: BTreeSet<VariantId>,
}

/// Cart lines' products and their variants' stock, read together.
#[derive(Debug, Clone, Default)]
pub struct Shelf {
    pub products: HashMap<ProductId, Product>,
    pub stock: HashMap<VariantId, StockLevel>,
}

pub(super) const IN_STOCK: &str = "inStock";

/// The attributes of a product item besides what `encode` writes: search text and index keys.
pub(super) fn product_item(product: &Product) -> Result<Item, StoreError> {
    let mut item = encode(product, keys::product(product.id), "product")?;
    item.insert("searchText".into(), s(search_text(&product.searchable())));
    for (attribute, value) in keys::product_entries(product) {
        item.insert(attribute.into(), s(value));
    }
    Ok(item)
}

/// The product's copy in the price listings: the same attributes, its own key and index keys.
pub(super) fn price_listing_item(product: &Product) -> Result<Item, StoreError> {
    let mut item = encode(product, keys::price_listing(product.id), "price-listing")?;
    item.insert("searchText".into(), s(search_text(&product.searchable())));
    for (attribute, value) in keys::price_listing_entries(product) {
        item.insert(attribute.into(), s(value));
    }
    Ok(item)
}

impl Listed {
    /// Whether an active variant has units available.
    pub fn in_stock(&self) -> bool {
        self.product.variants.iter().any(|v| v.active && self.in_stock.contains(&v.id))
    }
}

fn listed(mut item: Item) -> Result<Listed, StoreError> {
    let in_stock = match item.remove(IN_STOCK) {
        Some(AttributeValue::Ss(ids)) => ids.iter().filter_map(|id| VariantId::parse(id)).collect(),
        _ => BTreeSet::new(),
    };
    Ok(Listed { product: decode(item)?, in_stock })
}

/// The search entries a product has: one per indexed prefix of its name and option values, while active.
fn search_entries(product: &Product) -> BTreeSet<String> {
    if product.active { index_prefixes(&product.searchable()).into_iter().collect() } else { BTreeSet::new() }
}

fn search_entry(product: &Product, prefix: &str) -> Item {
    let mut item = keys::search_entry(prefix, product);
    item.insert("entity".into(), s("search-entry"));
    item.insert("productId".into(), s(product.id.to_string()));
    item.insert("searchText".into(), s(search_text(&product.searchable())));
    item.insert("category".into(), s(product.category.as_str()));
    item
}

/// The SKU claim of a variant.
fn claim(variant: &Variant) -> Item {
    let mut item = keys::sku_claim(&variant.sku);
    item.insert("entity".into(), s("sku-claim"));
    item.insert("productId".into(), s(variant.id.product().to_string()));
    item.insert("variantId".into(), s(variant.id.to_string()));
    item.insert("sku".into(), s(variant.sku.as_str()));
    item
}

/// Adds `by` to the count of a category's active products.
fn count(category: &CategorySlug, by: i64) -> Write {
    Write::update(keys::category_counter(category), "ADD productCount :by SET entity = :entity")
        .value(":by", n(by))
        .value(":entity", s("category"))
}

/// The writes of a product transaction, by what they write.
#[derive(Debug, PartialEq)]
enum Name {
    Product,
    /// A new variant's (or a new SKU's) claim.
    Claim,
    /// The claim of a SKU a variant gives up, or keeps in another case.
    OldClaim,
    Count,
    Search,
    Stock,
    /// The product's copy in the price listings.
    Listing,
    Outbox,
}

const NEW: &str = "attribute_not_exists(pk)";

/// The index attributes a product item may carry (removed when it leaves an index).
const INDEX_ATTRIBUTES: [&str; 6] = ["gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk", "gsi3pk", "gsi3sk"];

/// An update of `key` that sets every attribute of `item` but its keys (and so leaves
/// `inStock`, which only stock writes change), removing index attributes it no longer has;
/// `then` adds a clause (with its own placeholders) to the expression.
fn set_all(key: keys::Key, item: Item, then: &str) -> Write {
    let removed: Vec<&str> = INDEX_ATTRIBUTES.iter().copied().filter(|a| !item.contains_key(*a)).collect();
    let attributes: Vec<(String, AttributeValue)> = item.into_iter().filter(|(a, _)| a != PK && a != SK).collect();
    let sets: Vec<String> = (0..attributes.len()).map(|i| format!("#a{i} = :a{i}")).collect();
    let mut expression = format!("SET {}", sets.join(", "));
    if !removed.is_empty() {
        expression.push_str(&format!(" REMOVE {}", removed.join(", ")));
    }
    expression.push_str(then);
    let mut write = Write::update(key, expression);
    for (i, (attribute, value)) in attributes.into_iter().enumerate() {
        write = write.name(&format!("#a{i}"), &attribute).value(&format!(":a{i}"), value);
    }
    write
}

impl Store {
    /// Writes a new product with the stock of each variant (`on_hand`, in variant order),
    /// claims every SKU, counts it in its category and indexes its words, all in one transaction.
    pub async fn insert_product(
        &self,
        product: &Product,
        on_hand: &[i64],
        events: &[Event],
    ) -> Result<WriteOutcome, StoreError> {
        let mut item = product_item(product)?;
        let stocked: Vec<String> = product
            .variants
            .iter()
            .zip(on_hand)
            .filter(|(_, units)| **units > 0)
            .map(|(v, _)| v.id.to_string())
            .collect();
        if !stocked.is_empty() {
            item.insert(IN_STOCK.into(), AttributeValue::Ss(stocked));
        }
        let mut copy = price_listing_item(product)?;
        if let Some(set) = item.get(IN_STOCK) {
            copy.insert(IN_STOCK.into(), set.clone());
        }
        let mut tx = Transaction::new();
        tx.add(Name::Product, Write::put(item).when(NEW));
        tx.add(Name::Listing, Write::put(copy).when(NEW));
        for (variant, units) in product.variants.iter().zip(on_hand) {
            let shelf = Inventory::new(*units);
            let stock = stock_item(variant.id, shelf, variant.price_cents, product.sells(variant), product.created_at)?;
            tx.add(Name::Stock, Write::put(stock).when(NEW));
            tx.add(Name::Claim, Write::put(claim(variant)).when(NEW));
        }
        if product.active {
            tx.add(Name::Count, count(&product.category, 1));
        }
        for prefix in search_entries(product) {
            tx.add(Name::Search, Write::put(search_entry(product, &prefix)));
        }
        tx.publish(Name::Outbox, events)?;
        self.write_product(tx).await
    }

    /// Replaces `old` by `new` if the stored product is still at `old.version`, moving SKU
    /// claims, category counts and search entries with it, carrying variant prices and
    /// on-sale flags to their stock items, and adding the stock of a new variant (`added`:
    /// its units on hand), all in one transaction. A product's own `active` flag reaches its
    /// stock items through [`Store::sync_sellable`], not here.
    pub async fn replace_product(
        &self,
        old: &Product,
        new: &Product,
        added: Option<i64>,
        events: &[Event],
    ) -> Result<WriteOutcome, StoreError> {
        let mut tx = Transaction::new();
        let fresh: Vec<&Variant> = new.variants.iter().filter(|v| old.variant(v.id).is_none()).collect();
        let stocked = match (added, fresh.as_slice()) {
            (Some(units), [variant]) if units > 0 => Some(variant.id),
            _ => None,
        };
        let then = if stocked.is_some() { " ADD inStock :added" } else { "" };
        let mut replace = set_all(keys::product(new.id), product_item(new)?, then)
            .when("version = :expected")
            .value(":expected", n(old.version));
        let mut copy =
            set_all(keys::price_listing(new.id), price_listing_item(new)?, then).when("attribute_exists(pk)");
        if let Some(id) = stocked {
            let added = AttributeValue::Ss(vec![id.to_string()]);
            replace = replace.value(":added", added.clone());
            copy = copy.value(":added", added);
        }
        tx.add(Name::Product, replace);
        tx.add(Name::Listing, copy);
        let ours =
            |write: Write, variant: &Variant| write.when("variantId = :vid").value(":vid", s(variant.id.to_string()));
        for variant in &new.variants {
            match old.variant(variant.id) {
                None => {
                    let stock = stock_item(
                        variant.id,
                        Inventory::new(added.unwrap_or(0)),
                        variant.price_cents,
                        old.active && variant.active,
                        new.updated_at,
                    )?;
                    tx.add(Name::Stock, Write::put(stock).when(NEW));
                    tx.add(Name::Claim, Write::put(claim(variant)).when(NEW));
                }
                Some(before) => {
                    if before.sku.unique_key() != variant.sku.unique_key() {
                        tx.add(Name::OldClaim, ours(Write::delete(keys::sku_claim(&before.sku)), before));
                        tx.add(Name::Claim, Write::put(claim(variant)).when(NEW));
                    } else if before.sku != variant.sku {
                        tx.add(Name::OldClaim, ours(Write::put(claim(variant)), variant));
                    }
                    if (before.price_cents, before.active) != (variant.price_cents, variant.active) {
                        let copy = Write::update(keys::stock(variant.id), "SET priceCents = :price, sellable = :on")
                            .when("attribute_exists(pk)")
                            .value(":price", n(variant.price_cents.cents()))
                            .value(":on", b(old.active && new.active && variant.active));
                        tx.add(Name::Stock, copy);
                    }
                }
            }
        }
        if (old.active, &old.category) != (new.active, &new.category) {
            if old.active {
                tx.add(Name::Count, count(&old.category, -1));
            }
            if new.active {
                tx.add(Name::Count, count(&new.category, 1));
            }
        }
        let (before, after) = (search_entries(old), search_entries(new));
        let entries_change = before != after
            || (!after.is_empty() && (old.searchable() != new.searchable() || old.category != new.category));
        if entries_change {
            for prefix in before.difference(&after) {
                tx.add(Name::Search, Write::delete(keys::search_entry(prefix, old)));
            }
            for prefix in &after {
                tx.add(Name::Search, Write::put(search_entry(new, prefix)));
            }
        }
        tx.publish(Name::Outbox, events)?;
        self.write_product(tx).await
    }

    /// Runs a product transaction: a failed condition on the product is
    /// [`WriteOutcome::Stale`], on a new SKU's claim [`WriteOutcome::SkuTaken`].
    async fn write_product(&self, tx: Transaction<Name>) -> Result<WriteOutcome, StoreError> {
        match tx.commit(self, None).await? {
            Ok(()) => Ok(WriteOutcome::Written),
            Err(refused) if refused.by(&Name::Product) => Ok(WriteOutcome::Stale),
            Err(refused) if refused.by(&Name::Claim) => Ok(WriteOutcome::SkuTaken),
            Err(refused) => Err(StoreError::Backend {
                operation: "TransactWriteItems",
                detail: format!("unexpected conditions {:?}", refused.names().collect::<Vec<_>>()),
            }),
        }
    }

    /// Makes every stock item of `product` say whether its variant is on sale (the product and
    /// the variant active). Archiving runs this before the product changes and unarchiving
    /// after, so that no order can reserve units of an archived product even while this runs;
    /// if it is cut short, some variants stay off sale (never on), and running it again mends it.
    /// Putting a variant on sale is conditional on the product still being this version: a
    /// product changed since (archived again, say) is left to the change that moved it.
    pub async fn sync_sellable(&self, product: &Product) -> Result<(), StoreError> {
        #[derive(PartialEq)]
        enum Syncing {
            Stock,
            Product,
        }
        for variant in &product.variants {
            let on = product.sells(variant);
            let stock = Write::update(keys::stock(variant.id), "SET sellable = :on")
                .when("attribute_exists(pk)")
                .value(":on", b(on));
            let mut tx = Transaction::new();
            tx.add(Syncing::Stock, stock);
            if on {
                let same = Write::check(keys::product(product.id))
                    .when("version = :version")
                    .value(":version", n(product.version));
                tx.add(Syncing::Product, same);
            }
            match tx.commit(self, None).await? {
                Ok(()) => {}
                Err(refused) if refused.by(&Syncing::Product) => return Ok(()),
                // A variant without a stock item (a product not yet migrated) has nothing to say.
                Err(_) => {}
            }
        }
        Ok(())
    }

    pub async fn product(&self, id: ProductId) -> Result<Option<Product>, StoreError> {
        self.get_consistent(keys::product(id)).await?.map(decode).transpose()
    }

    /// A product with the variants it lists as in stock (as listings show it), read consistently.
    pub async fn listed_product(&self, id: ProductId) -> Result<Option<Listed>, StoreError> {
        self.get_consistent(keys::product(id)).await?.map(listed).transpose()
    }

    /// A product and the stock of all its variants: one consistent Query of its partition.
    pub async fn stocked(&self, id: ProductId) -> Result<Option<Stocked>, StoreError> {
        let items = self.query_all(Partition::Product(id), None, true).await?;
        let mut product = None;
        let mut stock = BTreeMap::new();
        for item in items {
            match text(&item, SK) {
                Some(keys::PRODUCT_SK) => product = Some(decode::<Product>(item)?),
                Some(sk) if sk.starts_with(keys::STOCK_PREFIX) => {
                    let level = stock_level(item)?;
                    stock.insert(level.variant, level);
                }
                _ => {}
            }
        }
        Ok(product.map(|product| Stocked { product, stock }))
    }

    /// Changes a variant's units on hand atomically, unless the shelf would leave 0..=`max`.
    /// Decided from a read (to know whether the variant crosses zero available or its
    /// low-stock threshold, and for a count by how much it changes); if the units moved so
    /// that the write would be another one, decided again. Falling to the threshold writes
    /// `inventory.low` (`low` names the variant) with the change.
    pub async fn adjust_stock(
        &self,
        low: &LowStock,
        change: ShelfChange,
        max: i64,
        now: Timestamp,
    ) -> Result<StockOutcome, StoreError> {
        let variant = low.variant_id;
        for _ in 0..=super::MAX_RETRIES {
            let Some(seen) = self.get_consistent(keys::stock(variant)).await?.map(stock_level).transpose()? else {
                return Ok(StockOutcome::NotFound);
            };
            let on_hand = seen.inventory.on_hand;
            let d = match change {
                ShelfChange::By(d) => d,
                ShelfChange::To(count) => count - on_hand,
            };
            if on_hand + d < 0 {
                return Ok(StockOutcome::Insufficient { on_hand });
            }
            if on_hand + d > max {
                return Ok(StockOutcome::TooMuch { on_hand });
            }
            if d == 0 {
                return Ok(StockOutcome::Adjusted(seen));
            }
            let shelf = Move {
                variant,
                on_hand: d,
                reserved: 0,
                seen_available: seen.inventory.available(),
                low_at: Some(low.threshold),
            };
            let write = match change {
                ShelfChange::By(_) => shelf
                    .write("onHand >= :min AND onHand <= :max", now)
                    .value(":min", n((-d).max(0)))
                    .value(":max", n(max - d.max(0))),
                ShelfChange::To(_) => shelf.write("onHand = :seen", now).value(":seen", n(on_hand)),
            };
            let mut tx = Transaction::new();
            tx.add(Name::Stock, write);
            for flags in listing_flags(variant.product(), &[shelf])? {
                tx.add(Name::Product, flags);
            }
            if shelf.runs_low() {
                tx.publish(Name::Outbox, &[Event::inventory_low(low, now)])?;
            }
            // A delta is not idempotent: alone, the write is never resent after it may have been
            // applied; with listing flags, the transaction's token makes a resent attempt a no-op.
            match tx.commit(self, None).await? {
                Ok(()) => {
                    // The counts as decided (orders may have moved `reserved` since; the next
                    // read shows them).
                    let inventory = Inventory { on_hand: on_hand + d, ..seen.inventory };
                    return Ok(StockOutcome::Adjusted(StockLevel { inventory, version: seen.version + 1, variant }));
                }
                // The shelf or the units available moved meanwhile: decide again from a new read.
                Err(_) => continue,
            }
        }
        Err(StoreError::Unavailable {
            operation: "TransactWriteItems",
            detail: format!("stock of {variant} kept moving"),
        })
    }

    /// One page of a listing in `sort` order, optionally only of products in stock and
    /// filtered by a search query.
    pub async fn list_products(
        &self,
        listing: &Listing,
        sort: Sort,
        in_stock: bool,
        search: Option<&SearchQuery>,
        limit: usize,
        after: Option<&Position>,
    ) -> Result<Option<Page<Listed>>, StoreError> {
        let partition = match sort {
            Sort::Newest => Partition::Products(listing),
            Sort::PriceAsc => Partition::ByPrice(listing, true),
            Sort::PriceDesc => Partition::ByPrice(listing, false),
        };
        let mut filter = search.map(word_filter);
        if in_stock {
            filter = Some(match filter {
                Some((expression, values)) => (format!("{expression} AND attribute_exists(inStock)"), values),
                None => ("attribute_exists(inStock)".into(), Vec::new()),
            });
        }
        // The set may name archived variants only: such a product is out of stock all the same.
        let keep = |item: Item| listed(item).map(|l| (!in_stock || l.in_stock()).then_some(l));
        self.query_page(partition, filter, limit, after, keep).await
    }

    /// One page of active products whose names match `search`, through the prefix index,
    /// optionally within one category. `Ok(None)` if `after` is not a position of this search.
    pub async fn search_products(
        &self,
        search: &SearchQuery,
        index_key: &str,
        category: Option<&CategorySlug>,
        in_stock: bool,
        limit: usize,
        after: Option<&Position>,
    ) -> Result<Option<Page<Listed>>, StoreError> {
        let (mut filter, mut values) = word_filter(search);
        if let Some(category) = category {
            filter.push_str(" AND category = :category");
            values.push((":category".into(), s(category.as_str())));
        }
        // An entry that names no product is skipped (as the product read skips missing ones).
        let hit = |item: Item| Ok(Some(text(&item, "productId").and_then(ProductId::parse)));
        let Some(hits) =
            self.query_page(Partition::Search(index_key), Some((filter, values)), limit, after, hit).await?
        else {
            return Ok(None);
        };
        // Eventually consistent: every product is re-checked below.
        let ids: Vec<ProductId> = hits.items.into_iter().flatten().collect();
        let keys = ids.iter().map(|id| keys::product(*id)).collect();
        let mut found: HashMap<ProductId, Listed> = HashMap::new();
        for item in self.batch_get(keys, false).await? {
            if text(&item, SK) == Some(keys::PRODUCT_SK) {
                let listed = listed(item)?;
                found.insert(listed.product.id, listed);
            }
        }
        let mut products: Vec<Listed> = ids.iter().filter_map(|id| found.remove(id)).collect();
        // The entries move with the product in one transaction; this re-check only guards
        // against a change between the query and the read.
        products.retain(|l| {
            let p = &l.product;
            p.active
                && search.matches(&p.searchable())
                && category.is_none_or(|c| &p.category == c)
                && (!in_stock || l.in_stock())
        });
        Ok(Some(Page { items: products, next: hits.next }))
    }

    /// The products of some variants and those variants' stock, read consistently in one call.
    pub async fn shelf(&self, variants: &[VariantId]) -> Result<Shelf, StoreError> {
        let products: BTreeSet<ProductId> = variants.iter().map(|v| v.product()).collect();
        let stock: BTreeSet<VariantId> = variants.iter().copied().collect();
        let keys = products.iter().map(|p| keys::product(*p)).chain(stock.iter().map(|v| keys::stock(*v))).collect();
        let mut shelf = Shelf::default();
        for item in self.batch_get(keys, true).await? {
            if text(&item, SK) == Some(keys::PRODUCT_SK) {
                let product: Product = decode(item)?;
                shelf.products.insert(product.id, product);
            } else {
                let level = stock_level(item)?;
                shelf.stock.insert(level.variant, level);
            }
        }
        Ok(shelf)
    }

    /// Items by key (at most 100), skipping keys that do not exist. Eventually consistent
    /// reads cost half; `consistent` when the caller acts on what it reads.
    pub(crate) async fn batch_get(&self, keys: Vec<keys::Key>, consistent: bool) -> Result<Vec<Item>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let keys = KeysAndAttributes::builder()
            .consistent_read(consistent)
            .set_keys(Some(keys))
            .build()
            .map_err(|e| StoreError::Backend { operation: "BatchGetItem", detail: e.to_string() })?;
        let mut request = HashMap::from([(self.table.clone(), keys)]);
        let mut found = Vec::new();
        for attempt in 0..=super::MAX_RETRIES {
            if attempt > 0 {
                super::backoff(attempt).await;
            }
            let out = self
                .client
                .batch_get_item()
                .set_request_items(Some(request))
                .send()
                .await
                .map_err(|e| StoreError::backend("BatchGetItem", e))?;
            found.extend(out.responses.unwrap_or_default().remove(&self.table).unwrap_or_default());
            match out.unprocessed_keys {
                Some(rest) if !rest.is_empty() => request = rest,
                _ => return Ok(found),
            }
        }
        Err(StoreError::Unavailable {
            operation: "BatchGetItem",
            detail: "keys still unprocessed after retries".into(),
        })
    }

    /// Every category with at least one active product, by slug.
    pub async fn categories(&self) -> Result<Vec<CategoryCount>, StoreError> {
        let items = self.query_all(Partition::Categories, Some(("productCount > :zero", ":zero", n(0))), true).await?;
        Ok(items
            .iter()
            .filter_map(|item| {
                let slug = text(item, super::schema::SK).and_then(|v| CategorySlug::parse(v).ok())?;
                Some(CategoryCount { slug, product_count: number(item, "productCount")? })
            })
            .collect())
    }

    /// Whether the catalog has no products at all (the local stack seeds a demo catalog then).
    pub async fn catalog_is_empty(&self) -> Result<bool, StoreError> {
        let page = self.query_page(Partition::Products(&Listing::All), None, 1, None, |i| Ok(Some(i))).await?;
        Ok(page.is_none_or(|p| p.items.is_empty()))
    }
}

/// `contains(searchText, " <word>")` for every word of the query.
fn word_filter(search: &SearchQuery) -> (String, Vec<(String, AttributeValue)>) {
    let mut parts = Vec::new();
    let mut values = Vec::new();
    for (i, word) in search.words().iter().enumerate() {
        parts.push(format!("contains(searchText, :w{i})"));
        values.push((format!(":w{i}"), s(format!(" {word}"))));
    }
    (parts.join(" AND "), values)
}
