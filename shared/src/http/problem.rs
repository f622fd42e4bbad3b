//! RFC 9457 problem details: the one place where errors become HTTP answers.

use crate::app::{AppError, FieldError};
use lambda_http::{Body, Response};
use serde::Serialize;

/// How long a client should wait before sending a request answered 503 again.
pub const RETRY_AFTER_SECONDS: i64 = 1;

/// An HTTP error answer. Built from an [`AppError`] or directly by request parsing.
/// Boxed, so that `Result<_, ApiError>` stays one pointer wide on the happy path.
#[derive(Debug)]
pub struct ApiError(Box<ErrorDetails>);

/// What an [`ApiError`] says; reached through `Deref`.
#[derive(Debug)]
pub struct ErrorDetails {
    pub status: u16,
    pub code: &'static str,
    pub title: &'static str,
    pub detail: String,
    pub errors: Vec<FieldError>,
    retry_after: Option<i64>,
    /// `Some` for 401s: the `error` parameter of `WWW-Authenticate`, if any.
    bearer_error: Option<Option<&'static str>>,
    /// What really went wrong (500s only): logged with the request id, never sent.
    pub internal: Option<String>,
    /// Extension members of this problem type (RFC 9457 §3.2), e.g. `items` or `reason`.
    pub extensions: serde_json::Map<String, serde_json::Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    detail: &'a str,
    code: &'a str,
    request_id: &'a str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    errors: &'a [FieldError],
    #[serde(flatten)]
    extensions: &'a serde_json::Map<String, serde_json::Value>,
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, title: &'static str, detail: impl Into<String>) -> Self {
        Self(Box::new(ErrorDetails {
            status,
            code,
            title,
            detail: detail.into(),
            errors: Vec::new(),
            retry_after: None,
            bearer_error: None,
            internal: None,
            extensions: serde_json::Map::new(),
        }))
    }

    pub fn malformed_json(detail: impl Into<String>) -> Self {
        Self::new(400, "malformed_json", "Malformed JSON", detail)
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        let mut e = Self::new(422, "validation_failed", "Validation failed", "One or more fields are invalid.");
        e.errors = errors;
        e
    }

    pub fn not_found(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(404, code, "Not found", detail)
    }

    /// 401 with `WWW-Authenticate: Bearer`; `presented` says whether a token was sent (and refused).
    pub fn unauthenticated(presented: bool) -> Self {
        let mut e = Self::new(401, "unauthenticated", "Unauthenticated", "A valid access token is required.");
        e.bearer_error = Some(presented.then_some("invalid_token"));
        e
    }

    /// Adds an extension member.
    pub fn with(mut self, name: &str, value: serde_json::Value) -> Self {
        self.extensions.insert(name.to_owned(), value);
        self
    }

    pub fn internal(detail: impl Into<String>) -> Self {
        let mut e = Self::new(
            500,
            "internal",
            "Internal error",
            "Something went wrong on our side; quote the request id if you report it.",
        );
        e.internal = Some(detail.into());
        e
    }

    /// 503 with `Retry-After`: overloaded or timed out, try again shortly.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        let mut e = Self::new(
            503,
            "service_unavailable",
            "Service unavailable",
            format!("The service is busy; send the request again in {RETRY_AFTER_SECONDS} second(s)."),
        );
        e.retry_after = Some(RETRY_AFTER_SECONDS);
        e.internal = Some(detail.into());
        e
    }

    pub fn into_response(self, request_id: &str) -> Response<Body> {
        let this = *self.0;
        let problem = Problem {
            kind: format!("urn:storefront:problem:{}", this.code),
            title: this.title,
            status: this.status,
            detail: &this.detail,
            code: this.code,
            request_id,
            errors: &this.errors,
            extensions: &this.extensions,
        };
        let body = serde_json::to_string(&problem).unwrap_or_else(|_| String::from("{}"));
        let mut builder = Response::builder()
            .status(this.status)
            .header("content-type", "application/problem+json")
            .header("cache-control", "no-store");
        if let Some(seconds) = this.retry_after {
            builder = builder.header("retry-after", seconds.to_string());
        }
        if let Some(error) = this.bearer_error {
            let value = match error {
                Some(error) => format!("Bearer realm=\"storefront\", error=\"{error}\""),
                None => "Bearer realm=\"storefront\"".to_owned(),
            };
            builder = builder.header("www-authenticate", value);
        }
        builder.body(Body::Text(body)).unwrap_or_else(|_| Response::new(Body::Empty))
    }
}

