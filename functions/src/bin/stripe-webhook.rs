//! Lambda function for one endpoint; see `storefront::api::payments::stripe_webhook`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    storefront::http::serve(storefront::api::payments::stripe_webhook).await
}
