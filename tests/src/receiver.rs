//! HTTP servers on loopback that tests point storefront at: a webhook receiver answering a
//! script of statuses, and a DynamoDB endpoint that fails every request. One way to stand one
//! up: [`serve`].

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::{Arc, Mutex};

/// Serves `app` on a free loopback port until the test ends: its base URL.
pub async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let url = format!("http://{}", listener.local_addr().expect("bound address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// A request as a receiver saw it: its headers and body.
#[derive(Debug, Clone)]
pub struct Seen {
    pub headers: HeaderMap,
    pub body: String,
}

impl Seen {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }
}

/// A webhook receiver at `<url>`: answers the n-th request with the n-th status of its script
/// (then the last one), and keeps every request.
pub struct Receiver {
    pub url: String,
    requests: Arc<Mutex<Vec<Seen>>>,
}

impl Receiver {
    pub async fn start(script: Vec<u16>) -> Self {
        let requests: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let seen = requests.clone();
        let app = axum::Router::new().fallback(move |headers: HeaderMap, body: Bytes| {
            let (seen, script) = (seen.clone(), script.clone());
            async move {
                let n = {
                    let mut all = seen.lock().unwrap();
                    all.push(Seen { headers, body: String::from_utf8_lossy(&body).into_owned() });
                    all.len()
                };
                let status = script.get(n - 1).or(script.last()).copied().unwrap_or(200);
                StatusCode::from_u16(status).unwrap_or(StatusCode::OK)
            }
        });
        Self { url: format!("{}/hooks", serve(app).await), requests }
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.requests.lock().unwrap().clone()
    }
}

/// What an unhealthy DynamoDB endpoint does with every request it gets.
#[derive(Debug, Clone, Copy)]
pub enum Fault {
    /// Answers DynamoDB's own throttling error (HTTP 400, `ThrottlingException`).
    Throttle,
    /// Accepts the connection and never answers.
    Silence,
    /// Cancels every transaction because one of its items is throttled (as DynamoDB reports a
    /// throttled TransactWriteItems: `TransactionCanceledException` with `ThrottlingError`).
    ThrottleTransactions,
}

/// An endpoint standing where DynamoDB would, failing every request as `fault` says: how a
/// function behaves when DynamoDB is overloaded or out of reach. Returns its URL.
pub async fn unhealthy_dynamodb(fault: Fault) -> String {
    let app = axum::Router::new().fallback(move || async move {
        let body = match fault {
            Fault::Silence => return std::future::pending::<Response>().await,
            Fault::ThrottleTransactions => {
                r#"{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException","message":"Transaction cancelled, please refer cancellation reasons for specific reasons [None, ThrottlingError]","CancellationReasons":[{"Code":"None"},{"Code":"ThrottlingError","Message":"Throughput exceeds the current capacity of your table or index."}]}"#
            }
            Fault::Throttle => {
                r#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds the allowed throughput."}"#
            }
        };
        (
            StatusCode::BAD_REQUEST,
            [("content-type", "application/x-amz-json-1.0"), ("x-amzn-requestid", "test")],
            body,
        )
            .into_response()
    });
    serve(app).await
}
