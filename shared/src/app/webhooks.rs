//! Webhooks for the shop's other systems: each event goes to every enabled endpoint that asked
//! for its type, once per (endpoint, event), signed per Standard Webhooks; a delivery not
//! answered with a 2xx within 10 seconds is tried again on the retry schedule until it
//! succeeds or its window is over; an endpoint whose deliveries have all failed for a day is
//! disabled.

use super::{App, AppError};
use crate::auth::outgoing::{
    HEADER_WEBHOOK_ID, HEADER_WEBHOOK_SIGNATURE, HEADER_WEBHOOK_TIMESTAMP, new_secret, signature_header,
};
use crate::domain::{
    DeliveryStatus, EventId, EventSelection, Text, Timestamp, UserId, WebhookDelivery, WebhookEndpoint, WebhookId,
    WebhookUrl,
};
use serde::Serialize;
use serde_json::Value;

/// How many due deliveries one run of the retry job sends (it runs every minute).
const DUE_PER_RUN: i32 = 100;

/// A number in [0, 1) from the operating system's random source: the retry schedule's jitter.
fn jitter() -> f64 {
    let mut bytes = [0u8; 4];
    if aws_lc_rs::rand::fill(&mut bytes).is_err() {
        return 0.5;
    }
    f64::from(u32::from_le_bytes(bytes)) / (f64::from(u32::MAX) + 1.0)
}

/// Registers an endpoint for `events`, made by `admin`, with a new secret.
pub async fn register(
    app: &App,
    admin: UserId,
    url: WebhookUrl,
    events: EventSelection,
    description: Option<Text>,
) -> Result<WebhookEndpoint, AppError> {
    let now = app.clock.now();
    let endpoint = WebhookEndpoint {
        id: WebhookId::new(),
        url,
        events: events.names(),
        description,
        enabled: true,
        secret: new_secret(),
        previous_secret: None,
        created_by: admin,
        failing_since: None,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    if app.store.insert_webhook(&endpoint).await? {
        Ok(endpoint)
    } else {
        Err(AppError::Internal(format!("webhook id collision: {}", endpoint.id)))
    }
}

/// What the consumer did with one event.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliverReport {
    pub endpoints: usize,
    pub delivered: usize,
    pub failed: usize,
    /// Endpoints that had this event already (the bus handed it over again).
    pub repeated: usize,
}

/// Delivers `envelope` (an event as asyncapi.yaml describes it) to every enabled endpoint that
/// asked for its type: the first attempt now, the retries later (`retry_due`).
pub async fn deliver(app: &App, envelope: &Value) -> Result<DeliverReport, AppError> {
    let kind = envelope["type"].as_str().unwrap_or_default();
    let id = envelope["id"]
        .as_str()
        .and_then(EventId::parse)
        .ok_or_else(|| AppError::Internal("an event without an id".into()))?;
    let body = envelope.to_string();
    let mut report = DeliverReport::default();
    for endpoint in app.store.enabled_webhooks().await? {
        if !endpoint.selection().includes(kind) {
            continue;
        }
        report.endpoints += 1;
        let now = app.clock.now();
        let delivery = WebhookDelivery::new(endpoint.id, id, kind, now);
        let delivery = if app.store.insert_delivery(&delivery, &body).await? {
            delivery
        } else {
            // Handed over again: an attempt that never happened (the consumer stopped after
            // recording the delivery) happens now; one that did stays with the retry job.
            match app.store.delivery(endpoint.id, id).await? {
                Some((existing, _)) if existing.attempts == 0 && existing.status == DeliveryStatus::Pending => existing,
                _ => {
                    report.repeated += 1;
                    continue;
                }
            }
        };
        match attempt(app, &endpoint, &delivery, &body).await? {
            Some(done) if done.status == DeliveryStatus::Succeeded => report.delivered += 1,
            Some(_) => report.failed += 1,
            None => report.repeated += 1,
        }
    }
    Ok(report)
}

