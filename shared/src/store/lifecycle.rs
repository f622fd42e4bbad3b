//! Order status changes. Each is one transaction, conditional on the status it was decided
//! from, so two racing changes cannot both win; a cancellation releases every line's reserved units
//! and gives back the discount redemption in that same transaction, so it happens once.
//!
//! | item           | pk                       | sk      | notes                         |
//! |----------------|--------------------------|---------|-------------------------------|
//! | payment event  | `PAYMENT_EVENT#<id>`     | `EVENT` | exactly-once marker, TTL 90 d |

use super::inventory::Move;
use super::item::{Item, attribute, n, number, s};
use super::keys::{self, Partition};
use super::orders::decode_order;
use super::page::{Page, Position};
use super::tx::{Transaction, Write};
use super::{Store, StoreError};
use crate::domain::{Event, Order, OrderChange, OrderStatus, Timestamp, VariantId};
use aws_sdk_dynamodb::types::AttributeValue;

const EVENT_TTL_SECONDS: i64 = 90 * 24 * 3600;

/// How many overdue orders one page of the expiry job handles.
const OVERDUE_PAGE: i32 = 25;

/// What became of a change.
#[derive(Debug)]
pub enum Changed {
    Done(Box<Order>),
    /// The order is no longer in the status the change was decided from.
    Stale,
    /// The webhook event was processed before.
    EventSeen,
    /// Shipping needs units the shelf does not hold: `(variant, requested, on hand)`.
    Short(Vec<(VariantId, i64, i64)>),
}

impl Store {
    pub async fn change_order(&self, change: OrderChange<'_>, now: Timestamp) -> Result<Changed, StoreError> {
        let order = change.order;
        let transition = change.is_transition();
        let next = change.applied(now);
        let entry = change.entry(now);

        let mut sets = vec!["updatedAt = :now"];
        let mut values: Vec<(&str, AttributeValue)> =
            vec![(":from", s(order.status.as_str())), (":now", s(now.to_string()))];
        let filed = keys::order_status_entry(change.to);
        if transition {
            sets.extend([
                "#status = :to",
                "#filed = :filed",
                "history = list_append(if_not_exists(history, :empty), :entry)",
            ]);
            values.push((":to", s(change.to.as_str())));
            values.push((":filed", s(filed.1.clone())));
            values.push((":empty", AttributeValue::L(vec![])));
            values.push((":entry", AttributeValue::L(vec![attribute(&entry, "history")?])));
        }
        if let Some(p) = change.payment.id {
            sets.push("paymentId = :payment");
            values.push((":payment", s(p)));
        }
        if next.captured_cents != order.captured_cents || next.refunded_cents != order.refunded_cents {
            sets.extend(["capturedCents = :captured", "refundedCents = :refunded"]);
            values.push((":captured", n(next.captured_cents.cents())));
            values.push((":refunded", n(next.refunded_cents.cents())));
        }
        if next.payment_status != order.payment_status {
            sets.push("paymentStatus = :payment_status");
            values.push((":payment_status", attribute(&next.payment_status, "paymentStatus")?));
        }
        if next.payment != order.payment
            && let Some(payment) = &next.payment
        {
            sets.push("payment = :payment_object");
            values.push((":payment_object", attribute(payment, "payment")?));
        }
        if let Some(issue) = change.payment.issue {
            sets.push("paymentIssue = :issue");
            values.push((":issue", s(issue.as_str())));
        }
        if next.settlement_version != order.settlement_version {
            sets.push("settlementVersion = :next_version");
            values.push((":next_version", n(next.settlement_version)));
        }
        values.push((":version", n(order.settlement_version)));
        if let Some(t) = change.tracking_number {
            sets.push("trackingNumber = :tracking");
            values.push((":tracking", s(t)));
        }
        // On the status and the refunds it was decided from (they change what a cancel puts back).
        let mut update = Write::update(keys::order(order.id), format!("SET {}", sets.join(", ")))
            .when("#status = :from AND (attribute_not_exists(settlementVersion) OR settlementVersion = :version)")
            .name("#status", "status");
        if transition {
            update = update.name("#filed", filed.0);
        }
        for (placeholder, value) in values {
            update = update.value(placeholder, value);
        }
        let mut tx = Transaction::new();
        tx.add(Changing::Order, update);
        if change.effects.consume {
            // Available units do not change (both counts fall), so listings do not either.
            // What shipping takes: the units of each line not released by a refund before.
            for line in order.items.iter().filter(|l| l.quantity.units() > l.restocked_quantity) {
                let q = line.quantity.units() - line.restocked_quantity;
                let change =
                    Move { variant: line.variant_id, on_hand: -q, reserved: -q, seen_available: 0, low_at: None };
                let ship = change.write("onHand >= :q AND reserved >= :q", now).value(":q", n(q));
                tx.add(Changing::Stock(line.variant_id), ship);
            }
        }
        if change.effects.restock {
            // Each line's units not released by a refund before.
            let units: Vec<(VariantId, i64)> =
                order.items.iter().map(|l| (l.variant_id, l.quantity.units() - l.restocked_quantity)).collect();
            let (writes, flags) = super::inventory::units_back(self, &units, false, now).await?;
            for (variant, write) in writes {
                tx.add(Changing::Stock(variant), write);
            }
            for flags in flags {
                tx.add(Changing::Listing, flags);
            }
            if let Some(code) = &order.discount_code {
                let give_back = Write::update(keys::discount(code), "ADD redemptions :minus")
                    .when("attribute_exists(pk) AND redemptions > :zero")
                    .value(":minus", n(-1))
                    .value(":zero", n(0));
                tx.add(Changing::Redemption, give_back);
            }
        }
        let leaves_unpaid = order.status == OrderStatus::PendingPayment && change.to != OrderStatus::PendingPayment;
        let cancelled = transition && change.to == OrderStatus::Cancelled;
        if let Some(give_back) = super::orders::limits_given_back(order, leaves_unpaid, cancelled) {
            tx.add(Changing::Limits, give_back);
        }
        if let Some(refund) = change.payment.refund {
            tx.add(Changing::Refund, Write::put(super::refunds::refund_item(refund)?).when("attribute_not_exists(pk)"));
        }
        if let Some(event) = change.event_id {
            tx.add(Changing::Event, event_marker(event, order.id, now));
        }
        let mut events: Vec<Event> = Event::order_changed(&change, &next, now).into_iter().collect();
        if let Some(issue) = change.payment.issue {
            let reported = change.payment.reported.cloned().unwrap_or(serde_json::Value::Null);
            events.push(Event::payment_issue(issue, reported, &next, now));
        }
        tx.publish(Changing::Outbox, &events)?;

        match tx.commit(self, None).await? {
            Ok(()) => Ok(Changed::Done(Box::new(next))),
            Err(refused) if refused.by(&Changing::Event) => Ok(Changed::EventSeen),
            Err(refused) if refused.by(&Changing::Order) => Ok(Changed::Stale),
            Err(refused) if change.effects.consume => {
                let short = order
                    .items
                    .iter()
                    .filter_map(|l| {
                        let old = refused.old(&Changing::Stock(l.variant_id))?;
                        Some((l.variant_id, l.quantity.units(), number(old, "onHand").unwrap_or(0)))
                    })
                    .collect::<Vec<_>>();
                if short.is_empty() { Ok(Changed::Stale) } else { Ok(Changed::Short(short)) }
            }
            // The units of a released line moved across zero meanwhile: decide again.
            Err(refused) if refused.names().all(|n| matches!(n, Changing::Stock(_))) => Ok(Changed::Stale),
            Err(refused) => Err(StoreError::Backend {
                operation: "TransactWriteItems",
                detail: format!("unexpected conditions {:?}", refused.names().collect::<Vec<_>>()),
            }),
        }
    }

