//! `publish-events`: invoked by the event source mapping of the table's stream (filtered to
//! new outbox items), it puts their events on the bus and reports a partial batch failure
//! (`batchItemFailures`) for the first record it could not publish.

use crate::app::App;
use crate::app::events::{OutboxRecord, publish};
use crate::http::ApiError;
use aws_lambda_events::event::dynamodb::Event as StreamEvent;
use serde_json::{Value, json};

/// The stream's event filter of template.yaml (`FilterCriteria`): new outbox items only. The
/// local stack applies the same pattern (a test proves they are the same).
pub const STREAM_FILTER: &str = r#"{"eventName":["INSERT"],"dynamodb":{"NewImage":{"entity":{"S":["event"]}}}}"#;

/// The stream event: every record that holds an outbox item is published; the answer names
/// the record to resume from, if any.
pub async fn publish_events(app: &App, event: Value) -> Result<Value, ApiError> {
    let stream: StreamEvent =
        serde_json::from_value(event).map_err(|e| ApiError::internal(format!("not a DynamoDB stream event: {e}")))?;
    let mut records = Vec::with_capacity(stream.records.len());
    for record in stream.records {
        match crate::store::outbox::envelopes_in_image(record.change.new_image) {
            Some(envelopes) => records
                .push(OutboxRecord { sequence_number: record.change.sequence_number.unwrap_or_default(), envelopes }),
            // The filter passes outbox items only; anything else has nothing to publish.
            None => tracing::warn!(eventId = ?record.event_id, "a stream record that is not an outbox item"),
        }
    }
    let failures: Vec<Value> =
        publish(app, &records).await?.into_iter().map(|sequence| json!({"itemIdentifier": sequence})).collect();
    Ok(json!({"batchItemFailures": failures}))
}
