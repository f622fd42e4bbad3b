//! Lambda function for one endpoint; see `storefront::api::returns::list_returns`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    storefront::http::serve(storefront::api::returns::list_returns).await
}
