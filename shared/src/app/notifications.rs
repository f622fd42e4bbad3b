//! `send-notifications`: the bus's rule hands it every event that emails a customer; it sends
//! at most one email per event id (a marker claimed before sending, given back if sending
//! fails, so that the bus's retry sends it), however often the same event arrives.

use super::emails::{self, emailed};
use super::{App, AppError, account_emails};
use crate::domain::{EventId, User, UserId};
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
    if !app.store.claim_notification(id, app.clock.now()).await? {
        return Ok(json!({"event": id.to_string(), "sent": false, "why": "sent before"}));
    }
    // Whatever stops the email now gives the claim back, so that the bus's retry sends it.
    if let Err(err) = compose_and_send(app, id, envelope, kind, &customer).await {
        app.store.release_notification(id).await?;
        return Err(err);
    }
    tracing::info!(eventId = %id, eventType = kind, "emailed");
    Ok(json!({"event": id.to_string(), "sent": true}))
}

/// Renders the event's email for `customer` (making its token first, for an account email)
/// and sends it.
async fn compose_and_send(
    app: &App,
    id: EventId,
    envelope: &Value,
    kind: &str,
    customer: &User,
) -> Result<(), AppError> {
    let token = match account_emails::token_purpose(kind) {
        Some(purpose) => Some((account_emails::issue_token(app, purpose, customer).await?, purpose)),
        None => None,
    };
    let exposed = token.as_ref().map(|(t, purpose)| (t.expose(), purpose.lifetime_seconds()));
    let emailed = exposed.as_ref().map(|(value, lifetime)| emails::EmailedToken { value, lifetime_seconds: *lifetime });
    let raw = emails::message(&app.config.emails, envelope, customer.email.as_str(), customer.name.as_str(), emailed)
        .map_err(|e| AppError::Internal(e.to_string()))?
        .ok_or_else(|| AppError::Internal(format!("no template for {kind}")))?;
    app.mailer()?.send(id, raw).await?;
    Ok(())
}
