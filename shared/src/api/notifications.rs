//! `send-notifications`: a target of the event bus's rule for the events that email customers.

use crate::app::App;
use crate::http::ApiError;
use serde_json::Value;

/// One event from the bus; an error fails the invocation, and the bus retries it.
pub async fn send_notifications(app: &App, event: Value) -> Result<Value, ApiError> {
    Ok(crate::app::notifications::notify(app, &event).await?)
}
