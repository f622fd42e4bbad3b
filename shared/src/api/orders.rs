//! The cart, discounts, checkout and orders endpoints.

use crate::api::accounts::parse_address;
use crate::app::catalog::{DEFAULT_PAGE, MAX_PAGE};
use crate::app::checkout::{self, Checkout, Placed};
use crate::app::{App, AppError, cart, discounts};
use crate::domain::{
    Discount, DiscountCode, IdempotencyKey, Invalid, Money, Order, OrderId, OrderStatus, ProductId, Quantity,
    ShippingMethod, Timestamp,
};
use crate::http::{self, ApiError, Body, JsonBody, Query, Request, Response};
use serde::Serialize;

fn product_id(req: &Request) -> Result<ProductId, ApiError> {
    http::path_param(req, "productId")
        .and_then(ProductId::parse)
        .ok_or_else(|| AppError::NotFound(crate::app::Resource::Product).into())
}

/// `GET /cart`.
pub async fn get_cart(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let who = http::require_user(app, &req).await?;
    http::json(200, &cart::get(app, &who).await?)
}

/// `PUT /cart/items/{productId}` `{quantity}`.
pub async fn put_cart_item(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let who = http::require_user(app, &req).await?;
    let id = product_id(&req)?;
    let mut body = JsonBody::parse(&req)?;
    let quantity = body.integer("quantity", Quantity::parse);
    let (quantity,) = body.finish((quantity,))?;
    http::json(200, &cart::put(app, &who, id, quantity).await?)
}

/// `DELETE /cart/items/{productId}`.
pub async fn delete_cart_item(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let who = http::require_user(app, &req).await?;
    let id = product_id(&req)?;
    http::json(200, &cart::remove(app, &who, id).await?)
}

/// `DELETE /cart` → 204.
pub async fn clear_cart(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let who = http::require_user(app, &req).await?;
    cart::clear(app, &who).await?;
    http::no_content()
}

fn timestamp(raw: &str) -> Result<Timestamp, crate::domain::Invalid> {
    Timestamp::parse(raw).ok_or_else(|| crate::domain::Invalid::new("must be an RFC 3339 date-time"))
}

/// `POST /discounts` (admin) → 201 discount.
pub async fn create_discount(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    http::require_admin(app, &req).await?;
    let mut body = JsonBody::parse(&req)?;
    let code = body.string("code", DiscountCode::parse);
    let percent_off = body.optional_integer("percentOff", Ok);
    let amount_off = body.optional_integer("amountOffCents", |c| Ok(Money::from_cents(c)));
    let min_subtotal = body.optional_integer("minSubtotalCents", crate::domain::parse_min_subtotal);
    let max_redemptions = body.optional_integer("maxRedemptions", crate::domain::parse_max_redemptions);
    let starts_at = body.optional_string("startsAt", timestamp);
    let ends_at = body.optional_string("endsAt", timestamp);
    let (code,) = body.finish((code,))?;
    let new = crate::domain::NewDiscount { percent_off, amount_off, min_subtotal, max_redemptions, starts_at, ends_at };
    let discount = Discount::new(code, new, app.clock.now()).map_err(|errors| {
        ApiError::validation(errors.into_iter().map(|(f, e)| crate::app::FieldError::new(f, e.0)).collect())
    })?;
    http::json(201, &discounts::create(app, discount).await?)
}

/// `GET /discounts` (admin).
pub async fn list_discounts(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    http::require_admin(app, &req).await?;
    #[derive(Serialize)]
    struct Discounts {
        items: Vec<Discount>,
    }
    http::json(200, &Discounts { items: discounts::list(app).await? })
}

/// `PATCH /discounts/{code}` `{active}` (admin).
pub async fn update_discount(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    http::require_admin(app, &req).await?;
    let code = http::path_param(&req, "code")
        .and_then(|c| DiscountCode::parse(c).ok())
        .ok_or_else(|| ApiError::from(AppError::NotFound(crate::app::Resource::Discount)))?;
    let mut body = JsonBody::parse(&req)?;
    let active = body.take("active");
    let active = match active {
        Some(serde_json::Value::Bool(b)) => Some(b),
        Some(_) => {
            body.invalid("active", crate::domain::Invalid::new("must be true or false"));
            None
        }
        None => {
            body.invalid("active", crate::domain::Invalid::new("is required"));
            None
        }
    };
    let (active,) = body.finish((active,))?;
    http::json(200, &discounts::set_active(app, &code, active).await?)
}

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

