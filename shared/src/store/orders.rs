//! Carts, discounts, orders and idempotency records (their keys are in `keys`;
//! docs/data-model.md describes them).

use super::inventory::{Move, listing_flags};
use super::item::{Item, b, decode, encode, n, number, refused, s, text};
use super::keys::{self, Partition};
use super::page::{Page, Position};
use super::tx::{Transaction, Write};
use super::{Store, StoreError};
use crate::domain::{Cart, Discount, DiscountCode, Money, Order, OrderId, ProductId, Timestamp, UserId, VariantId};
use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

pub const CART_TTL_SECONDS: i64 = 30 * 24 * 3600;
pub const IDEMPOTENCY_TTL_SECONDS: i64 = 24 * 3600;

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
    Completed { request: String, body: String },
    /// A request with this key is still running.
    InProgress { request: String },
}

/// What placing an order found, when it could not place it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PlaceConflicts {
    /// `(variant, requested, available)` for lines the stock cannot cover (0 when off sale).
    pub insufficient: Vec<(VariantId, i64, i64)>,
    /// A variant's units moved between the read and the write so that it would now cross
    /// zero otherwise than decided: price the order again.
    pub stock_moved: bool,
    /// A product's price is not the one the order was priced with.
    pub price_changed: bool,
    /// The discount cannot be redeemed any more (switched off, ended or used up).
    pub discount_refused: bool,
    /// The cart changed after it was read.
    pub cart_changed: bool,
    /// The idempotency record is no longer this request's.
    pub lock_lost: bool,
}

/// What the order transaction checks for one line: the variant, its unit price and units
/// available as read, and the quantity.
#[derive(Debug, Clone)]
pub struct LineCheck {
    pub variant: VariantId,
    pub price: Money,
    pub quantity: i64,
    pub seen_available: i64,
}

/// An order to place, with what its transaction checks and completes.
#[derive(Debug)]
pub struct Placing<'a> {
    pub order: &'a Order,
    pub lines: &'a [LineCheck],
    pub discount: Option<&'a DiscountCode>,
    /// The version of the cart the order was priced from.
    pub cart_version: i64,
    /// The request's idempotency key, and this attempt's lock on it.
    pub idempotency_key: &'a str,
    pub lock_id: &'a str,
    /// A ClientRequestToken for this attempt.
    pub token: &'a str,
    /// What the request answers (the order as shown), stored with the key for replays.
    pub response: &'a str,
}

/// The writes of the order transaction, by what they write.
#[derive(Debug, PartialEq)]
enum Placed {
    Line(VariantId),
    Listing,
    Discount,
    Order,
    Cart,
    Lock,
}

impl Store {
    pub async fn cart(&self, user: UserId) -> Result<Cart, StoreError> {
        match self.get_consistent(keys::cart(user)).await? {
            None => Ok(Cart::default()),
            Some(item) => decode::<CartRecord>(item).map(|r| r.cart),
        }
    }

    /// Stores `cart` if the stored one is still at `cart.version - 1` (0: none stored).
    /// `Ok(false)` when another change got there first.
    pub async fn save_cart(&self, user: UserId, cart: &Cart, now: Timestamp) -> Result<bool, StoreError> {
        let record = CartRecord { cart: cart.clone(), expires_at: now.unix_seconds() + CART_TTL_SECONDS };
        let item = encode(&record, keys::cart(user), "cart")?;
        let mut put = self.client.put_item().table_name(&self.table).set_item(Some(item));
        put = if cart.version <= 1 {
            put.condition_expression("attribute_not_exists(pk)")
        } else {
            put.condition_expression("version = :expected")
                .expression_attribute_values(":expected", n(cart.version - 1))
        };
        match put.send().await {
            Ok(_) => Ok(true),
            Err(err) if refused(&err).is_some() => Ok(false),
            Err(err) => Err(StoreError::backend("PutItem", err)),
        }
    }

