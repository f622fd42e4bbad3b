//! Lambda function for one endpoint; see `storefront::api::webhooks::update_webhook`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    storefront::http::serve(storefront::api::webhooks::update_webhook).await
}
