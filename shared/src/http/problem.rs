//! RFC 9457 problem details: the one place where errors become HTTP answers.

use crate::app::{AppError, FieldError, Resource};
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

/// Defines [`Kind`], its table and its list from one list of `Variant => status, code, title`.
macro_rules! problem_kinds {
    ($($variant:ident => $status:literal, $code:literal, $title:literal;)+) => {
        /// Every kind of problem storefront answers with.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Kind {
            $($variant,)+
        }

        impl Kind {
            /// The table: each kind's HTTP status, stable problem `code` and title.
            pub const fn spec(self) -> (u16, &'static str, &'static str) {
                match self {
                    $(Kind::$variant => ($status, $code, $title),)+
                }
            }

            /// Every kind (the contract test checks each code is documented).
            pub const ALL: &'static [Kind] = &[$(Kind::$variant,)+];
        }
    };
}

problem_kinds! {
    MalformedJson => 400, "malformed_json", "Malformed JSON";
    IdempotencyKeyRequired => 400, "idempotency_key_required", "Idempotency key required";
    InvalidCursor => 400, "invalid_cursor", "Invalid cursor";
    InvalidToken => 400, "invalid_token", "Invalid token";
    Unauthenticated => 401, "unauthenticated", "Unauthenticated";
    InvalidCredentials => 401, "invalid_credentials", "Invalid credentials";
    SessionRevoked => 401, "session_revoked", "Session revoked";
    SessionExpired => 401, "session_expired", "Session expired";
    InvalidSignature => 401, "invalid_signature", "Invalid signature";
    StaleSignature => 401, "stale_signature", "Stale signature";
    Forbidden => 403, "forbidden", "Forbidden";
    ProductNotFound => 404, "product_not_found", "Not found";
    VariantNotFound => 404, "variant_not_found", "Not found";
    OrderNotFound => 404, "order_not_found", "Not found";
    DiscountNotFound => 404, "discount_not_found", "Not found";
    ImageNotFound => 404, "image_not_found", "Not found";
    WebhookNotFound => 404, "webhook_not_found", "Not found";
    DeliveryNotFound => 404, "delivery_not_found", "Not found";
    SessionNotFound => 404, "session_not_found", "Not found";
    AddressNotFound => 404, "address_not_found", "Not found";
    ReturnNotFound => 404, "return_not_found", "Not found";
    EmailTaken => 409, "email_taken", "Email taken";
    AlreadyVerified => 409, "already_verified", "Already verified";
    SkuTaken => 409, "sku_taken", "SKU taken";
    VariantExists => 409, "variant_exists", "Variant exists";
    InsufficientStock => 409, "insufficient_stock", "Insufficient stock";
    CartEmpty => 409, "cart_empty", "Cart empty";
    TooManyUnpaidOrders => 409, "too_many_unpaid_orders", "Too many unpaid orders";
    RefundExceedsPayment => 409, "refund_exceeds_payment", "Refund exceeds payment";
    ReturnNotAllowed => 409, "return_not_allowed", "Return not allowed";
    PriceChanged => 409, "price_changed", "Price changed";
    DiscountCodeTaken => 409, "discount_code_taken", "Discount code taken";
    RequestInProgress => 409, "request_in_progress", "Request in progress";
    InvalidTransition => 409, "invalid_transition", "Invalid transition";
    ImageNotUploaded => 409, "image_not_uploaded", "Image not uploaded";
    TooManyImages => 409, "too_many_images", "Too many images";
    DeliveryInProgress => 409, "delivery_in_progress", "Delivery in progress";
    VersionMismatch => 412, "version_mismatch", "Version mismatch";
    PayloadTooLarge => 413, "payload_too_large", "Payload too large";
    UnsupportedMediaType => 415, "unsupported_media_type", "Unsupported media type";
    ValidationFailed => 422, "validation_failed", "Validation failed";
    CartFull => 422, "cart_full", "Cart full";
    AddressBookFull => 422, "address_book_full", "Address book full";
    InvalidImage => 422, "invalid_image", "Invalid image";
    VariantRequired => 422, "variant_required", "Variant required";
    InvalidDiscount => 422, "invalid_discount", "Invalid discount";
    UnsupportedCountry => 422, "unsupported_country", "Unsupported country";
    IdempotencyKeyReused => 422, "idempotency_key_reused", "Idempotency key reused";
    AmountMismatch => 422, "amount_mismatch", "Amount mismatch";
    TooManyAttempts => 429, "too_many_attempts", "Too many attempts";
    Internal => 500, "internal", "Internal error";
    ServiceUnavailable => 503, "service_unavailable", "Service unavailable";
}

