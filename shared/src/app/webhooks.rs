//! Webhooks for the shop's other systems: each event goes to every enabled endpoint that asked
//! for its type, once per (endpoint, event), signed per Standard Webhooks; a delivery not
//! answered with a 2xx within 10 seconds is tried again on the retry schedule until it
//! succeeds or its window is over; an endpoint whose deliveries have all failed for a day is
//! disabled.

use super::{App, AppError, Resource, cursor};
use crate::auth::outgoing::{
    HEADER_WEBHOOK_ID, HEADER_WEBHOOK_SIGNATURE, HEADER_WEBHOOK_TIMESTAMP, new_secret, signature_header,
};
use crate::domain::{
    DeliveryStatus, Event, EventId, EventSelection, OLD_SECRET_SECONDS, Text, Timestamp, UserId, WebhookDelivery,
    WebhookEndpoint, WebhookId, WebhookUrl,
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
    resolvable(app, &url).await?;
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

/// An endpoint as admins see it: never its secrets.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookView {
    pub id: WebhookId,
    pub url: String,
    pub events: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub enabled: bool,
    /// Since when every delivery has failed (absent while the last one succeeded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<Timestamp>,
    /// Until when the secret the last rotation replaced still signs deliveries, with the new one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_secret_expires_at: Option<Timestamp>,
    pub created_by: UserId,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl WebhookView {
    pub fn of(endpoint: &WebhookEndpoint, now: Timestamp) -> Self {
        Self {
            id: endpoint.id,
            url: endpoint.url.as_str().to_owned(),
            events: endpoint.events.clone(),
            description: endpoint.description.as_ref().map(|d| d.as_str().to_owned()),
            enabled: endpoint.enabled,
            failing_since: endpoint.failing_since,
            previous_secret_expires_at: endpoint.previous_secret.as_ref().map(|(_, until)| *until).filter(|u| now < *u),
            created_by: endpoint.created_by,
            created_at: endpoint.created_at,
            updated_at: endpoint.updated_at,
        }
    }
}

/// An endpoint as one admin sees it.
pub async fn get(app: &App, id: WebhookId) -> Result<WebhookEndpoint, AppError> {
    app.store.webhook(id).await?.ok_or(AppError::NotFound(Resource::Webhook))
}

/// A page of endpoints, oldest first, and the cursor of the next.
pub async fn list(
    app: &App,
    limit: usize,
    cursor_text: Option<&str>,
) -> Result<(Vec<WebhookView>, Option<String>), AppError> {
    let fingerprint = "webhooks";
    let after = cursor_text.map(|c| cursor::decode(&app.config.cursor_secret, fingerprint, c)).transpose()?;
    let page = app.store.webhooks(limit, after.as_ref()).await?.ok_or(AppError::InvalidCursor)?;
    let next = page.next.map(|p| cursor::encode(&app.config.cursor_secret, fingerprint, &p)).transpose()?;
    let now = app.clock.now();
    Ok((page.items.iter().map(|e| WebhookView::of(e, now)).collect(), next))
}

/// What an admin changes of an endpoint; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct WebhookPatch {
    pub url: Option<WebhookUrl>,
    pub events: Option<EventSelection>,
    /// `Some(None)` removes the description.
    pub description: Option<Option<Text>>,
    /// Switching an endpoint back on starts its failing streak anew.
    pub enabled: Option<bool>,
    /// A new secret; the old one still signs, with it, for a day.
    pub rotate_secret: bool,
}

/// Applies `patch` to the endpoint as it is (decided again if another write got in between).
pub async fn update(app: &App, id: WebhookId, patch: &WebhookPatch) -> Result<WebhookEndpoint, AppError> {
    if let Some(url) = &patch.url {
        resolvable(app, url).await?;
    }
    for _ in 0..super::MAX_DECISIONS {
        let current = get(app, id).await?;
        let now = app.clock.now();
        let mut next = current.clone();
        if let Some(url) = &patch.url {
            if *url != current.url {
                next.failing_since = None;
            }
            next.url = url.clone();
        }
        if let Some(events) = &patch.events {
            next.events = events.names();
        }
        if let Some(description) = &patch.description {
            next.description = description.clone();
        }
        if let Some(enabled) = patch.enabled {
            if enabled && !current.enabled {
                next.failing_since = None;
            }
            next.enabled = enabled;
        }
        if patch.rotate_secret {
            next.previous_secret = Some((current.secret.clone(), now.plus_seconds(OLD_SECRET_SECONDS)));
            next.secret = new_secret();
        }
        if next == current {
            return Ok(current);
        }
        next.version = current.version + 1;
        next.updated_at = now;
        if app.store.replace_webhook(&current, &next, &[]).await? {
            return Ok(next);
        }
    }
    Err(AppError::Unavailable(format!("webhook {id} kept changing during an update")))
}

/// Deletes an endpoint: nothing more is sent to it (pending deliveries end failed).
pub async fn delete(app: &App, id: WebhookId) -> Result<(), AppError> {
    if app.store.delete_webhook(id).await? { Ok(()) } else { Err(AppError::NotFound(Resource::Webhook)) }
}

