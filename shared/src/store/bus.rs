//! The event bus (EventBridge): where `publish-events` puts the events of the outbox. Every
//! entry has source [`EVENT_SOURCE`], the event's type as its detail type and the envelope as
//! its detail, which is what the stack's rules match on (template.yaml).

use super::StoreError;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;

/// The `source` of every entry storefront puts on its bus.
pub const EVENT_SOURCE: &str = "storefront";

/// PutEvents takes at most this many entries...
const MAX_ENTRIES: usize = 10;
/// ...of at most this many bytes in all (EventBridge's limit is 256 KB).
const MAX_REQUEST_BYTES: usize = 256 * 1024;

/// One event as the bus takes it.
#[derive(Debug, Clone)]
pub struct BusEntry {
    pub detail_type: String,
    /// The envelope, as JSON text.
    pub detail: String,
}

impl BusEntry {
    /// What EventBridge counts of an entry against a request's size.
    fn size(&self) -> usize {
        EVENT_SOURCE.len() + self.detail_type.len() + self.detail.len()
    }
}

/// The stack's event bus, reached through aws-sdk-eventbridge.
#[derive(Debug, Clone)]
pub struct EventBus {
    client: aws_sdk_eventbridge::Client,
    name: String,
}

impl EventBus {
    pub fn new(client: aws_sdk_eventbridge::Client, name: impl Into<String>) -> Self {
        Self { client, name: name.into() }
    }

    /// Puts `entries` on the bus, as few PutEvents calls as the limits allow, in order; the
    /// positions of the entries the bus did not take (a call that failed as a whole fails
    /// all of its entries). Never an error: what was not put is for the caller to retry.
    pub async fn put(&self, entries: &[BusEntry]) -> Vec<usize> {
        let mut failed = Vec::new();
        let mut start = 0;
        while start < entries.len() {
            let mut end = start;
            let mut bytes = 0;
            while end < entries.len()
                && end - start < MAX_ENTRIES
                && (end == start || bytes + entries[end].size() <= MAX_REQUEST_BYTES)
            {
                bytes += entries[end].size();
                end += 1;
            }
            let batch: Vec<PutEventsRequestEntry> = entries[start..end]
                .iter()
                .map(|e| {
                    PutEventsRequestEntry::builder()
                        .event_bus_name(&self.name)
                        .source(EVENT_SOURCE)
                        .detail_type(&e.detail_type)
                        .detail(&e.detail)
                        .build()
                })
                .collect();
            match self.client.put_events().set_entries(Some(batch)).send().await {
                Ok(out) => {
                    for (i, result) in out.entries().iter().enumerate() {
                        if result.error_code().is_some() {
                            tracing::warn!(code = ?result.error_code(), message = ?result.error_message(),
                                "the event bus did not take an event");
                            failed.push(start + i);
                        }
                    }
                    // An answer with fewer results than entries leaves the rest unconfirmed.
                    failed.extend((start + out.entries().len())..end);
                }
                Err(err) => {
                    let err = StoreError::Unavailable {
                        operation: "PutEvents",
                        detail: aws_sdk_eventbridge::error::DisplayErrorContext(&err).to_string(),
                    };
                    tracing::warn!(error = %err, "the event bus is out of reach");
                    failed.extend(start..end);
                }
            }
            start = end;
        }
        failed
    }
}