/// Makes the next attempt of `delivery` (as read) to `endpoint`, if no other worker holds it:
/// the delivery as it is after it, or `None` when another worker had it.
async fn attempt(
    app: &App,
    endpoint: &WebhookEndpoint,
    delivery: &WebhookDelivery,
    body: &str,
) -> Result<Option<WebhookDelivery>, AppError> {
    let now = app.clock.now();
    if !app.store.claim_attempt(delivery, now).await? {
        return Ok(None);
    }
    let id = delivery.event_id.to_string();
    let timestamp = now.unix_seconds();
    let signature = signature_header(&endpoint.signing_secrets(now), &id, timestamp, body);
    let headers = [
        (HEADER_WEBHOOK_ID, id.clone()),
        (HEADER_WEBHOOK_TIMESTAMP, timestamp.to_string()),
        (HEADER_WEBHOOK_SIGNATURE, signature),
    ];
    let result =
        crate::store::receivers::post(&endpoint.url, app.config.webhooks.policy, &headers, body.to_owned()).await;
    let after = delivery.after_attempt(&result, app.clock.now(), &app.config.webhooks.schedule, jitter());
    if !app.store.record_attempt(delivery, &after, body).await? {
        return Ok(None);
    }
    tracing::info!(webhookId = %endpoint.id, eventId = %id, attempt = after.attempts, status = ?after.last_response_status,
        outcome = after.status.as_str(), "webhook delivery");
    let failing = if result.succeeded() { None } else { Some(after.first_attempt_at.unwrap_or(now)) };
    app.store.set_webhook_failing(endpoint.id, failing).await?;
    let streak = WebhookEndpoint {
        failing_since: endpoint.failing_since.or(failing).filter(|_| failing.is_some()),
        ..endpoint.clone()
    };
    if streak.failing_too_long(app.clock.now())
        && let Some(fresh) = app.store.webhook(endpoint.id).await?
    {
        disable(app, &fresh, app.clock.now()).await?;
    }
    Ok(Some(after))
}

/// What a run of the retry job did.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryReport {
    pub attempted: usize,
    pub delivered: usize,
    pub disabled: usize,
}

/// Sends the deliveries that are due (the job every minute), and disables endpoints whose
/// deliveries have all failed for a day (their pending deliveries then fail).
pub async fn retry_due(app: &App) -> Result<RetryReport, AppError> {
    let mut report = RetryReport::default();
    let now = app.clock.now();
    for due in app.store.due_deliveries(now, DUE_PER_RUN).await? {
        let Some((delivery, body)) = app.store.delivery(due.webhook_id, due.event_id).await? else { continue };
        if delivery.status != DeliveryStatus::Pending {
            continue;
        }
        let endpoint = app.store.webhook(delivery.webhook_id).await?;
        let Some(endpoint) = endpoint.filter(|e| e.enabled) else {
            // Deleted or disabled since: the delivery will not happen.
            let gone = WebhookDelivery { status: DeliveryStatus::Failed, next_attempt_at: None, ..delivery.clone() };
            if app.store.claim_attempt(&delivery, now).await? {
                app.store.record_attempt(&delivery, &gone, &body).await?;
            }
            continue;
        };
        if endpoint.failing_too_long(now) {
            if disable(app, &endpoint, now).await? {
                report.disabled += 1;
            }
            continue;
        }
        report.attempted += 1;
        if let Some(after) = attempt(app, &endpoint, &delivery, &body).await?
            && after.status == DeliveryStatus::Succeeded
        {
            report.delivered += 1;
        }
    }
    Ok(report)
}

/// Sends a delivery again now, whatever became of it (an admin's retry): the delivery after it.
pub async fn retry_one(app: &App, webhook: WebhookId, event: EventId) -> Result<Option<WebhookDelivery>, AppError> {
    let Some(endpoint) = app.store.webhook(webhook).await? else { return Ok(None) };
    let Some((delivery, body)) = app.store.delivery(webhook, event).await? else { return Ok(None) };
    Ok(attempt(app, &endpoint, &delivery, &body).await?.or(Some(delivery)))
}

/// Switches an endpoint off (every delivery failed for a day); `false` if it changed meanwhile.
async fn disable(app: &App, endpoint: &WebhookEndpoint, now: Timestamp) -> Result<bool, AppError> {
    let next = WebhookEndpoint { enabled: false, version: endpoint.version + 1, updated_at: now, ..endpoint.clone() };
    tracing::warn!(webhookId = %endpoint.id, "disabling a webhook endpoint whose deliveries have failed for a day");
    Ok(app.store.replace_webhook(endpoint, &next, &[]).await?)
}