/// A delivery as admins see it: its id is its event's.
#[derive(Debug, Clone, Serialize)]
pub struct DeliveryView {
    pub id: EventId,
    #[serde(flatten)]
    pub delivery: WebhookDelivery,
}

impl From<WebhookDelivery> for DeliveryView {
    fn from(delivery: WebhookDelivery) -> Self {
        Self { id: delivery.event_id, delivery }
    }
}

/// A page of an endpoint's deliveries (optionally in one status), newest first.
pub async fn deliveries(
    app: &App,
    id: WebhookId,
    status: Option<DeliveryStatus>,
    limit: usize,
    cursor_text: Option<&str>,
) -> Result<(Vec<DeliveryView>, Option<String>), AppError> {
    let fingerprint = format!("deliveries;{id};{}", status.map(DeliveryStatus::as_str).unwrap_or("*"));
    let after = cursor_text.map(|c| cursor::decode(&app.config.cursor_secret, &fingerprint, c)).transpose()?;
    let (page, seen) = app.store.deliveries(id, status, limit, after.as_ref()).await?.ok_or(AppError::InvalidCursor)?;
    // The first page's query reads the endpoint too; a later page's asks for it (its
    // deliveries outlive it by their TTL).
    if !seen && (after.is_none() || app.store.webhook(id).await?.is_none()) {
        return Err(AppError::NotFound(Resource::Webhook));
    }
    let next = page.next.map(|p| cursor::encode(&app.config.cursor_secret, &fingerprint, &p)).transpose()?;
    Ok((page.items.into_iter().map(DeliveryView::from).collect(), next))
}

