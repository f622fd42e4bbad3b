//! One handler per HTTP endpoint. Each parses its request, calls one operation of [`crate::app`]
//! and shapes the answer; the Lambda function for the endpoint is `http::serve(<handler>)`.

pub mod accounts;
pub mod catalog;
pub mod orders;
