//! Payments: the provider's signed events (`POST /webhooks/payments`), and refunds (admins).

use crate::app::{App, AppError, payments};
use crate::domain::{Invalid, Money, OrderId, Quantity, RefundAsk, VariantId};
use crate::http::{self, ApiError, Body, JsonBody, Request, Response};

/// Checks a provider's signature (`header`: `t=…,v1=…`, of the raw body, with `secret`, within
/// 5 minutes) before anything reads the body; an oversized body is refused first.
fn verify_signature(app: &App, req: &Request, secret: &str, header: &str) -> Result<(), ApiError> {
    let signature = req.headers().get(header).and_then(|v| v.to_str().ok());
    if req.body().len() > http::MAX_BODY_BYTES {
        return Err(JsonBody::parse(req).err().unwrap_or_else(|| ApiError::internal("oversized body parsed")));
    }
    let now = app.clock.now().unix_seconds();
    crate::auth::webhook::verify(secret, signature, req.body().as_ref(), now).map_err(|e| match e {
        crate::auth::webhook::SignatureError::Invalid => AppError::InvalidSignature.into(),
        crate::auth::webhook::SignatureError::Stale => AppError::StaleSignature.into(),
    })
}

/// `POST /webhooks/payments`: the payment provider's signed events (no token).
pub async fn payment_webhook(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    verify_signature(app, &req, app.webhook_secret().await?, "storefront-signature")?;
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

/// `POST /admin/orders/{id}/refunds` (admin, `Idempotency-Key`) `{amountCents?, lines?:
/// [{variantId, quantity}], restock, reason?}` → 201 refund.
pub async fn create_refund(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let admin = http::require_admin(app, &req).await?;
    let id = order_id(&req)?;
    let key = http::idempotency_key(&req)?;
    let canonical = http::canonical_body(&req);
    let mut body = JsonBody::parse(&req)?;
    let amount = body.optional_integer("amountCents", |c| {
        if c >= 1 { Ok(Money::from_cents(c)) } else { Err(Invalid::new("must be a positive integer")) }
    });
    let lines = body.optional_objects("lines", crate::domain::Cart::MAX_LINES, units);
    let restock = body.optional_bool("restock");
    if restock.is_none() && !body.has_errors_for("restock") {
        body.invalid("restock", Invalid::new("is required (true puts the refunded units back in stock)"));
    }
    let reason = body.optional_string("reason", crate::domain::parse_refund_reason);
    let (restock,) = body.finish((restock,))?;
    let ask = RefundAsk { amount, lines: lines.unwrap_or_default(), restock };
    let asked = payments::RefundRequest { ask, reason };
    http::json(201, &payments::refund(app, &admin.principal, id, &key, &canonical, &asked).await?)
}

/// `{variantId, quantity}` of a refund's or a return's lines.
pub(crate) fn units(line: &mut JsonBody) -> Option<(VariantId, i64)> {
    let variant =
        line.string("variantId", |raw| VariantId::parse(raw).ok_or_else(|| Invalid::new("must be a variant id")));
    let quantity = line.integer("quantity", |q| Quantity::parse(q).map(Quantity::units));
    Some((variant?, quantity?))
}

/// `GET /admin/orders/{id}/refunds` (admin) → 200 `{items}`: the order's refunds, oldest first.
pub async fn list_refunds(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    http::require_admin(app, &req).await?;
    let id = order_id(&req)?;
    http::json(200, &serde_json::json!({"items": payments::refunds(app, id).await?}))
}

fn order_id(req: &Request) -> Result<OrderId, ApiError> {
    http::path_param(req, "id")
        .and_then(OrderId::parse)
        .ok_or_else(|| AppError::NotFound(crate::app::Resource::Order).into())
}

/// `POST /webhooks/stripe`: Stripe's events, verified per its `Stripe-Signature` scheme
/// (`t=…,v1=…`, HMAC-SHA256 of `<t>.<raw body>` with the endpoint's secret, within 5 minutes;
/// any of several `v1` while a secret is rolled). Every verified event is acknowledged (200),
/// including types storefront does not handle, so Stripe stops sending them.
pub async fn stripe_webhook(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    verify_signature(app, &req, app.stripe_webhook_secret().await?, "stripe-signature")?;
    let event: serde_json::Value = serde_json::from_slice(req.body().as_ref())
        .map_err(|e| ApiError::malformed_json(format!("The body is not valid JSON ({e}).")))?;
    let (Some(id), Some(kind)) = (event["id"].as_str(), event["type"].as_str()) else {
        return Err(ApiError::validation(vec![crate::app::FieldError::new("id", "an event needs an id and a type")]));
    };
    let event =
        payments::StripeEvent { id: id.to_owned(), kind: kind.to_owned(), object: event["data"]["object"].clone() };
    let handled = payments::stripe_event(app, &event).await?;
    tracing::info!(event_id = %event.id, event_type = %event.kind, handled = ?handled, "Stripe event");
    http::json(200, &serde_json::json!({"received": true}))
}
