//! Returns: a customer's (`POST /orders/{id}/returns`), and admins' listing and decisions.

use crate::app::catalog::{DEFAULT_PAGE, MAX_PAGE};
use crate::app::{App, AppError, returns};
use crate::domain::{Invalid, OrderId, Return, ReturnId, ReturnStatus};
use crate::http::{self, ApiError, Body, JsonBody, Query, Request, Response};
use serde::Serialize;

/// `POST /orders/{id}/returns` `{lines: [{variantId, quantity}], reason}` (the order's
/// customer, or its guest by `X-Order-Token`) → 201 return.
pub async fn create_return(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let id =
        http::path_param(&req, "id").and_then(OrderId::parse).ok_or(AppError::NotFound(crate::app::Resource::Order))?;
    let who = http::require_order_reader(app, &req, id, true).await?;
    let mut body = JsonBody::parse(&req)?;
    let lines = body.optional_objects("lines", crate::domain::Cart::MAX_LINES, super::payments::units);
    if lines.is_none() && !body.has_errors_for("lines") {
        body.invalid("lines", Invalid::new("is required"));
    }
    let reason = body.string("reason", crate::domain::parse_return_reason);
    let (lines, reason) = body.finish((lines, reason))?;
    http::json(201, &returns::request(app, &who, id, &lines, reason).await?)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReturnList<'a> {
    items: &'a [Return],
    next_cursor: Option<&'a str>,
}

/// `GET /admin/returns?status=&limit=&cursor=` (admin): returns, newest first.
pub async fn list_returns(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    http::require_admin(app, &req).await?;
    let mut query = Query::new(&req);
    let status = query.parse("status", |raw| {
        ReturnStatus::parse(raw).ok_or_else(|| Invalid::new("must be \"requested\", \"received\" or \"rejected\""))
    });
    let limit = query.limit(DEFAULT_PAGE, MAX_PAGE);
    let cursor = query.raw("cursor");
    query.finish()?;
    let (items, next) = returns::list(app, status, limit, cursor).await?;
    http::json(200, &ReturnList { items: &items, next_cursor: next.as_deref() })
}

/// `PATCH /admin/returns/{id}` `{status: "received" | "rejected"}` (admin) → 200 return.
pub async fn update_return(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    http::require_admin(app, &req).await?;
    let id = http::path_param(&req, "id")
        .and_then(ReturnId::parse)
        .ok_or(AppError::NotFound(crate::app::Resource::Return))?;
    let mut body = JsonBody::parse(&req)?;
    let status = body.string("status", ReturnStatus::decided);
    let (status,) = body.finish((status,))?;
    http::json(200, &returns::decide(app, id, status).await?)
}
