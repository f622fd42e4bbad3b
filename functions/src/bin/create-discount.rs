//! Lambda function for one endpoint; see `storefront::api::discounts::create_discount`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    storefront::http::serve(storefront::api::discounts::create_discount).await
}
