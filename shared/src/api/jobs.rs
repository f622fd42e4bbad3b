//! Scheduled jobs: the expiry of unpaid orders.

use crate::app::App;
use crate::http::ApiError;

/// The scheduled expiry of unpaid orders (not an HTTP endpoint).
pub async fn expire_orders(app: &App) -> Result<serde_json::Value, ApiError> {
    let report = crate::app::lifecycle::expire(app).await?;
    serde_json::to_value(report).map_err(|e| ApiError::internal(e.to_string()))
}
