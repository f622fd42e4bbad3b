//! Persistence on DynamoDB: the only code that knows key formats and AWS types.
//!
//! Every write that depends on current state carries a condition or runs in a transaction.
//! docs/data-model.md documents each access pattern with its key, index and cost.

mod admin;
pub mod schema;
mod users;

pub use users::{Credentials, LoginAttempt, ProfileChange};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;

/// What can go wrong talking to the table. Expected outcomes (a taken email, a missing item)
/// are part of each method's `Ok` value, not errors.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// DynamoDB refused or failed the call (throttling, network, validation of our own request).
    #[error("dynamodb {operation}: {detail}")]
    Backend { operation: &'static str, detail: String },
    /// An item did not decode: stored data does not have the shape this code expects.
    #[error("corrupt item {key}: {detail}")]
    Corrupt { key: String, detail: String },
}

impl StoreError {
    fn backend<E, R>(operation: &'static str, err: SdkError<E, R>) -> Self
    where
        E: std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        let detail = match &err {
            SdkError::ServiceError(service) => {
                format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(service.err()))
            }
            other => format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(other)),
        };
        Self::Backend { operation, detail }
    }
}

/// The table and the client that reaches it.
#[derive(Debug, Clone)]
pub struct Store {
    client: Client,
    table: String,
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }
}
