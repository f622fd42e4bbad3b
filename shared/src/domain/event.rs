//! Events: what happened, for other systems. Each is written in the same transaction as the
//! change it reports (an outbox), so that an event exists if and only if its change happened;
//! `asyncapi.yaml` documents every type and its `data`.
//!
//! The envelope is `{id, type, version, occurredAt, subject: {type, id}, data}`: `data` is the
//! resource as the API shows it, plus what the type needs (`reason`, `previousStatus`). Nothing
//! secret (password hashes, tokens, card data) is ever part of a resource view, so none is ever
//! part of an event.

use super::lifecycle::{Actor, OrderChange};
use super::{Order, OrderStatus, ProductId, Timestamp, UserId, VariantId};
use serde::Serialize;
use serde_json::Value;

use super::ids::EventId;

/// Every event type, version 1. A new type is added here, in `asyncapi.yaml`, and where its
/// change is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum EventType {
    #[serde(rename = "order.placed")]
    OrderPlaced,
    #[serde(rename = "order.paid")]
    OrderPaid,
    #[serde(rename = "order.cancelled")]
    OrderCancelled,
    #[serde(rename = "order.shipped")]
    OrderShipped,
    #[serde(rename = "order.delivered")]
    OrderDelivered,
    #[serde(rename = "product.created")]
    ProductCreated,
    #[serde(rename = "product.updated")]
    ProductUpdated,
    #[serde(rename = "product.archived")]
    ProductArchived,
    #[serde(rename = "inventory.low")]
    InventoryLow,
    #[serde(rename = "customer.registered")]
    CustomerRegistered,
    #[serde(rename = "customer.verification_requested")]
    VerificationRequested,
    #[serde(rename = "customer.password_reset_requested")]
    PasswordResetRequested,
    #[serde(rename = "webhook.disabled")]
    WebhookDisabled,
    #[serde(rename = "order.refunded")]
    OrderRefunded,
    #[serde(rename = "payment.issue")]
    PaymentIssue,
    #[serde(rename = "return.requested")]
    ReturnRequested,
    #[serde(rename = "return.received")]
    ReturnReceived,
}

impl EventType {
    pub const ALL: [EventType; 17] = [
        EventType::OrderPlaced,
        EventType::OrderPaid,
        EventType::OrderCancelled,
        EventType::OrderShipped,
        EventType::OrderDelivered,
        EventType::ProductCreated,
        EventType::ProductUpdated,
        EventType::ProductArchived,
        EventType::InventoryLow,
        EventType::CustomerRegistered,
        EventType::VerificationRequested,
        EventType::PasswordResetRequested,
        EventType::WebhookDisabled,
        EventType::OrderRefunded,
        EventType::PaymentIssue,
        EventType::ReturnRequested,
        EventType::ReturnReceived,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::OrderPlaced => "order.placed",
            EventType::OrderPaid => "order.paid",
            EventType::OrderCancelled => "order.cancelled",
            EventType::OrderShipped => "order.shipped",
            EventType::OrderDelivered => "order.delivered",
            EventType::ProductCreated => "product.created",
            EventType::ProductUpdated => "product.updated",
            EventType::ProductArchived => "product.archived",
            EventType::InventoryLow => "inventory.low",
            EventType::CustomerRegistered => "customer.registered",
            EventType::VerificationRequested => "customer.verification_requested",
            EventType::PasswordResetRequested => "customer.password_reset_requested",
            EventType::WebhookDisabled => "webhook.disabled",
            EventType::OrderRefunded => "order.refunded",
            EventType::PaymentIssue => "payment.issue",
            EventType::ReturnRequested => "return.requested",
            EventType::ReturnReceived => "return.received",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == raw)
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an event is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Subject {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub id: String,
}

/// Why an order was cancelled, as `order.cancelled` says.
fn cancel_reason(actor: &Actor) -> &'static str {
    match actor {
        Actor::Customer(_) | Actor::Guest => "customer",
        Actor::Admin(_) => "admin",
        Actor::Expiry => "expired",
        Actor::Payment(_) => "payment_failed",
    }
}

