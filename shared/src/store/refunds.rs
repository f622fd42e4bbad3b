//! Refunds (in their order's partition) and returns, and what recording one changes with it
//! in one transaction: the order's money and units (on the refunds and returns they were
//! decided from), the stock of units put back, an admin's idempotency key, the return a refund
//! receives.

use super::item::{Item, attribute, decode, encode, n, s, text};
use super::keys::{self, Partition};
use super::orders::items_attribute;
use super::page::{Page, Position};
use super::tx::{Transaction, Write};
use super::{Store, StoreError};
use crate::domain::{
    Event, Order, OrderId, Payment, Refund, RefundId, RefundStatus, Return, ReturnId, ReturnStatus, Timestamp,
    VariantId,
};

/// A refund's item (pending ones carry their index entry).
pub(crate) fn refund_item(refund: &Refund) -> Result<Item, StoreError> {
    let mut item = encode(refund, keys::refund(refund.order_id, refund.id), "refund")?;
    for (attribute, value) in keys::refund_entries(refund) {
        item.insert(attribute.into(), s(value));
    }
    Ok(item)
}

/// The order's update that a refund (or its failure, or a return) makes: money, lines and
/// version as `next` has them, on the status and the version `seen` had.
pub(crate) fn settlement_update(seen: &Order, next: &Order, now: Timestamp) -> Result<Write, StoreError> {
    let mut sets = "SET refundedCents = :refunded, paymentStatus = :payment_status, #items = :items, \
                    settlementVersion = :next_version, updatedAt = :now"
        .to_owned();
    let issue = next.payment_issue.filter(|_| next.payment_issue != seen.payment_issue);
    if issue.is_some() {
        sets.push_str(", paymentIssue = :issue");
    }
    let update = Write::update(keys::order(seen.id), sets)
        .when("#status = :status AND (attribute_not_exists(settlementVersion) OR settlementVersion = :version)")
        .name("#status", "status")
        .name("#items", "items")
        .value(":refunded", n(next.refunded_cents.cents()))
        .value(":payment_status", attribute(&next.payment_status(), "paymentStatus")?)
        .value(":items", items_attribute(next)?)
        .value(":next_version", n(next.settlement_version))
        .value(":now", s(now.to_string()))
        .value(":status", s(seen.status.as_str()))
        .value(":version", n(seen.settlement_version));
    Ok(match issue {
        Some(issue) => update.value(":issue", s(issue.as_str())),
        None => update,
    })
}

/// A refund to record (or a return received, with its refund if any), decided from `seen`.
#[derive(Debug)]
pub struct Refunding<'a> {
    pub seen: &'a Order,
    /// The order with the refund (and the units put back) counted.
    pub next: &'a Order,
    pub refund: Option<&'a Refund>,
    /// The return it receives, as received (its status becomes that if still `requested`).
    pub received: Option<&'a Return>,
    /// The events of the change (a return's receipt).
    pub events: &'a [Event],
    /// Units to put back (released while the order has not shipped, on the shelf once it has).
    pub restock: &'a [(VariantId, i64)],
    /// The admin's `Idempotency-Key` and the request's canonical form.
    pub key: Option<(&'a str, &'a str)>,
    /// The provider's event that reported it (recorded with it: it takes effect once).
    pub marker: Option<&'a str>,
}

/// What became of recording a refund.
#[derive(Debug, PartialEq, Eq)]
pub enum Recorded {
    Done,
    /// The order's status or refunds changed since it was read: decide again.
    Stale,
    /// The idempotency key made a refund already (this one, for this request).
    KeyUsed,
    /// The return was received or rejected meanwhile.
    Decided,
    /// The provider's event was applied before.
    Seen,
}

#[derive(Debug, PartialEq)]
enum Part {
    Order,
    Refund,
    Key,
    Stock,
    Listing,
    Return,
    Marker,
    Payment,
    Outbox,
}

/// The update that records a return's decision (`received` or `rejected`), on its still being
/// requested: its status, its index entry, the refund it made.
fn return_decided(decided: &Return, now: Timestamp) -> Result<Write, StoreError> {
    let (filed, value) = keys::return_status_entry(decided.status);
    let mut sets = vec!["#status = :status", "#filed = :filed", "updatedAt = :now"];
    if decided.refund_id.is_some() {
        sets.push("refundId = :refund");
    }
    let mut write = Write::update(keys::return_item(decided.id), format!("SET {}", sets.join(", ")))
        .when("#status = :requested")
        .name("#status", "status")
        .name("#filed", filed)
        .value(":status", s(decided.status.as_str()))
        .value(":filed", s(value))
        .value(":now", s(now.to_string()))
        .value(":requested", s(ReturnStatus::Requested.as_str()));
    if let Some(refund) = decided.refund_id {
        write = write.value(":refund", s(refund.to_string()));
    }
    Ok(write)
}

