//! Webhook endpoints of the shop's other systems (admins), and the bus consumer that delivers
//! events to them.

use crate::app::catalog::{DEFAULT_PAGE, MAX_PAGE};
use crate::app::webhooks::{self, DeliveryView, WebhookPatch, WebhookView};
use crate::app::{App, AppError, Resource};
use crate::domain::{DeliveryStatus, EventId, EventSelection, Invalid, Text, WebhookEndpoint, WebhookId, WebhookUrl};
use crate::http::{self, ApiError, Body, JsonBody, Query, Request, Response};
use serde::Serialize;
use serde_json::Value;

/// The longest description an endpoint may have.
const MAX_DESCRIPTION_CHARS: usize = 200;

/// An endpoint with its secret: the answer to a registration or a rotation, and no other.
#[derive(Serialize)]
struct WithSecret<'a> {
    #[serde(flatten)]
    view: WebhookView,
    secret: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Listing<T> {
    items: Vec<T>,
    next_cursor: Option<String>,
}

fn webhook_id(req: &Request) -> Result<WebhookId, ApiError> {
    http::path_param(req, "id").and_then(WebhookId::parse).ok_or_else(|| AppError::NotFound(Resource::Webhook).into())
}

fn events(value: Value) -> Result<EventSelection, Invalid> {
    let names: Vec<String> = serde_json::from_value(value)
        .map_err(|_| Invalid::new("must be a list of event types, or [\"*\"] for every one"))?;
    EventSelection::parse(&names)
}

fn description(raw: &str) -> Result<Text, Invalid> {
    Text::parse(raw, 1, MAX_DESCRIPTION_CHARS)
}

fn view(app: &App, endpoint: &WebhookEndpoint) -> WebhookView {
    WebhookView::of(endpoint, app.clock.now())
}

/// `POST /admin/webhooks` `{url, events, description?}` (admin) → 201 endpoint with its secret.
pub async fn create_webhook(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let admin = http::require_admin(app, &req).await?;
    let mut body = JsonBody::parse(&req)?;
    let policy = app.config.webhooks.policy;
    let url = body.string("url", |raw| WebhookUrl::parse(raw, policy));
    let selection = if body.has("events") {
        body.optional_value("events", events)
    } else {
        body.invalid("events", Invalid::new("is required"));
        None
    };
    let described = body.optional_string("description", description);
    let (url, selection) = body.finish((url, selection))?;
    let endpoint = webhooks::register(app, admin.principal.user_id, url, selection, described).await?;
    http::json(201, &WithSecret { view: view(app, &endpoint), secret: endpoint.secret.reveal() })
}

/// `GET /admin/webhooks?limit=&cursor=` (admin): endpoints, oldest first.
pub async fn list_webhooks(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    http::require_admin(app, &req).await?;
    let mut query = Query::new(&req);
    let limit = query.limit(DEFAULT_PAGE, MAX_PAGE);
    let cursor = query.raw("cursor");
    query.finish()?;
    let (items, next_cursor) = webhooks::list(app, limit, cursor).await?;
    http::json(200, &Listing { items, next_cursor })
}

/// `GET /admin/webhooks/{id}` (admin).
pub async fn get_webhook(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    http::require_admin(app, &req).await?;
    let endpoint = webhooks::get(app, webhook_id(&req)?).await?;
    http::json(200, &view(app, &endpoint))
}

/// `PATCH /admin/webhooks/{id}` `{url?, events?, description?, enabled?, rotateSecret?}`
/// (admin) → 200 endpoint; with `rotateSecret: true`, with its new secret.
pub async fn update_webhook(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    http::require_admin(app, &req).await?;
    let id = webhook_id(&req)?;
    let mut body = JsonBody::parse(&req)?;
    let policy = app.config.webhooks.policy;
    let url = body.optional_string("url", |raw| WebhookUrl::parse(raw, policy));
    let selection = body.optional_value("events", events);
    let described = body.optional_value("description", |value| match value {
        Value::Null => Ok(None),
        Value::String(raw) => description(&raw).map(Some),
        _ => Err(Invalid::new("must be a string, or null to remove it")),
    });
    let enabled = body.optional_bool("enabled");
    let rotate = body.optional_value("rotateSecret", |value| match value {
        Value::Bool(true) => Ok(true),
        _ => Err(Invalid::new("must be true (omit it to keep the secret)")),
    });
    body.finish(())?;
    let patch = WebhookPatch {
        url,
        events: selection,
        description: described,
        enabled,
        rotate_secret: rotate.unwrap_or(false),
    };
    let endpoint = webhooks::update(app, id, &patch).await?;
    if patch.rotate_secret {
        http::json(200, &WithSecret { view: view(app, &endpoint), secret: endpoint.secret.reveal() })
    } else {
        http::json(200, &view(app, &endpoint))
    }
}

/// `DELETE /admin/webhooks/{id}` (admin) → 204.
pub async fn delete_webhook(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    http::require_admin(app, &req).await?;
    webhooks::delete(app, webhook_id(&req)?).await?;
    http::no_content()
}

/// `GET /admin/webhooks/{id}/deliveries?status=&limit=&cursor=` (admin): newest first.
pub async fn list_webhook_deliveries(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    http::require_admin(app, &req).await?;
    let id = webhook_id(&req)?;
    let mut query = Query::new(&req);
    let status = query.parse("status", |raw| {
        DeliveryStatus::parse(raw).ok_or_else(|| Invalid::new("must be pending, succeeded or failed"))
    });
    let limit = query.limit(DEFAULT_PAGE, MAX_PAGE);
    let cursor = query.raw("cursor");
    query.finish()?;
    let (items, next_cursor) = webhooks::deliveries(app, id, status, limit, cursor).await?;
    http::json(200, &Listing { items, next_cursor })
}

/// `POST /admin/webhooks/{id}/deliveries/{deliveryId}/retry` (admin) → 200 delivery, after
/// one more attempt made now.
pub async fn retry_webhook_delivery(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    http::require_admin(app, &req).await?;
    let id = webhook_id(&req)?;
    let event =
        http::path_param(&req, "deliveryId").and_then(EventId::parse).ok_or(AppError::NotFound(Resource::Delivery))?;
    let delivery = webhooks::retry_one(app, id, event).await?;
    http::json(200, &DeliveryView::from(delivery))
}

/// `deliver-webhooks`: the target of the bus's rule for every event type; each event goes to
/// the endpoints that asked for it. An error fails the invocation, and the bus retries it.
pub async fn deliver_webhooks(app: &App, event: Value) -> Result<Value, ApiError> {
    let report = webhooks::deliver(app, &event["detail"]).await?;
    serde_json::to_value(report).map_err(|e| ApiError::internal(e.to_string()))
}
