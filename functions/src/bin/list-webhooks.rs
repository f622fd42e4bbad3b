//! Lambda function for one endpoint; see `storefront::api::webhooks::list_webhooks`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    storefront::http::serve(storefront::api::webhooks::list_webhooks).await
}