impl Store {
    pub async fn record_refund(&self, refunding: Refunding<'_>, now: Timestamp) -> Result<Recorded, StoreError> {
        let mut tx = Transaction::new();
        tx.add(Part::Order, settlement_update(refunding.seen, refunding.next, now)?);
        if let Some(refund) = refunding.refund {
            tx.add(Part::Refund, Write::put(refund_item(refund)?).when("attribute_not_exists(pk)"));
        }
        if let Some(received) = refunding.received {
            tx.add(Part::Return, return_decided(received, now)?);
        }
        tx.publish(Part::Outbox, refunding.events)?;
        if let Some(event) = refunding.marker {
            tx.add(Part::Marker, super::lifecycle::event_marker(event, refunding.seen.id, now));
        }
        if let (Some((key, request)), Some(refund)) = (refunding.key, refunding.refund) {
            let mut marker = keys::refund_key(refunding.seen.id, key);
            marker.insert("entity".into(), s("refund-key"));
            marker.insert("refundId".into(), s(refund.id.to_string()));
            marker.insert("request".into(), s(request));
            tx.add(Part::Key, Write::put(marker).when("attribute_not_exists(pk)"));
        }
        let shipped = matches!(
            refunding.seen.status,
            crate::domain::OrderStatus::Shipped | crate::domain::OrderStatus::Delivered
        );
        let (writes, flags) = super::inventory::units_back(self, refunding.restock, shipped, now).await?;
        for (_, write) in writes {
            tx.add(Part::Stock, write);
        }
        for flags in flags {
            tx.add(Part::Listing, flags);
        }
        match tx.commit(self, None).await? {
            Ok(()) => Ok(Recorded::Done),
            Err(refused) if refused.by(&Part::Key) => Ok(Recorded::KeyUsed),
            Err(refused) if refused.by(&Part::Marker) => Ok(Recorded::Seen),
            Err(refused) if refused.by(&Part::Return) => Ok(Recorded::Decided),
            Err(refused) if refused.by(&Part::Order) || refused.by(&Part::Stock) => Ok(Recorded::Stale),
            Err(refused) => Err(StoreError::Backend {
                operation: "TransactWriteItems",
                detail: format!("unexpected conditions {:?}", refused.names().collect::<Vec<_>>()),
            }),
        }
    }

    /// The refund an admin's `Idempotency-Key` made of the order, and the request that made it.
    pub async fn refund_by_key(&self, order: OrderId, key: &str) -> Result<Option<(RefundId, String)>, StoreError> {
        let Some(item) = self.get_consistent(keys::refund_key(order, key)).await? else { return Ok(None) };
        let id = text(&item, "refundId").and_then(RefundId::parse);
        Ok(id.map(|id| (id, text(&item, "request").unwrap_or_default().to_owned())))
    }

    pub async fn refund(&self, order: OrderId, id: RefundId) -> Result<Option<Refund>, StoreError> {
        self.get_consistent(keys::refund(order, id)).await?.map(decode).transpose()
    }

