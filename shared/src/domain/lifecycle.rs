//! An order's life: who may move it from which status to which.
//!
//! ```text
//! pending_payment ──payment──▶ paid ──admin──▶ shipped ──admin──▶ delivered
//!        │                      │
//!        └─customer, admin,     └─admin (refund due)──▶ cancelled
//!          payment failure, expiry ──────────────────▶ cancelled
//! ```

use super::OrderStatus;
use serde::{Deserialize, Serialize};

/// Who asks for a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Customer,
    Admin,
    /// The payment provider, through its webhook.
    Payment,
    /// The scheduled expiry of unpaid orders.
    Expiry,
}

/// One entry of an order's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub status: OrderStatus,
    pub at: super::Timestamp,
    /// Who: `customer:<id>`, `admin:<id>`, `payment:<event id>` or `expiry`.
    pub by: String,
}

/// What a permitted transition involves besides the new status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Effects {
    /// Put every line's units back in stock and give back the discount redemption.
    pub restock: bool,
    /// Money was taken and must be given back.
    pub refund_due: bool,
}

/// The change is not allowed: from this status, for this actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidTransition {
    pub from: OrderStatus,
    pub to: OrderStatus,
}

impl OrderStatus {
    /// Whether `actor` may move an order from `self` to `to`, and what that entails.
    pub fn transition(self, to: OrderStatus, actor: Actor) -> Result<Effects, InvalidTransition> {
        use Actor::*;
        use OrderStatus::*;
        let none = Effects { restock: false, refund_due: false };
        match (self, to, actor) {
            (PendingPayment, Paid, Payment) => Ok(none),
            (Paid, Shipped, Admin) | (Shipped, Delivered, Admin) => Ok(none),
            (PendingPayment, Cancelled, Customer | Admin | Payment | Expiry) => {
                Ok(Effects { restock: true, refund_due: false })
            }
            (Paid, Cancelled, Admin) => Ok(Effects { restock: true, refund_due: true }),
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
    const ACTORS: [Actor; 4] = [Customer, Admin, Payment, Expiry];

    #[test]
    fn exactly_the_documented_transitions_are_allowed() {
        let allowed = [
            (PendingPayment, Paid, Payment),
            (Paid, Shipped, Admin),
            (Shipped, Delivered, Admin),
            (PendingPayment, Cancelled, Customer),
            (PendingPayment, Cancelled, Admin),
            (PendingPayment, Cancelled, Payment),
            (PendingPayment, Cancelled, Expiry),
            (Paid, Cancelled, Admin),
        ];
        for from in ALL {
            for to in ALL {
                for actor in ACTORS {
                    let expected = allowed.contains(&(from, to, actor));
                    assert_eq!(from.transition(to, actor).is_ok(), expected, "{from:?} → {to:?} by {actor:?}");
                }
            }
        }
    }

    #[test]
    fn cancelling_restocks_and_a_paid_cancel_owes_a_refund() {
        assert_eq!(PendingPayment.transition(Cancelled, Expiry), Ok(Effects { restock: true, refund_due: false }));
        assert_eq!(Paid.transition(Cancelled, Admin), Ok(Effects { restock: true, refund_due: true }));
        assert_eq!(Paid.transition(Shipped, Admin), Ok(Effects { restock: false, refund_due: false }));
    }

    #[test]
    fn statuses_parse_from_their_names() {
        for s in ALL {
            assert_eq!(OrderStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(OrderStatus::parse("lost"), None);
    }
}
