//! Quotes and placing orders.

use crate::api::accounts::parse_address;
use crate::app::checkout::{self, Checkout, Placed};
use crate::app::{App, AppError};
use crate::domain::{DiscountCode, Email, IdempotencyKey, Invalid, ShippingMethod, Shopper};
use crate::http::{self, ApiError, Body, JsonBody, Request, Response};

/// The body of a quote or an order: `{email?, shippingAddress, shippingMethod, discountCode?}`,
/// `email` required of a guest and refused from a customer (whose emails go to the account).
/// Also returns the body's canonical form (for idempotency).
fn checkout_body(req: &Request, who: Shopper) -> Result<(Checkout, String), ApiError> {
    let canonical =
        serde_json::from_slice::<serde_json::Value>(req.body().as_ref()).map(|v| v.to_string()).unwrap_or_default();
    let mut body = JsonBody::parse(req)?;
    let email = match who {
        Shopper::Guest(_) => body.string("email", Email::parse),
        Shopper::Customer(_) if body.has("email") => {
            body.take("email");
            body.invalid("email", Invalid::new("is for guest checkouts: a customer's emails go to the account"));
            None
        }
        Shopper::Customer(_) => None,
    };
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
    Ok((Checkout { email, shipping_address, shipping_method, discount_code }, canonical))
}

/// `POST /checkout/quote` → 200 totals.
pub async fn quote(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let who = http::require_shopper(app, &req, false).await?;
    let (checkout, _) = checkout_body(&req, who)?;
    http::json(200, &checkout::quote(app, who, &checkout).await?)
}

/// `POST /orders` with `Idempotency-Key` → 201 order (or the order the first request placed,
/// as it was placed).
pub async fn place_order(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let who = http::require_shopper(app, &req, true).await?;
    let key = req
        .headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| IdempotencyKey::parse(v).ok())
        .ok_or(AppError::IdempotencyKeyRequired)?;
    let (checkout, canonical) = checkout_body(&req, who)?;
    let placed = checkout::place(app, who, &key, &canonical, &checkout).await?;
    match (placed, who) {
        (Placed::New(order) | Placed::Again(order), Shopper::Customer(_)) => http::json(201, &order),
        // A guest's order comes with the token that reads and cancels it (`X-Order-Token`).
        (Placed::New(order) | Placed::Again(order), Shopper::Guest(_)) => {
            let mut body = serde_json::to_value(&*order).map_err(|e| ApiError::internal(e.to_string()))?;
            body["orderToken"] = app.guest_tokens().order_token(order.id).into();
            http::json(201, &body)
        }
        (Placed::Replay { body }, _) => http::raw_json(201, body),
    }
}
