//! `send-notifications`: a target of the event bus's rule for the events that email customers.

use crate::app::App;
use crate::http::ApiError;
use serde_json::Value;

/// One event from the bus; an error fails the invocation, and the bus retries it. (The
/// operation's future is boxed: its type nests deep enough to pass the compiler's default
/// recursion limit in a release build.)
pub async fn send_notifications(app: &App, event: Value) -> Result<Value, ApiError> {
    Ok(Box::pin(crate::app::notifications::notify(app, &event)).await?)
}
