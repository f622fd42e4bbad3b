//! Lambda function for one endpoint; see `storefront::api::orders::list_orders`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    storefront::http::serve(storefront::api::orders::list_orders).await
}
