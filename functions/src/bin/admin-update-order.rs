//! Lambda function for one endpoint; see `storefront::api::orders::admin_update_order`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    storefront::http::serve(storefront::api::orders::admin_update_order).await
}
