//! Carts, discounts, orders and idempotency records.
//!
//! | item               | pk                            | sk            | indexes                                   |
//! |--------------------|-------------------------------|---------------|-------------------------------------------|
//! | cart               | `USER#<id>`                   | `CART`        | – (TTL 30 days after the last change)     |
//! | discount           | `DISCOUNT#<CODE>`             | `DISCOUNT`    | gsi1 `DISCOUNTS` / `<CODE>`               |
//! | order              | `ORDER#<id>`                  | `ORDER`       | gsi1 `ORDERS#<userId>`, gsi2 `ORDERS#<status>`; sk `<createdAt>#<id>` |
//! | idempotency record | `IDEMPOTENCY#<userId>#<key>`  | `IDEMPOTENCY` | – (TTL 24 hours)                          |

use super::page::{Page, Position};
use super::schema::GSI1;
use super::{Item, Store, StoreError, key, n, s};
use crate::domain::{Cart, Discount, DiscountCode, Order, OrderId, Product, ProductId, Timestamp, UserId};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    Delete, Put, ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};
use serde::{Deserialize, Serialize};

pub const CART_TTL_SECONDS: i64 = 30 * 24 * 3600;
pub const IDEMPOTENCY_TTL_SECONDS: i64 = 24 * 3600;

fn cart_key(user: UserId) -> Item {
    key(format!("USER#{user}"), "CART")
}

fn discount_key(code: &DiscountCode) -> Item {
    key(format!("DISCOUNT#{code}"), "DISCOUNT")
}

fn order_key(id: OrderId) -> Item {
    key(format!("ORDER#{id}"), "ORDER")
}

fn idempotency_key(user: UserId, idempotency_key: &str) -> Item {
    key(format!("IDEMPOTENCY#{user}#{idempotency_key}"), "IDEMPOTENCY")
}

fn corrupt(key: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt { key: key.to_owned(), detail: e.to_string() }
}

fn build_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend { operation: "TransactWriteItems", detail: e.to_string() }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CartRecord {
    #[serde(flatten)]
    cart: Cart,
    expires_at: i64,
}

/// How a request with an idempotency key begins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begun {
    /// This request holds the key now (until `locked_until`); go ahead.
    Acquired,
    /// A request with this key finished: here is what it was and what it answered.
    Completed { request: String, status: u16, body: String },
    /// A request with this key is still running.
    InProgress { request: String },
}

/// What placing an order found, when it could not place it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PlaceConflicts {
    /// `(product, requested, available)` for lines the stock cannot cover (0 when archived).
    pub insufficient: Vec<(ProductId, i64, i64)>,
    /// A product's price is not the one the order was priced with.
    pub price_changed: bool,
    /// The discount cannot be redeemed any more (switched off, ended or used up).
    pub discount_refused: bool,
    /// The cart changed after it was read.
    pub cart_changed: bool,
    /// The idempotency record is no longer this request's.
    pub lock_lost: bool,
}

/// What the order transaction checks for one line: the product, quantity and unit price read.
#[derive(Debug, Clone)]
pub struct LineCheck {
    pub product: Product,
    pub quantity: i64,
}

impl Store {
    pub async fn cart(&self, user: UserId) -> Result<Cart, StoreError> {
        match self.get_consistent(cart_key(user)).await? {
            None => Ok(Cart::default()),
            Some(item) => {
                serde_dynamo::from_item::<_, CartRecord>(item).map(|r| r.cart).map_err(|e| corrupt("CART", e))
            }
        }
    }

