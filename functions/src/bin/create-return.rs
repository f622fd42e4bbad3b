//! Lambda function for one endpoint; see `storefront::api::returns::create_return`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    storefront::http::serve(storefront::api::returns::create_return).await
}
