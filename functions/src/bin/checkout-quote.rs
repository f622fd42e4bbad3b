//! Lambda function for `POST /checkout/quote`; see `storefront::api::checkout::quote`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    storefront::http::serve(storefront::api::checkout::quote).await
}
