//! Stripe's API as storefront uses it: a PaymentIntent per order, and refunds of it. Requests
//! are form-encoded (nested keys as `metadata[order_id]`), carry the secret key as a bearer
//! token and an `Idempotency-Key` on every POST, and Stripe answers JSON. Only the fields
//! storefront reads are parsed; the rest of Stripe's objects is ignored.

use super::StoreError;
use crate::domain::{Currency, Money, OrderId, RefundId};
use serde::Deserialize;
use std::collections::HashMap;

/// How long one call to Stripe may take (a function's own timeout is 10 s).
const CALL_SECONDS: u64 = 6;

/// A client of Stripe's API, built once per process (`STRIPE_API_BASE` in tests and locally
/// names a stand-in).
#[derive(Clone)]
pub struct Stripe {
    http: reqwest::Client,
    base: String,
    key: String,
}

impl std::fmt::Debug for Stripe {
    /// Never the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stripe").field("base", &self.base).finish_non_exhaustive()
    }
}

/// A PaymentIntent, as storefront reads it.
#[derive(Debug, Clone, Deserialize)]
pub struct PaymentIntent {
    pub id: String,
    #[serde(default)]
    pub client_secret: Option<String>,
    pub status: String,
    pub amount: i64,
    #[serde(default)]
    pub amount_received: i64,
    pub currency: String,
    #[serde(default)]
    pub metadata: HashMap<String, String>,
}

/// A Stripe refund, as storefront reads it.
#[derive(Debug, Clone, Deserialize)]
pub struct StripeRefund {
    pub id: String,
    #[serde(default)]
    pub status: Option<String>,
    pub amount: i64,
    #[serde(default)]
    pub failure_reason: Option<String>,
    #[serde(default)]
    pub payment_intent: Option<String>,
    #[serde(default)]
    pub metadata: HashMap<String, String>,
}

impl StripeRefund {
    /// storefront's refund it makes (`metadata[refund_id]`), if one of storefront's.
    pub fn refund_id(&self) -> Option<RefundId> {
        self.metadata.get("refund_id").and_then(|id| RefundId::parse(id))
    }
}

/// A page of refunds (`GET /v1/refunds`).
#[derive(Debug, Deserialize)]
struct RefundList {
    data: Vec<StripeRefund>,
    #[serde(default)]
    has_more: bool,
}

/// At most this many pages of 100 refunds of one payment are read.
const MAX_REFUND_PAGES: usize = 10;

/// What Stripe answered: the object, or a refusal of the request itself (4xx with an error
/// object: nothing was done, and sending it again will not help).
#[derive(Debug)]
pub enum Answer<T> {
    Done(T),
    Refused { code: String, message: String },
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorObject,
}

#[derive(Deserialize)]
struct ErrorObject {
    #[serde(default)]
    code: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

impl Stripe {
    pub fn new(key: String, base: Option<String>) -> Result<Self, StoreError> {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(CALL_SECONDS))
            .connect_timeout(std::time::Duration::from_secs(3))
            .build()
            .map_err(|e| StoreError::Backend { operation: "Stripe", detail: e.to_string() })?;
        let base = base.unwrap_or_else(|| "https://api.stripe.com".into()).trim_end_matches('/').to_owned();
        Ok(Self { http, base, key })
    }

    /// `POST /v1/payment_intents` for an order: its amount and currency, `metadata[order_id]`,
    /// automatic payment methods; idempotent on the order id (a retry answers the same intent).
    pub async fn create_payment_intent(
        &self,
        order: OrderId,
        amount: Money,
        currency: &Currency,
    ) -> Result<Answer<PaymentIntent>, StoreError> {
        let form = [
            ("amount", amount.cents().to_string()),
            ("currency", currency.as_str().to_ascii_lowercase()),
            ("metadata[order_id]", order.to_string()),
            ("automatic_payment_methods[enabled]", "true".into()),
        ];
        self.post("/v1/payment_intents", &format!("storefront-order-{order}"), &form).await
    }

    /// `POST /v1/refunds` of `amount` of a PaymentIntent, `metadata[refund_id]` naming
    /// storefront's refund; idempotent on the refund id.
    pub async fn create_refund(
        &self,
        refund: RefundId,
        order: OrderId,
        payment_intent: &str,
        amount: Money,
    ) -> Result<Answer<StripeRefund>, StoreError> {
        let form = [
            ("payment_intent", payment_intent.to_owned()),
            ("amount", amount.cents().to_string()),
            ("metadata[refund_id]", refund.to_string()),
            ("metadata[order_id]", order.to_string()),
        ];
        self.post("/v1/refunds", &format!("storefront-refund-{refund}"), &form).await
    }

