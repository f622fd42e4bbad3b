//! Carts, discounts, orders and idempotency records (their keys are in `keys`;
//! docs/data-model.md describes them).

use super::inventory::{Move, listing_flags};
use super::item::{Item, b, decode, encode, n, number, refused, s, text};
use super::keys::{self, Partition};
use super::page::{Page, Position};
use super::tx::{Transaction, Write};
use super::{Store, StoreError};
use crate::domain::{
    Buyer, Cart, Discount, DiscountCode, Event, GuestId, LowStock, Money, Order, OrderId, ProductId, Shopper,
    Timestamp, UserId, VariantId,
};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};

pub const CART_TTL_SECONDS: i64 = 30 * 24 * 3600;
pub const IDEMPOTENCY_TTL_SECONDS: i64 = 24 * 3600;
const IN_PROGRESS: &str = "IN_PROGRESS";

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
    /// This request holds the key now; the order it places has this id (the same for every
    /// request that takes the key over, so that only one order can be placed under it).
    Acquired { order_id: OrderId },
    /// A request with this key placed this order.
    Placed { request: String, order: Box<Order> },
    /// A request with this key finished and answered this (records of older versions).
    Answered { request: String, body: String },
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
    /// An order with this id exists: another request holding the same key placed it.
    pub already_placed: bool,
    /// The buyer has as many unpaid orders as they may.
    pub too_many_unpaid: bool,
    /// The buyer's orders used the discount code as often as it allows each.
    pub discount_used: bool,
}

/// The limits an order is placed under: its buyer's, at most `max_unpaid` unpaid orders, and
/// with a code at most `per_customer` orders of theirs using it.
#[derive(Debug, Clone, Copy)]
pub struct BuyerLimits<'a> {
    pub buyer: Buyer<'a>,
    pub max_unpaid: i64,
    pub per_customer: Option<i64>,
}

/// What the order transaction checks for one line: the variant, its unit price and units
/// available as read, and the quantity.
#[derive(Debug, Clone)]
pub struct LineCheck {
    pub variant: VariantId,
    pub price: Money,
    pub quantity: i64,
    pub seen_available: i64,
    /// The product's low-stock threshold (`inventory.low` when the order takes the variant to it).
    pub low_at: i64,
}

/// An order to place, with what its transaction checks and completes.
#[derive(Debug)]
pub struct Placing<'a> {
    pub order: &'a Order,
    /// Whose cart the order empties.
    pub shopper: Shopper,
    pub lines: &'a [LineCheck],
    pub discount: Option<&'a DiscountCode>,
    /// The version of the cart the order was priced from.
    pub cart_version: i64,
    /// What the order counts against (it holds them: `order.holds_limits`).
    pub limits: BuyerLimits<'a>,
    /// A ClientRequestToken for this attempt.
    pub token: &'a str,
}

/// The writes of the order transaction, by what they write.
#[derive(Debug, PartialEq)]
enum Placed {
    Line(VariantId),
    Listing,
    Discount,
    Limits,
    Order,
    Cart,
    Outbox,
}

impl Store {
    pub async fn cart(&self, shopper: Shopper) -> Result<Cart, StoreError> {
        match self.get_consistent(keys::cart(shopper)).await? {
            None => Ok(Cart::default()),
            Some(item) => decode::<CartRecord>(item).map(|r| r.cart),
        }
    }

