//! Orders after checkout: a customer's own, and every order for admins.

use crate::app::catalog::{DEFAULT_PAGE, MAX_PAGE};
use crate::app::checkout::{self};
use crate::app::{App, AppError};
use crate::domain::{Invalid, Order, OrderId, OrderStatus};
use crate::http::{self, ApiError, Body, JsonBody, Query, Request, Response};
use serde::Serialize;

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

/// `GET /orders/{id}`: the caller's order (an admin: any order; a guest: theirs, by its
/// `X-Order-Token`).
pub async fn get_order(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let id = order_id(&req)?;
    let who = http::require_order_reader(app, &req, id, false).await?;
    http::json(200, &checkout::order(app, &who, id).await?)
}

fn order_id(req: &Request) -> Result<OrderId, ApiError> {
    http::path_param(req, "id")
        .and_then(OrderId::parse)
        .ok_or_else(|| AppError::NotFound(crate::app::Resource::Order).into())
}

/// `POST /orders/{id}/cancel` → 200 order.
pub async fn cancel_order(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let id = order_id(&req)?;
    let who = http::require_order_reader(app, &req, id, true).await?;
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
        crate::app::lifecycle::admin_update(app, &admin.principal, id, status, tracking.as_ref().map(|t| t.as_str()))
            .await?;
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