    /// Whether a webhook event id was processed.
    pub async fn payment_event_seen(&self, event: &str) -> Result<bool, StoreError> {
        Ok(self.get_consistent(keys::payment_event(event)).await?.is_some())
    }

    /// Orders in one status, newest first (admins).
    pub async fn orders_in(
        &self,
        status: OrderStatus,
        limit: usize,
        after: Option<&Position>,
    ) -> Result<Option<Page<Order>>, StoreError> {
        self.query_page(Partition::OrdersIn(status), None, limit, after, |i| decode_order(i).map(Some)).await
    }

    /// One page (oldest first) of orders still awaiting payment that were placed before
    /// `cutoff`, and where the next page starts.
    pub async fn overdue_orders(
        &self,
        cutoff: Timestamp,
        after: Option<&Position>,
    ) -> Result<(Vec<Order>, Option<Position>), StoreError> {
        let partition = Partition::OrdersIn(OrderStatus::PendingPayment);
        let located = partition.locate();
        let names = partition.position_keys();
        let start = match after {
            Some(position) => {
                Some(position.start_key(&names, (located.partition_key, &located.value)).ok_or_else(|| {
                    StoreError::Backend { operation: "Query", detail: "a position of another partition".into() }
                })?)
            }
            None => None,
        };
        let out = self
            .query(&located)
            .key_condition_expression("#pk = :pk AND #sk < :cutoff")
            .expression_attribute_names("#sk", located.sort_key)
            .expression_attribute_values(":cutoff", s(cutoff.to_string()))
            .limit(OVERDUE_PAGE)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| StoreError::backend("Query", e))?;
        let orders = out.items.unwrap_or_default().into_iter().map(decode_order).collect::<Result<Vec<Order>, _>>()?;
        let next = out.last_evaluated_key.and_then(|key| Position::from_item(&key, &names));
        Ok((orders, next))
    }
}

impl Store {
    /// How many orders placed before `cutoff` still await payment (a count, paged by DynamoDB).
    pub async fn count_overdue(&self, cutoff: Timestamp) -> Result<i64, StoreError> {
        let located = Partition::OrdersIn(OrderStatus::PendingPayment).locate();
        let mut count = 0;
        let mut start = None;
        loop {
            let out = self
                .query(&located)
                .key_condition_expression("#pk = :pk AND #sk < :cutoff")
                .expression_attribute_names("#sk", located.sort_key)
                .expression_attribute_values(":cutoff", s(cutoff.to_string()))
                .select(aws_sdk_dynamodb::types::Select::Count)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| StoreError::backend("Query", e))?;
            count += i64::from(out.count);
            match out.last_evaluated_key {
                Some(key) => start = Some(key),
                None => return Ok(count),
            }
        }
    }
}

/// The marker that a provider's event was applied to an order: put with its effect, on its
/// not existing yet (so the effect happens once).
pub(crate) fn event_marker(event: &str, order: crate::domain::OrderId, now: Timestamp) -> Write {
    let mut item: Item = keys::payment_event(event);
    item.insert("entity".into(), s("payment-event"));
    item.insert("orderId".into(), s(order.to_string()));
    item.insert("expiresAt".into(), n(now.unix_seconds() + EVENT_TTL_SECONDS));
    Write::put(item).when("attribute_not_exists(pk)")
}

/// The writes of an order change, by what they write.
#[derive(Debug, PartialEq)]
enum Changing {
    Order,
    Stock(VariantId),
    Listing,
    Redemption,
    Limits,
    Refund,
    Event,
    Outbox,
}
