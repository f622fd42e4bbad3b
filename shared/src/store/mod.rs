//! Persistence on DynamoDB: the only code that knows key formats and AWS types.
//!
//! Every write that depends on current state carries a condition or runs in a transaction.
//! docs/data-model.md documents each access pattern with its key, index and cost.

mod admin;
mod catalog;
mod lifecycle;
mod orders;
mod page;
pub mod schema;
mod users;

pub use catalog::{CategoryCount, Listing, StockOutcome, WriteOutcome};
pub use lifecycle::{Changed, OrderChange};
pub use orders::{Begun, LineCheck, PlaceConflicts};
pub use page::{Page, Position};
pub use users::{Credentials, LoginAttempt, ProfileChange};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

/// An item as the SDK sees it.
pub(crate) type Item = HashMap<String, AttributeValue>;

/// A string attribute.
pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// A number attribute.
pub(crate) fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// A `{pk, sk}` key.
pub(crate) fn key(pk: String, sk: &str) -> Item {
    HashMap::from([(schema::PK.into(), s(pk)), (schema::SK.into(), s(sk))])
}

/// What can go wrong talking to the table. Expected outcomes (a taken email, a missing item)
/// are part of each method's `Ok` value, not errors.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// DynamoDB is overloaded or out of reach for now (throttling, a timeout, a conflict that
    /// outlasted its retries): the same request may well succeed in a moment.
    #[error("dynamodb {operation} unavailable: {detail}")]
    Unavailable { operation: &'static str, detail: String },
    /// DynamoDB refused or failed the call for a reason a retry will not cure (validation of
    /// our own request, a missing table, …).
    #[error("dynamodb {operation}: {detail}")]
    Backend { operation: &'static str, detail: String },
    /// An item did not decode: stored data does not have the shape this code expects.
    #[error("corrupt item {key}: {detail}")]
    Corrupt { key: String, detail: String },
}

/// DynamoDB error codes that say "not now" rather than "not this request".
const TRANSIENT_CODES: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionInProgressException",
    "TransactionConflictException",
];

impl StoreError {
    fn backend<E, R>(operation: &'static str, err: SdkError<E, R>) -> Self
    where
        E: std::error::Error + aws_sdk_dynamodb::error::ProvideErrorMetadata + 'static,
        R: std::fmt::Debug,
    {
        let transient = match &err {
            SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => true,
            SdkError::ServiceError(service) => service.err().code().is_some_and(|code| TRANSIENT_CODES.contains(&code)),
            _ => false,
        };
        let detail = match &err {
            SdkError::ServiceError(service) => {
                format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(service.err()))
            }
            other => format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(other)),
        };
        if transient { Self::Unavailable { operation, detail } } else { Self::Backend { operation, detail } }
    }
}

/// How many times a call is repeated after DynamoDB answered "not now" for part of it
/// (a transaction conflict, unprocessed batch keys), on top of the SDK's own retries.
pub(crate) const MAX_RETRIES: u32 = 3;

/// The pause before retry `attempt` (1-based): exponential from 20 ms with full jitter, so that
/// clients that collided do not collide again in step.
pub(crate) async fn backoff(attempt: u32) {
    let ceiling = 20u64 << attempt.min(6);
    let mut random = [0u8; 8];
    let jitter = match aws_lc_rs::rand::fill(&mut random) {
        Ok(()) => u64::from_le_bytes(random) % ceiling,
        Err(_) => ceiling / 2,
    };
    tokio::time::sleep(std::time::Duration::from_millis(ceiling / 2 + jitter / 2)).await;
}

/// Sends a TransactWriteItems, retrying (up to [`MAX_RETRIES`] more times, with backoff) when
/// DynamoDB cancels it only because another transaction was touching the same items at that
/// moment. With a `token` (ClientRequestToken), a repeat of the same request within 10 minutes
/// is recognised by DynamoDB and not applied twice.
pub(crate) async fn transact_with_retry(
    client: &Client,
    items: Vec<aws_sdk_dynamodb::types::TransactWriteItem>,
    token: Option<&str>,
) -> Result<
    aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsOutput,
    SdkError<
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError,
        aws_sdk_dynamodb::config::http::HttpResponse,
    >,
> {
    let mut attempt = 0;
    loop {
        let result = client
            .transact_write_items()
            .set_transact_items(Some(items.clone()))
            .set_client_request_token(token.map(str::to_owned))
            .send()
            .await;
        let conflict = match &result {
            Err(err) => only_conflicts(err),
            Ok(_) => false,
        };
        if !conflict || attempt == MAX_RETRIES {
            return result;
        }
        attempt += 1;
        backoff(attempt).await;
    }
}

type TransactError = SdkError<
    aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError,
    aws_sdk_dynamodb::config::http::HttpResponse,
>;

/// A cancellation caused only by other transactions on the same items (no condition failed).
fn only_conflicts(err: &TransactError) -> bool {
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
    match err.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(cancel)) => {
            let codes: Vec<&str> = cancel.cancellation_reasons().iter().filter_map(|r| r.code()).collect();
            codes.contains(&"TransactionConflict") && !codes.contains(&"ConditionalCheckFailed")
        }
        _ => false,
    }
}

/// A transaction that failed for no reason of its own items' conditions: unavailable when other
/// transactions on the same items kept cancelling it, a backend error otherwise.
pub(crate) fn transaction_error(err: TransactError) -> StoreError {
    if only_conflicts(&err) {
        StoreError::Unavailable { operation: "TransactWriteItems", detail: "conflicts outlasted the retries".into() }
    } else {
        StoreError::backend("TransactWriteItems", err)
    }
}

/// For a transaction that failed: which of its items failed their condition (by position).
/// Any other failure, or a cancellation where no condition failed, is a [`StoreError`].
pub(crate) fn failed_conditions(
    err: SdkError<
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError,
        aws_sdk_dynamodb::config::http::HttpResponse,
    >,
) -> Result<Vec<bool>, StoreError> {
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
    let failed: Vec<bool> = match err.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(cancel)) => {
            cancel.cancellation_reasons().iter().map(|r| r.code() == Some("ConditionalCheckFailed")).collect()
        }
        _ => Vec::new(),
    };
    if failed.contains(&true) { Ok(failed) } else { Err(transaction_error(err)) }
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

    /// Every item a query finds, following `LastEvaluatedKey` to the end.
    pub(crate) async fn query_all(
        &self,
        query: impl Fn() -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out =
                query().set_exclusive_start_key(start).send().await.map_err(|e| StoreError::backend("Query", e))?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(key) => start = Some(key),
                None => return Ok(items),
            }
        }
    }

    /// One item by key, strongly consistent (1 RRU up to 4 KB).
    pub(crate) async fn get_consistent(&self, key: Item) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::backend("GetItem", e))?;
        Ok(out.item)
    }
}
