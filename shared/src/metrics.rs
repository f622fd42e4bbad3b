//! CloudWatch metrics in the embedded metric format (EMF): each metric is a JSON line on
//! stdout that CloudWatch Logs turns into metric data, so recording one costs no API call and
//! no time on the request path beyond formatting the line.
//!
//! Every HTTP request writes one line with its route's latency, its status class and, for a
//! problem answer, its problem code; the first one of a process also counts a cold start.
//! The operations write business metrics ([`Metric`]) when what they count has been stored.
//! docs/operations.md lists the metrics, their dimensions and the alarms built on them.

use serde_json::{Map, Value, json};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// The namespace when `METRICS_NAMESPACE` is not set (locally).
const DEFAULT_NAMESPACE: &str = "storefront";

/// A business metric, with its unit and the dimension it is also broken down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Orders placed (not replays of one).
    OrdersPlaced,
    /// What the orders placed come to, in the store currency's minor units.
    OrderValueCents,
    /// Orders refused for a reason of the buyer's (by `Reason`: the problem code).
    CheckoutRejected,
    /// Payments applied to an order awaiting it.
    PaymentsCaptured,
    /// An order flagged with a payment issue (by `Issue`).
    PaymentIssue,
    /// Refunds that succeeded.
    RefundsIssued,
    /// Webhook delivery attempts that failed (the receiver answered an error, or not at all).
    WebhookDeliveriesFailed,
    /// Overdue orders left awaiting payment at the end of an expiry run.
    ExpiryBacklog,
}

impl Metric {
    pub fn name(self) -> &'static str {
        match self {
            Self::OrdersPlaced => "OrdersPlaced",
            Self::OrderValueCents => "OrderValueCents",
            Self::CheckoutRejected => "CheckoutRejected",
            Self::PaymentsCaptured => "PaymentsCaptured",
            Self::PaymentIssue => "PaymentIssue",
            Self::RefundsIssued => "RefundsIssued",
            Self::WebhookDeliveriesFailed => "WebhookDeliveriesFailed",
            Self::ExpiryBacklog => "ExpiryBacklog",
        }
    }

    fn unit(self) -> &'static str {
        match self {
            Self::OrderValueCents => "None",
            _ => "Count",
        }
    }

    /// The dimension a value of this metric is recorded under beside its total.
    fn dimension(self) -> Option<&'static str> {
        match self {
            Self::CheckoutRejected => Some("Reason"),
            Self::PaymentIssue => Some("Issue"),
            _ => None,
        }
    }
}

/// What one HTTP request recorded.
#[derive(Debug)]
pub struct RequestOutcome<'a> {
    /// API Gateway's route key, e.g. `POST /orders` (the function's name without one).
    pub route: &'a str,
    pub status: u16,
    /// The problem `code` of an error answer.
    pub code: Option<&'a str>,
    pub latency_ms: f64,
    pub request_id: &'a str,
    pub trace_id: Option<&'a str>,
}

#[derive(Debug, Clone)]
enum Sink {
    Stdout,
    /// The lines, kept for a test to read.
    Memory(Arc<Mutex<Vec<String>>>),
}

/// Where a process's metric lines go, under which namespace and function name.
#[derive(Debug)]
pub struct Metrics {
    namespace: String,
    function: String,
    cold: AtomicBool,
    sink: Sink,
}

