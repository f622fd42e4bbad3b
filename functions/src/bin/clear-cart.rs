//! Lambda function for one endpoint; see `storefront::api::cart::clear_cart`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    storefront::http::serve(storefront::api::cart::clear_cart).await
}
