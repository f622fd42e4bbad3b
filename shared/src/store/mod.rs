//! Persistence on DynamoDB: the only code that knows key formats and AWS types.
//!
//! Every write that depends on current state carries a condition or runs in a transaction.
//! docs/data-model.md documents each access pattern with its key, index and cost.

mod admin;
pub mod bus;
mod catalog;
mod images;
mod inventory;
mod item;
pub mod keys;
mod lifecycle;
pub mod mailer;
mod migrate;
mod orders;
pub mod outbox;
mod page;
pub mod receivers;
mod refunds;
pub mod schema;
mod sessions;
pub mod stripe;
mod tx;
mod users;
mod webhooks;

pub use catalog::{Listed, Shelf, ShelfChange, StockOutcome, Stocked, WriteOutcome};
pub use images::{Arrived, Objects, Presigned};
pub use inventory::StockLevel;
pub use keys::Counter;
pub use keys::image_object as image_path;
pub use lifecycle::Changed;
pub use migrate::Migrated;
pub(crate) use migrate::legacy_variant;
pub use orders::{Begun, BuyerLimits, LineCheck, PlaceConflicts, Placing};
pub use page::{Page, Position};
pub use refunds::{Recorded, Refunding};
pub use sessions::{MAX_LISTED_SESSIONS, StoredRefresh};
pub use users::{AccountToken, Attempt, Credentials};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use item::Item;

/// What can go wrong talking to the table (or the image bucket). Expected outcomes (a taken email, a missing item)
/// are part of each method's `Ok` value, not errors.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// DynamoDB is overloaded or out of reach for now (throttling, a timeout, a conflict that
    /// outlasted its retries): the same request may well succeed in a moment.
    #[error("{operation} unavailable: {detail}")]
    Unavailable { operation: &'static str, detail: String },
    /// DynamoDB refused or failed the call for a reason a retry will not cure (validation of
    /// our own request, a missing table, …).
    #[error("{operation}: {detail}")]
    Backend { operation: &'static str, detail: String },
    /// An item did not decode: stored data does not have the shape this code expects.
    #[error("corrupt item {key}: {detail}")]
    Corrupt { key: String, detail: String },
}

/// DynamoDB and S3 error codes that say "not now" rather than "not this request".
const TRANSIENT_CODES: &[&str] = &[
    "SlowDown",
    "InternalError",
    "RequestTimeout",
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

    /// A query of one partition (`#pk = :pk`, on its index if it has one), to refine and send.
    pub(crate) fn query(
        &self,
        located: &keys::Located,
    ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        self.client
            .query()
            .table_name(&self.table)
            .set_index_name(located.index.map(str::to_owned))
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", located.partition_key)
            .expression_attribute_values(":pk", item::s(located.value.clone()))
    }

    /// Every item of a partition (that `filter` keeps), following `LastEvaluatedKey` to the end.
    pub(crate) async fn query_all(
        &self,
        partition: keys::Partition<'_>,
        filter: Option<(&str, &str, aws_sdk_dynamodb::types::AttributeValue)>,
        consistent: bool,
    ) -> Result<Vec<Item>, StoreError> {
        let located = partition.locate();
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let mut query = self.query(&located).set_exclusive_start_key(start);
            if let Some((expression, placeholder, value)) = &filter {
                query = query.filter_expression(*expression).expression_attribute_values(*placeholder, value.clone());
            }
            if consistent {
                query = query.consistent_read(true);
            }
            let out = query.send().await.map_err(|e| StoreError::backend("Query", e))?;
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
