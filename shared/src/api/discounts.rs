//! Discount codes (admins).

use crate::app::{App, AppError, discounts};
use crate::domain::{Discount, DiscountCode, Money, Timestamp};
use crate::http::{self, ApiError, Body, JsonBody, Request, Response};
use serde::Serialize;

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
    let per_customer_limit = body.optional_integer("perCustomerLimit", crate::domain::parse_max_redemptions);
    let starts_at = body.optional_string("startsAt", timestamp);
    let ends_at = body.optional_string("endsAt", timestamp);
    let (code,) = body.finish((code,))?;
    let new = crate::domain::NewDiscount {
        percent_off,
        amount_off,
        min_subtotal,
        max_redemptions,
        per_customer_limit,
        starts_at,
        ends_at,
    };
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
