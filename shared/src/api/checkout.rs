//! Quotes and placing orders.

use crate::api::accounts::parse_address;
use crate::app::checkout::{self, Checkout, Placed};
use crate::app::{App, AppError};
use crate::domain::{DiscountCode, Email, Invalid, ShippingMethod, Shopper};
use crate::http::{self, ApiError, Body, JsonBody, Request, Response};

/// Where an order ships to: an address in the body, or one of the customer's saved ones.
enum ShipTo {
    Given(crate::domain::Address),
    Saved(crate::domain::AddressId),
}

/// The body of a quote or an order: `{email?, shippingAddress | shippingAddressId,
/// shippingMethod, discountCode?}`; `email` is required of a guest and refused from a customer
/// (whose emails go to the account), `shippingAddressId` (a saved address) is a customer's.
/// Also returns the body's canonical form (for idempotency).
async fn checkout_body(app: &App, req: &Request, who: Shopper) -> Result<(Checkout, String), ApiError> {
    let canonical = http::canonical_body(req);
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
    let ship_to = match (body.has("shippingAddressId"), who) {
        (true, Shopper::Guest(_)) => {
            body.take("shippingAddressId");
            body.invalid("shippingAddressId", Invalid::new("is for signed-in customers: send shippingAddress"));
            None
        }
        (true, Shopper::Customer(_)) if body.has("shippingAddress") => {
            body.take("shippingAddressId");
            body.take("shippingAddress");
            body.invalid("shippingAddressId", Invalid::new("send either shippingAddressId or shippingAddress"));
            None
        }
        (true, Shopper::Customer(_)) => body
            .string("shippingAddressId", |raw| {
                crate::domain::AddressId::parse(raw).ok_or_else(|| Invalid::new("is not one of your saved addresses"))
            })
            .map(ShipTo::Saved),
        (false, _) => match body.nullable_object("shippingAddress", parse_address) {
            Some(Some(address)) => Some(ShipTo::Given(address)),
            Some(None) => {
                body.invalid("shippingAddress", Invalid::new("is required"));
                None
            }
            None if body.has_errors_for("shippingAddress") => None,
            None => {
                body.invalid("shippingAddress", Invalid::new("is required"));
                None
            }
        },
    };
    let method = body.string("shippingMethod", ShippingMethod::parse);
    let discount_code = body.optional_string("discountCode", DiscountCode::parse);
    let (ship_to, shipping_method) = body.finish((ship_to, method))?;
    let shipping_address = match (ship_to, who) {
        (ShipTo::Given(address), _) => address,
        (ShipTo::Saved(id), Shopper::Customer(user)) => crate::app::addresses::resolve(app, user, id).await?,
        (ShipTo::Saved(_), Shopper::Guest(_)) => return Err(AppError::Unauthenticated.into()),
    };
    Ok((Checkout { email, shipping_address, shipping_method, discount_code }, canonical))
}

/// `POST /checkout/quote` → 200 totals.
pub async fn quote(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let who = http::require_shopper(app, &req, false).await?;
    let (checkout, _) = checkout_body(app, &req, who).await?;
    http::json(200, &checkout::quote(app, who, &checkout).await?)
}

/// `POST /orders` with `Idempotency-Key` → 201 order (or the order the first request placed,
/// as it was placed).
/// The problem of a refused order; a refusal of the order itself (stock, discount, limits,
/// prices, the cart) counts as `CheckoutRejected` by its code, one of the request (a key in
/// use, a busy store) does not.
fn rejected(app: &App, err: crate::app::AppError) -> ApiError {
    let err = ApiError::from(err);
    if matches!(err.status, 409 | 422) && !matches!(err.code, "request_in_progress" | "idempotency_key_reused") {
        app.metrics.record_by(crate::metrics::Metric::CheckoutRejected, err.code, 1.0);
    }
    err
}

pub async fn place_order(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let who = http::require_shopper(app, &req, true).await?;
    let key = http::idempotency_key(&req)?;
    let (checkout, canonical) = checkout_body(app, &req, who).await?;
    let placed = checkout::place(app, who, &key, &canonical, &checkout).await.map_err(|err| rejected(app, err))?;
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
