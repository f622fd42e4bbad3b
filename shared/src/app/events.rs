//! Publishing the outbox: the table's stream hands each new outbox item to `publish-events`
//! once, in order per item; its events go on the event bus.

use super::{App, AppError};
use crate::store::bus::BusEntry;

/// One stream record of an outbox item: its sequence number (what a partial batch failure
/// names) and the envelopes it holds.
#[derive(Debug, Clone)]
pub struct OutboxRecord {
    pub sequence_number: String,
    pub envelopes: Vec<String>,
}

/// The detail type of an envelope: its `type`.
fn detail_type(envelope: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(envelope).ok()?;
    value.get("type")?.as_str().map(str::to_owned)
}

/// Records the business metrics an event counts for. Counted here, once an event is on the
/// bus for good, rather than where it happens: an event exists only if its change was
/// stored, and every money event passes here, whichever path made it.
fn count(app: &App, envelope: &str) {
    use crate::metrics::Metric;
    let Ok(event) = serde_json::from_str::<serde_json::Value>(envelope) else { return };
    let data = &event["data"];
    match event["type"].as_str().unwrap_or_default() {
        "order.placed" => {
            app.metrics.record(Metric::OrdersPlaced, 1.0);
            if let Some(total) = data["totalCents"].as_f64() {
                app.metrics.record(Metric::OrderValueCents, total);
            }
        }
        "order.paid" => app.metrics.record(Metric::PaymentsCaptured, 1.0),
        "order.refunded" => app.metrics.record(Metric::RefundsIssued, 1.0),
        "payment.issue" => {
            app.metrics.record_by(Metric::PaymentIssue, data["issue"].as_str().unwrap_or("unknown"), 1.0)
        }
        _ => {}
    }
}

/// Puts the events of `records` on the bus, in order. Returns the sequence number of the
/// first record an event of which the bus did not take (the stream then hands that record
/// and every later one again; events already put go again too, with the same ids, which
/// consumers deduplicate by), or `None` when every event is on the bus.
pub async fn publish(app: &App, records: &[OutboxRecord]) -> Result<Option<String>, AppError> {
    let mut entries = Vec::new();
    let mut owner = Vec::new();
    for (i, record) in records.iter().enumerate() {
        for envelope in &record.envelopes {
            let Some(detail_type) = detail_type(envelope) else {
                // Written by this code, so never expected; retrying would not mend it.
                tracing::error!(sequenceNumber = %record.sequence_number, "an outbox envelope without a type");
                continue;
            };
            entries.push(BusEntry { detail_type, detail: envelope.clone() });
            owner.push(i);
        }
    }
    if entries.is_empty() {
        return Ok(None);
    }
    let failed = app.bus()?.put(&entries).await;
    let first = failed.iter().map(|&entry| owner[entry]).min();
    tracing::info!(records = records.len(), events = entries.len(), failed = failed.len(), "published");
    // The records from the first failed one on come again, and are counted then.
    for (entry, _) in entries.iter().zip(&owner).filter(|(_, i)| first.is_none_or(|f| **i < f)) {
        count(app, &entry.detail);
    }
    Ok(first.map(|i| records[i].sequence_number.clone()))
}
