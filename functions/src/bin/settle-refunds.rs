//! Scheduled function (every 5 minutes): makes the refunds left pending with the payment
//! provider again; see `storefront::api::jobs::settle_refunds`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    storefront::http::serve_job("settle-refunds", storefront::api::jobs::settle_refunds).await
}
