//! Scheduled function (every 5 minutes): cancels and restocks orders left unpaid past the
//! payment window; see `storefront::api::jobs::expire_orders`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    storefront::http::serve_job("expire-orders", storefront::api::jobs::expire_orders).await
}
