//! A stand-in for Stripe's API on loopback: it answers with Stripe's own example objects
//! (tests/fixtures/stripe, a copy of Stripe's published fixtures) with what the request set
//! filled in, keeps every request, and answers refunds as the test says.

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// One of Stripe's example objects (`payment_intent`, `refund`, `charge`, `event`, `dispute`).
pub fn fixture(name: &str) -> Value {
    let path = crate::root().join("tests/fixtures/stripe/fixtures.json");
    let all: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("the Stripe fixtures")).expect("JSON");
    all["resources"][name].clone()
}

/// A webhook event of `kind` about `object`, on Stripe's example event.
pub fn event(kind: &str, object: Value) -> Value {
    let mut event = fixture("event");
    event["id"] = json!(format!("evt_{}", ulid::Ulid::new()));
    event["type"] = json!(kind);
    event["data"] = json!({"object": object});
    event
}

/// A request as the stand-in saw it.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: HeaderMap,
    pub form: Vec<(String, String)>,
}

impl Call {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }

    pub fn field(&self, name: &str) -> Option<&str> {
        self.form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct State {
    calls: Vec<Call>,
    /// Objects made, by idempotency key (a repeat answers the same one).
    made: Vec<(String, Value)>,
    refund_status: Option<String>,
    fail_with: Option<u16>,
}

pub struct StripeStandIn {
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl StripeStandIn {
    pub async fn start() -> Self {
        let state: Arc<Mutex<State>> = Arc::default();
        let shared = state.clone();
        let app = axum::Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let state = shared.clone();
            async move { answer(&state, method, uri, headers, body) }
        });
        Self { url: crate::receiver::serve(app).await, state }
    }

    pub fn calls(&self) -> Vec<Call> {
        self.state.lock().unwrap().calls.clone()
    }

    /// The status new refunds are answered with (default `succeeded`).
    pub fn answer_refunds(&self, status: &str) {
        self.state.lock().unwrap().refund_status = Some(status.to_owned());
    }

    /// Answers every request with this HTTP status and a Stripe error object (`None`: normally).
    pub fn fail_with(&self, status: Option<u16>) {
        self.state.lock().unwrap().fail_with = status;
    }

    /// Sets the status of the refund Stripe made with id `id` (as Stripe does when it settles,
    /// or when a refund it had made fails: then with a `failure_reason`).
    pub fn settle(&self, id: &str, status: &str) {
        let mut state = self.state.lock().unwrap();
        for (_, made) in state.made.iter_mut().filter(|(_, m)| m["id"] == id) {
            made["status"] = json!(status);
            if status == "failed" {
                made["failure_reason"] = json!("lost_or_stolen_card");
            }
        }
    }

    /// A refund of `amount` of the PaymentIntent `intent` made in Stripe's dashboard (no
    /// storefront metadata); its id.
    pub fn dashboard_refund(&self, intent: &str, amount: i64) -> String {
        let mut refund = fixture("refund");
        let id = format!("re_{}", ulid::Ulid::new());
        refund["id"] = json!(id);
        refund["amount"] = json!(amount);
        refund["payment_intent"] = json!(intent);
        refund["metadata"] = json!({});
        refund["status"] = json!("succeeded");
        self.state.lock().unwrap().made.push((format!("dashboard-{id}"), refund));
        id
    }
}

/// What of a PaymentIntent's amount its refunds (those not failed) have not taken.
fn unrefunded(state: &State, intent: &str) -> i64 {
    let amount = state.made.iter().find(|(_, m)| m["id"] == intent).and_then(|(_, m)| m["amount"].as_i64());
    let refunded: i64 = state
        .made
        .iter()
        .filter(|(_, m)| m["object"] == "refund" && m["payment_intent"] == intent)
        .filter(|(_, m)| m["status"] != "failed" && m["status"] != "canceled")
        .filter_map(|(_, m)| m["amount"].as_i64())
        .sum();
    amount.unwrap_or(0) - refunded
}

