//! `send-notifications`: the bus's rule hands it every event that emails a customer; it sends
//! at most one email per event id (a marker claimed before sending, given back if sending
//! fails, so that the bus's retry sends it), however often the same event arrives.

use super::emails::{self, emailed};
use super::{App, AppError};
use crate::domain::{EventId, UserId};
use serde_json::{Value, json};

/// Emails the customer an event is about, if its type sends an email. `event` is the event as
/// a bus rule delivers it (the envelope is its `detail`). The answer says what was done.
pub async fn notify(app: &App, event: &Value) -> Result<Value, AppError> {
    let envelope = &event["detail"];
    let kind = envelope["type"].as_str().unwrap_or_default();
    let Some(id) = envelope["id"].as_str().and_then(EventId::parse) else {
        return Err(AppError::Internal("an event without an id".into()));
    };
    if !emailed(kind) {
        return Ok(json!({"event": id.to_string(), "sent": false, "why": "no email for this type"}));
    }
    let Some(user) = envelope["data"][emails::recipient_field(kind)].as_str().and_then(UserId::parse) else {
        return Err(AppError::Internal(format!("{kind} {id} names no account to email")));
    };
    let Some(customer) = app.store.user(user).await? else {
        tracing::warn!(eventId = %id, "the account an event emails is gone; no email");
        return Ok(json!({"event": id.to_string(), "sent": false, "why": "no such account"}));
    };
    let settings = &app.config.emails;
    let raw = emails::message(settings, envelope, customer.email.as_str(), customer.name.as_str())
        .map_err(|e| AppError::Internal(e.to_string()))?
        .ok_or_else(|| AppError::Internal(format!("no template for {kind}")))?;
    if !app.store.claim_notification(id, app.clock.now()).await? {
        return Ok(json!({"event": id.to_string(), "sent": false, "why": "sent before"}));
    }
    if let Err(err) = app.mailer()?.send(id, raw).await {
        app.store.release_notification(id).await?;
        return Err(err.into());
    }
    tracing::info!(eventId = %id, eventType = kind, "emailed");
    Ok(json!({"event": id.to_string(), "sent": true}))
}