/// `POST /orders` with `Idempotency-Key` → 201 order (or the first answer again).
pub async fn place_order(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let who = http::require_user(app, &req).await?;
    let key = req
        .headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| IdempotencyKey::parse(v).ok())
        .ok_or(AppError::IdempotencyKeyRequired)?;
    let (checkout, canonical) = checkout_body(&req)?;
    let render = |order: &Order| {
        serde_json::to_string(order).map_err(|e| AppError::Internal(format!("serialising an order: {e}")))
    };
    match checkout::place(app, &who, &key, &canonical, &checkout, render).await? {
        Placed::New(order) => http::json(201, &order),
        Placed::Replay { body } => http::raw_json(201, body),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OrderList<'a> {
    items: &'a [Order],
    next_cursor: Option<&'a str>,
}

/// `GET /orders?limit=&cursor=`: the caller's orders, newest first.
pub async fn list_orders(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let who = http::require_user(app, &req).await?;
    let mut query = Query::new(&req);
    let limit = query.limit(DEFAULT_PAGE, MAX_PAGE);
    let cursor = query.raw("cursor");
    query.finish()?;
    let (items, next) = checkout::orders(app, &who, limit, cursor).await?;
    http::json(200, &OrderList { items: &items, next_cursor: next.as_deref() })
}

/// `GET /orders/{id}`: the caller's order (an admin: any order).
pub async fn get_order(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let who = http::require_user(app, &req).await?;
    let id =
        http::path_param(&req, "id").and_then(OrderId::parse).ok_or(AppError::NotFound(crate::app::Resource::Order))?;
    http::json(200, &checkout::order(app, &who, id).await?)
}

fn order_id(req: &Request) -> Result<OrderId, ApiError> {
    http::path_param(req, "id")
        .and_then(OrderId::parse)
        .ok_or_else(|| AppError::NotFound(crate::app::Resource::Order).into())
}

/// `POST /orders/{id}/cancel` → 200 order.
pub async fn cancel_order(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let who = http::require_user(app, &req).await?;
    let id = order_id(&req)?;
    http::json(200, &crate::app::lifecycle::cancel(app, &who, id).await?)
}

/// `PATCH /admin/orders/{id}` `{status, trackingNumber?}` (admin) → 200 order.
pub async fn admin_update_order(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let admin = http::require_admin(app, &req).await?;
    let id = order_id(&req)?;
    let mut body = JsonBody::parse(&req)?;
    let status = body.string("status", crate::domain::admin_status);
    let tracking = body.optional_string("trackingNumber", |raw| crate::domain::Text::parse(raw, 1, 100));
    if tracking.is_some()
        && let Some(Err(refused)) = status.map(crate::domain::tracking_allowed)
    {
        body.invalid("trackingNumber", refused);
    }
    let (status,) = body.finish((status,))?;
    let order =
        crate::app::lifecycle::admin_update(app, &admin, id, status, tracking.as_ref().map(|t| t.as_str())).await?;
    http::json(200, &order)
}

/// `GET /admin/orders?status=&limit=&cursor=` (admin): orders in a status, newest first.
pub async fn admin_list_orders(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    http::require_admin(app, &req).await?;
    let mut query = Query::new(&req);
    let status = query.parse("status", |raw| {
        OrderStatus::parse(raw).ok_or_else(|| Invalid::new("must be an order status, e.g. \"paid\""))
    });
    let status_given = query.raw("status").is_some();
    let limit = query.limit(DEFAULT_PAGE, MAX_PAGE);
    let cursor = query.raw("cursor");
    let mut missing = None;
    if !status_given {
        missing = Some(ApiError::validation(vec![crate::app::FieldError::new("status", "is required")]));
    }
    query.finish()?;
    if let Some(err) = missing {
        return Err(err);
    }
    let Some(status) = status else { return Err(ApiError::internal("status parsed without a value")) };
    let (items, next) = crate::app::lifecycle::in_status(app, status, limit, cursor).await?;
    http::json(200, &OrderList { items: &items, next_cursor: next.as_deref() })
}

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

/// The scheduled expiry of unpaid orders (not an HTTP endpoint).
pub async fn expire_orders(app: &App) -> Result<serde_json::Value, ApiError> {
    let report = crate::app::lifecycle::expire(app).await?;
    serde_json::to_value(report).map_err(|e| ApiError::internal(e.to_string()))
}