    /// An order's refunds, oldest first.
    pub async fn refunds_of(&self, order: OrderId) -> Result<Vec<Refund>, StoreError> {
        let located = Partition::Order(order).locate();
        let mut refunds = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .query(&located)
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                .expression_attribute_names("#sk", located.sort_key)
                .expression_attribute_values(":prefix", s(keys::REFUND_PREFIX))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| StoreError::backend("Query", e))?;
            for item in out.items.unwrap_or_default() {
                refunds.push(decode(item)?);
            }
            match out.last_evaluated_key {
                Some(key) => start = Some(key),
                None => return Ok(refunds),
            }
        }
    }

    /// Records what the provider made of a refund (`settled`: its new status, its provider id
    /// or failure), if it is still `from` (pending; or succeeded, for one the provider
    /// reversed); a failure gives its amount and units back to the order (`orders`: as read and
    /// after). `Ok(false)` when it was settled already, or the order changed meanwhile (read it
    /// again).
    pub async fn settle_refund(
        &self,
        from: RefundStatus,
        settled: &Refund,
        orders: Option<(&Order, &Order)>,
        events: &[Event],
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut sets = vec!["#status = :status", "updatedAt = :now"];
        if settled.provider_refund_id.is_some() {
            sets.push("providerRefundId = :provider_id");
        }
        if settled.failure.is_some() {
            sets.push("failure = :failure");
        }
        let mut update = Write::update(
            keys::refund(settled.order_id, settled.id),
            format!("SET {} REMOVE gsi2pk, gsi2sk", sets.join(", ")),
        )
        .when("#status = :from")
        .name("#status", "status")
        .value(":status", s(settled.status.as_str()))
        .value(":now", s(now.to_string()))
        .value(":from", s(from.as_str()));
        if let Some(id) = &settled.provider_refund_id {
            update = update.value(":provider_id", s(id));
        }
        if let Some(failure) = &settled.failure {
            update = update.value(":failure", s(failure));
        }
        let mut tx = Transaction::new();
        tx.add(Part::Refund, update);
        if let Some((seen, next)) = orders {
            tx.add(Part::Order, settlement_update(seen, next, now)?);
        }
        tx.publish(Part::Outbox, events)?;
        Ok(tx.commit(self, None).await?.is_ok())
    }

    /// Records a return requested of `seen` (its units counted in `next`), with its event.
    /// `Ok(false)` when the order's status or returns changed meanwhile.
    pub async fn request_return(
        &self,
        seen: &Order,
        next: &Order,
        requested: &Return,
        events: &[Event],
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut item = encode(requested, keys::return_item(requested.id), "return")?;
        for (attribute, value) in keys::return_entries(requested) {
            item.insert(attribute.into(), s(value));
        }
        let mut tx = Transaction::new();
        tx.add(Part::Order, settlement_update(seen, next, now)?);
        tx.add(Part::Return, Write::put(item).when("attribute_not_exists(pk)"));
        tx.publish(Part::Outbox, events)?;
        Ok(tx.commit(self, None).await?.is_ok())
    }

    pub async fn get_return(&self, id: ReturnId) -> Result<Option<Return>, StoreError> {
        self.get_consistent(keys::return_item(id)).await?.map(decode).transpose()
    }

    /// Returns in `status` (or all), newest first. `Ok(None)` if `after` is not a position of it.
    pub async fn returns_in(
        &self,
        status: Option<ReturnStatus>,
        limit: usize,
        after: Option<&Position>,
    ) -> Result<Option<Page<Return>>, StoreError> {
        self.query_page(Partition::Returns(status), None, limit, after, |i| decode(i).map(Some)).await
    }

    /// Records a rejection (on the return's still being requested) and gives its units back to
    /// the order (`seen` → `next`). `Ok(false)` when either changed meanwhile.
    pub async fn reject_return(
        &self,
        rejected: &Return,
        seen: &Order,
        next: &Order,
        now: Timestamp,
    ) -> Result<Option<bool>, StoreError> {
        let mut tx = Transaction::new();
        tx.add(Part::Return, return_decided(rejected, now)?);
        tx.add(Part::Order, settlement_update(seen, next, now)?);
        match tx.commit(self, None).await? {
            Ok(()) => Ok(Some(true)),
            Err(refused) if refused.by(&Part::Return) => Ok(None),
            Err(_) => Ok(Some(false)),
        }
    }

    /// Records an order's payment with its provider (the first one: a repeat keeps what was
    /// recorded) and files the order under the payment's id. `Ok(false)` when the order already
    /// had one.
    pub async fn open_payment(&self, order: OrderId, payment: &Payment) -> Result<bool, StoreError> {
        let Some(id) = payment.id.as_deref() else {
            return Err(StoreError::Backend { operation: "UpdateItem", detail: "a payment without its id".into() });
        };
        let update = Write::update(keys::order(order), "SET #payment = :payment")
            .when("attribute_exists(pk) AND attribute_not_exists(#payment.#id)")
            .name("#payment", "payment")
            .name("#id", "id")
            .value(":payment", attribute(payment, "payment")?);
        let mut lookup = keys::payment_lookup(id);
        lookup.insert("entity".into(), s("payment"));
        lookup.insert("orderId".into(), s(order.to_string()));
        let mut tx = Transaction::new();
        tx.add(Part::Order, update);
        tx.add(Part::Payment, Write::put(lookup));
        Ok(tx.commit(self, None).await?.is_ok())
    }

    /// The order a provider's payment id is filed under.
    pub async fn order_of_payment(&self, payment_id: &str) -> Result<Option<OrderId>, StoreError> {
        let item = self.get_consistent(keys::payment_lookup(payment_id)).await?;
        Ok(item.and_then(|i| text(&i, "orderId").and_then(OrderId::parse)))
    }

    /// Keeps the provider's id of a refund still pending with it.
    pub async fn note_provider_refund(&self, refund: &Refund, provider_id: &str) -> Result<(), StoreError> {
        let write = Write::update(keys::refund(refund.order_id, refund.id), "SET providerRefundId = :id")
            .when("#status = :pending")
            .name("#status", "status")
            .value(":id", s(provider_id))
            .value(":pending", s(RefundStatus::Pending.as_str()));
        let _refused = Transaction::<()>::single(write).commit(self, None).await?;
        Ok(())
    }

    /// Refunds still pending that were recorded before `before`, oldest first (at most `limit`).
    pub async fn pending_refunds(&self, before: Timestamp, limit: i32) -> Result<Vec<Refund>, StoreError> {
        let located = Partition::PendingRefunds.locate();
        let out = self
            .query(&located)
            .key_condition_expression("#pk = :pk AND #sk < :before")
            .expression_attribute_names("#sk", located.sort_key)
            .expression_attribute_values(":before", s(before.to_string()))
            .limit(limit)
            .send()
            .await
            .map_err(|e| StoreError::backend("Query", e))?;
        out.items.unwrap_or_default().into_iter().map(decode).collect()
    }
}
