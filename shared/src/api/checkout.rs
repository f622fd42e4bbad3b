//! Quotes and placing orders.

use crate::api::accounts::parse_address;
use crate::app::checkout::{self, Checkout, Placed};
use crate::app::{App, AppError};
use crate::domain::{DiscountCode, IdempotencyKey, ShippingMethod};
use crate::http::{self, ApiError, Body, JsonBody, Request, Response};

/// The body of a quote or an order: `{shippingAddress, shippingMethod, discountCode?}`.
/// Also returns the body's canonical form (for idempotency).
fn checkout_body(req: &Request) -> Result<(Checkout, String), ApiError> {
    let canonical =
        serde_json::from_slice::<serde_json::Value>(req.body().as_ref()).map(|v| v.to_string()).unwrap_or_default();
    let mut body = JsonBody::parse(req)?;
    let address = body.nullable_object("shippingAddress", parse_address);
    let address = match address {
        Some(Some(address)) => Some(address),
        Some(None) => {
            body.invalid("shippingAddress", crate::domain::Invalid::new("is required"));
            None
        }
        None if body.has_errors_for("shippingAddress") => None,
        None => {
            body.invalid("shippingAddress", crate::domain::Invalid::new("is required"));
            None
        }
    };
    let method = body.string("shippingMethod", ShippingMethod::parse);
    let discount_code = body.optional_string("discountCode", DiscountCode::parse);
    let (shipping_address, shipping_method) = body.finish((address, method))?;
    Ok((Checkout { shipping_address, shipping_method, discount_code }, canonical))
}

/// `POST /checkout/quote` → 200 totals.
pub async fn quote(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let who = http::require_user(app, &req).await?;
    let (checkout, _) = checkout_body(&req)?;
    http::json(200, &checkout::quote(app, &who, &checkout).await?)
}

/// `POST /orders` with `Idempotency-Key` → 201 order (or the order the first request placed,
/// as it was placed).
pub async fn place_order(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let who = http::require_session(app, &req).await?.principal;
    let key = req
        .headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| IdempotencyKey::parse(v).ok())
        .ok_or(AppError::IdempotencyKeyRequired)?;
    let (checkout, canonical) = checkout_body(&req)?;
    match checkout::place(app, &who, &key, &canonical, &checkout).await? {
        Placed::New(order) | Placed::Again(order) => http::json(201, &order),
        Placed::Replay { body } => http::raw_json(201, body),
    }
}
