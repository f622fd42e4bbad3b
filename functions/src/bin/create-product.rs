//! Lambda function for one endpoint; see `storefront::api::catalog::create_product`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    storefront::http::serve(storefront::api::catalog::create_product).await
}
