//! Lambda function for one endpoint; see `storefront::api::catalog::list_products`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    storefront::http::serve(storefront::api::catalog::list_products).await
}
