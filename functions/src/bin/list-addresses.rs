//! Lambda function for one endpoint; see `storefront::api::addresses::list_addresses`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    storefront::http::serve(storefront::api::addresses::list_addresses).await
}
