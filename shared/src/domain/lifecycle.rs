//! An order's life: who may move it from which status to which.
//!
//! ```text
//! pending_payment ──payment──▶ paid ──admin──▶ shipped ──admin──▶ delivered
//!        │                      │
//!        └─customer, admin,     └─admin (the rest refunded)─▶ cancelled
//!          expiry ───────────────────────────────────▶ cancelled
//! ```

use super::{Order, OrderStatus, Timestamp, UserId};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Who asks for a change, and which of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Actor {
    Customer(UserId),
    /// A guest, by their order's `X-Order-Token`.
    Guest,
    Admin(UserId),
    /// The payment provider, through its webhook: the event that reported the payment.
    Payment(String),
    /// The scheduled expiry of unpaid orders.
    Expiry,
}

impl fmt::Display for Actor {
    /// As order histories show it: `customer:<id>`, `guest`, `admin:<id>`, `payment:<event id>`, `expiry`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Customer(id) => write!(f, "customer:{id}"),
            Actor::Guest => f.write_str("guest"),
            Actor::Admin(id) => write!(f, "admin:{id}"),
            Actor::Payment(event) => write!(f, "payment:{event}"),
            Actor::Expiry => f.write_str("expiry"),
        }
    }
}

impl TryFrom<String> for Actor {
    type Error = super::Invalid;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        let invalid = || super::Invalid::new(format!("{raw:?} is not an actor"));
        match raw.split_once(':') {
            None if raw == "expiry" => Ok(Actor::Expiry),
            None if raw == "guest" => Ok(Actor::Guest),
            Some(("customer", id)) => UserId::parse(id).map(Actor::Customer).ok_or_else(invalid),
            Some(("admin", id)) => UserId::parse(id).map(Actor::Admin).ok_or_else(invalid),
            Some(("payment", event)) if !event.is_empty() => Ok(Actor::Payment(event.to_owned())),
            _ => Err(invalid()),
        }
    }
}

impl From<Actor> for String {
    fn from(actor: Actor) -> Self {
        actor.to_string()
    }
}

/// One entry of an order's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub status: OrderStatus,
    pub at: Timestamp,
    pub by: Actor,
}

/// A change to an order, decided from `order` as it was read.
#[derive(Debug)]
pub struct OrderChange<'a> {
    pub order: &'a Order,
    /// The new status; the same as the current one for a change that is not a transition
    /// (a payment arriving for a cancelled order marks the refund only).
    pub to: OrderStatus,
    pub effects: Effects,
    pub by: Actor,
    pub payment: PaymentChange<'a>,
    pub tracking_number: Option<&'a str>,
    /// A webhook event id to record as processed, with the change.
    pub event_id: Option<&'a str>,
}

/// What a change does to an order's payment and money, besides its status.
#[derive(Debug, Clone, Copy, Default)]
pub struct PaymentChange<'a> {
    /// The provider's payment id, once paid.
    pub id: Option<&'a str>,
    /// What the payment captured (the order is paid).
    pub captured: Option<super::Money>,
    /// The payment's state with the provider.
    pub state: Option<super::PaymentState>,
    pub issue: Option<super::PaymentIssue>,
    /// What the provider reported, for a `payment.issue` event.
    pub reported: Option<&'a serde_json::Value>,
    /// A refund to record with the change: the rest of a paid order cancelled, or a payment
    /// that arrived for an order that cannot take it. It counts in the order's refunds when it
    /// refunds the order's own payment.
    pub refund: Option<&'a super::Refund>,
}

impl OrderChange<'_> {
    /// Whether the status changes (and a history entry is added).
    pub fn is_transition(&self) -> bool {
        self.to != self.order.status
    }

    /// The history entry a transition adds.
    pub fn entry(&self, now: Timestamp) -> HistoryEntry {
        HistoryEntry { status: self.to, at: now, by: self.by.clone() }
    }

    /// The order as it is after the change, made at `now`.
    pub fn applied(&self, now: Timestamp) -> Order {
        let mut next = self.order.clone();
        next.status = self.to;
        next.updated_at = now;
        if let Some(p) = self.payment.id {
            next.payment_id = Some(p.to_owned());
        }
        if let Some(captured) = self.payment.captured {
            next.captured_cents = captured;
        }
        if let (Some(state), Some(payment)) = (self.payment.state, next.payment.as_mut()) {
            payment.status = state;
        }
        if let Some(issue) = self.payment.issue {
            next.payment_issue = Some(issue);
        }
        if let Some(refund) = self.payment.refund
            && refund.payment_id == next.payment_id
        {
            next.refunded_cents = next.refunded_cents + refund.amount_cents;
            next.settlement_version += 1;
        }
        next.payment_status = next.payment_status();
        if let Some(t) = self.tracking_number {
            next.tracking_number = Some(t.to_owned());
        }
        if self.is_transition() {
            next.history.push(self.entry(now));
        }
        next
    }
}

