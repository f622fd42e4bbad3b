//! A DynamoDB proxy between the functions and dynoxide that counts calls and, by adding
//! `ReturnConsumedCapacity: TOTAL` to every data-plane request, the capacity they consume
//! (index writes included). It also times each call, from the request's arrival to the answer
//! being ready, so that a function's latency can be split into DynamoDB's share and its own.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

const READS: [&str; 5] = ["GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"];
const WRITES: [&str; 6] =
    ["PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems", "ExecuteStatement"];

/// Counters since the last `take`: calls, and capacity units in thousandths.
#[derive(Default)]
pub struct Counters {
    calls: AtomicU64,
    read_milli: AtomicU64,
    write_milli: AtomicU64,
    /// Time spent serving calls, in microseconds (taken separately, per invocation).
    busy_micros: AtomicU64,
}

impl Counters {
    /// (calls, read units, write units) since the last take.
    pub fn take(&self) -> (u64, f64, f64) {
        (
            self.calls.swap(0, Ordering::Relaxed),
            self.read_milli.swap(0, Ordering::Relaxed) as f64 / 1000.0,
            self.write_milli.swap(0, Ordering::Relaxed) as f64 / 1000.0,
        )
    }

    /// Milliseconds spent serving DynamoDB calls since the last call of this.
    pub fn take_busy_ms(&self) -> f64 {
        self.busy_micros.swap(0, Ordering::Relaxed) as f64 / 1000.0
    }
}

struct Inner {
    upstream: String,
    client: Client<HttpConnector, Full<Bytes>>,
    counters: Arc<Counters>,
}

fn units(value: &Value) -> f64 {
    match value {
        Value::Array(items) => items.iter().map(units).sum(),
        Value::Object(map) => map.get("CapacityUnits").and_then(Value::as_f64).unwrap_or(0.0),
        _ => 0.0,
    }
}

async fn forward(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: Bytes) -> Response {
    let started = std::time::Instant::now();
    let response = relay(&inner, headers, body).await;
    inner.counters.busy_micros.fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
    response
}

async fn relay(inner: &Inner, headers: HeaderMap, body: Bytes) -> Response {
    let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let operation = target.rsplit('.').next().unwrap_or_default().to_owned();
    let counted = READS.contains(&operation.as_str()) || WRITES.contains(&operation.as_str());
    let mut body = body;
    if counted && body.first() == Some(&b'{') {
        let mut with = b"{\"ReturnConsumedCapacity\":\"TOTAL\",".to_vec();
        with.extend_from_slice(&body[1..]);
        body = Bytes::from(with);
    }
    let mut request = hyper::Request::post(&inner.upstream);
    for (name, value) in &headers {
        if name != "content-length" && name != "host" {
            request = request.header(name, value);
        }
    }
    let Ok(request) = request.body(Full::new(body)) else { return StatusCode::BAD_GATEWAY.into_response() };
    let Ok(response) = inner.client.request(request).await else { return StatusCode::BAD_GATEWAY.into_response() };
    let (parts, incoming) = response.into_parts();
    let Ok(collected) = incoming.collect().await else { return StatusCode::BAD_GATEWAY.into_response() };
    let bytes = collected.to_bytes();
    if counted {
        inner.counters.calls.fetch_add(1, Ordering::Relaxed);
        let marker = b"\"ConsumedCapacity\":";
        let at = bytes.windows(marker.len()).rposition(|w| w == marker);
        let value = at.and_then(|at| {
            serde_json::Deserializer::from_slice(&bytes[at + marker.len()..]).into_iter::<Value>().next()?.ok()
        });
        if let Some(value) = value {
            let consumed = (units(&value) * 1000.0).round() as u64;
            let counter = if READS.contains(&operation.as_str()) {
                &inner.counters.read_milli
            } else {
                &inner.counters.write_milli
            };
            counter.fetch_add(consumed, Ordering::Relaxed);
        }
    }
    let mut out = Response::builder().status(parts.status);
    for (name, value) in &parts.headers {
        if name != "content-length" && name != "transfer-encoding" {
            out = out.header(name, value);
        }
    }
    out.body(axum::body::Body::from(bytes)).unwrap_or_else(|_| StatusCode::BAD_GATEWAY.into_response())
}

/// Starts the proxy; returns its URL and its counters.
pub async fn start(upstream: &str) -> (String, Arc<Counters>) {
    let counters = Arc::new(Counters::default());
    let inner = Arc::new(Inner {
        upstream: format!("{upstream}/"),
        client: Client::builder(TokioExecutor::new()).build_http(),
        counters: counters.clone(),
    });
    let app = Router::new().route("/", post(forward)).with_state(inner);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let url = format!("http://{}", listener.local_addr().expect("an address"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, counters)
}
