//! Path and query parameters, and conditional requests (ETag, If-None-Match).

use super::ApiError;
use crate::app::FieldError;
use crate::domain::Invalid;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use std::hash::{Hash, Hasher};

/// A path parameter (`{id}`), as API Gateway extracted it.
pub fn path_param<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.path_parameters_ref().and_then(|p| p.first(name))
}

/// Query parameters, read one by one with every problem collected (422 at `finish`).
pub struct Query<'a> {
    req: &'a Request,
    errors: Vec<FieldError>,
}

impl<'a> Query<'a> {
    pub fn new(req: &'a Request) -> Self {
        Self { req, errors: Vec::new() }
    }

    pub fn raw(&self, name: &str) -> Option<&'a str> {
        self.req.query_string_parameters_ref().and_then(|q| q.first(name)).filter(|v| !v.is_empty())
    }

    pub fn parse<T>(&mut self, name: &str, parse: impl FnOnce(&str) -> Result<T, Invalid>) -> Option<T> {
        let raw = self.raw(name)?;
        parse(raw).map_err(|e| self.errors.push(FieldError::new(name, e.0))).ok()
    }

    /// `limit`: an integer in `1..=max`, `default` when absent.
    pub fn limit(&mut self, default: usize, max: usize) -> usize {
        self.parse("limit", |raw| {
            raw.parse::<usize>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| Invalid::new(format!("must be an integer from 1 to {max}")))
        })
        .unwrap_or(default)
    }

    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() { Ok(()) } else { Err(ApiError::validation(self.errors)) }
    }
}

/// A public, cacheable JSON answer: `ETag` (given, or a hash of the body) and
/// `Cache-Control: public, max-age=60`; 304 with no body when `If-None-Match` names the ETag.
pub fn cacheable_json(req: &Request, value: &impl Serialize, etag: Option<String>) -> Result<Response<Body>, ApiError> {
    let body = serde_json::to_string(value).map_err(|e| ApiError::internal(format!("serialising a response: {e}")))?;
    let etag = etag.unwrap_or_else(|| {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        body.hash(&mut hasher);
        format!("\"{:016x}\"", hasher.finish())
    });
    let not_modified = req
        .headers()
        .get_all("if-none-match")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == etag);
    let builder = Response::builder()
        .header("etag", &etag)
        .header("cache-control", "public, max-age=60")
        .header("vary", "accept-encoding");
    let response = if not_modified {
        builder.status(304).body(Body::Empty)
    } else {
        builder.status(200).header("content-type", "application/json").body(Body::Text(body))
    };
    response.map_err(|e| ApiError::internal(format!("building a response: {e}")))
}
