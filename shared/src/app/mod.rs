//! Operations: what storefront does, in terms of domain values. Each HTTP function calls one.

pub mod accounts;
pub mod catalog;
mod context;
mod cursor;
mod error;

pub use context::App;
pub use error::{AppError, FieldError};
