//! Transactions whose writes carry names: a write is added under a name of the caller's
//! choosing (`Line(product)`, `Cart`, …), and a cancellation says which names' conditions
//! failed, with the item as it was when asked for, instead of positions to count.

use super::item::Item;
use super::{MAX_RETRIES, Store, StoreError, backoff};
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};

#[derive(Clone)]
enum Kind {
    Put(Item),
    Update(Item, String),
    Delete(Item),
    /// Writes nothing: only its condition must hold (in a transaction of other writes).
    Check(Item),
}

/// One write of a transaction: a put, an update, a delete or a condition check, with its
/// condition and the placeholders its expressions use.
#[derive(Clone)]
pub(crate) struct Write {
    kind: Kind,
    condition: Option<String>,
    names: Vec<(String, String)>,
    values: Vec<(String, AttributeValue)>,
    old_on_failure: bool,
}

impl Write {
    fn new(kind: Kind) -> Self {
        Self { kind, condition: None, names: Vec::new(), values: Vec::new(), old_on_failure: false }
    }

    pub(crate) fn put(item: Item) -> Self {
        Self::new(Kind::Put(item))
    }

    pub(crate) fn update(key: Item, expression: impl Into<String>) -> Self {
        Self::new(Kind::Update(key, expression.into()))
    }

    pub(crate) fn delete(key: Item) -> Self {
        Self::new(Kind::Delete(key))
    }

    /// A condition on another item, which the transaction does not change.
    pub(crate) fn check(key: Item) -> Self {
        Self::new(Kind::Check(key))
    }

    /// Only if `condition` holds; otherwise the whole transaction is refused.
    pub(crate) fn when(mut self, condition: impl Into<String>) -> Self {
        self.condition = Some(condition.into());
        self
    }

    /// The value of placeholder `:name`.
    pub(crate) fn value(mut self, placeholder: &str, value: AttributeValue) -> Self {
        self.values.push((placeholder.to_owned(), value));
        self
    }

    /// The attribute a `#name` placeholder stands for (reserved words such as `status`).
    pub(crate) fn name(mut self, placeholder: &str, attribute: &str) -> Self {
        self.names.push((placeholder.to_owned(), attribute.to_owned()));
        self
    }

    /// When the condition fails, the refusal carries the item as it was.
    pub(crate) fn old_on_failure(mut self) -> Self {
        self.old_on_failure = true;
        self
    }

    fn build(self, table: &str) -> Result<TransactWriteItem, StoreError> {
        let built = |e: aws_sdk_dynamodb::error::BuildError| StoreError::Backend {
            operation: "TransactWriteItems",
            detail: e.to_string(),
        };
        let names = (!self.names.is_empty()).then(|| self.names.into_iter().collect());
        let values = (!self.values.is_empty()).then(|| self.values.into_iter().collect());
        let old = self.old_on_failure.then_some(ReturnValuesOnConditionCheckFailure::AllOld);
        let condition = self.condition;
        // The three builders share these setters but no trait: one macro applies them to each.
        macro_rules! guarded {
            ($builder:expr) => {
                $builder
                    .table_name(table)
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(names)
                    .set_expression_attribute_values(values)
                    .set_return_values_on_condition_check_failure(old)
                    .build()
                    .map_err(built)?
            };
        }
        let write = TransactWriteItem::builder();
        Ok(match self.kind {
            Kind::Put(item) => write.put(guarded!(Put::builder().set_item(Some(item)))),
            Kind::Update(key, expression) => {
                write.update(guarded!(Update::builder().set_key(Some(key)).update_expression(expression)))
            }
            Kind::Delete(key) => write.delete(guarded!(Delete::builder().set_key(Some(key)))),
            Kind::Check(key) => write.condition_check(guarded!(ConditionCheck::builder().set_key(Some(key)))),
        }
        .build())
    }
}

