//! Products, SKU claims, category counters and the word-prefix search index (their keys are
//! in `keys`; docs/data-model.md describes them).

use super::item::{Item, decode, encode, n, number, refused, s, text};
use super::keys::{self, Partition};
use super::page::{Page, Position};
use super::tx::{Transaction, Write};
use super::{Store, StoreError};
use crate::domain::{
    CategoryCount, CategorySlug, Listing, Product, ProductId, SearchQuery, StockDelta, Timestamp, index_prefixes,
    search_text,
};
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, ReturnValue, ReturnValuesOnConditionCheckFailure};
use std::collections::{BTreeSet, HashMap};

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
    Adjusted(Product),
    NotFound,
    /// The result would be below zero; `available` is the stock at the time.
    Insufficient {
        available: i64,
    },
    /// The result would exceed the maximum.
    TooMuch {
        available: i64,
    },
}

fn product_item(product: &Product) -> Result<Item, StoreError> {
    let mut item = encode(product, keys::product(product.id), "product")?;
    item.insert("searchText".into(), s(search_text(product.name.as_str())));
    for (attribute, value) in keys::product_entries(product) {
        item.insert(attribute.into(), s(value));
    }
    Ok(item)
}

/// The search entries a product has: one per indexed prefix of its name, while active.
fn search_entries(product: &Product) -> BTreeSet<String> {
    if product.active { index_prefixes(product.name.as_str()).into_iter().collect() } else { BTreeSet::new() }
}

fn search_entry(product: &Product, prefix: &str) -> Item {
    let mut item = keys::search_entry(prefix, product);
    item.insert("entity".into(), s("search-entry"));
    item.insert("productId".into(), s(product.id.to_string()));
    item.insert("searchText".into(), s(search_text(product.name.as_str())));
    item.insert("category".into(), s(product.category.as_str()));
    item
}

/// The SKU claim of a product.
fn claim(product: &Product) -> Item {
    let mut item = keys::sku_claim(&product.sku);
    item.insert("entity".into(), s("sku-claim"));
    item.insert("productId".into(), s(product.id.to_string()));
    item.insert("sku".into(), s(product.sku.as_str()));
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
    /// The new product's (or the new SKU's) claim.
    Claim,
    /// The claim of the SKU a product gives up, or keeps in another case.
    OldClaim,
    Count,
    Search,
}

const NEW: &str = "attribute_not_exists(pk)";

impl Store {
    /// Writes a new product, claims its SKU, counts it in its category and indexes its name,
    /// all in one transaction.
    pub async fn insert_product(&self, product: &Product) -> Result<WriteOutcome, StoreError> {
        let mut tx = Transaction::new();
        tx.add(Name::Product, Write::put(product_item(product)?).when(NEW));
        tx.add(Name::Claim, Write::put(claim(product)).when(NEW));
        if product.active {
            tx.add(Name::Count, count(&product.category, 1));
        }
        for prefix in search_entries(product) {
            tx.add(Name::Search, Write::put(search_entry(product, &prefix)));
        }
        self.write_product(tx).await
    }

