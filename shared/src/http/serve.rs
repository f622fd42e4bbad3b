use super::ApiError;
use crate::app::App;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response, service_fn};
use std::future::Future;
use std::sync::OnceLock;
use std::time::Instant;
use tracing::Instrument;

/// JSON log lines on stdout (CloudWatch), level from `LOG_LEVEL` (default `info`). Every line
/// made while a request or an invocation runs carries its `requestId` and `traceId`.
/// Request bodies, headers and tokens are never logged.
pub fn init_logging() {
    let level = std::env::var("LOG_LEVEL").unwrap_or_else(|_| "info".into());
    let filter =
        tracing_subscriber::EnvFilter::try_new(format!("{level},aws_smithy_runtime=warn,aws_config=warn,hyper=warn"))
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .fmt_fields(tracing_subscriber::fmt::format::JsonFields::new())
        .event_format(super::log::JsonLines)
        .with_env_filter(filter)
        .try_init();
}

fn function_name() -> &'static str {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "local".into()))
}

/// The id a client can quote: API Gateway's request id, else Lambda's, else a fresh one.
fn request_id(req: &Request) -> String {
    let gateway = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.request_id.clone(),
        _ => None,
    };
    gateway
        .filter(|id| !id.is_empty())
        .or_else(|| req.lambda_context_ref().map(|ctx| ctx.request_id.clone()).filter(|id| !id.is_empty()))
        .unwrap_or_else(|| ulid::Ulid::new().to_string())
}

/// The X-Ray trace id of an invocation (the `Root` of Lambda's trace header), as X-Ray's
/// console and CloudWatch Logs Insights search for it.
fn trace_id(ctx: Option<&lambda_http::lambda_runtime::Context>) -> Option<String> {
    let header = ctx?.xray_trace_id.as_deref()?;
    let root = header.split(';').find_map(|part| part.trim().strip_prefix("Root="))?;
    Some(root.to_owned())
}

/// The route the request came by (API Gateway's route key, e.g. `POST /orders`).
fn route(req: &Request) -> String {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.route_key.clone().filter(|r| !r.is_empty()),
        _ => None,
    }
    .unwrap_or_else(|| function_name().to_owned())
}

/// What a request keeps of its Lambda deadline for answering after the handler gave up.
const DEADLINE_MARGIN: std::time::Duration = std::time::Duration::from_millis(500);

/// How long the handler may take: until the invocation's deadline less [`DEADLINE_MARGIN`],
/// so that a request that runs out of time still answers (503) instead of being killed.
fn time_left(req: &Request) -> Option<std::time::Duration> {
    let deadline = req.lambda_context_ref()?.deadline;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok()?.as_millis();
    let left = std::time::Duration::from_millis(u64::try_from(u128::from(deadline).checked_sub(now)?).ok()?);
    Some(left.saturating_sub(DEADLINE_MARGIN))
}

