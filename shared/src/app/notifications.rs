//! `send-notifications`: the bus's rule hands it every event that emails a customer; it sends
//! at most one email per event id (a marker claimed before sending, given back if sending
//! fails, so that the bus's retry sends it), however often the same event arrives.

use super::emails::{self, emailed};
use super::{App, AppError, account_emails};
use crate::domain::{Email, EventId, User, UserId};
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
    let recipient = match recipient(app, envelope, kind).await? {
        Some(recipient) => recipient,
        None => {
            tracing::warn!(eventId = %id, "the account an event emails is gone; no email");
            return Ok(json!({"event": id.to_string(), "sent": false, "why": "no such account"}));
        }
    };
    if !app.store.claim_notification(id, app.clock.now()).await? {
        return Ok(json!({"event": id.to_string(), "sent": false, "why": "sent before"}));
    }
    // Whatever stops the email now gives the claim back, so that the bus's retry sends it.
    if let Err(err) = Box::pin(compose_and_send(app, id, envelope, kind, &recipient)).await {
        app.store.release_notification(id).await?;
        return Err(err);
    }
    tracing::info!(eventId = %id, eventType = kind, "emailed");
    Ok(json!({"event": id.to_string(), "sent": true}))
}

/// Who an event's email goes to: an account (the customer, an admin), or a guest's checkout
/// address. `None` when the account is gone.
struct Recipient {
    email: String,
    name: String,
    account: Option<User>,
}

async fn recipient(app: &App, envelope: &Value, kind: &str) -> Result<Option<Recipient>, AppError> {
    let data = emails::order_of(envelope);
    if kind.starts_with("order.") && data["userId"].is_null() {
        // A guest's order: its emails go to the address given at checkout.
        let email = data["email"].as_str().and_then(|e| Email::parse(e).ok());
        let Some(email) = email else { return Err(AppError::Internal(format!("{kind} of a guest without an email"))) };
        let name = data["shippingAddress"]["name"].as_str().unwrap_or("there").to_owned();
        return Ok(Some(Recipient { email: email.as_str().to_owned(), name, account: None }));
    }
    let Some(user) = data[emails::recipient_field(kind)].as_str().and_then(UserId::parse) else {
        return Err(AppError::Internal(format!("{kind} names no account to email")));
    };
    Ok(app.store.user(user).await?.map(|account| Recipient {
        email: account.email.as_str().to_owned(),
        name: account.name.as_str().to_owned(),
        account: Some(account),
    }))
}

/// Renders the event's email for its recipient (making its token first, for an account
/// email) and sends it.
async fn compose_and_send(
    app: &App,
    id: EventId,
    envelope: &Value,
    kind: &str,
    to: &Recipient,
) -> Result<(), AppError> {
    let token = match (account_emails::token_purpose(kind), &to.account) {
        (Some(purpose), Some(account)) => Some((account_emails::issue_token(app, purpose, account).await?, purpose)),
        (Some(_), None) => return Err(AppError::Internal(format!("{kind} for no account"))),
        (None, _) => None,
    };
    let exposed = token.as_ref().map(|(t, purpose)| (t.expose(), purpose.lifetime_seconds()));
    let emailed = exposed.as_ref().map(|(value, lifetime)| emails::EmailedToken { value, lifetime_seconds: *lifetime });
    let raw = emails::message(&app.config.emails, envelope, &to.email, &to.name, emailed)
        .map_err(|e| AppError::Internal(e.to_string()))?
        .ok_or_else(|| AppError::Internal(format!("no template for {kind}")))?;
    app.mailer()?.send(id, raw).await?;
    Ok(())
}
