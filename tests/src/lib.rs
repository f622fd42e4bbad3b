//! The test harness: a fresh table per test on a real DynamoDB engine, reached through the real
//! aws-sdk-dynamodb client over HTTP, plus helpers to call handlers like API Gateway would.
//!
//! The engine is an in-memory dynoxide started for each test, or, when
//! `STOREFRONT_TEST_DYNAMODB_URL` is set (`make test` does so in a second run), the DynamoDB
//! engine at that URL (AWS's DynamoDB Local), with a table of its own for each test.

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use lambda_http::{Body, Request};
use serde_json::Value;
use std::path::PathBuf;
use storefront::app::App;
use storefront::auth::{KeyRing, SigningKey};
use storefront::clock::Clock;
use storefront::config::{Config, KeySource};
use storefront::http::{ApiError, Response};
use storefront::store::Store;

pub mod events;
pub mod receiver;
mod shop;
pub mod stripe;
pub use receiver::{Fault, Receiver, unhealthy_dynamodb};
pub use shop::{NewProduct, Shop, checkout, id, payment_event};

pub const TEST_KID: &str = "test-key";
pub const TEST_WEBHOOK_SECRET: &str = "whsec_test_secret";
pub const TEST_CURSOR_SECRET: &str = "test-cursor-secret-test-cursor-secret-0123";
pub const TEST_SECRET: &str = "test-secret-test-secret-test-secret-0123456789";
/// The password of every user [`TestEnv::register`] registers.
pub const PASSWORD: &str = "correct horse battery staple";

/// Names the DynamoDB endpoint to test against instead of a fresh dynoxide (see the crate docs).
pub const ENGINE_URL: &str = "STOREFRONT_TEST_DYNAMODB_URL";