impl ApiError {
    /// A problem of `kind`, saying `detail`.
    pub fn of(kind: Kind, detail: impl Into<String>) -> Self {
        let (status, code, title) = kind.spec();
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
        Self::of(Kind::MalformedJson, detail)
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        let mut e = Self::of(Kind::ValidationFailed, "One or more fields are invalid.");
        e.errors = errors;
        e
    }

    /// 401 with `WWW-Authenticate: Bearer`; `presented` says whether a token was sent (and refused).
    pub fn unauthenticated(presented: bool) -> Self {
        let mut e = Self::of(Kind::Unauthenticated, "A valid access token is required.");
        e.bearer_error = Some(presented.then_some("invalid_token"));
        e
    }

    /// Adds an extension member.
    pub fn with(mut self, name: &str, value: serde_json::Value) -> Self {
        self.extensions.insert(name.to_owned(), value);
        self
    }

    pub fn internal(detail: impl Into<String>) -> Self {
        let mut e =
            Self::of(Kind::Internal, "Something went wrong on our side; quote the request id if you report it.");
        e.internal = Some(detail.into());
        e
    }

    /// 503 with `Retry-After`: overloaded or timed out, try again shortly.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        let mut e = Self::of(
            Kind::ServiceUnavailable,
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
        use crate::auth::webhook::TOLERANCE_SECONDS;
        use crate::domain::{Cart, IdempotencyKey};
        match err {
            AppError::Validation(errors) => ApiError::validation(errors),
            AppError::Unauthenticated => ApiError::unauthenticated(true),
            AppError::Forbidden => ApiError::of(Kind::Forbidden, "This needs an admin account."),
            AppError::EmailTaken => ApiError::of(Kind::EmailTaken, "An account with this email already exists."),
            AppError::InvalidCredentials => {
                let mut e = ApiError::of(Kind::InvalidCredentials, "The email or password is wrong.");
                e.bearer_error = Some(None);
                e
            }
            AppError::InvalidRefreshToken => {
                let mut e = ApiError::of(Kind::Unauthenticated, "This refresh token is not valid; sign in again.");
                e.bearer_error = Some(None);
                e
            }
            AppError::SessionRevoked => {
                let mut e = ApiError::of(Kind::SessionRevoked, "This session was revoked; sign in again.");
                e.bearer_error = Some(Some("invalid_token"));
                e
            }
            AppError::SessionExpired => {
                let mut e = ApiError::of(Kind::SessionExpired, "This session has ended; sign in again.");
                e.bearer_error = Some(Some("invalid_token"));
                e
            }
            AppError::InvalidToken => ApiError::of(
                Kind::InvalidToken,
                "This token is not valid: it was used already, has expired, or was never issued. Ask for a new email.",
            ),
            AppError::AlreadyVerified => ApiError::of(Kind::AlreadyVerified, "Your email address is verified already."),
            AppError::EmailNotVerified => {
                ApiError::of(Kind::Forbidden, "The account's email address must be verified first.")
            }
            AppError::TooManyAttempts { retry_after } => {
                let mut e = ApiError::of(
                    Kind::TooManyAttempts,
                    format!("Too many failed sign-ins; try again in {retry_after} seconds."),
                );
                e.retry_after = Some(retry_after);
                e
            }
            AppError::NotFound(resource) => match resource {
                Resource::Product => ApiError::of(Kind::ProductNotFound, "No such product."),
                Resource::Variant => ApiError::of(Kind::VariantNotFound, "The product has no such variant."),
                Resource::Order => ApiError::of(Kind::OrderNotFound, "No such order."),
                Resource::Discount => ApiError::of(Kind::DiscountNotFound, "No discount has this code."),
                Resource::Image => ApiError::of(Kind::ImageNotFound, "The product has no such image or upload."),
                Resource::Webhook => ApiError::of(Kind::WebhookNotFound, "No such webhook endpoint."),
                Resource::Delivery => {
                    ApiError::of(Kind::DeliveryNotFound, "The endpoint has no delivery of this event.")
                }
                Resource::Session => ApiError::of(Kind::SessionNotFound, "You have no such session."),
                Resource::Address => ApiError::of(Kind::AddressNotFound, "You have no saved address with this id."),
                Resource::Return => ApiError::of(Kind::ReturnNotFound, "No such return."),
            },
            AppError::SkuTaken => ApiError::of(Kind::SkuTaken, "Another variant already has this SKU."),
            AppError::VariantExists { variant_id } => {
                ApiError::of(Kind::VariantExists, "Another variant of the product has these option values.")
                    .with("variantId", serde_json::Value::String(variant_id.to_string()))
            }
            AppError::VariantRequired => ApiError::of(
                Kind::VariantRequired,
                "This product is sold in options; name one of its variants by its id.",
            ),
            AppError::DeliveryInProgress => ApiError::of(
                Kind::DeliveryInProgress,
                "Another attempt of this delivery is under way; read the deliveries in a few seconds.",
            ),
            AppError::VersionMismatch => ApiError::of(
                Kind::VersionMismatch,
                "The product has changed since the ETag in If-Match; fetch it again.",
            ),
            AppError::InsufficientStock { items } => {
                ApiError::of(Kind::InsufficientStock, "There is not enough stock for every line; see items.")
                    .with("items", serde_json::to_value(items).unwrap_or_default())
            }
            AppError::CartFull => {
                ApiError::of(Kind::CartFull, format!("A cart holds at most {} different variants.", Cart::MAX_LINES))
            }
            AppError::AddressBookFull => ApiError::of(
                Kind::AddressBookFull,
                format!(
                    "An address book holds at most {} addresses; delete one first.",
                    crate::domain::AddressBook::MAX_ENTRIES
                ),
            ),
            AppError::CartEmpty => ApiError::of(Kind::CartEmpty, "The cart has nothing to order."),
            AppError::ReturnNotAllowed(detail) => ApiError::of(Kind::ReturnNotAllowed, detail),
            AppError::ReturnDecided { from } => ApiError::of(
                Kind::InvalidTransition,
                format!("This return is {} already; only a requested return is received or rejected.", from.as_str()),
            ),
            AppError::RefundExceedsPayment { refundable } => ApiError::of(
                Kind::RefundExceedsPayment,
                format!(
                    "This refund would give back more than was paid for the order or its lines: at most {} cents \
                     may still be refunded, and a line's units once each.",
                    refundable.cents()
                ),
            )
            .with("refundableCents", serde_json::Value::from(refundable.cents())),
            AppError::TooManyUnpaidOrders { limit } => ApiError::of(
                Kind::TooManyUnpaidOrders,
                format!("You have {limit} orders awaiting payment: pay or cancel one before placing another."),
            )
            .with("limit", serde_json::Value::from(limit)),
            AppError::PriceChanged => {
                ApiError::of(Kind::PriceChanged, "A price changed since the cart was priced; ask for a new quote.")
            }
            AppError::InvalidDiscount(reason) => ApiError::of(Kind::InvalidDiscount, reason.explain())
                .with("reason", serde_json::to_value(reason).unwrap_or_default()),
            AppError::UnsupportedCountry => ApiError::of(Kind::UnsupportedCountry, "We do not ship to this country."),
            AppError::DiscountCodeTaken => {
                ApiError::of(Kind::DiscountCodeTaken, "A discount with this code already exists.")
            }
            AppError::IdempotencyKeyRequired => ApiError::of(
                Kind::IdempotencyKeyRequired,
                format!("Send an Idempotency-Key header of 1 to {} printable characters.", IdempotencyKey::MAX_LEN),
            ),
            AppError::IdempotencyKeyReused => {
                ApiError::of(Kind::IdempotencyKeyReused, "This Idempotency-Key was used with a different request.")
            }
            AppError::RequestInProgress => ApiError::of(
                Kind::RequestInProgress,
                "A request with this Idempotency-Key is still being processed; retry shortly.",
            ),
            AppError::InvalidCursor => {
                ApiError::of(Kind::InvalidCursor, "The cursor is not one this query returned; start again without it.")
            }
            AppError::InvalidTransition { from, to } => ApiError::of(
                Kind::InvalidTransition,
                format!("An order cannot go from {} to {} this way.", from.as_str(), to.as_str()),
            ),
            AppError::InvalidSignature => ApiError::of(
                Kind::InvalidSignature,
                "The signature header (Storefront-Signature, or Stripe-Signature) is missing or does not match the body.",
            ),
            AppError::StaleSignature => ApiError::of(
                Kind::StaleSignature,
                format!("The signature's timestamp is more than {} minutes from now.", TOLERANCE_SECONDS / 60),
            ),
            AppError::AmountMismatch => {
                ApiError::of(Kind::AmountMismatch, "The payment's amount or currency is not the order's total.")
            }
            AppError::ImageNotUploaded => ApiError::of(
                Kind::ImageNotUploaded,
                "Nothing was uploaded for this image yet: send the bytes to the upload URL, then complete it.",
            ),
            AppError::InvalidImage(rejected) => ApiError::of(Kind::InvalidImage, rejected.message())
                .with("reason", serde_json::Value::String(rejected.reason().to_owned())),
            AppError::TooManyImages => ApiError::of(
                Kind::TooManyImages,
                format!("A product has at most {} images; delete one first.", crate::domain::MAX_IMAGES),
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
