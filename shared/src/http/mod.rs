//! HTTP glue shared by every function: request parsing, auth, problem responses, logging,
//! and the Lambda loop. Functions are `serve(api::<area>::<operation>)` and nothing more.

mod auth;
mod input;
mod log;
mod params;
mod problem;
mod serve;

pub use auth::{
    caller, cart_token, require_admin, require_order_reader, require_session, require_shopper, require_user,
};
pub use input::{JsonBody, MAX_BODY_BYTES};
pub use params::{Query, cacheable_json, canonical_body, idempotency_key, path_param};
pub use problem::{ApiError, Kind, RETRY_AFTER_SECONDS};
pub use serve::{handle, init_logging, serve, serve_event, serve_job};

pub use lambda_http::{Body, Request, Response};

use serde::Serialize;

/// A JSON response. Responses of the private API are never cached.
pub fn json(status: u16, value: &impl Serialize) -> Result<Response<Body>, ApiError> {
    json_with(status, value, None)
}

/// A JSON response with an `ETag` header (never cached by shared caches).
pub fn json_with(status: u16, value: &impl Serialize, etag: Option<&str>) -> Result<Response<Body>, ApiError> {
    let body = serde_json::to_string(value).map_err(|e| ApiError::internal(format!("serialising a response: {e}")))?;
    let mut builder = Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("cache-control", "no-store");
    if let Some(etag) = etag {
        builder = builder.header("etag", etag);
    }
    builder.body(Body::Text(body)).map_err(|e| ApiError::internal(format!("building a response: {e}")))
}

/// 204 No Content.
pub fn no_content() -> Result<Response<Body>, ApiError> {
    Response::builder()
        .status(204)
        .header("cache-control", "no-store")
        .body(Body::Empty)
        .map_err(|e| ApiError::internal(format!("building a response: {e}")))
}

/// 202 with no body: the request was taken, and what it asks for happens out of band (an email).
pub fn accepted() -> Result<Response<Body>, ApiError> {
    Response::builder()
        .status(202)
        .header("cache-control", "no-store")
        .body(Body::Empty)
        .map_err(|e| ApiError::internal(format!("building a response: {e}")))
}

/// A JSON response whose body is already serialised (a stored answer replayed).
pub fn raw_json(status: u16, body: String) -> Result<Response<Body>, ApiError> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("cache-control", "no-store")
        .body(Body::Text(body))
        .map_err(|e| ApiError::internal(format!("building a response: {e}")))
}
