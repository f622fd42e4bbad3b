//! The functions behind the local gateway, run as Lambda runs them: each function's binary in
//! processes of its own, started on first use (a cold start), polling the function's Runtime API
//! for events. A function gets another process when a request finds every one of its processes
//! busy, up to [`MAX_INSTANCES`], as Lambda scales out under concurrent requests.

use crate::gateway::{self, Incoming, Route};
use crate::runtime::RuntimeApi;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::process::{Child, Command};
use tokio::sync::Mutex;

/// Processes per function at most (Lambda's concurrency, scaled down to a laptop).
pub const MAX_INSTANCES: usize = 4;
/// How long an invocation may take: the `Timeout` of template.yaml's Globals (HTTP functions)
/// and of its scheduled job.
pub const TIMEOUT: Duration = Duration::from_secs(10);
pub const JOB_TIMEOUT: Duration = Duration::from_secs(60);
/// The largest request body API Gateway (HTTP API) accepts.
const MAX_REQUEST_BYTES: usize = 10 * 1024 * 1024;

struct Function {
    name: String,
    binary: PathBuf,
    api: RuntimeApi,
    processes: Mutex<Vec<Child>>,
}

/// Every function of the workspace, and the environment they run with.
pub struct Functions {
    by_name: HashMap<String, Function>,
    env: BTreeMap<String, String>,
    routes: Vec<Route>,
}

impl Functions {
    /// The functions named by `routes` and `others` (e.g. scheduled ones no route reaches), with
    /// binaries in `bin_dir`.
    pub async fn new(
        routes: Vec<Route>,
        others: &[&str],
        bin_dir: &Path,
        env: BTreeMap<String, String>,
    ) -> std::io::Result<Self> {
        let mut by_name = HashMap::new();
        let routed = routes.iter().map(|r| (r.function.as_str(), TIMEOUT));
        for (name, timeout) in routed.chain(others.iter().map(|name| (*name, JOB_TIMEOUT))) {
            if by_name.contains_key(name) {
                continue;
            }
            let api = RuntimeApi::start(name, timeout).await?;
            let function =
                Function { name: name.to_owned(), binary: bin_dir.join(name), api, processes: Mutex::new(Vec::new()) };
            by_name.insert(name.to_owned(), function);
        }
        Ok(Self { by_name, env, routes })
    }

    /// Every function's binary, or the first one missing.
    pub fn check_binaries(&self) -> Result<(), String> {
        for function in self.by_name.values() {
            if !function.binary.is_file() {
                return Err(format!("{} is missing (build the workspace first)", function.binary.display()));
            }
        }
        Ok(())
    }

    /// Whether `name` is one of the functions.
    fn has(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    /// Invokes `name` with `event`: `Ok(answer)` or `Err(error document)`; `None` when the
    /// function is unknown or no answer came in time.
    pub async fn invoke(&self, name: &str, event: Bytes) -> Option<Result<Bytes, Bytes>> {
        let function = self.by_name.get(name)?;
        {
            let mut processes = function.processes.lock().await;
            processes.retain_mut(|p| matches!(p.try_wait(), Ok(None)));
            if function.api.idle() == 0 && processes.len() < MAX_INSTANCES {
                match self.spawn(function) {
                    Ok(child) => processes.push(child),
                    Err(err) => eprintln!("cannot start {}: {err}", function.binary.display()),
                }
            }
        }
        let outcome = function.api.invoke(event).await?;
        Some(if outcome.error { Err(outcome.body) } else { Ok(outcome.body) })
    }

    fn spawn(&self, function: &Function) -> std::io::Result<Child> {
        Command::new(&function.binary)
            .envs(&self.env)
            .env("AWS_LAMBDA_RUNTIME_API", &function.api.address)
            .env("AWS_LAMBDA_FUNCTION_NAME", &function.name)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .kill_on_drop(true)
            .spawn()
    }

    /// Stops every process.
    pub async fn stop(&self) {
        for function in self.by_name.values() {
            for mut child in function.processes.lock().await.drain(..) {
                let _ = child.start_kill();
                let _ = child.wait().await;
            }
        }
    }
}

/// The Lambda Invoke API path `cargo lambda invoke` posts to.
fn invoke_target(path: &str) -> Option<&str> {
    path.strip_prefix("/2015-03-31/functions/")?.strip_suffix("/invocations")
}

/// One request to the local API: a route's function through API Gateway's payload 2.0, or a
/// direct invocation (`cargo lambda invoke`) with the event as sent.
pub async fn handle(
    State(functions): State<Arc<Functions>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request<Body>,
) -> Response<Body> {
    let request_id = ulid::Ulid::new().to_string();
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_REQUEST_BYTES).await else {
        let problem = gateway::problem(
            413,
            "payload_too_large",
            "Payload too large",
            "The request body is larger than 10 MB.",
            &request_id,
        );
        return into_response(problem);
    };
    let method = parts.method.as_str();
    let path = parts.uri.path();

    if method == "POST"
        && let Some(name) = invoke_target(path)
    {
        if !functions.has(name) {
            return plain(StatusCode::NOT_FOUND, Bytes::from_static(b"{\"message\":\"no such function\"}"), true);
        }
        // As Lambda's Invoke API answers: 200, with X-Amz-Function-Error when the function failed.
        return match functions.invoke(name, body).await {
            Some(Ok(payload)) => plain(StatusCode::OK, payload, false),
            Some(Err(error)) => plain(StatusCode::OK, error, true),
            None => plain(StatusCode::OK, Bytes::from_static(b"{\"errorMessage\":\"Task timed out\"}"), true),
        };
    }

    let Some((route, params)) = gateway::find(&functions.routes, method, path) else {
        let detail = format!("No route serves {method} {path}; openapi.yaml lists the API.");
        return into_response(gateway::problem(404, "route_not_found", "Not found", &detail, &request_id));
    };
    let incoming = Incoming {
        method,
        path,
        query: parts.uri.query(),
        headers: parts.headers.iter().map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec())).collect(),
        body: &body,
        source_ip: peer.ip().to_string(),
        request_id: request_id.clone(),
    };
    let event = gateway::event(&incoming, route, &params);
    let answer = match functions.invoke(&route.function, Bytes::from(event.to_string())).await {
        Some(Ok(payload)) => gateway::answer(&payload).unwrap_or_else(|| {
            eprintln!("{}: the answer is not an HTTP API response", route.function);
            internal(&request_id)
        }),
        Some(Err(error)) => {
            eprintln!("{}: invocation failed: {}", route.function, String::from_utf8_lossy(&error));
            internal(&request_id)
        }
        None => gateway::problem(
            503,
            "service_unavailable",
            "Service unavailable",
            "The function did not answer in time; send the request again.",
            &request_id,
        ),
    };
    into_response(answer)
}

fn internal(request_id: &str) -> gateway::Answer {
    gateway::problem(
        500,
        "internal",
        "Internal error",
        "Something went wrong on our side; quote the request id if you report it.",
        request_id,
    )
}

fn plain(status: StatusCode, body: Bytes, function_error: bool) -> Response<Body> {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert("content-type", HeaderValue::from_static("application/json"));
    if function_error {
        response.headers_mut().insert("x-amz-function-error", HeaderValue::from_static("Unhandled"));
    }
    response
}

fn into_response(answer: gateway::Answer) -> Response<Body> {
    let mut response = Response::new(Body::from(answer.body));
    *response.status_mut() = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in answer.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            response.headers_mut().append(name, value);
        }
    }
    response
}
