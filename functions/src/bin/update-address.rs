//! Lambda function for one endpoint; see `storefront::api::addresses::update_address`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    storefront::http::serve(storefront::api::addresses::update_address).await
}