    /// Replaces `old` by `new` if the stored product is still at `old.version`, moving the SKU
    /// claim, category counts and search entries with it, all in one transaction.
    pub async fn replace_product(&self, old: &Product, new: &Product) -> Result<WriteOutcome, StoreError> {
        let mut tx = Transaction::new();
        let replace = Write::put(product_item(new)?).when("version = :expected").value(":expected", n(old.version));
        tx.add(Name::Product, replace);
        let ours = |write: Write, id: ProductId| write.when("productId = :id").value(":id", s(id.to_string()));
        if old.sku.unique_key() != new.sku.unique_key() {
            tx.add(Name::OldClaim, ours(Write::delete(keys::sku_claim(&old.sku)), old.id));
            tx.add(Name::Claim, Write::put(claim(new)).when(NEW));
        } else if old.sku != new.sku {
            tx.add(Name::OldClaim, ours(Write::put(claim(new)), new.id));
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
        let entries_change =
            before != after || (!after.is_empty() && (old.name != new.name || old.category != new.category));
        if entries_change {
            for prefix in before.difference(&after) {
                tx.add(Name::Search, Write::delete(keys::search_entry(prefix, old)));
            }
            for prefix in &after {
                tx.add(Name::Search, Write::put(search_entry(new, prefix)));
            }
        }
        self.write_product(tx).await
    }

    /// Runs a product transaction: a failed condition on the product is
    /// [`WriteOutcome::Stale`], on the new SKU's claim [`WriteOutcome::SkuTaken`].
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

    pub async fn product(&self, id: ProductId) -> Result<Option<Product>, StoreError> {
        self.get_consistent(keys::product(id)).await?.map(decode).transpose()
    }

    /// Adds `delta` to a product's stock atomically, unless the result would leave 0..=max.
    pub async fn adjust_stock(
        &self,
        id: ProductId,
        delta: StockDelta,
        max: i64,
        now: Timestamp,
    ) -> Result<StockOutcome, StoreError> {
        let d = delta.units();
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keys::product(id)))
            .update_expression("SET stock = stock + :d, version = version + :one, updatedAt = :now")
            .condition_expression("attribute_exists(pk) AND stock >= :min AND stock <= :max")
            .expression_attribute_values(":d", n(d))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":now", s(now.to_string()))
            .expression_attribute_values(":min", n((-d).max(0)))
            .expression_attribute_values(":max", n(max - d.max(0)))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            // A delta is not idempotent: the SDK must not resend one that may have been applied
            // (after an attempt timed out). A failure is a 503 the caller decides about.
            .customize()
            .config_override(
                aws_sdk_dynamodb::Config::builder()
                    .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled()),
            )
            .send()
            .await;
        match result {
            Ok(out) => match out.attributes {
                Some(item) => Ok(StockOutcome::Adjusted(decode(item)?)),
                None => Err(StoreError::Backend { operation: "UpdateItem", detail: "no attributes returned".into() }),
            },
            Err(err) => match refused(&err) {
                Some(None) => Ok(StockOutcome::NotFound),
                Some(Some(old)) => {
                    let available = number(&old, "stock").unwrap_or(0);
                    if d < 0 {
                        Ok(StockOutcome::Insufficient { available })
                    } else {
                        Ok(StockOutcome::TooMuch { available })
                    }
                }
                None => Err(StoreError::backend("UpdateItem", err)),
            },
        }
    }

    /// One page of a listing, newest first, optionally filtered by a search query.
    pub async fn list_products(
        &self,
        listing: &Listing,
        search: Option<&SearchQuery>,
        limit: usize,
        after: Option<&Position>,
    ) -> Result<Option<Page<Product>>, StoreError> {
        self.query_page(Partition::Products(listing), search.map(word_filter), limit, after, decode).await
    }

    /// One page of active products whose names match `search`, through the prefix index,
    /// optionally within one category. `Ok(None)` if `after` is not a position of this search.
    pub async fn search_products(
        &self,
        search: &SearchQuery,
        index_key: &str,
        category: Option<&CategorySlug>,
        limit: usize,
        after: Option<&Position>,
    ) -> Result<Option<Page<Product>>, StoreError> {
        let (mut filter, mut values) = word_filter(search);
        if let Some(category) = category {
            filter.push_str(" AND category = :category");
            values.push((":category".into(), s(category.as_str())));
        }
        // An entry that names no product is skipped (as the product read skips missing ones).
        let hit = |item: Item| Ok(text(&item, "productId").and_then(ProductId::parse));
        let Some(hits) =
            self.query_page(Partition::Search(index_key), Some((filter, values)), limit, after, hit).await?
        else {
            return Ok(None);
        };
        // Eventually consistent: every product is re-checked below.
        let ids: Vec<ProductId> = hits.items.into_iter().flatten().collect();
        let mut products = self.products(&ids, false).await?;
        // The entries move with the product in one transaction; this re-check only guards
        // against a change between the query and the read.
        products.retain(|p| p.active && search.matches(p.name.as_str()) && category.is_none_or(|c| &p.category == c));
        Ok(Some(Page { items: products, next: hits.next }))
    }

    /// Products by id, in the order asked, skipping ids that do not exist. Eventually
    /// consistent reads cost half; `consistent` when the caller acts on what it reads.
    pub async fn products(&self, ids: &[ProductId], consistent: bool) -> Result<Vec<Product>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut keys = KeysAndAttributes::builder().consistent_read(consistent);
        for id in ids {
            keys = keys.keys(super::keys::product(*id));
        }
        let keys =
            keys.build().map_err(|e| StoreError::Backend { operation: "BatchGetItem", detail: e.to_string() })?;
        let mut request = HashMap::from([(self.table.clone(), keys)]);
        let mut found: HashMap<ProductId, Product> = HashMap::new();
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
            for item in out.responses.unwrap_or_default().remove(&self.table).unwrap_or_default() {
                let product: Product = decode(item)?;
                found.insert(product.id, product);
            }
            match out.unprocessed_keys {
                Some(rest) if !rest.is_empty() => request = rest,
                _ => return Ok(ids.iter().filter_map(|id| found.remove(id)).collect()),
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
        let page = self.query_page(Partition::Products(&Listing::All), None, 1, None, Ok).await?;
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
