//! The pure domain layer: values that are valid by construction and the rules that combine them.
//!
//! Nothing in here knows about DynamoDB, HTTP or Lambda. Every type is built by one `parse`
//! constructor that either returns a valid value or a [`Invalid`] message meant for a client.

mod address;
mod catalog;
mod discount;
mod email;
mod ids;
pub mod lifecycle;
mod order;
pub mod pricing;
mod text;
mod time;
mod user;

pub use address::{ADDRESS_FIELDS, Address, CountryCode};
pub use catalog::{
    CategoryCount, CategorySlug, Currency, Description, Listing, Money, Product, ProductChange, ProductName,
    SearchQuery, Sku, Stock, StockDelta, index_prefixes, parse_price, search_text, search_words,
};
pub use discount::{Discount, DiscountCode, MAX_PERCENT_OFF, NewDiscount, parse_max_redemptions, parse_min_subtotal};
pub use email::Email;
pub use ids::{OrderId, ProductId, UserId};
pub use lifecycle::{
    ADMIN_SETTABLE, Actor, Effects, HistoryEntry, InvalidTransition, OrderChange, admin_status, tracking_allowed,
};
pub use order::{Cart, CartFull, CartLine, IdempotencyKey, Order, OrderLine, OrderStatus, Quantity};
pub use pricing::{DiscountRejection, PricingRules, ShippingMethod, Totals};
pub use text::{PersonName, Text};
pub use time::Timestamp;
pub use user::{Password, ProfileChange, Role, User};

/// Why a client-supplied value was refused: a sentence fit to show to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

impl Invalid {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}