/// The statuses an admin may set by hand (the others follow from payments and checkout).
pub const ADMIN_SETTABLE: [OrderStatus; 3] = [OrderStatus::Shipped, OrderStatus::Delivered, OrderStatus::Cancelled];

/// A status an admin asks for: one of [`ADMIN_SETTABLE`].
pub fn admin_status(raw: &str) -> Result<OrderStatus, super::Invalid> {
    match OrderStatus::parse(raw) {
        Some(status) if ADMIN_SETTABLE.contains(&status) => Ok(status),
        _ => {
            let names: Vec<String> = ADMIN_SETTABLE.iter().map(|s| format!("\"{}\"", s.as_str())).collect();
            let (last, rest) = names.split_last().map_or(("", &[][..]), |(l, r)| (l.as_str(), r));
            Err(super::Invalid::new(format!("must be {} or {last}", rest.join(", "))))
        }
    }
}

/// A tracking number comes only with shipping.
pub fn tracking_allowed(status: OrderStatus) -> Result<(), super::Invalid> {
    if status == OrderStatus::Shipped { Ok(()) } else { Err(super::Invalid::new("is only given when shipping")) }
}

/// What a permitted transition involves besides the new status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Effects {
    /// Release every line's reserved units (back on sale) and give back the discount redemption.
    pub restock: bool,
    /// Take every line's units off the shelf: they left with the parcel.
    pub consume: bool,
    /// Money was taken and must be given back.
    pub refund_due: bool,
}

impl Effects {
    /// Nothing but the new status.
    pub const NONE: Effects = Effects { restock: false, consume: false, refund_due: false };
}

/// The change is not allowed: from this status, for this actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidTransition {
    pub from: OrderStatus,
    pub to: OrderStatus,
}

impl OrderStatus {
    /// Whether `actor` may move an order from `self` to `to`, and what that entails.
    pub fn transition(self, to: OrderStatus, actor: &Actor) -> Result<Effects, InvalidTransition> {
        use Actor::*;
        use OrderStatus::*;
        let none = Effects::NONE;
        match (self, to, actor) {
            (PendingPayment, Paid, Payment(_)) => Ok(none),
            (Paid, Shipped, Admin(_)) => Ok(Effects { consume: true, ..none }),
            (Shipped, Delivered, Admin(_)) => Ok(none),
            (PendingPayment, Cancelled, Customer(_) | Guest | Admin(_) | Expiry) => {
                Ok(Effects { restock: true, ..none })
            }
            (Paid, Cancelled, Admin(_)) => Ok(Effects { restock: true, refund_due: true, ..none }),
            _ => Err(InvalidTransition { from: self, to }),
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::PendingPayment, Self::Paid, Self::Shipped, Self::Delivered, Self::Cancelled]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Actor::*;
    use OrderStatus::*;

    const ALL: [OrderStatus; 5] = [PendingPayment, Paid, Shipped, Delivered, Cancelled];
    fn someone() -> UserId {
        UserId::parse("01HZX5V9Y5J0A0000000000000").expect("a user id")
    }

    fn actors() -> [Actor; 5] {
        [Customer(someone()), Guest, Admin(someone()), Payment("evt_1".into()), Expiry]
    }

    fn kind(actor: &Actor) -> &'static str {
        match actor {
            Customer(_) => "customer",
            Guest => "guest",
            Admin(_) => "admin",
            Payment(_) => "payment",
            Expiry => "expiry",
        }
    }

    #[test]
    fn exactly_the_documented_transitions_are_allowed() {
        let allowed = [
            (PendingPayment, Paid, "payment"),
            (Paid, Shipped, "admin"),
            (Shipped, Delivered, "admin"),
            (PendingPayment, Cancelled, "customer"),
            (PendingPayment, Cancelled, "guest"),
            (PendingPayment, Cancelled, "admin"),
            (PendingPayment, Cancelled, "expiry"),
            (Paid, Cancelled, "admin"),
        ];
        for from in ALL {
            for to in ALL {
                for actor in actors() {
                    let expected = allowed.contains(&(from, to, kind(&actor)));
                    assert_eq!(from.transition(to, &actor).is_ok(), expected, "{from:?} → {to:?} by {actor:?}");
                }
            }
        }
    }

