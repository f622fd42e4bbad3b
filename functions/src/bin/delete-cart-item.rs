//! Lambda function for one endpoint; see `storefront::api::cart::delete_cart_item`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    storefront::http::serve(storefront::api::cart::delete_cart_item).await
}
