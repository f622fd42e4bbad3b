//! Path and query parameters, and conditional requests (ETag, If-None-Match).

use super::ApiError;
use crate::app::FieldError;
use crate::domain::Invalid;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;

/// A path parameter (`{id}`), as API Gateway extracted it.
pub fn path_param<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.path_parameters_ref().and_then(|p| p.first(name))
}

/// The `Idempotency-Key` header, which the routes that make money move require.
pub fn idempotency_key(req: &Request) -> Result<crate::domain::IdempotencyKey, crate::app::AppError> {
    req.headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| crate::domain::IdempotencyKey::parse(v).ok())
        .ok_or(crate::app::AppError::IdempotencyKeyRequired)
}

/// A request body's canonical form (what a repeat under the same idempotency key must match).
pub fn canonical_body(req: &Request) -> String {
    serde_json::from_slice::<serde_json::Value>(req.body().as_ref()).map(|v| v.to_string()).unwrap_or_default()
}

/// Query parameters, read one by one with every problem collected (422 at `finish`, which
/// also refuses parameters nobody read: a typo such as `?categry=` is an error, not ignored).
pub struct Query<'a> {
    req: &'a Request,
    errors: Vec<FieldError>,
    read: Vec<String>,
}

impl<'a> Query<'a> {
    pub fn new(req: &'a Request) -> Self {
        Self { req, errors: Vec::new(), read: Vec::new() }
    }

    pub fn raw(&mut self, name: &str) -> Option<&'a str> {
        self.read.push(name.to_owned());
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

    pub fn finish(mut self) -> Result<(), ApiError> {
        if let Some(params) = self.req.query_string_parameters_ref() {
            let mut unknown: Vec<&str> =
                params.iter().map(|(k, _)| k).filter(|k| !self.read.iter().any(|r| r == k)).collect();
            unknown.sort_unstable();
            unknown.dedup();
            for name in unknown {
                self.errors.push(FieldError::new(name, "is not a known query parameter"));
            }
        }
        if self.errors.is_empty() { Ok(()) } else { Err(ApiError::validation(self.errors)) }
    }
}

/// A public, cacheable JSON answer: `ETag` (given, or a hash of the body) and
/// `Cache-Control: public, max-age=60`; 304 with no body when `If-None-Match` names the ETag.
pub fn cacheable_json(req: &Request, value: &impl Serialize, etag: Option<String>) -> Result<Response<Body>, ApiError> {
    let body = serde_json::to_string(value).map_err(|e| ApiError::internal(format!("serialising a response: {e}")))?;
    let etag = etag.unwrap_or_else(|| format!("\"{:016x}\"", fnv1a(body.as_bytes())));
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

/// FNV-1a, 64 bits: a fixed, documented hash, so an ETag stays the same across processes and
/// toolchain upgrades (unlike `DefaultHasher`). Not for security: ETags only detect change.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    #[test]
    fn fnv1a_matches_the_reference_values() {
        assert_eq!(super::fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(super::fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
