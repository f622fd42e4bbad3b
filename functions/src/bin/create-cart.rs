//! Lambda function for one endpoint; see `storefront::api::cart::create_cart`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    storefront::http::serve(storefront::api::cart::create_cart).await
}