impl Metrics {
    /// Lines on stdout, in `METRICS_NAMESPACE`, named after `AWS_LAMBDA_FUNCTION_NAME`.
    pub fn from_env() -> Self {
        let namespace = std::env::var("METRICS_NAMESPACE").ok().filter(|n| !n.is_empty());
        let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "local".into());
        Self::new(namespace.unwrap_or_else(|| DEFAULT_NAMESPACE.into()), function, Sink::Stdout)
    }

    /// Lines kept in memory, for [`Metrics::lines`] (tests).
    pub fn recording(function: &str) -> Self {
        Self::new(DEFAULT_NAMESPACE.into(), function.into(), Sink::Memory(Arc::default()))
    }

    fn new(namespace: String, function: String, sink: Sink) -> Self {
        Self { namespace, function, cold: AtomicBool::new(true), sink }
    }

    /// The lines written so far, parsed (only those kept in memory).
    pub fn lines(&self) -> Vec<Value> {
        match &self.sink {
            Sink::Stdout => Vec::new(),
            Sink::Memory(lines) => lines
                .lock()
                .map(|lines| lines.iter().filter_map(|l| serde_json::from_str(l).ok()).collect())
                .unwrap_or_default(),
        }
    }

    /// Records `value` of `metric`.
    pub fn record(&self, metric: Metric, value: f64) {
        self.write(metric, None, value);
    }

    /// Records `value` of `metric` in total and under its dimension's value `by` (a reason,
    /// an issue).
    pub fn record_by(&self, metric: Metric, by: &str, value: f64) {
        self.write(metric, Some(by), value);
    }

    fn write(&self, metric: Metric, by: Option<&str>, value: f64) {
        let mut dimensions = vec![json!([])];
        let mut line = Map::new();
        if let (Some(dimension), Some(by)) = (metric.dimension(), by) {
            dimensions.push(json!([dimension]));
            line.insert(dimension.into(), by.into());
        }
        let directive = json!({
            "Namespace": self.namespace,
            "Dimensions": dimensions,
            "Metrics": [{"Name": metric.name(), "Unit": metric.unit()}],
        });
        line.insert(metric.name().into(), value.into());
        self.emit(vec![directive], line);
    }

    /// Records one HTTP request: `Latency` by route, `Requests` by route and status class,
    /// `Problems` by route and code, and `ColdStart` if it is the process's first.
    pub fn request(&self, outcome: &RequestOutcome<'_>) {
        let metric = |name: &str, unit: &str, dimensions: Value| json!({"Namespace": self.namespace, "Dimensions": [dimensions], "Metrics": [{"Name": name, "Unit": unit}]});
        let mut directives = vec![
            metric("Latency", "Milliseconds", json!(["Route"])),
            metric("Requests", "Count", json!(["Route", "StatusClass"])),
        ];
        let mut line = Map::new();
        line.insert("Route".into(), outcome.route.into());
        line.insert("StatusClass".into(), format!("{}xx", outcome.status / 100).into());
        line.insert("Latency".into(), outcome.latency_ms.into());
        line.insert("Requests".into(), 1.into());
        line.insert("status".into(), outcome.status.into());
        line.insert("requestId".into(), outcome.request_id.into());
        if let Some(trace_id) = outcome.trace_id {
            line.insert("traceId".into(), trace_id.into());
        }
        if let Some(code) = outcome.code {
            directives.push(metric("Problems", "Count", json!(["Route", "Code"])));
            line.insert("Code".into(), code.into());
            line.insert("Problems".into(), 1.into());
        }
        if self.cold.swap(false, Ordering::Relaxed) {
            directives.push(metric("ColdStart", "Count", json!(["Function"])));
            line.insert("ColdStart".into(), 1.into());
        }
        self.emit(directives, line);
    }

    /// Counts a cold start on the first invocation of a process that serves no HTTP requests
    /// (a job, a stream or bus consumer).
    pub fn invocation(&self) {
        if self.cold.swap(false, Ordering::Relaxed) {
            let directive = json!({"Namespace": self.namespace, "Dimensions": [["Function"]],
                "Metrics": [{"Name": "ColdStart", "Unit": "Count"}]});
            let mut line = Map::new();
            line.insert("ColdStart".into(), 1.into());
            self.emit(vec![directive], line);
        }
    }

    fn emit(&self, directives: Vec<Value>, mut line: Map<String, Value>) {
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        line.insert("Function".into(), self.function.as_str().into());
        line.insert("_aws".into(), json!({"Timestamp": timestamp, "CloudWatchMetrics": directives}));
        let text = Value::Object(line).to_string();
        match &self.sink {
            Sink::Stdout => {
                use std::io::Write;
                // One write of a whole line, so it never interleaves with a log line.
                let _ = std::io::stdout().lock().write_all(format!("{text}\n").as_bytes());
            }
            Sink::Memory(lines) => {
                if let Ok(mut lines) = lines.lock() {
                    lines.push(text);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The metrics a line defines, as (name, unit, dimension sets), and checks that every
    /// metric and dimension it names has a value in the line, as EMF requires.
    fn defined(line: &Value) -> Vec<(String, String, Vec<Vec<String>>)> {
        let aws = &line["_aws"];
        assert!(aws["Timestamp"].as_u64().is_some_and(|t| t > 1_600_000_000_000), "{line}");
        let mut out = Vec::new();
        for directive in aws["CloudWatchMetrics"].as_array().expect("directives") {
            assert_eq!(directive["Namespace"], "storefront");
            let dims: Vec<Vec<String>> = serde_json::from_value(directive["Dimensions"].clone()).expect("dimensions");
            for key in dims.iter().flatten() {
                assert!(line[key].is_string(), "dimension {key} has a string value: {line}");
            }
            for m in directive["Metrics"].as_array().expect("metrics") {
                let name = m["Name"].as_str().expect("a name").to_owned();
                assert!(line[&name].is_number(), "metric {name} has a value: {line}");
                out.push((name, m["Unit"].as_str().expect("a unit").to_owned(), dims.clone()));
            }
        }
        out
    }

    fn outcome(status: u16, code: Option<&'static str>) -> RequestOutcome<'static> {
        RequestOutcome {
            route: "POST /orders",
            status,
            code,
            latency_ms: 2.5,
            request_id: "r1",
            trace_id: Some("1-abc"),
        }
    }

    #[test]
    fn a_request_line_has_latency_by_route_requests_by_status_class_and_a_cold_start_once() {
        let metrics = Metrics::recording("place-order");
        metrics.request(&outcome(201, None));
        metrics.request(&outcome(409, Some("insufficient_stock")));
        let lines = metrics.lines();
        let first = defined(&lines[0]);
        let route = vec![vec!["Route".to_owned()]];
        assert!(first.contains(&("Latency".into(), "Milliseconds".into(), route)));
        assert!(first.contains(&("Requests".into(), "Count".into(), vec![vec!["Route".into(), "StatusClass".into()]])));
        assert!(first.contains(&("ColdStart".into(), "Count".into(), vec![vec!["Function".into()]])));
        assert_eq!((lines[0]["StatusClass"].as_str(), lines[0]["Latency"].as_f64()), (Some("2xx"), Some(2.5)));
        assert_eq!((lines[0]["Function"].as_str(), lines[0]["traceId"].as_str()), (Some("place-order"), Some("1-abc")));
        let second = defined(&lines[1]);
        assert!(!second.iter().any(|(name, ..)| name == "ColdStart"), "one cold start per process");
        assert!(second.contains(&("Problems".into(), "Count".into(), vec![vec!["Route".into(), "Code".into()]])));
        assert_eq!(
            (lines[1]["StatusClass"].as_str(), lines[1]["Code"].as_str()),
            (Some("4xx"), Some("insufficient_stock"))
        );
        assert!(first.iter().all(|(name, ..)| name != "Problems"), "a success counts no problem");
    }

    #[test]
    fn a_business_metric_is_recorded_in_total_and_by_its_dimension() {
        let metrics = Metrics::recording("place-order");
        metrics.record(Metric::OrderValueCents, 4200.0);
        metrics.record_by(Metric::CheckoutRejected, "insufficient_stock", 1.0);
        let lines = metrics.lines();
        assert_eq!(defined(&lines[0]), [("OrderValueCents".into(), "None".into(), vec![vec![]])]);
        assert_eq!(lines[0]["OrderValueCents"], 4200.0);
        assert_eq!(
            defined(&lines[1]),
            [("CheckoutRejected".into(), "Count".into(), vec![vec![], vec!["Reason".into()]])]
        );
        assert_eq!(lines[1]["Reason"], "insufficient_stock");
    }

    #[test]
    fn a_job_counts_its_cold_start_once() {
        let metrics = Metrics::recording("expire-orders");
        metrics.invocation();
        metrics.invocation();
        let lines = metrics.lines();
        assert_eq!(lines.len(), 1);
        assert_eq!(defined(&lines[0]), [("ColdStart".into(), "Count".into(), vec![vec!["Function".into()]])]);
    }
}