/// Refuses a URL whose host resolves now to an address that may not be called (each delivery
/// checks again: a name may change its addresses).
async fn resolvable(app: &App, url: &WebhookUrl) -> Result<(), AppError> {
    crate::store::receivers::check(url, app.config.webhooks.policy).await.map_err(|why| {
        AppError::Validation(vec![super::FieldError::new(
            "url",
            format!("must not point at a loopback, private, link-local or metadata address: {why}"),
        )])
    })
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
/// asked for its type, all at once: the first attempt now, the retries later (`retry_due`).
pub async fn deliver(app: &App, envelope: &Value) -> Result<DeliverReport, AppError> {
    let kind = envelope["type"].as_str().unwrap_or_default();
    let id = envelope["id"]
        .as_str()
        .and_then(EventId::parse)
        .ok_or_else(|| AppError::Internal("an event without an id".into()))?;
    let body = envelope.to_string();
    let endpoints: Vec<WebhookEndpoint> =
        app.store.enabled_webhooks().await?.into_iter().filter(|e| e.selection().includes(kind)).collect();
    let outcomes =
        futures_util::future::join_all(endpoints.iter().map(|e| first_attempt(app, e, id, kind, &body))).await;
    let mut report = DeliverReport { endpoints: endpoints.len(), ..DeliverReport::default() };
    for outcome in outcomes {
        match outcome? {
            Some(DeliveryStatus::Succeeded) => report.delivered += 1,
            Some(_) => report.failed += 1,
            None => report.repeated += 1,
        }
    }
    failed_attempts(app, report.failed);
    Ok(report)
}

/// Records the delivery of event `id` to `endpoint` and makes its first attempt: the status
/// after it, or `None` when the event was handed over before (and attempted then).
async fn first_attempt(
    app: &App,
    endpoint: &WebhookEndpoint,
    id: EventId,
    kind: &str,
    body: &str,
) -> Result<Option<DeliveryStatus>, AppError> {
    let delivery = WebhookDelivery::new(endpoint.id, id, kind, app.clock.now());
    let delivery = if app.store.insert_delivery(&delivery, body).await? {
        delivery
    } else {
        // Handed over again: an attempt that never happened (the consumer stopped after
        // recording the delivery) happens now; one that did stays with the retry job.
        match app.store.delivery(endpoint.id, id).await? {
            Some((existing, _)) if existing.attempts == 0 && existing.status == DeliveryStatus::Pending => existing,
            _ => return Ok(None),
        }
    };
    Ok(attempt(app, endpoint, &delivery, body).await?.map(|done| done.status))
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
    let failing = endpoint.failing_after(result.succeeded(), now);
    app.store.set_webhook_failing(endpoint.id, failing.map(|_| now)).await?;
    let streak = WebhookEndpoint { failing_since: failing, ..endpoint.clone() };
    if streak.failing_too_long(app.clock.now())
        && let Some(fresh) = app.store.webhook(endpoint.id).await?
    {
        // Decided again from the endpoint as it is: another attempt may have just succeeded.
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
    /// Due deliveries left to the next run (DynamoDB could not take them now).
    pub failed: usize,
}

/// Sends the deliveries that are due (the job every minute), [`PARALLEL_RETRIES`] at a time,
/// and disables the endpoints whose deliveries have all failed for a day (their pending
/// deliveries then fail). A delivery that cannot be sent now (DynamoDB busy) is logged and left
/// to the next run; the others go on.
pub async fn retry_due(app: &App) -> Result<RetryReport, AppError> {
    use futures_util::stream::{self, StreamExt};
    let now = app.clock.now();
    let mut report = RetryReport::default();
    for endpoint in app.store.enabled_webhooks().await? {
        if endpoint.failing_too_long(now) && disable(app, &endpoint, now).await? {
            report.disabled += 1;
        }
    }
    let due = app.store.due_deliveries(now, DUE_PER_RUN).await?;
    let outcomes: Vec<Result<Retried, AppError>> =
        stream::iter(due.into_iter().map(|d| retry(app, d, now))).buffer_unordered(PARALLEL_RETRIES).collect().await;
    for outcome in outcomes {
        match outcome {
            Ok(Retried::Skipped) => {}
            Ok(Retried::Attempted { delivered }) => {
                report.attempted += 1;
                report.delivered += usize::from(delivered);
            }
            Ok(Retried::Disabled) => report.disabled += 1,
            Err(err) => {
                report.failed += 1;
                tracing::warn!(error = %err, "a due webhook delivery could not be sent now; the next run tries again");
            }
        }
    }
    failed_attempts(app, report.attempted - report.delivered);
    Ok(report)
}

/// Counts delivery attempts that the receivers did not take (`WebhookDeliveriesFailed`).
fn failed_attempts(app: &App, failed: usize) {
    if failed > 0 {
        app.metrics.record(crate::metrics::Metric::WebhookDeliveriesFailed, failed as f64);
    }
}

/// How many due deliveries the retry job sends at once: each may wait 10 seconds for its answer.
const PARALLEL_RETRIES: usize = 20;

enum Retried {
    Skipped,
    Attempted { delivered: bool },
    Disabled,
}

/// The next attempt of a due delivery (as the due index listed it).
async fn retry(app: &App, due: WebhookDelivery, now: Timestamp) -> Result<Retried, AppError> {
    let Some((delivery, body)) = app.store.delivery(due.webhook_id, due.event_id).await? else {
        return Ok(Retried::Skipped);
    };
    // Only as the due index listed it: an attempt made since (the first one, an admin's, an
    // overlapping run's) filed it for later, or finished it.
    let still_due = delivery.next_attempt_at.is_some_and(|at| at <= now);
    if delivery.status != DeliveryStatus::Pending || delivery.attempts != due.attempts || !still_due {
        return Ok(Retried::Skipped);
    }
    let endpoint = app.store.webhook(delivery.webhook_id).await?;
    let Some(endpoint) = endpoint.filter(|e| e.enabled) else {
        // Deleted or disabled since: the delivery will not happen.
        let gone = WebhookDelivery { status: DeliveryStatus::Failed, next_attempt_at: None, ..delivery.clone() };
        if app.store.claim_attempt(&delivery, now).await? {
            app.store.record_attempt(&delivery, &gone, &body).await?;
        }
        return Ok(Retried::Skipped);
    };
    if endpoint.failing_too_long(now) {
        return Ok(if disable(app, &endpoint, now).await? { Retried::Disabled } else { Retried::Skipped });
    }
    let after = attempt(app, &endpoint, &delivery, &body).await?;
    Ok(Retried::Attempted { delivered: after.is_some_and(|a| a.status == DeliveryStatus::Succeeded) })
}

/// Sends a delivery again now, whatever became of it (an admin's retry; also to a disabled
/// endpoint, to try a receiver before switching it back on): the delivery after it. While
/// another attempt of it is under way, none is made.
pub async fn retry_one(app: &App, webhook: WebhookId, event: EventId) -> Result<WebhookDelivery, AppError> {
    let endpoint = get(app, webhook).await?;
    let (delivery, body) = app.store.delivery(webhook, event).await?.ok_or(AppError::NotFound(Resource::Delivery))?;
    attempt(app, &endpoint, &delivery, &body).await?.ok_or(AppError::DeliveryInProgress)
}

/// Switches an endpoint off (every delivery failed for a day), with its `webhook.disabled`
/// event (which emails the admin who registered it); `false` if it changed meanwhile.
async fn disable(app: &App, endpoint: &WebhookEndpoint, now: Timestamp) -> Result<bool, AppError> {
    if !endpoint.failing_too_long(now) {
        return Ok(false);
    }
    let next = WebhookEndpoint { enabled: false, version: endpoint.version + 1, updated_at: now, ..endpoint.clone() };
    tracing::warn!(webhookId = %endpoint.id, "disabling a webhook endpoint whose deliveries have failed for a day");
    // The event (and the admin's email, and any endpoint taking every event) shows the URL
    // without its query, which may carry a token.
    let view = WebhookView { url: next.url.without_query(), ..WebhookView::of(&next, now) };
    let event = Event::webhook_disabled(next.id, view, now);
    Ok(app.store.replace_webhook(endpoint, &next, &[event]).await?)
}