/// One event, as published: the envelope.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub id: EventId,
    #[serde(rename = "type")]
    pub kind: EventType,
    pub version: u32,
    pub occurred_at: Timestamp,
    pub subject: Subject,
    pub data: Value,
}

/// A view of a resource as JSON, with fields of the event's own added.
fn with(view: impl Serialize, extra: &[(&str, Value)]) -> Value {
    let mut value = serde_json::to_value(view).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        for (name, field) in extra {
            map.insert((*name).to_owned(), field.clone());
        }
    }
    value
}

/// An order as its events show it: as `GET /orders/{id}` does, but without the payment's
/// client secret (only the order's own readers get that).
fn order_view(order: &Order, extra: &[(&str, Value)]) -> Value {
    let mut value = with(order, extra);
    if let Some(Value::Object(payment)) = value.get_mut("payment") {
        payment.remove("clientSecret");
    }
    value
}

/// The next event id: ULIDs from one generator per process, so that the events one process
/// writes within a millisecond (an order and the variant it takes low) still sort in the
/// order they were made.
fn next_id() -> EventId {
    static GENERATOR: std::sync::Mutex<Option<ulid::Generator>> = std::sync::Mutex::new(None);
    let mut generator = GENERATOR.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let next = generator.get_or_insert_with(ulid::Generator::new).generate();
    EventId::from_ulid(next.unwrap_or_else(|_| ulid::Ulid::new()))
}

impl Event {
    fn new(kind: EventType, at: Timestamp, subject: Subject, data: Value) -> Self {
        Self { id: next_id(), kind, version: 1, occurred_at: at, subject, data }
    }

    fn order_subject(order: &Order) -> Subject {
        Subject { kind: "order", id: order.id.to_string() }
    }

    /// `order.placed`: the order as `GET /orders/{id}` shows it.
    pub fn order_placed(order: &Order, at: Timestamp) -> Self {
        Self::new(EventType::OrderPlaced, at, Self::order_subject(order), order_view(order, &[]))
    }

    /// The event of an order's status change, if it is one other systems hear of (`next` is the
    /// order after it): paid, cancelled (with its `reason`), shipped, delivered; each with the
    /// `previousStatus`.
    pub fn order_changed(change: &OrderChange<'_>, next: &Order, at: Timestamp) -> Option<Self> {
        if !change.is_transition() {
            return None;
        }
        let previous = ("previousStatus", Value::from(change.order.status.as_str()));
        let (kind, data) = match change.to {
            OrderStatus::Paid => (EventType::OrderPaid, order_view(next, &[previous])),
            OrderStatus::Cancelled => {
                let reason = ("reason", Value::from(cancel_reason(&change.by)));
                (EventType::OrderCancelled, order_view(next, &[previous, reason]))
            }
            OrderStatus::Shipped => (EventType::OrderShipped, order_view(next, &[previous])),
            OrderStatus::Delivered => (EventType::OrderDelivered, order_view(next, &[previous])),
            OrderStatus::PendingPayment => return None,
        };
        Some(Self::new(kind, at, Self::order_subject(next), data))
    }

    /// `order.refunded`: a refund was made (the provider confirmed it); `data` is the refund,
    /// with the order after it as `order`.
    pub fn order_refunded(refund: &super::Refund, order: &Order, at: Timestamp) -> Self {
        let data = with(refund, &[("order", order_view(order, &[]))]);
        Self::new(EventType::OrderRefunded, at, Self::order_subject(order), data)
    }

