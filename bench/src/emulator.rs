//! A minimal Lambda Runtime API (the 2018-06-01 interface a function polls), fast enough not
//! to hide the figures: one loopback HTTP/1.1 round trip per call, no other work.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use tokio::sync::{Mutex, mpsc, oneshot};

/// What became of one invocation.
#[derive(Debug)]
pub struct Outcome {
    /// When the function took the event (its `next` call returned).
    pub handed_out: Instant,
    /// When its answer arrived.
    pub answered: Instant,
    /// The answer (or the error document).
    pub body: Bytes,
    pub error: bool,
}

struct Pending {
    event: Bytes,
    reply: oneshot::Sender<Outcome>,
}

struct Inner {
    queue: Mutex<mpsc::Receiver<Pending>>,
    waiting: Mutex<HashMap<String, (Instant, oneshot::Sender<Outcome>)>>,
    counter: AtomicU64,
}

/// One emulator, for one function process.
pub struct Emulator {
    pub address: String,
    sender: mpsc::Sender<Pending>,
    server: tokio::task::JoinHandle<()>,
}

async fn next(State(inner): State<Arc<Inner>>) -> Response {
    let pending = inner.queue.lock().await.recv().await;
    let Some(pending) = pending else { return StatusCode::GONE.into_response() };
    let id = format!("bench-{}", inner.counter.fetch_add(1, Ordering::Relaxed));
    let mut headers = HeaderMap::new();
    let deadline =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() + 30_000).unwrap_or(0);
    for (name, value) in [
        ("lambda-runtime-aws-request-id", id.clone()),
        ("lambda-runtime-deadline-ms", deadline.to_string()),
        ("lambda-runtime-invoked-function-arn", "arn:aws:lambda:us-east-1:123456789012:function:bench".to_owned()),
        ("lambda-runtime-trace-id", "Root=1-00000000-000000000000000000000000;Sampled=0".to_owned()),
        ("content-type", "application/json".to_owned()),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    inner.waiting.lock().await.insert(id, (Instant::now(), pending.reply));
    (headers, pending.event).into_response()
}

async fn finish(inner: &Inner, id: &str, body: Bytes, error: bool) -> StatusCode {
    let answered = Instant::now();
    if let Some((handed_out, reply)) = inner.waiting.lock().await.remove(id) {
        let _ = reply.send(Outcome { handed_out, answered, body, error });
    }
    StatusCode::ACCEPTED
}

async fn respond(State(inner): State<Arc<Inner>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    finish(&inner, &id, body, false).await
}

async fn fail(State(inner): State<Arc<Inner>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    finish(&inner, &id, body, true).await
}

async fn init_error(body: Bytes) -> StatusCode {
    eprintln!("    init error: {}", String::from_utf8_lossy(&body));
    StatusCode::ACCEPTED
}

impl Emulator {
    pub async fn start() -> Self {
        let (sender, receiver) = mpsc::channel(1);
        let inner = Arc::new(Inner {
            queue: Mutex::new(receiver),
            waiting: Mutex::new(HashMap::new()),
            counter: AtomicU64::new(0),
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(respond))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(fail))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(inner);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let address = listener.local_addr().expect("an address").to_string();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { address, sender, server }
    }

    /// Hands `event` to the function and waits for its answer.
    pub async fn invoke(&self, event: Bytes) -> Option<Outcome> {
        let (reply, answer) = oneshot::channel();
        self.sender.send(Pending { event, reply }).await.ok()?;
        tokio::time::timeout(std::time::Duration::from_secs(30), answer).await.ok()?.ok()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.server.abort();
    }
}
