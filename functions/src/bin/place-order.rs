//! Lambda function for one endpoint; see `storefront::api::checkout::place_order`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    storefront::http::serve(storefront::api::checkout::place_order).await
}
