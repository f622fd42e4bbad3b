//! Lambda function for one endpoint; see `storefront::api::catalog::update_variant`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    storefront::http::serve(storefront::api::catalog::update_variant).await
}