    /// Stores `cart` if the stored one is still at `cart.version - 1` (0: none stored).
    /// `Ok(false)` when another change got there first.
    pub async fn save_cart(&self, user: UserId, cart: &Cart, now: Timestamp) -> Result<bool, StoreError> {
        let record = CartRecord { cart: cart.clone(), expires_at: now.unix_seconds() + CART_TTL_SECONDS };
        let mut item: Item = serde_dynamo::to_item(&record).map_err(|e| corrupt("CART", e))?;
        item.extend(cart_key(user));
        item.insert("entity".into(), s("cart"));
        let mut put = self.client.put_item().table_name(&self.table).set_item(Some(item));
        put = if cart.version <= 1 {
            put.condition_expression("attribute_not_exists(pk)")
        } else {
            put.condition_expression("version = :expected")
                .expression_attribute_values(":expected", n(cart.version - 1))
        };
        match put.send().await {
            Ok(_) => Ok(true),
            Err(err) if matches!(err.as_service_error(), Some(PutItemError::ConditionalCheckFailedException(_))) => {
                Ok(false)
            }
            Err(err) => Err(StoreError::backend("PutItem", err)),
        }
    }

    pub async fn delete_cart(&self, user: UserId) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(cart_key(user)))
            .send()
            .await
            .map_err(|e| StoreError::backend("DeleteItem", e))?;
        Ok(())
    }

    /// Stores a new discount; `Ok(false)` if the code is taken.
    pub async fn insert_discount(&self, discount: &Discount) -> Result<bool, StoreError> {
        let mut item: Item = serde_dynamo::to_item(discount).map_err(|e| corrupt("DISCOUNT", e))?;
        item.extend(discount_key(&discount.code));
        item.insert("entity".into(), s("discount"));
        item.insert("gsi1pk".into(), s("DISCOUNTS"));
        item.insert("gsi1sk".into(), s(discount.code.as_str()));
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(err) if matches!(err.as_service_error(), Some(PutItemError::ConditionalCheckFailedException(_))) => {
                Ok(false)
            }
            Err(err) => Err(StoreError::backend("PutItem", err)),
        }
    }

    pub async fn discount(&self, code: &DiscountCode) -> Result<Option<Discount>, StoreError> {
        self.get_consistent(discount_key(code))
            .await?
            .map(|item| serde_dynamo::from_item(item).map_err(|e| corrupt("DISCOUNT", e)))
            .transpose()
    }

    /// Switches a discount on or off; `Ok(None)` if there is no such discount.
    pub async fn set_discount_active(&self, code: &DiscountCode, active: bool) -> Result<Option<Discount>, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(discount_key(code)))
            .update_expression("SET active = :active")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":active", aws_sdk_dynamodb::types::AttributeValue::Bool(active))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => {
                out.attributes.map(|item| serde_dynamo::from_item(item).map_err(|e| corrupt("DISCOUNT", e))).transpose()
            }
            Err(err) if matches!(err.as_service_error(), Some(UpdateItemError::ConditionalCheckFailedException(_))) => {
                Ok(None)
            }
            Err(err) => Err(StoreError::backend("UpdateItem", err)),
        }
    }

    /// Every discount, by code.
    pub async fn discounts(&self) -> Result<Vec<Discount>, StoreError> {
        let items = self
            .query_all(|| {
                self.client
                    .query()
                    .table_name(&self.table)
                    .index_name(GSI1)
                    .key_condition_expression("gsi1pk = :pk")
                    .expression_attribute_values(":pk", s("DISCOUNTS"))
            })
            .await?;
        items.into_iter().map(|item| serde_dynamo::from_item(item).map_err(|e| corrupt("DISCOUNT", e))).collect()
    }

    /// Takes an idempotency key for a request (`request`: its canonical form), unless another
    /// request holds it or has completed with it.
    pub async fn begin_idempotent(
        &self,
        user: UserId,
        idempotency: &str,
        request: &str,
        lock_id: &str,
        now: Timestamp,
        lock_seconds: i64,
    ) -> Result<Begun, StoreError> {
        let mut item = idempotency_key(user, idempotency);
        item.insert("entity".into(), s("idempotency"));
        item.insert("status".into(), s("IN_PROGRESS"));
        item.insert("request".into(), s(request));
        item.insert("lockId".into(), s(lock_id));
        item.insert("lockedUntil".into(), n(now.unix_seconds() + lock_seconds));
        item.insert("expiresAt".into(), n(now.unix_seconds() + IDEMPOTENCY_TTL_SECONDS));
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(
                "attribute_not_exists(pk) OR expiresAt <= :now OR (#status = :in_progress AND lockedUntil <= :now)",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":now", n(now.unix_seconds()))
            .expression_attribute_values(":in_progress", s("IN_PROGRESS"))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let old = match result {
            Ok(_) => return Ok(Begun::Acquired),
            Err(err) => match err.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(failed)) => failed.item.clone().unwrap_or_default(),
                _ => return Err(StoreError::backend("PutItem", err)),
            },
        };
        let text = |name: &str| old.get(name).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
        let request = text("request");
        if text("status") == "COMPLETED" {
            let status =
                old.get("responseStatus").and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok()).unwrap_or(500);
            Ok(Begun::Completed { request, status, body: text("responseBody") })
        } else {
            Ok(Begun::InProgress { request })
        }
    }

    /// Lets go of an idempotency key this request holds (it failed: the client may retry).
    pub async fn release_idempotent(&self, user: UserId, idempotency: &str, lock_id: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(idempotency_key(user, idempotency)))
            .condition_expression("lockId = :lock AND #status = :in_progress")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":lock", s(lock_id))
            .expression_attribute_values(":in_progress", s("IN_PROGRESS"))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => Ok(()),
            Err(err) => Err(StoreError::backend("DeleteItem", err)),
        }
    }

    /// Places an order in one transaction: every line's stock is decremented on the condition
    /// that the product is active, has the stock and still has the price read; the discount is
    /// redeemed on its conditions; the order is written; the cart (at the version read) is
    /// deleted; and the idempotency record is completed with the answer. All or nothing.
    #[allow(clippy::too_many_arguments)]
    pub async fn place_order(
        &self,
        order: &Order,
        lines: &[LineCheck],
        discount: Option<&DiscountCode>,
        cart_version: i64,
        idempotency: (&str, &str, &str),
        response: (u16, &str),
        now: Timestamp,
    ) -> Result<Result<(), PlaceConflicts>, StoreError> {
        // The record key, this request's lock, and a ClientRequestToken for this attempt.
        let (idempotency_key_text, lock_id, token) = idempotency;
        let mut items = Vec::new();
        for line in lines {
            let update = Update::builder()
                .table_name(&self.table)
                .set_key(Some(super::catalog::product_key(line.product.id)))
                .update_expression("SET stock = stock - :q, version = version + :one, updatedAt = :now")
                .condition_expression("active = :true AND stock >= :q AND priceCents = :price")
                .expression_attribute_values(":q", n(line.quantity))
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":now", s(now.to_string()))
                .expression_attribute_values(":true", aws_sdk_dynamodb::types::AttributeValue::Bool(true))
                .expression_attribute_values(":price", n(line.product.price_cents.cents()))
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                .build()
                .map_err(build_err)?;
            items.push(TransactWriteItem::builder().update(update).build());
        }
        let discount_at = items.len();
        if let Some(code) = discount {
            let now_text = now.to_string();
            let update = Update::builder()
                .table_name(&self.table)
                .set_key(Some(discount_key(code)))
                .update_expression("ADD redemptions :one")
                .condition_expression(
                    "active = :true AND (attribute_not_exists(maxRedemptions) OR redemptions < maxRedemptions) \
                     AND (attribute_not_exists(startsAt) OR startsAt <= :now) \
                     AND (attribute_not_exists(endsAt) OR endsAt > :now)",
                )
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":true", aws_sdk_dynamodb::types::AttributeValue::Bool(true))
                .expression_attribute_values(":now", s(now_text))
                .build()
                .map_err(build_err)?;
            items.push(TransactWriteItem::builder().update(update).build());
        }
        let order_at = items.len();
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(order_item(order)?))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(build_err)?;
        items.push(TransactWriteItem::builder().put(put).build());
        let cart_at = items.len();
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(cart_key(order.user_id)))
            .condition_expression("version = :version")
            .expression_attribute_values(":version", n(cart_version))
            .build()
            .map_err(build_err)?;
        items.push(TransactWriteItem::builder().delete(delete).build());
        let lock_at = items.len();
        let complete = Update::builder()
            .table_name(&self.table)
            .set_key(Some(idempotency_key(order.user_id, idempotency_key_text)))
            .update_expression(
                "SET #status = :completed, responseStatus = :code, responseBody = :body REMOVE lockedUntil",
            )
            .condition_expression("lockId = :lock AND #status = :in_progress")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":completed", s("COMPLETED"))
            .expression_attribute_values(":in_progress", s("IN_PROGRESS"))
            .expression_attribute_values(":code", n(i64::from(response.0)))
            .expression_attribute_values(":body", s(response.1))
            .expression_attribute_values(":lock", s(lock_id))
            .build()
            .map_err(build_err)?;
        items.push(TransactWriteItem::builder().update(complete).build());

        let err = match super::transact_with_retry(&self.client, items, Some(token)).await {
            Ok(_) => return Ok(Ok(())),
            Err(err) => err,
        };
        let reasons = match err.as_service_error() {
            Some(TransactWriteItemsError::TransactionCanceledException(cancel)) => {
                cancel.cancellation_reasons().to_vec()
            }
            _ => return Err(super::transaction_error(err)),
        };
        let failed = |i: usize| reasons.get(i).and_then(|r| r.code()) == Some("ConditionalCheckFailed");
        let mut conflicts = PlaceConflicts::default();
        for (i, line) in lines.iter().enumerate() {
            if !failed(i) {
                continue;
            }
            let old = reasons.get(i).and_then(|r| r.item());
            let number = |name: &str| {
                old.and_then(|o| o.get(name)).and_then(|v| v.as_n().ok()).and_then(|v| v.parse::<i64>().ok())
            };
            let active = old.and_then(|o| o.get("active")).and_then(|v| v.as_bool().ok()).copied().unwrap_or(false);
            let stock = if active { number("stock").unwrap_or(0) } else { 0 };
            if stock < line.quantity {
                conflicts.insufficient.push((line.product.id, line.quantity, stock));
            } else if number("priceCents") != Some(line.product.price_cents.cents()) {
                conflicts.price_changed = true;
            }
        }
        conflicts.discount_refused = discount.is_some() && failed(discount_at);
        conflicts.cart_changed = failed(cart_at);
        conflicts.lock_lost = failed(lock_at);
        if failed(order_at) {
            return Err(StoreError::Backend {
                operation: "TransactWriteItems",
                detail: format!("order id collision {}", order.id),
            });
        }
        if conflicts == PlaceConflicts::default() {
            return Err(super::transaction_error(err));
        }
        Ok(Err(conflicts))
    }

    pub async fn order(&self, id: OrderId) -> Result<Option<Order>, StoreError> {
        self.get_consistent(order_key(id))
            .await?
            .map(|item| serde_dynamo::from_item(item).map_err(|e| corrupt("ORDER", e)))
            .transpose()
    }

    /// A customer's orders, newest first. `Ok(None)` if `after` is not a position of this listing.
    pub async fn orders_of(
        &self,
        user: UserId,
        limit: usize,
        after: Option<&Position>,
    ) -> Result<Option<Page<Order>>, StoreError> {
        self.query_page(GSI1, ("gsi1pk", "gsi1sk"), &format!("ORDERS#{user}"), None, limit, after, |item| {
            serde_dynamo::from_item(item).map_err(|e| corrupt("ORDER", e))
        })
        .await
    }
}

fn order_item(order: &Order) -> Result<Item, StoreError> {
    let mut item: Item = serde_dynamo::to_item(order).map_err(|e| corrupt("ORDER", e))?;
    item.extend(order_key(order.id));
    let sort = format!("{}#{}", order.created_at, order.id);
    item.insert("entity".into(), s("order"));
    item.insert("gsi1pk".into(), s(format!("ORDERS#{}", order.user_id)));
    item.insert("gsi1sk".into(), s(sort.clone()));
    item.insert("gsi2pk".into(), s(format!("ORDERS#{}", order.status.as_str())));
    item.insert("gsi2sk".into(), s(sort));
    Ok(item)
}