    /// `GET /v1/refunds/{id}`.
    pub async fn refund(&self, id: &str) -> Result<Answer<StripeRefund>, StoreError> {
        self.get(&format!("/v1/refunds/{id}"), &[]).await
    }

    /// The refund of a PaymentIntent whose `metadata[refund_id]` is `refund`, if Stripe made one.
    pub async fn refund_named(
        &self,
        payment_intent: &str,
        refund: RefundId,
    ) -> Result<Option<StripeRefund>, StoreError> {
        Ok(self
            .refunds_of(payment_intent)
            .await?
            .and_then(|all| all.into_iter().find(|r| r.refund_id() == Some(refund))))
    }

    /// Every refund of a PaymentIntent, newest first (`GET /v1/refunds?payment_intent=`, page
    /// by page); `None` when Stripe refuses the request (no such intent on this account).
    pub async fn refunds_of(&self, payment_intent: &str) -> Result<Option<Vec<StripeRefund>>, StoreError> {
        let mut all: Vec<StripeRefund> = Vec::new();
        for _ in 0..MAX_REFUND_PAGES {
            let mut query = vec![("payment_intent", payment_intent.to_owned()), ("limit", "100".into())];
            if let Some(last) = all.last() {
                query.push(("starting_after", last.id.clone()));
            }
            match self.get::<RefundList>("/v1/refunds", &query).await? {
                Answer::Done(page) => {
                    let more = page.has_more && !page.data.is_empty();
                    all.extend(page.data);
                    if !more {
                        return Ok(Some(all));
                    }
                }
                Answer::Refused { .. } => return Ok(None),
            }
        }
        Ok(Some(all))
    }

    async fn post<T: for<'de> Deserialize<'de>>(
        &self,
        path: &str,
        idempotency_key: &str,
        form: &[(&str, String)],
    ) -> Result<Answer<T>, StoreError> {
        let request = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .header("idempotency-key", idempotency_key)
            .form(form);
        answer(request.send().await).await
    }

    async fn get<T: for<'de> Deserialize<'de>>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Answer<T>, StoreError> {
        let request = self.http.get(format!("{}{path}", self.base)).bearer_auth(&self.key).query(query);
        answer(request.send().await).await
    }
}

/// Stripe's answer read: a 2xx's object; a 4xx's error, refusing the request itself (but
/// 401/403, 409 an idempotency conflict, 429, and Stripe's own error types, which are "try
/// again"); anything else, or no answer, is Stripe out of reach.
async fn answer<T: for<'de> Deserialize<'de>>(
    sent: Result<reqwest::Response, reqwest::Error>,
) -> Result<Answer<T>, StoreError> {
    let unavailable = |detail: String| StoreError::Unavailable { operation: "Stripe", detail };
    let response = sent.map_err(|e| unavailable(e.without_url().to_string()))?;
    let status = response.status();
    let body = response.bytes().await.map_err(|e| unavailable(e.without_url().to_string()))?;
    if status.is_success() {
        return serde_json::from_slice(&body).map(Answer::Done).map_err(|e| StoreError::Backend {
            operation: "Stripe",
            detail: format!("an answer not understood: {e}"),
        });
    }
    let error = serde_json::from_slice::<ErrorBody>(&body).ok().map(|b| b.error);
    // Stripe's own trouble, or keys it does not take (a key being rotated): try again later,
    // never "refused" (a refused refund is final).
    let ours = matches!(status.as_u16(), 401 | 403 | 409 | 429)
        || error.as_ref().and_then(|e| e.kind.as_deref()).is_some_and(|kind| {
            matches!(kind, "api_error" | "authentication_error" | "permission_error" | "rate_limit_error")
        });
    if status.is_client_error() && !ours {
        let code = error
            .as_ref()
            .and_then(|e| e.code.clone().or_else(|| e.kind.clone()))
            .unwrap_or_else(|| status.to_string());
        let message = error.and_then(|e| e.message).unwrap_or_default();
        return Ok(Answer::Refused { code, message });
    }
    Err(unavailable(format!("HTTP {status}")))
}
