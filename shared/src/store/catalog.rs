//! Products, SKU claims, category counters and the word-prefix search index.
//!
//! | item             | pk                  | sk                  | indexes (only while active, except gsi1) |
//! |------------------|---------------------|---------------------|------------------------------------------|
//! | product          | `PRODUCT#<id>`      | `PRODUCT`           | gsi1 `PRODUCT`, gsi2 `ACTIVE`, gsi3 `CATEGORY#<slug>`; sk `<createdAt>#<id>` |
//! | SKU claim        | `SKU#<SKU>`         | `SKU`               | –                                        |
//! | category counter | `CATEGORIES`        | `<slug>`            | –                                        |
//! | search entry     | `SEARCH#<prefix>`   | `<createdAt>#<id>`  | –                                        |

use super::page::{Page, Position};
use super::schema::{GSI1, GSI2, GSI3, PK, SK};
use super::{Item, Store, StoreError, key, n, s};
use crate::domain::{
    CategorySlug, Product, ProductId, SearchQuery, StockDelta, Timestamp, index_prefixes, search_text,
};
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, KeysAndAttributes, Put, ReturnValue, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem, Update,
};
use std::collections::{BTreeSet, HashMap};

pub(crate) fn product_key(id: ProductId) -> Item {
    key(format!("PRODUCT#{id}"), "PRODUCT")
}

fn sku_key(product: &Product) -> Item {
    key(format!("SKU#{}", product.sku.unique_key()), "SKU")
}

fn order_key(product: &Product) -> String {
    format!("{}#{}", product.created_at, product.id)
}

fn build_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend { operation: "TransactWriteItems", detail: e.to_string() }
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

impl Listing {
    fn index(&self) -> (&'static str, &'static str, &'static str, String) {
        match self {
            Listing::All => (GSI1, "gsi1pk", "gsi1sk", "PRODUCT".into()),
            Listing::Active => (GSI2, "gsi2pk", "gsi2sk", "ACTIVE".into()),
            Listing::Category(slug) => (GSI3, "gsi3pk", "gsi3sk", format!("CATEGORY#{slug}")),
        }
    }
}

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

/// A category with active products.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryCount {
    pub slug: CategorySlug,
    pub product_count: i64,
}

fn product_item(product: &Product) -> Result<Item, StoreError> {
    let mut item: Item = serde_dynamo::to_item(product)
        .map_err(|e| StoreError::Corrupt { key: format!("PRODUCT#{}", product.id), detail: e.to_string() })?;
    item.extend(product_key(product.id));
    item.insert("entity".into(), s("product"));
    item.insert("searchText".into(), s(search_text(product.name.as_str())));
    let order = order_key(product);
    item.insert("gsi1pk".into(), s("PRODUCT"));
    item.insert("gsi1sk".into(), s(order.clone()));
    if product.active {
        item.insert("gsi2pk".into(), s("ACTIVE"));
        item.insert("gsi2sk".into(), s(order.clone()));
        item.insert("gsi3pk".into(), s(format!("CATEGORY#{}", product.category)));
        item.insert("gsi3sk".into(), s(order));
    }
    Ok(item)
}

fn decode_product(item: Item) -> Result<Product, StoreError> {
    let key = item.get(PK).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
    serde_dynamo::from_item(item).map_err(|e| StoreError::Corrupt { key, detail: e.to_string() })
}

/// The search entries a product has: one per indexed prefix of its name, while active.
fn search_entries(product: &Product) -> BTreeSet<String> {
    if product.active { index_prefixes(product.name.as_str()).into_iter().collect() } else { BTreeSet::new() }
}

fn search_entry(product: &Product, prefix: &str) -> Item {
    let mut item = key(format!("SEARCH#{prefix}"), &order_key(product));
    item.insert("entity".into(), s("search-entry"));
    item.insert("productId".into(), s(product.id.to_string()));
    item.insert("searchText".into(), s(search_text(product.name.as_str())));
    item.insert("category".into(), s(product.category.as_str()));
    item
}

impl Store {
    fn put(
        &self,
        item: Item,
        condition: Option<(&str, Vec<(&str, AttributeValue)>)>,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut put = Put::builder().table_name(&self.table).set_item(Some(item));
        if let Some((expression, values)) = condition {
            put = put.condition_expression(expression);
            for (name, value) in values {
                put = put.expression_attribute_values(name, value);
            }
        }
        Ok(TransactWriteItem::builder().put(put.build().map_err(build_err)?).build())
    }

    fn delete(
        &self,
        key: Item,
        condition: Option<(&str, &str, AttributeValue)>,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut delete = Delete::builder().table_name(&self.table).set_key(Some(key));
        if let Some((expression, name, value)) = condition {
            delete = delete.condition_expression(expression).expression_attribute_values(name, value);
        }
        Ok(TransactWriteItem::builder().delete(delete.build().map_err(build_err)?).build())
    }

