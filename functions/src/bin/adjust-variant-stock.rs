//! Lambda function for one endpoint; see `storefront::api::catalog::adjust_variant_stock`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    storefront::http::serve(storefront::api::catalog::adjust_variant_stock).await
}
