//! Lambda function for one endpoint; see `storefront::api::webhooks::retry_webhook_delivery`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    storefront::http::serve(storefront::api::webhooks::retry_webhook_delivery).await
}