/// The writes of one transaction, each under a name.
impl Write {
    /// Sends a write on its own: half the cost of a transaction of one. The SDK does not resend
    /// it (a write such as a delta may not be applied twice, and a lone write has no token
    /// that would make a resend harmless); a failure in transit is a 503 the caller decides
    /// about. An answer that says the write was not applied (throttling, or the item is in
    /// another transaction) is sent again up to [`MAX_RETRIES`] times after a backoff. A
    /// failed condition is `Err` with the old item when it asked for it.
    async fn send_alone(self, store: &Store) -> Result<Result<(), Option<Item>>, StoreError> {
        let mut attempt = 0;
        loop {
            match self.clone().send_once(store).await {
                Err((_, true)) if attempt < MAX_RETRIES => {
                    attempt += 1;
                    backoff(attempt).await;
                }
                Err((err, _)) => return Err(err),
                Ok(outcome) => return Ok(outcome),
            }
        }
    }

    /// One attempt; an error says whether DynamoDB refused it without applying it, for now.
    async fn send_once(self, store: &Store) -> Result<Result<(), Option<Item>>, (StoreError, bool)> {
        use aws_sdk_dynamodb::error::ProvideErrorMetadata;
        let no_resend = || {
            aws_sdk_dynamodb::Config::builder().retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
        };
        let names = (!self.names.is_empty()).then(|| self.names.into_iter().collect());
        let values = (!self.values.is_empty()).then(|| self.values.into_iter().collect());
        let old = self.old_on_failure.then_some(ReturnValuesOnConditionCheckFailure::AllOld);
        let client = store.client();
        macro_rules! send {
            ($builder:expr, $operation:literal) => {
                match $builder
                    .table_name(store.table())
                    .set_condition_expression(self.condition)
                    .set_expression_attribute_names(names)
                    .set_expression_attribute_values(values)
                    .set_return_values_on_condition_check_failure(old)
                    .customize()
                    .config_override(no_resend())
                    .send()
                    .await
                {
                    Ok(_) => Ok(Ok(())),
                    Err(err) => match super::item::refused(&err) {
                        Some(old) => Ok(Err(old)),
                        None => {
                            let code = err.as_service_error().and_then(|e| e.code());
                            let not_applied = code.is_some_and(|c| NOT_APPLIED.contains(&c));
                            Err((StoreError::backend($operation, err), not_applied))
                        }
                    },
                }
            };
        }
        match self.kind {
            Kind::Put(item) => send!(client.put_item().set_item(Some(item)), "PutItem"),
            Kind::Update(key, expression) => {
                send!(client.update_item().set_key(Some(key)).update_expression(expression), "UpdateItem")
            }
            Kind::Delete(key) => send!(client.delete_item().set_key(Some(key)), "DeleteItem"),
            Kind::Check(_) => Err((
                StoreError::Backend {
                    operation: "ConditionCheck",
                    detail: "a condition check writes nothing alone".into(),
                },
                false,
            )),
        }
    }
}

/// Errors of a single write that DynamoDB answers without applying it, and that may pass in a
/// moment: a resend cannot apply it twice.
const NOT_APPLIED: &[&str] = &[
    "TransactionConflictException",
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
];

pub(crate) struct Transaction<N> {
    writes: Vec<(N, Write)>,
}

/// A transaction that did not happen because conditions failed: which, by name.
#[derive(Debug)]
pub(crate) struct Refused<N> {
    failed: Vec<(N, Option<Item>)>,
}

impl<N: PartialEq> Refused<N> {
    /// Whether the write named `name` failed its condition.
    pub(crate) fn by(&self, name: &N) -> bool {
        self.failed.iter().any(|(n, _)| n == name)
    }

    /// The item as it was when the write named `name` failed its condition (if it asked).
    pub(crate) fn old(&self, name: &N) -> Option<&Item> {
        self.failed.iter().find(|(n, _)| n == name).and_then(|(_, item)| item.as_ref())
    }

    /// The names of the writes that failed their conditions.
    pub(crate) fn names(&self) -> impl Iterator<Item = &N> {
        self.failed.iter().map(|(n, _)| n)
    }
}

type TransactError = SdkError<TransactWriteItemsError, aws_sdk_dynamodb::config::http::HttpResponse>;