    /// Stores `cart` if the stored one is still at `cart.version - 1` (0: none stored).
    /// `Ok(false)` when another change got there first.
    pub async fn save_cart(&self, shopper: Shopper, cart: &Cart, now: Timestamp) -> Result<bool, StoreError> {
        let record = CartRecord { cart: cart.clone(), expires_at: now.unix_seconds() + CART_TTL_SECONDS };
        let item = encode(&record, keys::cart(shopper), "cart")?;
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

    /// Stores a customer's `merged` cart (if theirs is still at `merged.version - 1`) and
    /// deletes the guest cart it took in (if still at `guest_version`), in one transaction:
    /// `Ok(false)` when either changed meanwhile (nothing was written).
    pub async fn merge_carts(
        &self,
        customer: UserId,
        merged: &Cart,
        guest: GuestId,
        guest_version: i64,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        #[derive(Debug, PartialEq)]
        enum Name {
            Customer,
            Guest,
        }
        let record = CartRecord { cart: merged.clone(), expires_at: now.unix_seconds() + CART_TTL_SECONDS };
        let put = Write::put(encode(&record, keys::cart(Shopper::Customer(customer)), "cart")?);
        let put = if merged.version <= 1 {
            put.when("attribute_not_exists(pk)")
        } else {
            put.when("version = :expected").value(":expected", n(merged.version - 1))
        };
        let gone =
            Write::delete(keys::cart(Shopper::Guest(guest))).when("version = :guest").value(":guest", n(guest_version));
        let mut tx = Transaction::new();
        tx.add(Name::Customer, put);
        tx.add(Name::Guest, gone);
        Ok(tx.commit(self, None).await?.is_ok())
    }

    pub async fn delete_cart(&self, shopper: Shopper) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(keys::cart(shopper)))
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
    /// request holds it or placed its order with it. The record names the order the key
    /// places; a request that takes over a key whose holder stopped answering (its lock ran
    /// out) places that same order id, so at most one order is ever placed per key.
    pub async fn begin_idempotent(
        &self,
        shopper: Shopper,
        idempotency: &str,
        request: &str,
        lock_id: &str,
        now: Timestamp,
        lock_seconds: i64,
    ) -> Result<Begun, StoreError> {
        let order_id = OrderId::new();
        let mut item = keys::idempotency(shopper, idempotency);
        item.insert("entity".into(), s("idempotency"));
        item.insert("status".into(), s(IN_PROGRESS));
        item.insert("request".into(), s(request));
        item.insert("orderId".into(), s(order_id.to_string()));
        item.insert("lockId".into(), s(lock_id));
        item.insert("lockedUntil".into(), n(now.unix_seconds() + lock_seconds));
        item.insert("expiresAt".into(), n(now.unix_seconds() + IDEMPOTENCY_TTL_SECONDS));
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk) OR expiresAt <= :now")
            .expression_attribute_values(":now", n(now.unix_seconds()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let old = match result {
            Ok(_) => return Ok(Begun::Acquired { order_id }),
            Err(err) => match refused(&err) {
                Some(old) => old.unwrap_or_default(),
                None => return Err(StoreError::backend("PutItem", err)),
            },
        };
        let field = |name: &str| text(&old, name).unwrap_or_default().to_owned();
        let first = field("request");
        if field("status") == "COMPLETED" {
            return Ok(Begun::Answered { request: first, body: field("responseBody") });
        }
        let placed_id = text(&old, "orderId").and_then(OrderId::parse);
        if let Some(id) = placed_id
            && let Some(order) = self.order(id).await?
        {
            return Ok(Begun::Placed { request: first, order: Box::new(order) });
        }
        let locked = number(&old, "lockedUntil").is_some_and(|until| until > now.unix_seconds());
        if locked || first != request {
            return Ok(Begun::InProgress { request: first });
        }
        // Its holder stopped answering before placing the order: take the key over, keeping
        // the order id (a record of an older version may have none: give it one).
        let order_id = placed_id.unwrap_or(order_id);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keys::idempotency(shopper, idempotency)))
            .update_expression("SET lockId = :lock, lockedUntil = :until, orderId = :order")
            .condition_expression("lockId = :old")
            .expression_attribute_values(":lock", s(lock_id))
            .expression_attribute_values(":until", n(now.unix_seconds() + lock_seconds))
            .expression_attribute_values(":order", s(order_id.to_string()))
            .expression_attribute_values(":old", s(field("lockId")))
            .send()
            .await;
        match result {
            Ok(_) => Ok(Begun::Acquired { order_id }),
            Err(err) if refused(&err).is_some() => Ok(Begun::InProgress { request: first }),
            Err(err) => Err(StoreError::backend("UpdateItem", err)),
        }
    }

    /// Lets go of an idempotency key this request holds (it failed: the client may retry).
    pub async fn release_idempotent(
        &self,
        shopper: Shopper,
        idempotency: &str,
        lock_id: &str,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(keys::idempotency(shopper, idempotency)))
            .condition_expression("lockId = :lock AND #status = :in_progress")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":lock", s(lock_id))
            .expression_attribute_values(":in_progress", s(IN_PROGRESS))
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
    /// redeemed on its conditions; the order is written (once: its id is the idempotency
    /// key's); and the cart (at the version read) is deleted. All or nothing.
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
            .map(|l| Move {
                variant: l.variant,
                on_hand: 0,
                reserved: l.quantity,
                seen_available: l.seen_available,
                low_at: Some(l.low_at),
            })
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
        tx.add(Placed::Limits, limits_taken(&placing.limits, placing.discount));
        tx.add(Placed::Order, Write::put(order_item(order)?).when("attribute_not_exists(pk)"));
        let empty = Write::delete(keys::cart(placing.shopper))
            .when("version = :version")
            .value(":version", n(placing.cart_version));
        tx.add(Placed::Cart, empty);
        let mut events = vec![Event::order_placed(order, now)];
        for change in moves.iter().filter(|m| m.runs_low()) {
            let Some(line) = order.items.iter().find(|l| l.variant_id == change.variant) else { continue };
            let low = LowStock {
                product_id: line.product_id,
                variant_id: line.variant_id,
                sku: line.sku.to_string(),
                name: line.name.clone(),
                threshold: change.low_at.unwrap_or_default(),
            };
            events.push(Event::inventory_low(&low, now));
        }
        tx.publish(Placed::Outbox, &events)?;

        let refused = match tx.commit(self, Some(placing.token)).await? {
            Ok(()) => return Ok(Ok(())),
            Err(refused) => refused,
        };
        if refused.by(&Placed::Order) {
            return Ok(Err(PlaceConflicts { already_placed: true, ..PlaceConflicts::default() }));
        }
        let unpaid = refused.old(&Placed::Limits).and_then(|old| number(old, "unpaid")).unwrap_or(0);
        let mut conflicts = PlaceConflicts {
            discount_refused: refused.by(&Placed::Discount),
            cart_changed: refused.by(&Placed::Cart),
            too_many_unpaid: refused.by(&Placed::Limits) && unpaid >= placing.limits.max_unpaid,
            discount_used: refused.by(&Placed::Limits) && unpaid < placing.limits.max_unpaid,
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

    /// How many of `buyer`'s orders use `code` (cancelled and expired ones gave theirs back).
    pub async fn discount_uses(&self, buyer: Buyer<'_>, code: &DiscountCode) -> Result<i64, StoreError> {
        let item = self.get_consistent(keys::buyer_limits(buyer)).await?;
        Ok(item.and_then(|i| number(&i, &keys::discount_uses(code))).unwrap_or(0))
    }

    pub async fn order(&self, id: OrderId) -> Result<Option<Order>, StoreError> {
        self.get_consistent(keys::order(id)).await?.map(decode_order).transpose()
    }

    /// A customer's orders, newest first. `Ok(None)` if `after` is not a position of this listing.
    pub async fn orders_of(
        &self,
        user: UserId,
        limit: usize,
        after: Option<&Position>,
    ) -> Result<Option<Page<Order>>, StoreError> {
        self.query_page(Partition::OrdersOf(user), None, limit, after, |i| decode_order(i).map(Some)).await
    }
}

