//! Lambda function for one endpoint; see `storefront::api::images::update_images`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    storefront::http::serve(storefront::api::images::update_images).await
}