    pub async fn delete_cart(&self, user: UserId) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(keys::cart(user)))
            .send()
            .await
            .map_err(|e| StoreError::backend("DeleteItem", e))?;
        Ok(())
    }

    /// Stores a new discount; `Ok(false)` if the code is taken.
    pub async fn insert_discount(&self, discount: &Discount) -> Result<bool, StoreError> {
        let mut item = encode(discount, keys::discount(&discount.code), "discount")?;
        for (attribute, value) in keys::discount_entries(discount) {
            item.insert(attribute.into(), s(value));
        }
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
            Err(err) if refused(&err).is_some() => Ok(false),
            Err(err) => Err(StoreError::backend("PutItem", err)),
        }
    }

    pub async fn discount(&self, code: &DiscountCode) -> Result<Option<Discount>, StoreError> {
        self.get_consistent(keys::discount(code)).await?.map(decode).transpose()
    }

    /// Switches a discount on or off; `Ok(None)` if there is no such discount.
    pub async fn set_discount_active(&self, code: &DiscountCode, active: bool) -> Result<Option<Discount>, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keys::discount(code)))
            .update_expression("SET active = :active")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":active", b(active))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => out.attributes.map(decode).transpose(),
            Err(err) if refused(&err).is_some() => Ok(None),
            Err(err) => Err(StoreError::backend("UpdateItem", err)),
        }
    }

    /// Every discount, by code.
    pub async fn discounts(&self) -> Result<Vec<Discount>, StoreError> {
        self.query_all(Partition::Discounts, None, false).await?.into_iter().map(decode).collect()
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
        let mut item = keys::idempotency(user, idempotency);
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
            Err(err) => match refused(&err) {
                Some(old) => old.unwrap_or_default(),
                None => return Err(StoreError::backend("PutItem", err)),
            },
        };
        let field = |name: &str| text(&old, name).unwrap_or_default().to_owned();
        let request = field("request");
        if field("status") == "COMPLETED" {
            Ok(Begun::Completed { request, body: field("responseBody") })
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
            .set_key(Some(keys::idempotency(user, idempotency)))
            .condition_expression("lockId = :lock AND #status = :in_progress")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":lock", s(lock_id))
            .expression_attribute_values(":in_progress", s("IN_PROGRESS"))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) if refused(&err).is_some() => Ok(()),
            Err(err) => Err(StoreError::backend("DeleteItem", err)),
        }
    }

    /// Places an order in one transaction: every line's units are reserved on the condition
    /// that the variant is on sale, has them available and still has the price read (and
    /// products whose variants sell out leave the in-stock listing); the discount is
    /// redeemed on its conditions; the order is written; the cart (at the version read) is
    /// deleted; and the idempotency record is completed with the answer. All or nothing.
    pub async fn place_order(
        &self,
        placing: &Placing<'_>,
        now: Timestamp,
    ) -> Result<Result<(), PlaceConflicts>, StoreError> {
        let order = placing.order;
        let mut tx = Transaction::new();
        let moves: Vec<Move> = placing
            .lines
            .iter()
            .map(|l| Move { variant: l.variant, on_hand: 0, reserved: l.quantity, seen_available: l.seen_available })
            .collect();
        for (line, change) in placing.lines.iter().zip(&moves) {
            let take = change
                .write("sellable = :true AND priceCents = :price AND available >= :q", now)
                .value(":q", n(line.quantity))
                .value(":true", b(true))
                .value(":price", n(line.price.cents()));
            tx.add(Placed::Line(line.variant), take);
        }
        let products: BTreeSet<ProductId> = moves.iter().map(|m| m.variant.product()).collect();
        for product in products {
            for flags in listing_flags(product, &moves)? {
                tx.add(Placed::Listing, flags);
            }
        }
        if let Some(code) = placing.discount {
            let redeem = Write::update(keys::discount(code), "ADD redemptions :one")
                .when(
                    "active = :true AND (attribute_not_exists(maxRedemptions) OR redemptions < maxRedemptions) \
                     AND (attribute_not_exists(startsAt) OR startsAt <= :now) \
                     AND (attribute_not_exists(endsAt) OR endsAt > :now)",
                )
                .value(":one", n(1))
                .value(":true", b(true))
                .value(":now", s(now.to_string()));
            tx.add(Placed::Discount, redeem);
        }
        tx.add(Placed::Order, Write::put(order_item(order)?).when("attribute_not_exists(pk)"));
        let empty = Write::delete(keys::cart(order.user_id))
            .when("version = :version")
            .value(":version", n(placing.cart_version));
        tx.add(Placed::Cart, empty);
        let complete = Write::update(
            keys::idempotency(order.user_id, placing.idempotency_key),
            "SET #status = :completed, responseStatus = :code, responseBody = :body REMOVE lockedUntil",
        )
        .when("lockId = :lock AND #status = :in_progress")
        .name("#status", "status")
        .value(":completed", s("COMPLETED"))
        .value(":in_progress", s("IN_PROGRESS"))
        // Always 201 (only placed orders are stored); kept so that older code reading it replays right.
        .value(":code", n(201))
        .value(":body", s(placing.response))
        .value(":lock", s(placing.lock_id));
        tx.add(Placed::Lock, complete);

        let refused = match tx.commit(self, Some(placing.token)).await? {
            Ok(()) => return Ok(Ok(())),
            Err(refused) => refused,
        };
        if refused.by(&Placed::Order) {
            return Err(StoreError::Backend {
                operation: "TransactWriteItems",
                detail: format!("order id collision {}", order.id),
            });
        }
        let mut conflicts = PlaceConflicts {
            discount_refused: refused.by(&Placed::Discount),
            cart_changed: refused.by(&Placed::Cart),
            lock_lost: refused.by(&Placed::Lock),
            ..PlaceConflicts::default()
        };
        for line in placing.lines.iter().filter(|l| refused.by(&Placed::Line(l.variant))) {
            let old = refused.old(&Placed::Line(line.variant));
            let field = |name: &str| old.and_then(|o| number(o, name));
            let sellable = old.and_then(|o| super::item::flag(o, "sellable")).unwrap_or(false);
            let available = if sellable { field("available").unwrap_or(0).max(0) } else { 0 };
            if available < line.quantity {
                conflicts.insufficient.push((line.variant, line.quantity, available));
            } else if field("priceCents") != Some(line.price.cents()) {
                conflicts.price_changed = true;
            } else {
                conflicts.stock_moved = true;
            }
        }
        Ok(Err(conflicts))
    }

    pub async fn order(&self, id: OrderId) -> Result<Option<Order>, StoreError> {
        self.get_consistent(keys::order(id)).await?.map(decode).transpose()
    }

    /// A customer's orders, newest first. `Ok(None)` if `after` is not a position of this listing.
    pub async fn orders_of(
        &self,
        user: UserId,
        limit: usize,
        after: Option<&Position>,
    ) -> Result<Option<Page<Order>>, StoreError> {
        self.query_page(Partition::OrdersOf(user), None, limit, after, |i| decode(i).map(Some)).await
    }
}

fn order_item(order: &Order) -> Result<Item, StoreError> {
    let mut item = encode(order, keys::order(order.id), "order")?;
    for (attribute, value) in keys::order_entries(order) {
        item.insert(attribute.into(), s(value));
    }
    Ok(item)
}