/// Runs one request through `handler`: errors become problem responses, every response
/// carries `x-request-id`, and one JSON log line and one metric line record it.
pub async fn handle<'a, F, Fut>(app: &'a App, req: Request, handler: F) -> Response<Body>
where
    F: FnOnce(&'a App, Request) -> Fut,
    Fut: Future<Output = Result<Response<Body>, ApiError>>,
{
    let request_id = request_id(&req);
    let trace_id = trace_id(req.lambda_context_ref());
    let span = tracing::info_span!("request", requestId = %request_id, traceId = trace_id.as_deref());
    // Boxed: one allocation per request keeps the futures of callers that await many
    // requests (tests, mostly) within the compiler's type depth.
    Box::pin(handle_in_span(app, req, handler, &request_id, trace_id.as_deref())).instrument(span).await
}

async fn handle_in_span<'a, F, Fut>(
    app: &'a App,
    req: Request,
    handler: F,
    request_id: &str,
    trace_id: Option<&str>,
) -> Response<Body>
where
    F: FnOnce(&'a App, Request) -> Fut,
    Fut: Future<Output = Result<Response<Body>, ApiError>>,
{
    let started = Instant::now();
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let route = route(&req);
    let outcome = match time_left(&req) {
        Some(left) => tokio::time::timeout(left, handler(app, req))
            .await
            .unwrap_or_else(|_| Err(ApiError::unavailable("the request ran out of time before the Lambda deadline"))),
        None => handler(app, req).await,
    };
    let (mut response, code) = match outcome {
        Ok(response) => (response, None),
        Err(err) => {
            if let Some(detail) = &err.internal {
                tracing::error!(error = %detail, "request failed");
            }
            let code = err.code;
            (err.into_response(request_id), Some(code))
        }
    };
    if let Ok(value) = request_id.parse() {
        response.headers_mut().insert("x-request-id", value);
    }
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let status = response.status().as_u16();
    tracing::info!(
        function = function_name(),
        method = %method,
        path = %path,
        status,
        latencyMs = latency_ms,
        "request"
    );
    app.metrics.request(&crate::metrics::RequestOutcome {
        route: &route,
        status,
        code,
        latency_ms,
        request_id,
        trace_id,
    });
    response
}

/// Logging, then the process-wide [`App`], built once and kept for the life of the process.
async fn start() -> Result<&'static App, lambda_http::Error> {
    init_logging();
    match App::from_env().await {
        Ok(app) => Ok(Box::leak(Box::new(app))),
        Err(err) => {
            tracing::error!(error = %err, "cannot start");
            Err(err)
        }
    }
}

/// The whole of a function's `main`: logging, the process-wide [`App`] (built once, before
/// the first request), then the Lambda loop handing each request to `handler`.
pub async fn serve<F, Fut>(handler: F) -> Result<(), lambda_http::Error>
where
    F: Fn(&'static App, Request) -> Fut + Copy + Send + 'static,
    Fut: Future<Output = Result<Response<Body>, ApiError>> + Send + 'static,
{
    let app = start().await?;
    lambda_http::run(service_fn(move |req: Request| async move {
        Ok::<_, lambda_http::Error>(handle(app, req, handler).await)
    }))
    .await
}

/// The whole of a scheduled function's `main`: logging, the process-wide [`App`], then the
/// Lambda loop running `job` for each (scheduled) event and logging what it did.
pub async fn serve_job<F, Fut>(name: &'static str, job: F) -> Result<(), lambda_http::Error>
where
    F: Fn(&'static App) -> Fut + Copy + Send + 'static,
    Fut: Future<Output = Result<serde_json::Value, ApiError>> + Send + 'static,
{
    serve_event(name, move |app, _event| job(app)).await
}

/// The whole of the `main` of a function that other AWS services invoke (a schedule, a
/// stream, an event bus rule): logging, the process-wide [`App`], then the Lambda loop
/// handing each event to `consume`, answering what it returns and logging what it did. An
/// error fails the invocation (the invoking service retries it).
pub async fn serve_event<F, Fut>(name: &'static str, consume: F) -> Result<(), lambda_http::Error>
where
    F: Fn(&'static App, serde_json::Value) -> Fut + Copy + Send + 'static,
    Fut: Future<Output = Result<serde_json::Value, ApiError>> + Send + 'static,
{
    use lambda_http::lambda_runtime::{LambdaEvent, run, service_fn as job_fn};
    let app = start().await?;
    run(job_fn(move |event: LambdaEvent<serde_json::Value>| async move {
        let started = Instant::now();
        let span = tracing::info_span!("invocation", requestId = %event.context.request_id,
            traceId = trace_id(Some(&event.context)).as_deref());
        app.metrics.invocation();
        Box::pin(async move {
            match consume(app, event.payload).await {
                Ok(report) => {
                    tracing::info!(function = name, report = %report,
                        latencyMs = started.elapsed().as_secs_f64() * 1000.0, "job");
                    Ok::<_, lambda_http::Error>(report)
                }
                Err(err) => {
                    tracing::error!(function = name,
                        error = %err.internal.clone().unwrap_or_else(|| err.detail.clone()), "job failed");
                    Err(err.detail.clone().into())
                }
            }
        })
        .instrument(span)
        .await
    }))
    .await
}
