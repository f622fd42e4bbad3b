//! Lambda function for one endpoint; see `storefront::api::accounts::change_password`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    storefront::http::serve(storefront::api::accounts::change_password).await
}
