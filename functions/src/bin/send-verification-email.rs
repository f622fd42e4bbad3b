//! Lambda function for one endpoint; see `storefront::api::accounts::send_verification_email`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    storefront::http::serve(storefront::api::accounts::send_verification_email).await
}
