//! Scheduled function (every minute): sends the webhook deliveries that are due again, and
//! disables endpoints whose deliveries have all failed for a day; see
//! `storefront::api::jobs::retry_webhooks`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    storefront::http::serve_job("retry-webhooks", storefront::api::jobs::retry_webhooks).await
}
