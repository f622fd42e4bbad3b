//! One handler per HTTP endpoint. Each parses its request, calls one operation of [`crate::app`]
//! and shapes the answer; the Lambda function for the endpoint is `http::serve(<handler>)`.

pub mod accounts;
pub mod addresses;
pub mod cart;
pub mod catalog;
pub mod checkout;
pub mod discounts;
pub mod events;
pub mod images;
pub mod jobs;
pub mod notifications;
pub mod orders;
pub mod payments;
pub mod returns;
pub mod webhooks;
