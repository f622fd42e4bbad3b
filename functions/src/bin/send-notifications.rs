//! A target of the event bus's rule for order events: emails the customer (at most once per
//! event); see `storefront::api::notifications::send_notifications`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    storefront::http::serve_event("send-notifications", storefront::api::notifications::send_notifications).await
}