/// The write that takes an unpaid-order slot (and a use of `code`) from the buyer's limits, on
/// the condition that they have one left.
fn limits_taken(limits: &BuyerLimits<'_>, code: Option<&DiscountCode>) -> Write {
    let mut set = String::from("SET entity = :entity, unpaid = if_not_exists(unpaid, :zero) + :one");
    let mut condition = String::from("(attribute_not_exists(unpaid) OR unpaid < :max)");
    let uses = code.zip(limits.per_customer);
    if uses.is_some() {
        set.push_str(", #uses = if_not_exists(#uses, :zero) + :one");
        condition.push_str(" AND (attribute_not_exists(#uses) OR #uses < :per_customer)");
    }
    let mut write = Write::update(keys::buyer_limits(limits.buyer), set)
        .when(condition)
        .value(":entity", s("buyer-limits"))
        .value(":zero", n(0))
        .value(":one", n(1))
        .value(":max", n(limits.max_unpaid))
        .old_on_failure();
    if let Some((code, per_customer)) = uses {
        write = write.name("#uses", &keys::discount_uses(code)).value(":per_customer", n(per_customer));
    }
    write
}

/// What an order gives back to its buyer's limits when it leaves `pending_payment` (its
/// unpaid slot) or is cancelled (its use of a code); `None` if nothing. Exactly once: it
/// is in the transaction that changes the order's status, on the status it changes from.
pub(crate) fn limits_given_back(order: &Order, leaves_unpaid: bool, cancelled: bool) -> Option<Write> {
    let buyer = order.buyer().filter(|_| order.holds_limits)?;
    let code = order.discount_code.as_ref().filter(|_| cancelled);
    let mut adds = Vec::new();
    if leaves_unpaid {
        adds.push("unpaid :minus");
    }
    if code.is_some() {
        adds.push("#uses :minus");
    }
    if adds.is_empty() {
        return None;
    }
    let mut write = Write::update(keys::buyer_limits(buyer), format!("ADD {}", adds.join(", "))).value(":minus", n(-1));
    if let Some(code) = code {
        write = write.name("#uses", &keys::discount_uses(code));
    }
    Some(write)
}

