use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use ulid::Ulid;

/// An id that is a ULID: sorts by creation time, reveals no count, parses strictly.
macro_rules! ulid_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(Ulid);

        impl $name {
            pub fn new() -> Self {
                Self(Ulid::new())
            }

            /// Parses an id that came from outside (a token, a path). `None` if it is not one
            /// (callers answer "not found", never a validation error).
            pub fn parse(raw: &str) -> Option<Self> {
                Ulid::from_str(raw).ok().map(Self)
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value).ok_or_else(|| format!(concat!("not a ", $what, " id: {}"), value))
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0.to_string()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

ulid_id!(
    /// A user's id.
    UserId,
    "user"
);
ulid_id!(
    /// A sign-in session's id (its access tokens carry it as `sid`).
    SessionId,
    "session"
);
ulid_id!(
    /// A guest's cart (a shopper without an account): its id, named by its `cartToken`.
    GuestId,
    "guest cart"
);
ulid_id!(
    /// A saved address's id, within its customer's address book.
    AddressId,
    "address"
);

impl AddressId {
    /// The id of the one entry a profile of the version before address books gets (its default
    /// shipping address): the user's own id, stable until the book is rewritten.
    pub fn of_user(user: UserId) -> Self {
        Self(user.0)
    }
}

ulid_id!(
    /// A product's id.
    ProductId,
    "product"
);
ulid_id!(
    /// A product image's id (also the name of its object in the image bucket).
    ImageId,
    "image"
);
ulid_id!(
    /// An order's id.
    OrderId,
    "order"
);
ulid_id!(
    /// A refund's id: the idempotency key of its refund with the payment provider.
    RefundId,
    "refund"
);
ulid_id!(
    /// A return's id (the refund a received return makes has the same id).
    ReturnId,
    "return"
);
impl RefundId {
    /// The refund a received return makes: the return's id, so the return refunds once.
    pub fn of_return(id: ReturnId) -> Self {
        Self(id.0)
    }
}

ulid_id!(
    /// A webhook endpoint's id.
    WebhookId,
    "webhook"
);
ulid_id!(
    /// An event's id (sorts by when it happened): the `webhook-id` of every delivery of the
    /// event, and what its consumers deduplicate by.
    EventId,
    "event"
);

impl EventId {
    /// The id of a ULID made elsewhere (by a monotonic generator).
    pub(crate) fn from_ulid(ulid: Ulid) -> Self {
        Self(ulid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_its_text_form() {
        let id = UserId::new();
        assert_eq!(UserId::parse(&id.to_string()), Some(id));
        let id = ProductId::new();
        assert_eq!(serde_json::from_value::<ProductId>(serde_json::json!(id.to_string())).unwrap(), id);
    }

    #[test]
    fn refuses_text_that_is_not_a_ulid() {
        assert_eq!(UserId::parse("not-an-id"), None);
        assert_eq!(ProductId::parse(""), None);
    }
}
