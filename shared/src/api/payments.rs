//! The payment provider's signed events (`POST /webhooks/payments`).

use crate::app::{App, AppError};
use crate::domain::{Invalid, Money, OrderId};
use crate::http::{self, ApiError, Body, JsonBody, Request, Response};

/// `POST /webhooks/payments`: the payment provider's signed events (no token).
pub async fn payment_webhook(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let secret = app.webhook_secret().await?;
    let signature = req.headers().get("storefront-signature").and_then(|v| v.to_str().ok());
    if req.body().len() > http::MAX_BODY_BYTES {
        return Err(JsonBody::parse(&req).err().unwrap_or_else(|| ApiError::internal("oversized body parsed")));
    }
    crate::auth::webhook::verify(secret, signature, req.body().as_ref(), app.clock.now().unix_seconds()).map_err(
        |e| match e {
            crate::auth::webhook::SignatureError::Invalid => AppError::InvalidSignature,
            crate::auth::webhook::SignatureError::Stale => AppError::StaleSignature,
        },
    )?;
    let mut body = JsonBody::parse(&req)?;
    // Event types other than these two are acknowledged whatever their shape, so the provider
    // does not retry them forever.
    let succeeded = match body.peek_str("type") {
        Some("payment.succeeded") => true,
        Some("payment.failed") => false,
        _ => return http::json(200, &serde_json::json!({"received": true})),
    };
    let _ = body.take("type");
    let id = body.string("id", |raw| crate::domain::Text::parse(raw, 1, 255).map(|t| t.as_str().to_owned()));
    let data = body.nullable_object("data", |data| {
        let order_id =
            data.string("orderId", |raw| OrderId::parse(raw).ok_or_else(|| Invalid::new("must be an order id")));
        let amount = data.integer("amountCents", |c| {
            if c >= 0 { Ok(Money::from_cents(c)) } else { Err(Invalid::new("must not be negative")) }
        });
        let currency = data.string("currency", crate::domain::Currency::parse);
        let payment_id =
            data.string("paymentId", |raw| crate::domain::Text::parse(raw, 1, 255).map(|t| t.as_str().to_owned()));
        Some((order_id?, amount?, currency?, payment_id?))
    });
    let data = match data {
        Some(Some(data)) => Some(data),
        _ if body.has_errors_for("data") => None,
        _ => {
            body.invalid("data", Invalid::new("is required"));
            None
        }
    };
    let (id, (order_id, amount, currency, payment_id)) = body.finish((id, data))?;
    let event = crate::app::lifecycle::PaymentEvent { id, succeeded, order_id, amount, currency, payment_id };
    crate::app::lifecycle::payment(app, &event).await?;
    http::json(200, &serde_json::json!({"received": true}))
}
