//! Lambda function for one endpoint; see `storefront::api::images::complete_image_upload`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    storefront::http::serve(storefront::api::images::complete_image_upload).await
}
