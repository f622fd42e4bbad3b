//! Lambda function for one endpoint; see `storefront::api::payments::create_refund`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    storefront::http::serve(storefront::api::payments::create_refund).await
}
