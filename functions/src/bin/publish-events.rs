//! Invoked by the table's stream (new outbox items only): puts their events on the event bus;
//! see `storefront::api::events::publish_events`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    storefront::http::serve_event("publish-events", storefront::api::events::publish_events).await
}