/// An order's lines as stored (see [`LINE_FIELDS`]).
pub(crate) fn items_attribute(order: &Order) -> Result<AttributeValue, StoreError> {
    let mut items = super::item::attribute(&order.items, "items")?;
    if let AttributeValue::L(lines) = &mut items {
        for line in lines.iter_mut() {
            if let AttributeValue::M(fields) = line {
                compact_line(fields);
            }
        }
    }
    Ok(items)
}

fn order_item(order: &Order) -> Result<Item, StoreError> {
    let mut item = encode(order, keys::order(order.id), "order")?;
    item.insert("items".into(), items_attribute(order)?);
    item.insert("settlementVersion".into(), n(order.settlement_version));
    for (attribute, value) in keys::order_entries(order) {
        item.insert(attribute.into(), s(value));
    }
    if order.holds_limits {
        item.insert("holdsLimits".into(), b(true));
    }
    Ok(item)
}

/// An order line as stored: short names, and nothing that can be derived (the product id is
/// the variant id's head, the line total price × quantity, options absent when none), so
/// that an order of a few lines stays within one write unit (1 KB) on the table and both indexes.
const LINE_FIELDS: [(&str, &str); 8] = [
    ("variantId", "v"),
    ("sku", "s"),
    ("name", "n"),
    ("unitPriceCents", "p"),
    ("quantity", "q"),
    ("refundedQuantity", "r"),
    ("returnedQuantity", "t"),
    ("restockedQuantity", "k"),
];

fn compact_line(fields: &mut HashMap<String, AttributeValue>) {
    let mut stored: HashMap<String, AttributeValue> =
        LINE_FIELDS.iter().filter_map(|(long, short)| fields.remove(*long).map(|v| ((*short).to_owned(), v))).collect();
    if let Some(AttributeValue::M(options)) = fields.remove("options")
        && !options.is_empty()
    {
        stored.insert("o".into(), AttributeValue::M(options));
    }
    if let Some(image @ AttributeValue::S(_)) = fields.remove("image") {
        stored.insert("i".into(), image);
    }
    *fields = stored;
}

/// The line as the domain reads it (a line stored in full by an older version is left as it is).
fn expand_line(fields: &mut HashMap<String, AttributeValue>) {
    if !fields.contains_key("v") {
        return;
    }
    let mut line: HashMap<String, AttributeValue> =
        LINE_FIELDS.iter().filter_map(|(long, short)| fields.remove(*short).map(|v| ((*long).to_owned(), v))).collect();
    let variant = line.get("variantId").and_then(|v| v.as_s().ok()).and_then(|v| VariantId::parse(v));
    if let Some(variant) = variant {
        line.insert("productId".into(), s(variant.product().to_string()));
    }
    let total = number(&line, "unitPriceCents").zip(number(&line, "quantity")).map(|(p, q)| p.saturating_mul(q));
    if let Some(total) = total {
        line.insert("lineTotalCents".into(), n(total));
    }
    line.insert("options".into(), fields.remove("o").unwrap_or_else(|| AttributeValue::M(HashMap::new())));
    if let Some(image) = fields.remove("i") {
        line.insert("image".into(), image);
    }
    *fields = line;
}

