//! storefront: a serverless shop back-end. This crate holds everything the Lambda functions
//! share; each function is a thin `main` that hands its requests to one operation here.
//!
//! Layers, innermost first (ARCHITECTURE.md has the full picture):
//! - [`domain`]: values valid by construction and business rules; no AWS, no HTTP.
//! - [`store`]: DynamoDB persistence; the only code that knows key formats.
//! - [`auth`]: password hashing and access tokens.
//! - [`app`]: operations (register, login, …) over domain values, with [`app::AppError`].
//! - [`http`]: request parsing, problem responses, logging, the Lambda loop.
//! - [`metrics`]: CloudWatch metrics as embedded-metric-format log lines.
//! - [`api`]: one handler per endpoint: parse the request, call one operation, shape the answer.

pub mod api;
pub mod app;
pub mod auth;
pub mod clock;
pub mod config;
pub mod domain;
pub mod http;
pub mod metrics;
pub mod store;