/// The cancellation reasons of a transaction that DynamoDB cancelled.
fn reasons(err: &TransactError) -> Option<&[aws_sdk_dynamodb::types::CancellationReason]> {
    match err.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(cancel)) => Some(cancel.cancellation_reasons()),
        _ => None,
    }
}

/// Why DynamoDB may cancel a transaction "not now" rather than "not this": another transaction
/// on the same items, or throttling of one of them.
const TRANSIENT_REASONS: &[&str] = &["TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"];

/// A cancellation that a retry may cure: some item was busy or throttled, no condition failed,
/// and nothing else went wrong (the other items' reasons are `None`).
fn only_transient(err: &TransactError) -> bool {
    reasons(err).is_some_and(|reasons| {
        let codes: Vec<&str> = reasons.iter().filter_map(|r| r.code()).filter(|c| *c != "None").collect();
        !codes.is_empty() && codes.iter().all(|c| TRANSIENT_REASONS.contains(c))
    })
}

impl<N: PartialEq> Transaction<N> {
    pub(crate) fn new() -> Self {
        Self { writes: Vec::new() }
    }

    /// A transaction of one write (sent alone: see [`Write::send_alone`]).
    pub(crate) fn single(write: Write) -> Self
    where
        N: Default,
    {
        Self { writes: vec![(N::default(), write)] }
    }

    pub(crate) fn add(&mut self, name: N, write: Write) {
        self.writes.push((name, write));
    }

    /// Runs the transaction: `Ok(Ok(()))` when every write happened, `Ok(Err(refused))` when
    /// conditions failed (and nothing happened). A cancellation caused only by other transactions
    /// or throttling is retried (up to [`MAX_RETRIES`] times, with backoff), then
    /// [`StoreError::Unavailable`]. Every attempt carries a ClientRequestToken of its own
    /// (`<token>-<attempt>`, `token` a fresh ULID unless the caller gives one, at most 28
    /// characters), so that the SDK resending an attempt that did commit (after it timed out) is
    /// recognised by DynamoDB instead of applied again or refused.
    pub(crate) async fn commit(
        mut self,
        store: &Store,
        token: Option<&str>,
    ) -> Result<Result<(), Refused<N>>, StoreError> {
        if self.writes.len() == 1
            && let Some((name, write)) = self.writes.pop()
        {
            return Ok(write.send_alone(store).await?.map_err(|old| Refused { failed: vec![(name, old)] }));
        }
        self.commit_all(store, token).await
    }

    async fn commit_all(self, store: &Store, token: Option<&str>) -> Result<Result<(), Refused<N>>, StoreError> {
        let token = token.map_or_else(|| ulid::Ulid::new().to_string(), str::to_owned);
        let mut names = Vec::with_capacity(self.writes.len());
        let mut items = Vec::with_capacity(self.writes.len());
        for (name, write) in self.writes {
            names.push(name);
            items.push(write.build(store.table())?);
        }
        let mut attempt = 0;
        let err = loop {
            let result = store
                .client()
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .client_request_token(format!("{token}-{attempt}"))
                .send()
                .await;
            match result {
                Ok(_) => return Ok(Ok(())),
                Err(err) if only_transient(&err) && attempt < MAX_RETRIES => {
                    attempt += 1;
                    backoff(attempt).await;
                }
                Err(err) => break err,
            }
        };
        if only_transient(&err) {
            return Err(StoreError::Unavailable {
                operation: "TransactWriteItems",
                detail: "conflicts or throttling outlasted the retries".into(),
            });
        }
        let failed: Vec<(N, Option<Item>)> = match reasons(&err) {
            Some(reasons) => names
                .into_iter()
                .zip(reasons)
                .filter(|(_, r)| r.code() == Some("ConditionalCheckFailed"))
                .map(|(n, r)| (n, r.item().cloned()))
                .collect(),
            None => Vec::new(),
        };
        if failed.is_empty() {
            Err(StoreError::backend("TransactWriteItems", err))
        } else {
            Ok(Err(Refused { failed }))
        }
    }
}
