//! Operations: what storefront does, in terms of domain values. Each HTTP function calls one.

pub mod account_emails;
pub mod accounts;
pub mod addresses;
pub mod cart;
pub mod catalog;
pub mod checkout;
mod context;
mod cursor;
pub mod discounts;
pub mod emails;
mod error;
pub mod events;
pub mod images;
pub mod lifecycle;
pub mod migrate;
pub mod notifications;
pub mod payments;
pub mod returns;
pub mod sessions;
pub mod webhooks;

pub use context::{App, KEYS_MAX_AGE_SECONDS, KEYS_MIN_AGE_SECONDS, aws_timeouts, http_client};
pub use error::{AppError, FieldError, Resource, Shortage};

/// How many times an operation decides again from fresh data because a concurrent change got in
/// first (each attempt is a guarded write). Past it, the operation answers "busy" (503), not a
/// failure of the request.
pub(crate) const MAX_DECISIONS: usize = 5;