    #[test]
    fn cancelling_releases_shipping_consumes_and_a_paid_cancel_owes_a_refund() {
        let admin = Admin(someone());
        let none = Effects::NONE;
        assert_eq!(PendingPayment.transition(Cancelled, &Expiry), Ok(Effects { restock: true, ..none }));
        assert_eq!(Paid.transition(Cancelled, &admin), Ok(Effects { restock: true, refund_due: true, ..none }));
        assert_eq!(Paid.transition(Shipped, &admin), Ok(Effects { consume: true, ..none }));
        assert_eq!(Shipped.transition(Delivered, &admin), Ok(none));
    }

    #[test]
    fn actors_read_back_as_histories_write_them() {
        for actor in actors() {
            assert_eq!(Actor::try_from(actor.to_string()), Ok(actor.clone()), "{actor}");
        }
        assert_eq!(Admin(someone()).to_string(), "admin:01HZX5V9Y5J0A0000000000000");
        for junk in ["", "admin", "admin:", "admin:nope", "payment:", "robot:1", "expiry:1"] {
            assert!(Actor::try_from(junk.to_owned()).is_err(), "{junk:?}");
        }
    }

    #[test]
    fn admins_set_shipped_delivered_or_cancelled_and_a_tracking_number_only_when_shipping() {
        for status in ALL {
            assert_eq!(admin_status(status.as_str()).is_ok(), ADMIN_SETTABLE.contains(&status), "{status:?}");
            assert_eq!(tracking_allowed(status).is_ok(), status == Shipped, "{status:?}");
        }
        assert_eq!(admin_status("lost").unwrap_err().0, "must be \"shipped\", \"delivered\" or \"cancelled\"");
    }

    #[test]
    fn a_change_applies_its_status_payment_tracking_and_history() {
        let order: Order = serde_json::from_value(serde_json::json!({
            "id": "01HZX5V9Y5J0A0000000000001", "userId": "01HZX5V9Y5J0A0000000000000",
            "status": "paid", "items": [], "subtotalCents": 0, "discountCents": 0, "shippingCents": 0,
            "taxCents": 0, "totalCents": 0, "currency": "USD", "shippingMethod": "standard",
            "shippingAddress": {"name": "A", "line1": "1 St", "city": "C", "postalCode": "1", "country": "US"},
            "createdAt": "2026-01-01T00:00:00.000Z", "updatedAt": "2026-01-01T00:00:00.000Z", "history": []
        }))
        .expect("an order");
        let now = Timestamp::parse("2026-01-02T00:00:00Z").expect("a time");
        let effects = Effects::NONE;
        let ship = OrderChange {
            order: &order,
            to: Shipped,
            effects,
            by: Admin(someone()),
            payment: PaymentChange::default(),
            tracking_number: Some("1Z"),
            event_id: None,
        };
        let shipped = ship.applied(now);
        assert_eq!(
            (shipped.status, shipped.tracking_number.as_deref(), shipped.updated_at),
            (Shipped, Some("1Z"), now)
        );
        assert_eq!(shipped.history, vec![HistoryEntry { status: Shipped, at: now, by: Admin(someone()) }]);
        let failed = PaymentChange { state: Some(super::super::PaymentState::Failed), ..PaymentChange::default() };
        let mut pending = order.clone();
        pending.status = PendingPayment;
        pending.payment = Some(super::super::Payment {
            provider: super::super::ProviderName::Manual,
            status: super::super::PaymentState::Pending,
            id: None,
            client_secret: None,
        });
        let attempt =
            OrderChange { order: &pending, to: PendingPayment, payment: failed, tracking_number: None, ..ship };
        let marked = attempt.applied(now);
        assert!(!attempt.is_transition() && marked.history.is_empty() && marked.status == PendingPayment);
        assert_eq!(marked.payment.map(|p| p.status), Some(super::super::PaymentState::Failed));
    }

    #[test]
    fn statuses_parse_from_their_names() {
        for s in ALL {
            assert_eq!(OrderStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(OrderStatus::parse("lost"), None);
    }
}