/// An order item, read back into the domain's order.
pub(crate) fn decode_order(mut item: Item) -> Result<Order, StoreError> {
    if let Some(AttributeValue::L(lines)) = item.get_mut("items") {
        for line in lines.iter_mut() {
            if let AttributeValue::M(fields) = line {
                expand_line(fields);
            }
        }
    }
    let mut order: Order = decode(item)?;
    // Orders paid before payments were kept with their amounts: where their money is.
    order.payment_status = order.payment_status();
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// DynamoDB's size of an item: attribute names and values (numbers: 1 byte per two
    /// digits, plus one; lists and maps: 3 bytes plus 1 per element).
    fn size(value: &AttributeValue) -> usize {
        match value {
            AttributeValue::S(v) => v.len(),
            AttributeValue::N(v) => v.trim_start_matches('-').len().div_ceil(2) + 1,
            AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
            AttributeValue::L(items) => 3 + items.iter().map(|v| 1 + size(v)).sum::<usize>(),
            AttributeValue::M(fields) => 3 + fields.iter().map(|(k, v)| k.len() + 1 + size(v)).sum::<usize>(),
            AttributeValue::Ss(items) => items.iter().map(String::len).sum(),
            _ => 0,
        }
    }

    fn order(lines: usize) -> Order {
        let user = UserId::parse("01HZX5V9Y5J0A0000000000000").unwrap();
        let now = Timestamp::parse("2026-12-02T19:21:52.098Z").unwrap();
        let line = |i: usize| {
            serde_json::json!({"productId": ProductId::new(), "sku": format!("BENCH-{}", 1000 + i),
                "name": format!("Walnut Cable Lamp {}", 1000 + i), "unitPriceCents": 12345, "quantity": 2,
                "lineTotalCents": 24690})
        };
        serde_json::from_value(serde_json::json!({
            "id": OrderId::new(), "userId": user, "status": "pending_payment",
            "items": (0..lines).map(line).collect::<Vec<_>>(),
            "subtotalCents": 74070, "discountCents": 0, "shippingCents": 0, "taxCents": 14814, "totalCents": 88884,
            "currency": "GBP", "shippingMethod": "standard",
            "shippingAddress": {"name": "Ada Lovelace", "line1": "10 Downing Street", "city": "London",
                "postalCode": "SW1A 2AA", "country": "GB"},
            "createdAt": now, "updatedAt": now,
            "history": [{"status": "pending_payment", "at": now, "by": format!("customer:{user}")}]
        }))
        .unwrap()
    }

    #[test]
    fn an_order_of_three_lines_is_one_write_unit_and_reads_back_as_written() {
        let placed = order(3);
        let item = order_item(&placed).unwrap();
        let bytes: usize = item.iter().map(|(k, v)| k.len() + size(v)).sum();
        assert!(bytes <= 1024, "{bytes} bytes: more than one write unit on the table and on each index");
        assert_eq!(decode_order(item).unwrap(), placed);
    }

    #[test]
    fn a_line_stored_in_full_by_an_older_version_reads_as_it_was_written() {
        let placed = order(1);
        let mut item = encode(&placed, keys::order(placed.id), "order").unwrap();
        item.extend(keys::order_entries(&placed).into_iter().map(|(a, v)| (a.to_owned(), s(v))));
        assert_eq!(decode_order(item).unwrap(), placed);
    }

    #[test]
    fn options_are_kept_when_a_variant_has_them() {
        let mut placed = order(1);
        placed.items[0].options = serde_json::from_value(serde_json::json!({"Size": "M"})).unwrap();
        assert_eq!(decode_order(order_item(&placed).unwrap()).unwrap(), placed);
    }
}