    fn count(&self, category: &CategorySlug, by: i64) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key("CATEGORIES".into(), category.as_str())))
            .update_expression("ADD productCount :by SET entity = :entity")
            .expression_attribute_values(":by", n(by))
            .expression_attribute_values(":entity", s("category"))
            .build()
            .map_err(build_err)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Writes a new product, claims its SKU, counts it in its category and indexes its name,
    /// all in one transaction.
    pub async fn insert_product(&self, product: &Product) -> Result<WriteOutcome, StoreError> {
        let mut items = vec![
            self.put(product_item(product)?, Some(("attribute_not_exists(pk)", vec![])))?,
            self.put(claim(product), Some(("attribute_not_exists(pk)", vec![])))?,
        ];
        if product.active {
            items.push(self.count(&product.category, 1)?);
        }
        for prefix in search_entries(product) {
            items.push(self.put(search_entry(product, &prefix), None)?);
        }
        self.transact(items, 1).await
    }

    /// Replaces `old` by `new` if the stored product is still at `old.version`, moving the SKU
    /// claim, category counts and search entries with it, all in one transaction.
    pub async fn replace_product(&self, old: &Product, new: &Product) -> Result<WriteOutcome, StoreError> {
        let mut items =
            vec![self.put(product_item(new)?, Some(("version = :expected", vec![(":expected", n(old.version))])))?];
        let mut sku_index = None;
        if old.sku.unique_key() != new.sku.unique_key() {
            items.push(self.delete(sku_key(old), Some(("productId = :id", ":id", s(old.id.to_string()))))?);
            sku_index = Some(items.len());
            items.push(self.put(claim(new), Some(("attribute_not_exists(pk)", vec![])))?);
        } else if old.sku != new.sku {
            items.push(self.put(claim(new), Some(("productId = :id", vec![(":id", s(new.id.to_string()))])))?);
        }
        if (old.active, &old.category) != (new.active, &new.category) {
            if old.active {
                items.push(self.count(&old.category, -1)?);
            }
            if new.active {
                items.push(self.count(&new.category, 1)?);
            }
        }
        let (before, after) = (search_entries(old), search_entries(new));
        let entries_change =
            before != after || (!after.is_empty() && (old.name != new.name || old.category != new.category));
        if entries_change {
            for prefix in before.difference(&after) {
                items.push(self.delete(key(format!("SEARCH#{prefix}"), &order_key(old)), None)?);
            }
            for prefix in &after {
                items.push(self.put(search_entry(new, prefix), None)?);
            }
        }
        self.transact(items, sku_index.unwrap_or(usize::MAX)).await
    }

    /// Runs a transaction; a failed condition on item 0 is [`WriteOutcome::Stale`], on item
    /// `sku_at` [`WriteOutcome::SkuTaken`].
    async fn transact(&self, items: Vec<TransactWriteItem>, sku_at: usize) -> Result<WriteOutcome, StoreError> {
        match super::transact_with_retry(&self.client, items, None).await {
            Ok(_) => Ok(WriteOutcome::Written),
            Err(err) => {
                let failed = super::failed_conditions(err)?;
                if failed.first() == Some(&true) {
                    Ok(WriteOutcome::Stale)
                } else if failed.get(sku_at) == Some(&true) {
                    Ok(WriteOutcome::SkuTaken)
                } else {
                    Err(StoreError::Backend {
                        operation: "TransactWriteItems",
                        detail: format!("unexpected conditions {failed:?}"),
                    })
                }
            }
        }
    }

    pub async fn product(&self, id: ProductId) -> Result<Option<Product>, StoreError> {
        self.get_consistent(product_key(id)).await?.map(decode_product).transpose()
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
            .set_key(Some(product_key(id)))
            .update_expression("SET stock = stock + :d, version = version + :one, updatedAt = :now")
            .condition_expression("attribute_exists(pk) AND stock >= :min AND stock <= :max")
            .expression_attribute_values(":d", n(d))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":now", s(now.to_string()))
            .expression_attribute_values(":min", n((-d).max(0)))
            .expression_attribute_values(":max", n(max - d.max(0)))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(out) => match out.attributes {
                Some(item) => Ok(StockOutcome::Adjusted(decode_product(item)?)),
                None => Err(StoreError::Backend { operation: "UpdateItem", detail: "no attributes returned".into() }),
            },
            Err(err) => match err.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(failed)) => match &failed.item {
                    None => Ok(StockOutcome::NotFound),
                    Some(old) => {
                        let available =
                            old.get("stock").and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok()).unwrap_or(0);
                        if d < 0 {
                            Ok(StockOutcome::Insufficient { available })
                        } else {
                            Ok(StockOutcome::TooMuch { available })
                        }
                    }
                },
                _ => Err(StoreError::backend("UpdateItem", err)),
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
        let (index, pk_name, sk_name, partition) = listing.index();
        self.query_page(index, (pk_name, sk_name), &partition, search.map(word_filter), limit, after, decode_product)
            .await
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
        let partition = format!("SEARCH#{index_key}");
        let names = [PK, SK];
        let mut start = match after {
            Some(position) => match position.start_key(&names, (PK, &partition)) {
                Some(key) => Some(key),
                None => return Ok(None),
            },
            None => None,
        };
        let (mut filter, mut values) = word_filter(search);
        if let Some(category) = category {
            filter.push_str(" AND category = :category");
            values.push((":category".into(), s(category.as_str())));
        }
        let mut hits: Vec<(ProductId, Option<Position>)> = Vec::new();
        let mut next = None;
        for _ in 0..10 {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(partition.clone()))
                .filter_expression(filter.clone())
                .scan_index_forward(false)
                .limit(super::page::FILTERED_READ.max(limit + 1) as i32)
                .set_exclusive_start_key(start.take());
            for (name, value) in &values {
                query = query.expression_attribute_values(name.clone(), value.clone());
            }
            let out = query.send().await.map_err(|e| StoreError::backend("Query", e))?;
            let mut full = false;
            for item in out.items.unwrap_or_default() {
                if hits.len() == limit {
                    full = true;
                    break;
                }
                let id = item.get("productId").and_then(|v| v.as_s().ok()).and_then(|v| ProductId::parse(v));
                if let Some(id) = id {
                    hits.push((id, Position::from_item(&item, &names)));
                }
            }
            if full {
                next = hits.last().and_then(|(_, p)| p.clone());
                break;
            }
            match out.last_evaluated_key {
                Some(key) if hits.len() < limit => start = Some(key),
                Some(key) => {
                    next = Position::from_item(&key, &names);
                    break;
                }
                None => break,
            }
        }
        if hits.len() < limit && next.is_none() {
            next = start.and_then(|key| Position::from_item(&key, &names));
        }
        let ids: Vec<ProductId> = hits.into_iter().map(|(id, _)| id).collect();
        // Eventually consistent: every product is re-checked below.
        let mut products = self.products(&ids, false).await?;
        // The entries move with the product in one transaction; this re-check only guards
        // against a change between the query and the read.
        products.retain(|p| p.active && search.matches(p.name.as_str()) && category.is_none_or(|c| &p.category == c));
        Ok(Some(Page { items: products, next }))
    }

    /// Products by id, in the order asked, skipping ids that do not exist. Eventually
    /// consistent reads cost half; `consistent` when the caller acts on what it reads.
    pub async fn products(&self, ids: &[ProductId], consistent: bool) -> Result<Vec<Product>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut keys = KeysAndAttributes::builder().consistent_read(consistent);
        for id in ids {
            keys = keys.keys(product_key(*id));
        }
        let mut request = HashMap::from([(self.table.clone(), keys.build().map_err(build_err)?)]);
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
                let product = decode_product(item)?;
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
        let items = self
            .query_all(|| {
                self.client
                    .query()
                    .table_name(&self.table)
                    .key_condition_expression("pk = :pk")
                    .filter_expression("productCount > :zero")
                    .expression_attribute_values(":pk", s("CATEGORIES"))
                    .expression_attribute_values(":zero", n(0))
                    .consistent_read(true)
            })
            .await?;
        Ok(items
            .iter()
            .filter_map(|item| {
                let slug = item.get(SK).and_then(|v| v.as_s().ok()).and_then(|v| CategorySlug::parse(v).ok())?;
                let product_count =
                    item.get("productCount").and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok())?;
                Some(CategoryCount { slug, product_count })
            })
            .collect())
    }

    /// Whether the catalog has no products at all (the local stack seeds a demo catalog then).
    pub async fn catalog_is_empty(&self) -> Result<bool, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(GSI1)
            .key_condition_expression("gsi1pk = :pk")
            .expression_attribute_values(":pk", s("PRODUCT"))
            .limit(1)
            .send()
            .await
            .map_err(|e| StoreError::backend("Query", e))?;
        Ok(out.items.unwrap_or_default().is_empty())
    }
}

/// The SKU claim of a product.
fn claim(product: &Product) -> Item {
    let mut item = sku_key(product);
    item.insert("entity".into(), s("sku-claim"));
    item.insert("productId".into(), s(product.id.to_string()));
    item.insert("sku".into(), s(product.sku.as_str()));
    item
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