    /// `payment.issue`: something about an order's money that a person must look at
    /// (`issue`), with what the provider reported and the order.
    pub fn payment_issue(issue: super::PaymentIssue, reported: Value, order: &Order, at: Timestamp) -> Self {
        let data = serde_json::json!({"issue": issue.as_str(), "reported": reported, "order": order_view(order, &[])});
        Self::new(EventType::PaymentIssue, at, Self::order_subject(order), data)
    }

    /// `return.requested` or `return.received`: the return, with its order (after the change)
    /// as `order`.
    pub fn returned(kind: EventType, item: &super::Return, order: &Order, at: Timestamp) -> Self {
        let data = with(item, &[("order", order_view(order, &[]))]);
        Self::new(kind, at, Subject { kind: "return", id: item.id.to_string() }, data)
    }

    /// `product.created`, `product.updated` or `product.archived`: `view` is the product as
    /// `GET /products/{id}` shows it after the change.
    pub fn product(kind: EventType, product: ProductId, view: impl Serialize, at: Timestamp) -> Self {
        Self::new(kind, at, Subject { kind: "product", id: product.to_string() }, with(view, &[]))
    }

    /// `inventory.low`: a variant's available units fell to or below its product's threshold.
    pub fn inventory_low(low: &LowStock, at: Timestamp) -> Self {
        Self::new(
            EventType::InventoryLow,
            at,
            Subject { kind: "variant", id: low.variant_id.to_string() },
            with(low, &[]),
        )
    }

    /// `customer.registered`: the account as `GET /me` shows it.
    pub fn customer_registered(user: UserId, view: impl Serialize, at: Timestamp) -> Self {
        Self::new(
            EventType::CustomerRegistered,
            at,
            Subject { kind: "customer", id: user.to_string() },
            with(view, &[]),
        )
    }
}

impl Event {
    /// `customer.verification_requested` (at sign-up, and when asked again) or
    /// `customer.password_reset_requested`: the account as `GET /me` shows it. The token the
    /// email carries is made by the email's sender and is never part of the event.
    pub fn account_email(kind: EventType, user: UserId, view: impl Serialize, at: Timestamp) -> Self {
        Self::new(kind, at, Subject { kind: "customer", id: user.to_string() }, with(view, &[]))
    }

    /// `webhook.disabled`: the endpoint as `GET /admin/webhooks/{id}` shows it, switched off
    /// after a day in which every delivery to it failed (its admin is emailed).
    pub fn webhook_disabled(webhook: super::WebhookId, view: impl Serialize, at: Timestamp) -> Self {
        Self::new(EventType::WebhookDisabled, at, Subject { kind: "webhook", id: webhook.to_string() }, with(view, &[]))
    }
}

/// The data of `inventory.low`: which variant, and the threshold it fell to or below. (The
/// write that crosses the threshold is conditioned on the band of counts that cross, not on
/// one count, so that concurrent orders do not refuse each other: the exact count after it is
/// not known, and the event does not claim one.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LowStock {
    pub product_id: ProductId,
    pub variant_id: VariantId,
    pub sku: String,
    pub name: String,
    pub threshold: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_parses_from_its_name() {
        for kind in EventType::ALL {
            assert_eq!(EventType::parse(kind.as_str()), Some(kind));
            assert_eq!(serde_json::to_value(kind).unwrap(), Value::from(kind.as_str()));
        }
        assert_eq!(EventType::parse("order.lost"), None);
    }

    #[test]
    fn the_envelope_has_the_published_field_names() {
        let at = Timestamp::parse("2026-12-03T10:00:00Z").unwrap();
        let event = Event::customer_registered(UserId::new(), serde_json::json!({"email": "a@b.example"}), at);
        let json = serde_json::to_value(&event).unwrap();
        let mut fields: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
        fields.sort_unstable();
        assert_eq!(fields, ["data", "id", "occurredAt", "subject", "type", "version"]);
        assert_eq!(json["type"], "customer.registered");
        assert_eq!(json["subject"]["type"], "customer");
        assert_eq!(json["version"], 1);
    }
}
