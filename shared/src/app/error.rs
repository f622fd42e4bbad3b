use crate::store::StoreError;

/// One invalid field of a request, by its JSON path (`defaultShippingAddress.city`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

/// A line the stock cannot cover: how many were asked for and how many there are.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Shortage {
    pub product_id: crate::domain::ProductId,
    pub variant_id: crate::domain::VariantId,
    pub requested: i64,
    pub available: i64,
}

impl Shortage {
    /// The shortage of one variant's line, as a store refusal reports it.
    pub fn of((variant_id, requested, available): (crate::domain::VariantId, i64, i64)) -> Self {
        Self { product_id: variant_id.product(), variant_id, requested, available }
    }
}

/// What a client can ask for that may not exist (or not be theirs to see).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Product,
    Variant,
    Order,
    Discount,
    Image,
    Webhook,
    Delivery,
    Session,
    Address,
    Return,
}

/// Why an operation did not succeed. `http::problem` turns each into one HTTP answer.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("the request has invalid fields")]
    Validation(Vec<FieldError>),
    #[error("not authenticated")]
    Unauthenticated,
    #[error("not allowed")]
    Forbidden,
    #[error("email already registered")]
    EmailTaken,
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("the refresh token is not one that was issued")]
    InvalidRefreshToken,
    #[error("the session was revoked")]
    SessionRevoked,
    #[error("the session has ended")]
    SessionExpired,
    #[error("the token is unknown, used or expired")]
    InvalidToken,
    #[error("the email is verified already")]
    AlreadyVerified,
    #[error("the account's email is not verified")]
    EmailNotVerified,
    #[error("too many failed login attempts")]
    TooManyAttempts { retry_after: i64 },
    #[error("{0:?} not found")]
    NotFound(Resource),
    #[error("sku already used")]
    SkuTaken,
    #[error("another variant has these option values")]
    VariantExists { variant_id: crate::domain::VariantId },
    #[error("a product sold in options needs a variant id")]
    VariantRequired,
    #[error("stale version")]
    VersionMismatch,
    #[error("another attempt of the delivery is under way")]
    DeliveryInProgress,
    #[error("insufficient stock")]
    InsufficientStock { items: Vec<Shortage> },
    #[error("cart full")]
    CartFull,
    #[error("address book full")]
    AddressBookFull,
    #[error("cart empty")]
    CartEmpty,
    #[error("the order cannot be returned: {0}")]
    ReturnNotAllowed(String),
    #[error("the return was decided already")]
    ReturnDecided { from: crate::domain::ReturnStatus },
    #[error("the refund exceeds what was paid")]
    RefundExceedsPayment { refundable: crate::domain::Money },
    #[error("too many unpaid orders")]
    TooManyUnpaidOrders { limit: i64 },
    #[error("price changed")]
    PriceChanged,
    #[error("invalid discount")]
    InvalidDiscount(crate::domain::DiscountRejection),
    #[error("unsupported country")]
    UnsupportedCountry,
    #[error("discount code taken")]
    DiscountCodeTaken,
    #[error("idempotency key required")]
    IdempotencyKeyRequired,
    #[error("idempotency key reused with another request")]
    IdempotencyKeyReused,
    #[error("request in progress")]
    RequestInProgress,
    #[error("invalid transition")]
    InvalidTransition { from: crate::domain::OrderStatus, to: crate::domain::OrderStatus },
    #[error("invalid signature")]
    InvalidSignature,
    #[error("stale signature")]
    StaleSignature,
    #[error("amount mismatch")]
    AmountMismatch,
    #[error("invalid cursor")]
    InvalidCursor,
    #[error("no bytes were uploaded for this image yet")]
    ImageNotUploaded,
    #[error("the uploaded bytes are not an acceptable image")]
    InvalidImage(crate::domain::Rejected),
    #[error("the product has as many images as it may")]
    TooManyImages,
    /// A service storefront depends on is overloaded or out of reach for now; the request may
    /// be sent again shortly. The detail is logged, never shown.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// Something that should not happen: the detail is logged, never shown.
    #[error("internal: {0}")]
    Internal(String),
}

impl From<StoreError> for AppError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unavailable { .. } => AppError::Unavailable(err.to_string()),
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<crate::auth::TokenError> for AppError {
    fn from(err: crate::auth::TokenError) -> Self {
        match err {
            crate::auth::TokenError::Invalid | crate::auth::TokenError::UnknownKey => AppError::Unauthenticated,
            other => AppError::Internal(other.to_string()),
        }
    }
}
