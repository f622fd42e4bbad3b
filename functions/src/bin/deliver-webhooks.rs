//! A target of the event bus's rule for every event type: delivers each event to the webhook
//! endpoints that asked for it (once per endpoint); see `storefront::api::webhooks::deliver_webhooks`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    storefront::http::serve_event("deliver-webhooks", storefront::api::webhooks::deliver_webhooks).await
}
