//! Scheduled jobs: the expiry of unpaid orders, the retry of webhook deliveries.

use crate::app::App;
use crate::http::ApiError;

/// The scheduled expiry of unpaid orders (not an HTTP endpoint).
pub async fn expire_orders(app: &App) -> Result<serde_json::Value, ApiError> {
    let report = crate::app::lifecycle::expire(app).await?;
    serde_json::to_value(report).map_err(|e| ApiError::internal(e.to_string()))
}

/// The scheduled retry of webhook deliveries that are due (every minute).
pub async fn retry_webhooks(app: &App) -> Result<serde_json::Value, ApiError> {
    // Boxed: the future of a run (sweeps, parallel attempts) is too deep to lay out inline.
    let report = Box::pin(crate::app::webhooks::retry_due(app)).await?;
    serde_json::to_value(report).map_err(|e| ApiError::internal(e.to_string()))
}

/// The scheduled settling of refunds left pending with the provider (every 5 minutes).
pub async fn settle_refunds(app: &App) -> Result<serde_json::Value, ApiError> {
    let report = Box::pin(crate::app::payments::settle_pending(app)).await?;
    serde_json::to_value(report).map_err(|e| ApiError::internal(e.to_string()))
}
