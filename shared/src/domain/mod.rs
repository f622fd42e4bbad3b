//! The pure domain layer: values that are valid by construction and the rules that combine them.
//!
//! Nothing in here knows about DynamoDB, HTTP or Lambda. Every type is built by one `parse`
//! constructor that either returns a valid value or a [`Invalid`] message meant for a client.

/// The one way to define a string newtype: `as_str`, `Display`, and conversions from and to
/// `String` that go through the type's `parse` (so serde, with `#[serde(try_from = "String",
/// into = "String")]` on the type, checks a value read from a request or from the table exactly
/// as one typed in). The inner value is a `String` or a [`Text`].
macro_rules! string_newtype {
    ($($name:ident),+ $(,)?) => {$(
        impl $name {
            pub fn as_str(&self) -> &str {
                self.0.as_str()
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl TryFrom<String> for $name {
            type Error = $crate::domain::Invalid;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }
        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0.into()
            }
        }
    )+};
}

mod address;
mod catalog;
mod discount;
mod email;
mod event;
mod ids;
mod image;
pub mod lifecycle;
mod order;
pub mod pricing;
mod refund;
mod session;
mod text;
mod time;
mod user;
mod variant;
mod webhook;

pub use address::{ADDRESS_FIELDS, Address, AddressBook, AddressBookFull, AddressEdit, AddressEntry, CountryCode};
pub use catalog::{
    CategoryCount, CategorySlug, ChangeRefused, Currency, DEFAULT_LOW_STOCK_THRESHOLD, Description, Listing, Money,
    Product, ProductChange, ProductName, SearchQuery, Sku, Sort, Stock, StockDelta, Unresolved, VariantChange,
    index_prefixes, parse_low_stock_threshold, parse_price, search_text, search_words,
};
pub use discount::{Discount, DiscountCode, MAX_PERCENT_OFF, NewDiscount, parse_max_redemptions, parse_min_subtotal};
pub use email::Email;
pub use event::{Event, EventType, LowStock, Subject};
pub use ids::{
    AddressId, EventId, GuestId, ImageId, OrderId, ProductId, RefundId, ReturnId, SessionId, UserId, WebhookId,
};
pub use image::{
    AltText, Image, ImageEdit, ImageFormat, MAX_IMAGE_BYTES, MAX_IMAGES, Rejected, UPLOAD_SECONDS, Upload, arrange,
    inspect, parse_content_length,
};
pub use lifecycle::{
    ADMIN_SETTABLE, Actor, Effects, HistoryEntry, InvalidTransition, OrderChange, PaymentChange, admin_status,
    tracking_allowed,
};
pub use order::{
    Buyer, Capped, Cart, CartFull, CartLine, IdempotencyKey, Order, OrderLine, OrderStatus, Payment, PaymentIssue,
    PaymentState, ProviderName, Quantity, Shopper,
};
pub use pricing::{DiscountRejection, PricingRules, ShippingMethod, Totals};
pub use refund::{
    Paid, PaymentStatus, Refund, RefundAsk, RefundPlan, RefundRefused, RefundSource, RefundStatus, Return,
    ReturnRefused, ReturnStatus, UnitsBack, parse_refund_reason, parse_return_reason, shares, units_value,
};
pub use session::{
    ClientKey, PasswordChange, REFRESH_GRACE_SECONDS, Refresh, RefreshRecord, SESSION_IDLE_SECONDS,
    SESSION_MAX_SECONDS, Session, UserAgent, refresh_decision,
};
pub use text::{PersonName, Text};
pub use time::Timestamp;
pub use user::{ACCOUNT_EMAIL_WINDOW_SECONDS, MAX_ACCOUNT_EMAILS, Password, ProfileChange, Role, TokenPurpose, User};
pub use variant::{
    Choice, Crossing, Inventory, InventoryRefusal, ItemId, MAX_OPTION_VALUES, MAX_OPTIONS, MAX_VARIANTS, OptionName,
    OptionValue, Options, PriceRange, ProductOption, Variant, VariantId, VariantRule, check_variants, crossing,
    crossing_at,
};
pub use webhook::{
    AttemptResult, DELIVERY_TIMEOUT_SECONDS, DISABLE_AFTER_SECONDS, DeliveryStatus, EventSelection, MAX_EVENT_TYPES,
    OLD_SECRET_SECONDS, RetrySchedule, UrlPolicy, WebhookDelivery, WebhookEndpoint, WebhookSecret, WebhookUrl,
    forbidden_address,
};

/// Why a client-supplied value was refused: a sentence fit to show to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

impl Invalid {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}
