//! Lambda function for one endpoint; see `storefront::api::payments::list_refunds`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    storefront::http::serve(storefront::api::payments::list_refunds).await
}
