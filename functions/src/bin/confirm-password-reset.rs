//! Lambda function for one endpoint; see `storefront::api::accounts::confirm_password_reset`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    storefront::http::serve(storefront::api::accounts::confirm_password_reset).await
}
