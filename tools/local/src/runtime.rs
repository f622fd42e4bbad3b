//! A Lambda Runtime API (the 2018-06-01 interface a function's process polls), one per
//! function: `make run` serves every function through one, and `make bench` measures every
//! function through one. Several processes of a function may poll the same API; each event goes
//! to exactly one of them.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, mpsc, oneshot};

/// What became of one invocation.
#[derive(Debug)]
pub struct Outcome {
    /// When a process took the event (its `next` call returned).
    pub handed_out: Instant,
    /// When its answer arrived.
    pub answered: Instant,
    /// The answer, or the error document the runtime posted.
    pub body: Bytes,
    /// Whether the function reported an error instead of an answer.
    pub error: bool,
}

struct Pending {
    event: Bytes,
    reply: oneshot::Sender<Outcome>,
}

struct Inner {
    name: String,
    timeout: Duration,
    queue: Mutex<mpsc::Receiver<Pending>>,
    waiting: Mutex<HashMap<String, (Instant, oneshot::Sender<Outcome>)>>,
    /// Processes waiting in `next` right now: those that would take an event at once.
    idle: AtomicUsize,
}

/// One function's Runtime API, on a loopback port of its own.
pub struct RuntimeApi {
    /// `host:port`, the value of a process's `AWS_LAMBDA_RUNTIME_API`.
    pub address: String,
    sender: mpsc::Sender<Pending>,
    inner: Arc<Inner>,
    server: tokio::task::JoinHandle<()>,
}

/// Counts a process as idle while it waits in `next`, also when its connection drops.
struct IdleGuard<'a>(&'a AtomicUsize);

impl Drop for IdleGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn next(State(inner): State<Arc<Inner>>) -> Response {
    inner.idle.fetch_add(1, Ordering::SeqCst);
    let pending = {
        let _idle = IdleGuard(&inner.idle);
        let mut queue = inner.queue.lock().await;
        loop {
            match queue.recv().await {
                // Its caller gave up (and answered 503): running it now would run it behind the
                // back of a client told to send it again.
                Some(pending) if pending.reply.is_closed() => continue,
                other => break other,
            }
        }
    };
    let Some(pending) = pending else { return StatusCode::GONE.into_response() };
    let id = ulid::Ulid::new().to_string();
    let deadline = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| (d + inner.timeout).as_millis())
        .unwrap_or(0);
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("lambda-runtime-aws-request-id", id.clone()),
        ("lambda-runtime-deadline-ms", deadline.to_string()),
        (
            "lambda-runtime-invoked-function-arn",
            format!("arn:aws:lambda:us-east-1:000000000000:function:{}", inner.name),
        ),
        ("lambda-runtime-trace-id", trace_header()),
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

async fn init_error(State(inner): State<Arc<Inner>>, body: Bytes) -> StatusCode {
    eprintln!("{}: init error: {}", inner.name, String::from_utf8_lossy(&body));
    StatusCode::ACCEPTED
}

impl RuntimeApi {
    /// Serves the Runtime API of the function `name`, whose invocations may each take `timeout`.
    pub async fn start(name: &str, timeout: Duration) -> std::io::Result<Self> {
        let (sender, receiver) = mpsc::channel(64);
        let inner = Arc::new(Inner {
            name: name.to_owned(),
            timeout,
            queue: Mutex::new(receiver),
            waiting: Mutex::new(HashMap::new()),
            idle: AtomicUsize::new(0),
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(respond))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(fail))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?.to_string();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { address, sender, inner, server })
    }

    /// How many processes are waiting for an event right now.
    pub fn idle(&self) -> usize {
        self.inner.idle.load(Ordering::SeqCst)
    }

    /// Hands `event` to the next process that asks and waits for its answer; `None` when no
    /// answer came within the function's timeout (and a second to spare), queueing included. An
    /// event given up on is never handed out afterwards.
    pub async fn invoke(&self, event: Bytes) -> Option<Outcome> {
        let (reply, answer) = oneshot::channel();
        let invocation = async {
            self.sender.send(Pending { event, reply }).await.ok()?;
            answer.await.ok()
        };
        tokio::time::timeout(self.inner.timeout + Duration::from_secs(1), invocation).await.ok()?
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A fresh X-Ray trace header, as Lambda hands each invocation one: `1-`, the time in hex
/// seconds, then 24 hex digits of identifier (a ULID's 80 random bits), not sampled.
fn trace_header() -> String {
    let ulid = ulid::Ulid::new();
    format!("Root=1-{:08x}-{:024x};Sampled=0", ulid.timestamp_ms() / 1000, ulid.random())
}