/// The workspace root (for `events/`, `template.yaml`, …).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The stems of the files in `dir` (under the workspace root) ending in `.extension`.
pub fn file_stems(dir: &str, extension: &str) -> std::collections::BTreeSet<String> {
    std::fs::read_dir(root().join(dir))
        .unwrap_or_else(|e| panic!("reading {dir}: {e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == extension))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect()
}

/// Every function of the workspace: one binary per file of functions/src/bin/.
pub fn function_binaries() -> std::collections::BTreeSet<String> {
    file_stems("functions/src/bin", "rs")
}

/// A DynamoDB engine with storefront's table, and an [`App`] wired to it.
pub struct TestEnv {
    pub app: App,
    pub endpoint: String,
    /// What the app's DynamoDB and S3 calls needed since the last `take`.
    pub recorder: Recorder,
    /// The image bucket's server.
    pub s3: ImageBucket,
    pub table: String,
    /// The event bus's server (the local stack's), and what it was given.
    pub bus: EventBusServer,
    /// Where the customer emails are written (one `.eml` file each).
    pub emails: PathBuf,
    /// The stream mapping's checkpoint.
    checkpoint: PathBuf,
}

/// The local stack's event bus, on a port of its own, keeping every event it is given.
pub struct EventBusServer {
    pub endpoint: String,
    pub received: std::sync::Arc<std::sync::Mutex<Vec<Value>>>,
}

impl EventBusServer {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let endpoint = format!("http://{}", listener.local_addr().expect("bound address"));
        let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let keep = received.clone();
        let sink: storefront_local::bus::Sink =
            std::sync::Arc::new(move |event| keep.lock().unwrap_or_else(|e| e.into_inner()).push(event));
        tokio::spawn(storefront_local::bus::serve(listener, sink, std::future::pending()));
        Self { endpoint, received }
    }

    /// Every event the bus was given so far, as a rule's target receives it.
    pub fn events(&self) -> Vec<Value> {
        self.received.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

pub const IMAGES_BUCKET: &str = "storefront-test-images";

/// An S3-compatible server (the local stack's) with the image bucket, its objects in a
/// directory of its own that goes when the test ends.
pub struct ImageBucket {
    pub endpoint: String,
    pub dir: PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl ImageBucket {
    async fn start() -> Self {
        let dir = std::env::temp_dir().join(format!("storefront-test-s3-{}", ulid::Ulid::new()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let endpoint = format!("http://{}", listener.local_addr().expect("bound address"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let root = dir.clone();
        tokio::spawn(async move {
            let prefix = storefront::store::keys::IMAGES_PREFIX;
            let stopped = async {
                let _ = stopped.await;
            };
            storefront_local::s3::serve(listener, &root, IMAGES_BUCKET, prefix, stopped).await.expect("S3 server");
        });
        Self { endpoint, dir, stop: Some(stop) }
    }

    /// The keys of the objects in the bucket, sorted.
    pub fn keys(&self) -> Vec<String> {
        fn walk(dir: &std::path::Path, base: &std::path::Path, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, base, out);
                } else if let Ok(rel) = path.strip_prefix(base)
                    && !rel.to_string_lossy().contains(".s3s")
                {
                    out.push(rel.to_string_lossy().into_owned());
                }
            }
        }
        let mut keys = Vec::new();
        let base = self.dir.join(IMAGES_BUCKET);
        walk(&base, &base, &mut keys);
        keys.sort();
        keys
    }
}

impl Drop for ImageBucket {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Sends an HTTP request as a browser or `curl` would (no AWS signature of its own): the
/// status and body of the answer.
pub async fn http_send(method: &str, url: &str, headers: &[(String, String)], body: Vec<u8>) -> (u16, Vec<u8>) {
    use http_body_util::BodyExt;
    let mut request = hyper::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let request = request.body(http_body_util::Full::new(hyper::body::Bytes::from(body))).expect("a request");
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
    let answer = client.request(request).await.expect("an answer");
    let status = answer.status().as_u16();
    let bytes = answer.into_body().collect().await.expect("a body").to_bytes().to_vec();
    (status, bytes)
}

/// A client of the DynamoDB Streams API at `endpoint` (dynoxide, DynamoDB Local).
pub fn streams_client(endpoint: &str) -> aws_sdk_dynamodbstreams::Client {
    let config = aws_sdk_dynamodbstreams::Config::builder()
        .behavior_version(aws_sdk_dynamodbstreams::config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_sdk_dynamodbstreams::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodbstreams::config::Credentials::new("test", "test", None, None, "tests"))
        .build();
    aws_sdk_dynamodbstreams::Client::from_conf(config)
}

/// A client of the DynamoDB at `endpoint`, configured as the functions configure theirs.
pub fn dynamodb_client(endpoint: &str) -> aws_sdk_dynamodb::Client {
    recording_client(endpoint, Recorder::default(), storefront::app::aws_timeouts())
}

/// The functions' timeouts, on dynoxide. DynamoDB Local, an emulator in Java, serialises
/// transactions and under the suite's concurrent rushes (fifty buyers at once, with the table's
/// stream on) answers some after more than the 4 s a function's call may take: there each call
/// gets 30 s, so that the tests prove what the code decides, not how fast the emulator is. (The
/// timeouts themselves are proven against an unhealthy DynamoDB that never answers.)
fn test_timeouts() -> aws_sdk_dynamodb::config::timeout::TimeoutConfig {
    match std::env::var(ENGINE_URL) {
        Ok(url) if !url.is_empty() => aws_sdk_dynamodb::config::timeout::TimeoutConfig::builder()
            .connect_timeout(std::time::Duration::from_secs(2))
            .operation_attempt_timeout(std::time::Duration::from_secs(30))
            .operation_timeout(std::time::Duration::from_secs(30))
            .build(),
        _ => storefront::app::aws_timeouts(),
    }
}

fn recording_client(
    endpoint: &str,
    recorder: Recorder,
    timeouts: aws_sdk_dynamodb::config::timeout::TimeoutConfig,
) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .timeout_config(timeouts)
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
        .interceptor(recorder)
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

/// Records the IAM permission every DynamoDB, S3 and EventBridge call needs, as `(action,
/// "table" | "index")`, `(action, "incoming/*" | "images/*" | "bucket")` and `(action, "bus")`:
/// what a function's policy must grant. A
/// transaction needs the action of each of its items.
#[derive(Debug, Clone, Default)]
pub struct Recorder(std::sync::Arc<std::sync::Mutex<std::collections::BTreeSet<(String, String)>>>);

impl Recorder {
    /// Forgets what was recorded so far and returns it.
    pub fn take(&self) -> std::collections::BTreeSet<(String, String)> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl aws_sdk_dynamodb::config::Intercept for Recorder {
    fn name(&self) -> &'static str {
        "iam-action-recorder"
    }

    fn read_before_execution(
        &self,
        context: &aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        use aws_sdk_dynamodb::operation::*;
        let input = context.input();
        let mut needed: Vec<(&str, &str)> = Vec::new();
        macro_rules! plain {
            ($($module:ident :: $input:ident => $action:literal),* $(,)?) => {
                $(if input.downcast_ref::<$module::$input>().is_some() { needed.push(($action, "table")); })*
            };
        }
        plain!(
            get_item::GetItemInput => "dynamodb:GetItem",
            put_item::PutItemInput => "dynamodb:PutItem",
            update_item::UpdateItemInput => "dynamodb:UpdateItem",
            delete_item::DeleteItemInput => "dynamodb:DeleteItem",
            batch_get_item::BatchGetItemInput => "dynamodb:BatchGetItem",
            batch_write_item::BatchWriteItemInput => "dynamodb:BatchWriteItem",
            scan::ScanInput => "dynamodb:Scan",
            describe_table::DescribeTableInput => "dynamodb:DescribeTable",
            create_table::CreateTableInput => "dynamodb:CreateTable",
            update_time_to_live::UpdateTimeToLiveInput => "dynamodb:UpdateTimeToLive",
        );
        // S3 actions, by the key prefix (`incoming/*`, `images/*`) or `bucket` they apply to.
        let mut s3: Vec<(&str, String)> = Vec::new();
        let prefix = |key: Option<&str>| format!("{}/*", key.unwrap_or_default().split('/').next().unwrap_or_default());
        {
            use aws_sdk_s3::operation::*;
            if let Some(put) = input.downcast_ref::<put_object::PutObjectInput>() {
                s3.push(("s3:PutObject", prefix(put.key())));
            }
            if let Some(head) = input.downcast_ref::<head_object::HeadObjectInput>() {
                // Without ListBucket, S3 answers 403 instead of 404 for a missing key.
                s3.push(("s3:GetObject", prefix(head.key())));
                s3.push(("s3:ListBucket", "bucket".into()));
            }
            if let Some(get) = input.downcast_ref::<get_object::GetObjectInput>() {
                s3.push(("s3:GetObject", prefix(get.key())));
            }
            if let Some(copy) = input.downcast_ref::<copy_object::CopyObjectInput>() {
                let source = copy.copy_source().and_then(|s| s.split_once('/')).map(|(_, key)| key);
                s3.push(("s3:GetObject", prefix(source)));
                s3.push(("s3:PutObject", prefix(copy.key())));
            }
            if let Some(delete) = input.downcast_ref::<delete_object::DeleteObjectInput>() {
                s3.push(("s3:DeleteObject", prefix(delete.key())));
            }
        }
        if input.downcast_ref::<aws_sdk_eventbridge::operation::put_events::PutEventsInput>().is_some() {
            needed.push(("events:PutEvents", "bus"));
        }
        if let Some(query) = input.downcast_ref::<query::QueryInput>() {
            needed.push(("dynamodb:Query", if query.index_name.is_some() { "index" } else { "table" }));
        }
        if let Some(tx) = input.downcast_ref::<transact_write_items::TransactWriteItemsInput>() {
            for item in tx.transact_items() {
                if item.put.is_some() {
                    needed.push(("dynamodb:PutItem", "table"));
                }
                if item.update.is_some() {
                    needed.push(("dynamodb:UpdateItem", "table"));
                }
                if item.delete.is_some() {
                    needed.push(("dynamodb:DeleteItem", "table"));
                }
                if item.condition_check.is_some() {
                    needed.push(("dynamodb:ConditionCheckItem", "table"));
                }
            }
        }
        let mut recorded = self.0.lock().unwrap_or_else(|e| e.into_inner());
        recorded.extend(needed.into_iter().map(|(a, r)| (a.to_owned(), r.to_owned())));
        recorded.extend(s3.into_iter().map(|(a, r)| (a.to_owned(), r)));
        Ok(())
    }
}

/// The DynamoDB and S3 permissions template.yaml grants the function built from `binary`, as
/// [`Recorder`] records them.
pub fn granted_actions(binary: &str) -> std::collections::BTreeSet<(String, String)> {
    use yaml_rust2::{Yaml, YamlLoader};
    let raw = std::fs::read_to_string(root().join("template.yaml")).expect("template.yaml");
    let template = YamlLoader::load_from_str(&raw).expect("YAML").remove(0);
    let list = |y: &Yaml| -> Vec<String> {
        match y {
            Yaml::String(s) => vec![s.clone()],
            Yaml::Array(items) => items.iter().filter_map(|i| i.as_str().map(str::to_owned)).collect(),
            _ => Vec::new(),
        }
    };
    let mut granted = std::collections::BTreeSet::new();
    for (_, resource) in template["Resources"].as_hash().expect("Resources") {
        if resource["Metadata"]["BuildProperties"]["Binary"].as_str() != Some(binary) {
            continue;
        }
        for policy in resource["Properties"]["Policies"].as_vec().into_iter().flatten() {
            for statement in policy["Statement"].as_vec().into_iter().flatten() {
                let services =
                    |a: &String| a.starts_with("dynamodb:") || a.starts_with("s3:") || a.starts_with("events:");
                for action in list(&statement["Action"]).into_iter().filter(services) {
                    for target in list(&statement["Resource"]) {
                        let kind = if action.starts_with("events:") {
                            "bus"
                        } else if action.starts_with("s3:") {
                            target.split_once("}/").map_or("bucket", |(_, objects)| objects)
                        } else if target.ends_with("/index/*") {
                            "index"
                        } else {
                            "table"
                        };
                        granted.insert((action.clone(), kind.to_owned()));
                    }
                }
            }
        }
    }
    granted
}

impl TestEnv {
    pub async fn start() -> Self {
        Self::start_configured(|_| {}).await
    }

    /// A test environment whose configuration `configure` changes first (another payment
    /// provider, other limits).
    pub async fn start_configured(configure: impl FnOnce(&mut Config)) -> Self {
        let (endpoint, table) = match std::env::var(ENGINE_URL) {
            Ok(url) if !url.is_empty() => (url, format!("storefront-test-{}", ulid::Ulid::new()).to_lowercase()),
            _ => {
                let db = dynoxide::Database::memory().expect("in-memory dynoxide");
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
                let endpoint = format!("http://{}", listener.local_addr().expect("bound address"));
                tokio::spawn(dynoxide::server::serve_on(listener, db));
                (endpoint, "storefront-test".to_owned())
            }
        };
        let recorder = Recorder::default();
        let store = Store::new(recording_client(&endpoint, recorder.clone(), test_timeouts()), table.clone());
        let table_name = table.clone();
        store.ensure_table().await.expect("table created");
        recorder.take();
        let key = SigningKey::new(TEST_KID, TEST_SECRET).expect("valid test key");
        let mut config = Config::new(table, KeySource::Inline(KeyRing::single(key)), TEST_CURSOR_SECRET);
        config.webhook_secret = Some(storefront::config::SecretSource::Value(TEST_WEBHOOK_SECRET.into()));
        let s3 = ImageBucket::start().await;
        config.images = storefront::config::ImageSettings {
            bucket: Some(IMAGES_BUCKET.into()),
            base_url: format!("{}/{IMAGES_BUCKET}", s3.endpoint),
            path_style: true,
        };
        let objects = storefront::store::Objects::new(
            storefront_local::s3::client(
                &s3.endpoint,
                Some(aws_sdk_s3::config::SharedInterceptor::new(recorder.clone())),
            ),
            IMAGES_BUCKET,
        );
        let scratch = std::env::temp_dir().join(format!("storefront-test-{}", ulid::Ulid::new()));
        let emails = scratch.join("emails");
        config.emails.directory = Some(emails.clone());
        // Webhook receivers of tests listen on loopback, as make run's may.
        config.webhooks.policy.allow_loopback_http = true;
        let bus = EventBusServer::start().await;
        let bus_client = storefront_local::bus::client(
            &bus.endpoint,
            Some(aws_sdk_eventbridge::config::SharedInterceptor::new(recorder.clone())),
        );
        configure(&mut config);
        let app = App::new(config, store, Clock::system(), None)
            .with_metrics(storefront::metrics::Metrics::recording("test"))
            .with_objects(objects)
            .with_bus(storefront::store::bus::EventBus::new(bus_client, "storefront-test-events"));
        std::fs::create_dir_all(&scratch).expect("a scratch directory");
        Self { app, endpoint, recorder, s3, table: table_name, bus, emails, checkpoint: scratch.join("checkpoint") }
    }

    /// Does what the stream's event source mapping does: hands every new outbox item of the
    /// table's stream to `publish-events` (the handler, with this app), until the stream has
    /// no more. Returns the events the bus holds now.
    pub async fn publish(&self) -> Vec<Value> {
        let mapping = storefront_local::stream::Mapping {
            streams: streams_client(&self.endpoint),
            dynamodb: dynamodb_client(&self.endpoint),
            table: self.table.clone(),
            checkpoint: self.checkpoint.clone(),
        };
        let publish = |event: Vec<u8>| async move {
            let event: Value = serde_json::from_slice(&event).map_err(|e| e.to_string())?;
            let answer =
                storefront::api::events::publish_events(&self.app, event).await.map_err(|e| e.detail.clone())?;
            Ok(answer.to_string().into_bytes())
        };
        mapping.drain(publish).await.expect("the stream is handed over");
        self.bus.events()
    }

    /// The customer emails written so far, by file name (the event id), parsed as RFC 5322.
    pub fn emails(&self) -> std::collections::BTreeMap<String, Vec<u8>> {
        let Ok(dir) = std::fs::read_dir(&self.emails) else { return Default::default() };
        dir.filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .map(|p| {
                let name = p.file_stem().unwrap_or_default().to_string_lossy().into_owned();
                (name, std::fs::read(&p).expect("an email file"))
            })
            .collect()
    }

    /// Does what the bus's rule for `send-notifications` does with every event published so far
    /// (each is sent at most once), then returns the code in the newest email to `to` whose
    /// subject holds `subject`: the line of the text part that is a token.
    pub async fn emailed_code(&self, to: &str, subject: &str) -> Option<String> {
        for event in self.publish().await {
            storefront::api::notifications::send_notifications(&self.app, event)
                .await
                .unwrap_or_else(|e| panic!("send-notifications failed: {}", e.detail));
        }
        let mut found: Vec<(String, String)> = self
            .emails()
            .into_iter()
            .filter_map(|(name, raw)| {
                let email = mail_parser::MessageParser::default().parse(&raw)?;
                let addressed = email.to()?.first()?.address()? == to;
                let text = email.body_text(0)?.into_owned();
                (addressed && email.subject()?.contains(subject)).then_some((name, text))
            })
            .collect();
        found.sort();
        let (_, text) = found.pop()?;
        let is_token =
            |l: &&str| l.len() == 43 && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        text.lines().map(str::trim).find(is_token).map(str::to_owned)
    }

    /// The item stored under `key`, as it is now (a test's look behind the API).
    pub async fn stored(
        &self,
        key: storefront::store::keys::Key,
    ) -> Option<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        let out = self.app.store.client().get_item().table_name(self.app.store.table()).set_key(Some(key)).send().await;
        out.expect("a GetItem").item
    }

    /// Every event the changes so far wrote, oldest first, each checked against asyncapi.yaml.
    pub async fn events(&self) -> Vec<Value> {
        events::in_table(&dynamodb_client(&self.endpoint), &self.table).await
    }

    /// The events of one type so far.
    pub async fn events_of(&self, kind: &str) -> Vec<Value> {
        self.events().await.into_iter().filter(|e| e["type"] == kind).collect()
    }

    /// The values of the metric `name` recorded so far (embedded-metric-format lines), each
    /// with its line.
    pub fn metric(&self, name: &str) -> Vec<(f64, Value)> {
        self.app.metrics.lines().into_iter().filter_map(|line| Some((line[name].as_f64()?, line))).collect()
    }

    /// The sum of the metric `name` recorded so far where its line has `dimension` = `value`
    /// (or in total, without a dimension).
    pub fn metric_sum(&self, name: &str, dimension: Option<(&str, &str)>) -> f64 {
        self.metric(name)
            .into_iter()
            .filter(|(_, line)| dimension.is_none_or(|(key, value)| line[key] == value))
            .map(|(v, _)| v)
            .sum()
    }

    /// Calls a handler exactly as its Lambda function would, and decodes the answer.
    pub async fn call<'a, F, Fut>(&'a self, handler: F, req: Request) -> Answer
    where
        F: FnOnce(&'a App, Request) -> Fut,
        Fut: std::future::Future<Output = Result<Response<Body>, ApiError>>,
    {
        Answer::from(storefront::http::handle(&self.app, req, handler).await)
    }
}

/// A decoded response.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: lambda_http::http::HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The problem `code` of an error answer.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }

    /// Asserts that this is an RFC 9457 problem with `status` and `code`, and returns self.
    #[track_caller]
    pub fn problem(&self, status: u16, code: &str) -> &Self {
        assert_eq!((self.status, self.code()), (status, code), "unexpected answer: {:#}", self.body);
        assert_eq!(self.header("content-type"), Some("application/problem+json"));
        for field in ["type", "title", "detail", "requestId"] {
            assert!(self.body[field].is_string(), "problem without {field}: {:#}", self.body);
        }
        assert_eq!(self.body["status"], status);
        self
    }

    /// The fields named in a 422's `errors`, in order.
    pub fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|errors| errors.iter().filter_map(|e| e["field"].as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    }

    /// The `refreshToken` of a register, login or refresh answer.
    #[track_caller]
    pub fn refresh_token(&self) -> String {
        self.body["refreshToken"].as_str().unwrap_or_else(|| panic!("no refresh token in {:#}", self.body)).to_owned()
    }

    /// The `accessToken` of a register or login answer.
    #[track_caller]
    pub fn access_token(&self) -> String {
        self.body["accessToken"].as_str().unwrap_or_else(|| panic!("no access token in {:#}", self.body)).to_owned()
    }
}

impl From<Response<Body>> for Answer {
    fn from(response: Response<Body>) -> Self {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = match response.body() {
            Body::Text(text) => serde_json::from_str(text).unwrap_or(Value::String(text.clone())),
            Body::Binary(bytes) => serde_json::from_slice(bytes).unwrap_or(Value::Null),
            _ => Value::Null,
        };
        Self { status, headers, body }
    }
}

/// Builds a request as API Gateway would hand it to a function.
pub fn request(method: &str, path: &str, body: Option<&Value>, token: Option<&str>) -> Request {
    let mut builder =
        lambda_http::http::Request::builder().method(method).uri(format!("https://api.example.com{path}"));
    if body.is_some() {
        builder = builder.header("content-type", "application/json");
    }
    match token.and_then(|t| t.split_once(": ").filter(|(h, _)| h.starts_with("x-"))) {
        // A guest's credential (see [`guest`] and [`order_holder`]): its own header.
        Some((header, value)) => builder = builder.header(header, value),
        None => {
            if let Some(token) = token {
                builder = builder.header("authorization", format!("Bearer {token}"));
            }
        }
    }
    let body = body.map_or(Body::Empty, |b| Body::Text(b.to_string()));
    builder.body(body).expect("a valid request")
}

/// What the helpers take as a token to call as the guest holding `cart_token` (`X-Cart-Token`).
pub fn guest(cart_token: &str) -> String {
    format!("x-cart-token: {cart_token}")
}

/// What the helpers take as a token to call as the holder of a guest order's `order_token`.
pub fn order_holder(order_token: &str) -> String {
    format!("x-order-token: {order_token}")
}

/// A raw request with any content type and body text.
pub fn raw_request(method: &str, path: &str, content_type: Option<&str>, body: &str) -> Request {
    let mut builder =
        lambda_http::http::Request::builder().method(method).uri(format!("https://api.example.com{path}"));
    if let Some(ct) = content_type {
        builder = builder.header("content-type", ct);
    }
    builder.body(Body::Text(body.to_owned())).expect("a valid request")
}

/// The text of `events/<name>.json`.
fn event_text(name: &str) -> String {
    let path = root().join("events").join(format!("{name}.json"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// `events/<name>.json` as JSON, for what a test reads from the event itself.
pub fn event_json(name: &str) -> Value {
    serde_json::from_str(&event_text(name)).unwrap_or_else(|e| panic!("events/{name}.json is not JSON: {e}"))
}

/// Loads `events/<name>.json` (an API Gateway HTTP API payload 2.0 event) as a request,
/// with `REPLACE_WITH_ACCESS_TOKEN` swapped for `token`.
pub fn event(name: &str, token: Option<&str>) -> Request {
    match token {
        Some(token) => event_with(name, &[("REPLACE_WITH_ACCESS_TOKEN", token)]),
        None => event_with(name, &[]),
    }
}

/// Loads `events/<name>.json` as a request, with each `(from, to)` of `replacements` swapped in
/// (placeholders such as `REPLACE_WITH_PRODUCT_ID`).
pub fn event_with(name: &str, replacements: &[(&str, &str)]) -> Request {
    let mut raw = event_text(name);
    for (from, to) in replacements {
        raw = raw.replace(from, to);
    }
    lambda_http::request::from_str(&raw).unwrap_or_else(|e| panic!("events/{name}.json is not an HTTP API event: {e}"))
}

impl TestEnv {
    /// The `storefront-signature` header value for `body`, signed with the test secret now.
    pub fn webhook_signature(&self, body: &str) -> String {
        storefront::auth::webhook::sign(TEST_WEBHOOK_SECRET, self.app.clock.now().unix_seconds(), body.as_bytes())
    }

    /// A payment webhook request carrying `body`, signed now (or with `signature` as given).
    pub fn webhook_request(&self, body: String, signature: Option<String>) -> Request {
        let signature = signature.unwrap_or_else(|| self.webhook_signature(&body));
        lambda_http::http::Request::builder()
            .method("POST")
            .uri("https://api.example.com/webhooks/payments")
            .header("content-type", "application/json")
            .header("storefront-signature", signature)
            .body(Body::Text(body))
            .expect("a valid request")
    }

    /// A signed-in user with `role`, and their access token.
    pub async fn user_token(&self, email: &str, role: storefront::domain::Role) -> String {
        let email = storefront::domain::Email::parse(email).expect("a valid email");
        let password = storefront::domain::Password::parse_new("a password for tests").expect("a valid password");
        let name = storefront::domain::PersonName::parse("Test User").expect("a valid name");
        let user = storefront::app::accounts::create_user(&self.app, email, &password, name, role)
            .await
            .expect("user created");
        storefront::app::accounts::open_session(&self.app, user, &test_caller()).await.expect("a session").token.token
    }

    pub async fn admin_token(&self) -> String {
        self.user_token("admin@example.com", storefront::domain::Role::Admin).await
    }

    /// `POST /auth/register` of Ada Lovelace at `email`, with [`PASSWORD`].
    pub async fn register(&self, email: &str) -> Answer {
        let body = serde_json::json!({"email": email, "password": PASSWORD, "name": "Ada Lovelace"});
        self.call(storefront::api::accounts::register, request("POST", "/auth/register", Some(&body), None)).await
    }

    /// `POST /auth/login` with `email` and `password`.
    pub async fn login(&self, email: &str, password: &str) -> Answer {
        let body = serde_json::json!({"email": email, "password": password});
        self.call(storefront::api::accounts::login, request("POST", "/auth/login", Some(&body), None)).await
    }

    /// `GET /me` as `token`.
    pub async fn me(&self, token: &str) -> Answer {
        self.call(storefront::api::accounts::get_me, request("GET", "/me", None, Some(token))).await
    }

    /// `POST /auth/refresh` with `refresh_token`.
    pub async fn refresh(&self, refresh_token: &str) -> Answer {
        let body = serde_json::json!({ "refreshToken": refresh_token });
        self.call(storefront::api::accounts::refresh, request("POST", "/auth/refresh", Some(&body), None)).await
    }

    /// `POST /auth/logout` as `token`.
    pub async fn logout(&self, token: &str) -> Answer {
        self.call(storefront::api::accounts::logout, request("POST", "/auth/logout", None, Some(token))).await
    }

    /// `GET /me/sessions` as `token`.
    pub async fn sessions(&self, token: &str) -> Answer {
        self.call(storefront::api::accounts::list_sessions, request("GET", "/me/sessions", None, Some(token))).await
    }

    /// `DELETE /me/sessions/{id}` as `token`.
    pub async fn delete_session(&self, token: &str, id: &str) -> Answer {
        let req = routed(request("DELETE", "/me/sessions/x", None, Some(token)), &[("id", id)], &[]);
        self.call(storefront::api::accounts::delete_session, req).await
    }
}

/// The caller of requests built here: no source address (every one is the same client).
pub fn test_caller() -> storefront::app::accounts::Caller {
    storefront::app::accounts::Caller { client: storefront::domain::ClientKey::from_source_ip(None), user_agent: None }
}

/// `req` as sent from `ip` (the request context's `http.sourceIp`, as API Gateway fills it in).
pub fn from_ip(req: Request, ip: &str) -> Request {
    use lambda_http::RequestExt;
    use lambda_http::aws_lambda_events::apigw::{
        ApiGatewayV2httpRequestContext, ApiGatewayV2httpRequestContextHttpDescription,
    };
    let mut http = ApiGatewayV2httpRequestContextHttpDescription::default();
    http.source_ip = Some(ip.to_owned());
    let mut context = ApiGatewayV2httpRequestContext::default();
    context.http = http;
    req.with_request_context(lambda_http::request::RequestContext::ApiGatewayV2(context))
}

/// A request with path parameters and query parameters, as API Gateway hands them over.
pub fn routed(mut req: Request, path: &[(&str, &str)], query: &[(&str, &str)]) -> Request {
    use lambda_http::RequestExt;
    use std::collections::HashMap;
    if !path.is_empty() {
        let map: HashMap<String, String> = path.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        req = req.with_path_parameters(map);
    }
    if !query.is_empty() {
        let map: HashMap<String, String> = query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        req = req.with_query_string_parameters(map);
    }
    req
}

/// A refund of `cents` of the order `order_id`, recorded as pending as a request that stopped
/// before asking the provider leaves one (for the settling job to make).
pub async fn pending_refund(env: &TestEnv, order_id: &str, cents: i64) -> storefront::domain::Refund {
    use storefront::domain::{Money, OrderId, RefundAsk};
    let id = OrderId::parse(order_id).expect("an order id");
    let order = env.app.store.order(id).await.expect("a read").expect("the order");
    let ask = RefundAsk { amount: Some(Money::from_cents(cents)), ..RefundAsk::default() };
    let plan = order.plan_refund(&ask).expect("a refund the order can take");
    let now = env.app.clock.now();
    let refund =
        storefront::app::payments::automatic_refund(&env.app, &order, plan.amount, order.payment_id.as_deref(), "test");
    let next = order.refunded(&plan);
    let refunding = storefront::store::Refunding {
        seen: &order,
        next: &next,
        refund: Some(&refund),
        received: None,
        events: &[],
        restock: &[],
        key: None,
        marker: None,
    };
    let recorded = env.app.store.record_refund(refunding, now).await.expect("recorded");
    assert_eq!(recorded, storefront::store::Recorded::Done);
    refund
}
