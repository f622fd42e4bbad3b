//! Upgrading a table written before products had variants: each product gains its one
//! variant's stock item (units on the shelf = its old stock plus the units of its open orders,
//! which the old version had already taken off; reserved = those units), its price listing
//! and a SKU claim that names the variant. Carts, orders and idempotency records of that
//! version read as they are (see their stored forms), so they need no change.

use super::catalog::{IN_STOCK, price_listing_item, product_item};
use super::inventory::stock_item;
use super::item::{Item, decode, n, number, s};
use super::keys::{self, Partition};
use super::orders::decode_order;
use super::page::Position;
use super::tx::{Transaction, Write};
use super::{Store, StoreError};
use crate::domain::{Inventory, OrderStatus, Product, Timestamp, VariantId};
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

/// The variant an old product item becomes (its product's variant 1).
pub(crate) fn legacy_variant(item: &Item) -> Option<VariantId> {
    super::item::text(item, "id").and_then(crate::domain::ProductId::parse).map(|id| VariantId::new(id, 1))
}

/// What migrating one product did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Migrated {
    Done,
    /// Another run migrated it first, or it changed: it is read again.
    Skipped,
}

/// The writes of a product's migration, by what they write.
#[derive(Debug, PartialEq)]
enum Part {
    Product,
    Stock,
    Listing,
    Claim,
}

/// A product item written before variants: it has no `variants`.
const LEGACY: &str = "attribute_not_exists(variants)";

impl Store {
    /// Units of each variant promised to orders still open (awaiting payment or paid), read
    /// from the status lists. Lines of the old version name their product's variant 1.
    pub async fn open_order_units(&self) -> Result<HashMap<VariantId, i64>, StoreError> {
        let mut units = HashMap::new();
        for status in [OrderStatus::PendingPayment, OrderStatus::Paid] {
            for item in self.query_all(Partition::OrdersIn(status), None, false).await? {
                let order = decode_order(item)?;
                if order.status != status {
                    continue;
                }
                for line in &order.items {
                    *units.entry(line.variant_id).or_insert(0) += line.quantity.units();
                }
            }
        }
        Ok(units)
    }

    /// One page of products still in the old shape (at most `limit` read), and where the
    /// next page starts.
    pub(crate) async fn legacy_products(
        &self,
        after: Option<&Position>,
        limit: i32,
    ) -> Result<(Vec<Item>, Option<Position>), StoreError> {
        let partition = Partition::Products(&crate::domain::Listing::All);
        let located = partition.locate();
        let names = partition.position_keys();
        let start = after.and_then(|p| p.start_key(&names, (located.partition_key, &located.value)));
        let out = self
            .query(&located)
            .filter_expression(LEGACY)
            .limit(limit)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| StoreError::backend("Query", e))?;
        let next = out.last_evaluated_key.and_then(|key| Position::from_item(&key, &names));
        Ok((out.items.unwrap_or_default(), next))
    }

    /// Migrates one product read in the old shape, with `reserved` units in open orders, in
    /// one transaction conditional on the product being unchanged and still unmigrated.
    pub(crate) async fn migrate_product(
        &self,
        old: Item,
        reserved: i64,
        now: Timestamp,
    ) -> Result<Migrated, StoreError> {
        let stock = number(&old, "stock").unwrap_or(0);
        let version = number(&old, "version").unwrap_or(0);
        let product: Product = decode(old)?;
        let Some(variant) = product.single().cloned() else {
            return Err(StoreError::Corrupt {
                key: format!("PRODUCT#{}", product.id),
                detail: "an old product without sku or priceCents".into(),
            });
        };
        let shelf = Inventory { on_hand: stock + reserved, reserved };
        let mut item = product_item(&product)?;
        let mut copy = price_listing_item(&product)?;
        if shelf.in_stock() {
            for it in [&mut item, &mut copy] {
                it.insert(IN_STOCK.into(), AttributeValue::Ss(vec![variant.id.to_string()]));
            }
        }
        let mut tx = Transaction::new();
        let replace = Write::put(item).when(format!("{LEGACY} AND version = :version")).value(":version", n(version));
        tx.add(Part::Product, replace);
        let sellable = product.sells(&variant);
        let stock_item = stock_item(variant.id, shelf, variant.price_cents, sellable, now)?;
        tx.add(Part::Stock, Write::put(stock_item).when("attribute_not_exists(pk)"));
        tx.add(Part::Listing, Write::put(copy).when("attribute_not_exists(pk)"));
        let claim = Write::update(keys::sku_claim(&variant.sku), "SET variantId = :variant")
            .when("productId = :product")
            .value(":variant", s(variant.id.to_string()))
            .value(":product", s(product.id.to_string()));
        tx.add(Part::Claim, claim);
        match tx.commit(self, None).await? {
            Ok(()) => Ok(Migrated::Done),
            Err(refused) if refused.by(&Part::Product) || refused.by(&Part::Stock) || refused.by(&Part::Listing) => {
                Ok(Migrated::Skipped)
            }
            Err(refused) => Err(StoreError::Backend {
                operation: "TransactWriteItems",
                detail: format!(
                    "migrating {}: unexpected conditions {:?}",
                    product.id,
                    refused.names().collect::<Vec<_>>()
                ),
            }),
        }
    }
}
