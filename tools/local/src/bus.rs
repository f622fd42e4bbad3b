//! The local event bus: EventBridge has no local server, so the local stack serves its
//! `PutEvents` call (the JSON protocol the real aws-sdk-eventbridge client speaks) and hands
//! each entry, as the event EventBridge would deliver to a rule's target, to a sink: the local
//! stack routes them to the consumer functions by the rules of Cargo.toml's
//! `[workspace.metadata.storefront.rules]`, which a test proves are template.yaml's.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

/// Where the bus puts each event it takes (as a rule's target receives it).
pub type Sink = Arc<dyn Fn(Value) + Send + Sync>;

/// The account and region the local stack's ARNs and events name.
pub const ACCOUNT: &str = "000000000000";
pub const REGION: &str = "us-east-1";

/// A client of the local bus at `endpoint`, as the functions' own is configured locally;
/// `interceptor` sees every call (the tests record IAM actions).
pub fn client(
    endpoint: &str,
    interceptor: Option<aws_sdk_eventbridge::config::SharedInterceptor>,
) -> aws_sdk_eventbridge::Client {
    use aws_sdk_eventbridge::config::{BehaviorVersion, Credentials, Region};
    let mut config = aws_sdk_eventbridge::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new("local", "local", None, None, "storefront-local"));
    if let Some(interceptor) = interceptor {
        config = config.interceptor(interceptor);
    }
    aws_sdk_eventbridge::Client::from_conf(config.build())
}

/// The event a rule's target receives for one entry.
fn delivered(entry: &Value, detail: Value, now: &str) -> Value {
    json!({
        "version": "0",
        "id": ulid::Ulid::new().to_string(),
        "detail-type": entry["DetailType"],
        "source": entry["Source"],
        "account": ACCOUNT,
        "time": now,
        "region": REGION,
        "resources": entry.get("Resources").cloned().unwrap_or_else(|| json!([])),
        "detail": detail,
    })
}

fn aws_error(status: StatusCode, kind: &str, message: &str) -> Response {
    let body = json!({"__type": kind, "message": message}).to_string();
    (status, [(header::CONTENT_TYPE, "application/x-amz-json-1.1")], body).into_response()
}

async fn put_events(State(sink): State<Sink>, headers: HeaderMap, body: Bytes) -> Response {
    let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if target != "AWSEvents.PutEvents" {
        return aws_error(
            StatusCode::BAD_REQUEST,
            "UnknownOperationException",
            &format!("not served locally: {target}"),
        );
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return aws_error(StatusCode::BAD_REQUEST, "ValidationException", "the body is not JSON");
    };
    let entries = request["Entries"].as_array().cloned().unwrap_or_default();
    if entries.is_empty() || entries.len() > 10 {
        return aws_error(StatusCode::BAD_REQUEST, "ValidationException", "1 to 10 entries");
    }
    let now =
        time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
    let mut results = Vec::new();
    let mut failed = 0;
    for entry in &entries {
        let detail = entry["Detail"].as_str().and_then(|d| serde_json::from_str::<Value>(d).ok());
        match detail {
            Some(detail @ Value::Object(_)) if entry["Source"].is_string() && entry["DetailType"].is_string() => {
                let event = delivered(entry, detail, &now);
                results.push(json!({"EventId": event["id"]}));
                sink(event);
            }
            _ => {
                failed += 1;
                results.push(json!({"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is not a JSON object"}));
            }
        }
    }
    let body = json!({"FailedEntryCount": failed, "Entries": results}).to_string();
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/x-amz-json-1.1")], body).into_response()
}

/// Serves `PutEvents` on `listener` until `shutdown` completes, handing each event to `sink`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    sink: Sink,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = axum::Router::new().route("/", axum::routing::post(put_events)).with_state(sink);
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}

/// The rules of Cargo.toml's `[workspace.metadata.storefront.rules]`: each consumer function
/// and the event types (detail types) it receives.
pub fn rules(manifest: &str) -> Result<BTreeMap<String, Vec<String>>, String> {
    crate::storefront_metadata(manifest, "rules")?
        .iter()
        .map(|(function, types)| {
            let types = types
                .as_array()
                .ok_or_else(|| format!("the rule of {function} is not a list of event types"))?
                .iter()
                .map(|t| t.as_str().map(str::to_owned).ok_or_else(|| format!("a type of {function}'s rule")))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((function.clone(), types))
        })
        .collect()
}

/// The consumers of an event delivered by the bus: those whose rule names its detail type.
pub fn targets<'a>(rules: &'a BTreeMap<String, Vec<String>>, event: &Value) -> Vec<&'a str> {
    let kind = event["detail-type"].as_str().unwrap_or_default();
    rules.iter().filter(|(_, types)| types.iter().any(|t| t == kind)).map(|(f, _)| f.as_str()).collect()
}