impl From<AppError> for ApiError {
    fn from(err: AppError) -> Self {
        match err {
            AppError::Validation(errors) => ApiError::validation(errors),
            AppError::Unauthenticated => ApiError::unauthenticated(true),
            AppError::Forbidden => ApiError::new(403, "forbidden", "Forbidden", "This needs an admin account."),
            AppError::EmailTaken => {
                ApiError::new(409, "email_taken", "Email taken", "An account with this email already exists.")
            }
            AppError::InvalidCredentials => {
                let mut e =
                    ApiError::new(401, "invalid_credentials", "Invalid credentials", "The email or password is wrong.");
                e.bearer_error = Some(None);
                e
            }
            AppError::TooManyAttempts { retry_after } => {
                let mut e = ApiError::new(
                    429,
                    "too_many_attempts",
                    "Too many attempts",
                    format!("Too many failed sign-ins for this email; try again in {retry_after} seconds."),
                );
                e.retry_after = Some(retry_after);
                e
            }
            AppError::NotFound { code, detail } => ApiError::not_found(code, detail),
            AppError::SkuTaken => ApiError::new(409, "sku_taken", "SKU taken", "Another product already has this SKU."),
            AppError::VersionMismatch => ApiError::new(
                412,
                "version_mismatch",
                "Version mismatch",
                "The product has changed since the ETag in If-Match; fetch it again.",
            ),
            AppError::InsufficientStock { items } => ApiError::new(
                409,
                "insufficient_stock",
                "Insufficient stock",
                "There is not enough stock for every line; see items.",
            )
            .with("items", serde_json::to_value(items).unwrap_or_default()),
            AppError::CartFull => {
                ApiError::new(422, "cart_full", "Cart full", "A cart holds at most 50 different products.")
            }
            AppError::CartEmpty => ApiError::new(409, "cart_empty", "Cart empty", "The cart has nothing to order."),
            AppError::PriceChanged => ApiError::new(
                409,
                "price_changed",
                "Price changed",
                "A price changed since the cart was priced; ask for a new quote.",
            ),
            AppError::InvalidDiscount(reason) => {
                ApiError::new(422, "invalid_discount", "Invalid discount", reason.explain())
                    .with("reason", serde_json::to_value(reason).unwrap_or_default())
            }
            AppError::UnsupportedCountry => {
                ApiError::new(422, "unsupported_country", "Unsupported country", "We do not ship to this country.")
            }
            AppError::DiscountCodeTaken => ApiError::new(
                409,
                "discount_code_taken",
                "Discount code taken",
                "A discount with this code already exists.",
            ),
            AppError::IdempotencyKeyRequired => ApiError::new(
                400,
                "idempotency_key_required",
                "Idempotency key required",
                "Send an Idempotency-Key header of 1 to 255 printable characters.",
            ),
            AppError::IdempotencyKeyReused => ApiError::new(
                422,
                "idempotency_key_reused",
                "Idempotency key reused",
                "This Idempotency-Key was used with a different request.",
            ),
            AppError::RequestInProgress => ApiError::new(
                409,
                "request_in_progress",
                "Request in progress",
                "A request with this Idempotency-Key is still being processed; retry shortly.",
            ),
            AppError::InvalidCursor => ApiError::new(
                400,
                "invalid_cursor",
                "Invalid cursor",
                "The cursor is not one this query returned; start again without it.",
            ),
            AppError::InvalidTransition { from, to } => ApiError::new(
                409,
                "invalid_transition",
                "Invalid transition",
                format!("An order cannot go from {} to {} this way.", from.as_str(), to.as_str()),
            ),
            AppError::InvalidSignature => ApiError::new(
                401,
                "invalid_signature",
                "Invalid signature",
                "The Storefront-Signature header is missing or does not match the body.",
            ),
            AppError::StaleSignature => ApiError::new(
                401,
                "stale_signature",
                "Stale signature",
                "The signature's timestamp is more than 5 minutes from now.",
            ),
            AppError::AmountMismatch => ApiError::new(
                422,
                "amount_mismatch",
                "Amount mismatch",
                "The payment's amount or currency is not the order's total.",
            ),
            AppError::Unavailable(detail) => ApiError::unavailable(detail),
            AppError::Internal(detail) => ApiError::internal(detail),
        }
    }
}

impl std::ops::Deref for ApiError {
    type Target = ErrorDetails;
    fn deref(&self) -> &ErrorDetails {
        &self.0
    }
}

impl std::ops::DerefMut for ApiError {
    fn deref_mut(&mut self) -> &mut ErrorDetails {
        &mut self.0
    }
}