fn answer(state: &Mutex<State>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> axum::response::Response {
    let form: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let call = Call {
        method: method.to_string(),
        path: uri.path().to_owned(),
        query: uri.query().unwrap_or_default().to_owned(),
        headers,
        form: form.clone(),
    };
    let mut state = state.lock().unwrap();
    state.calls.push(call);
    if let Some(status) = state.fail_with {
        let code = if status >= 500 { "api_error" } else { "charge_already_refunded" };
        let error =
            json!({"error": {"type": "invalid_request_error", "code": code, "message": "The stand-in refuses."}});
        return (StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY), axum::Json(error)).into_response();
    }
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let metadata = |prefix: &str| -> Value {
        form.iter()
            .filter_map(|(k, v)| {
                k.strip_prefix(prefix).and_then(|k| k.strip_suffix(']')).map(|k| (k.to_owned(), json!(v)))
            })
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    let amount = field("amount").and_then(|a| a.parse::<i64>().ok()).unwrap_or(0);
    let path = uri.path();
    if method == Method::POST && path == "/v1/payment_intents" {
        if let Some((_, made)) = state.made.iter().find(|(k, _)| *k == key) {
            return axum::Json(made.clone()).into_response();
        }
        let mut intent = fixture("payment_intent");
        let id = format!("pi_{}", ulid::Ulid::new());
        intent["client_secret"] = json!(format!("{id}_secret_{}", ulid::Ulid::new()));
        intent["id"] = json!(id);
        intent["amount"] = json!(amount);
        intent["currency"] = json!(field("currency"));
        intent["metadata"] = metadata("metadata[");
        intent["automatic_payment_methods"]["enabled"] =
            json!(field("automatic_payment_methods[enabled]") == Some("true".into()));
        state.made.push((key, intent.clone()));
        return axum::Json(intent).into_response();
    }
    if method == Method::POST && path == "/v1/refunds" {
        if let Some((_, made)) = state.made.iter().find(|(k, _)| *k == key) {
            return axum::Json(made.clone()).into_response();
        }
        let intent = field("payment_intent").unwrap_or_default();
        if amount > unrefunded(&state, &intent) {
            // As Stripe: a refund beyond what the payment has left is refused.
            let error = json!({"error": {"type": "invalid_request_error", "code": "amount_too_large",
                "message": "Refund amount is greater than unrefunded amount on charge."}});
            return (StatusCode::BAD_REQUEST, axum::Json(error)).into_response();
        }
        let mut refund = fixture("refund");
        refund["id"] = json!(format!("re_{}", ulid::Ulid::new()));
        refund["amount"] = json!(amount);
        refund["payment_intent"] = json!(field("payment_intent"));
        refund["metadata"] = metadata("metadata[");
        refund["status"] = json!(state.refund_status.clone().unwrap_or_else(|| "succeeded".into()));
        if refund["status"] == "failed" {
            refund["failure_reason"] = json!("expired_or_canceled_card");
        }
        state.made.push((key, refund.clone()));
        return axum::Json(refund).into_response();
    }
    if method == Method::GET && path == "/v1/refunds" {
        // A PaymentIntent's refunds, newest first, a page of `limit` after `starting_after`.
        let query: Vec<(String, String)> =
            form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()).into_owned().collect();
        let param = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let intent = param("payment_intent").unwrap_or_default();
        let limit = param("limit").and_then(|l| l.parse::<usize>().ok()).unwrap_or(10);
        let mut refunds: Vec<Value> = state
            .made
            .iter()
            .rev()
            .map(|(_, m)| m.clone())
            .filter(|m| m["object"] == "refund" && m["payment_intent"] == intent.as_str())
            .collect();
        if let Some(after) = param("starting_after") {
            let at = refunds.iter().position(|r| r["id"] == after.as_str()).map_or(refunds.len(), |i| i + 1);
            refunds.drain(..at);
        }
        let has_more = refunds.len() > limit;
        refunds.truncate(limit);
        return axum::Json(json!({"object": "list", "data": refunds, "has_more": has_more})).into_response();
    }
    if method == Method::GET
        && let Some(id) = path.strip_prefix("/v1/refunds/")
        && let Some((_, made)) = state.made.iter().find(|(_, m)| m["id"] == id)
    {
        return axum::Json(made.clone()).into_response();
    }
    let missing =
        json!({"error": {"type": "invalid_request_error", "code": "resource_missing", "message": "No such object."}});
    (StatusCode::NOT_FOUND, axum::Json(missing)).into_response()
}
