//! `make bench`: runs every function as Lambda would (through the Runtime API) against
//! dynoxide with a realistic data set, and reports cold start, warm latency, memory, size,
//! DynamoDB calls and capacity, and an estimated cost, against the budgets.

mod floors;
mod proxy;
mod scenarios;

use axum::body::Bytes;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use storefront_local::runtime::RuntimeApi;

/// Prices (us-east-1, as published by AWS in 2025; checked 2026-11-21). Change them here.
const LAMBDA_ARM_GB_SECOND: f64 = 0.000_013_333_4;
const LAMBDA_PER_MILLION_REQUESTS: f64 = 0.20;
const HTTP_API_PER_MILLION: f64 = 1.00;
const DYNAMODB_PER_MILLION_RRU: f64 = 0.125;
const DYNAMODB_PER_MILLION_WRU: f64 = 0.625;

pub const COLD_RUNS: usize = 10;
pub const WARM_RUNS: usize = 1000;
/// Invocations run (in another process) through the counting proxy, after the timed ones.
pub const COUNTED_RUNS: usize = 300;

/// What one function is measured with.
pub struct Scenario {
    pub binary: &'static str,
    /// `COLD_RUNS + 1 + WARM_RUNS + 1 + COUNTED_RUNS` events: cold starts, one warm-up, the timed
    /// mix, then one warm-up and the mix again through the counting proxy.
    pub events: Vec<Bytes>,
    /// Expected statuses (anything else counts as an error).
    pub ok: &'static [u16],
    pub budget: Budget,
    pub http: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    /// Reads: warm p99 within 1 ms of the baseline; at most one DynamoDB call.
    Read,
    /// Listing pages: warm p99 within 1 ms of the baseline; one query a page.
    Page,
    /// Placing an order: warm p99 within 5 ms of the baseline; one transaction.
    PlaceOrder,
    /// Password hashing: reported, bounded by argon2's parameters.
    Argon2,
    /// Other writes: reported.
    Write,
    /// Word-prefix search: one query and one batch read a page.
    Search,
    /// A cart and its products (get-cart, quote): one read and one batch read.
    CartRead,
    Baseline,
}

struct Stats {
    cold: Vec<f64>,
    warm: Vec<f64>,
    rss_kb: u64,
    calls: f64,
    rru: f64,
    wru: f64,
    /// Per counted invocation: time DynamoDB (dynoxide behind the proxy) spent serving it, and
    /// the rest of its latency (the function's own time, the Runtime API and the network hops).
    db: Vec<f64>,
    own: Vec<f64>,
    errors: usize,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn status_of(body: &[u8]) -> Option<u16> {
    serde_json::from_slice::<Value>(body).ok()?.get("statusCode")?.as_u64().map(|s| s as u16)
}

fn peak_rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(str::to_owned))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

fn spawn(binary: &Path, env: &[(String, String)], runtime_api: &str, name: &str) -> tokio::process::Child {
    let mut command = tokio::process::Command::new(binary);
    command
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("AWS_LAMBDA_RUNTIME_API", runtime_api)
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    command.spawn().unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()))
}

/// Times cold starts and warm invocations against dynoxide directly (no proxy hop in the
/// figures), then counts DynamoDB calls and capacity over more invocations through the proxy.
async fn measure(
    binary: &Path,
    env: &[(String, String)],
    proxied_env: &[(String, String)],
    scenario: &Scenario,
    counters: &proxy::Counters,
) -> Stats {
    let mut stats = Stats {
        cold: Vec::new(),
        warm: Vec::new(),
        rss_kb: 0,
        calls: 0.0,
        rru: 0.0,
        wru: 0.0,
        db: Vec::new(),
        own: Vec::new(),
        errors: 0,
    };
    let mut check = |body: &[u8], error: bool, http: bool| {
        let ok = !error && (!http || status_of(body).is_some_and(|s| scenario.ok.contains(&s)));
        if !ok {
            stats.errors += 1;
            if stats.errors <= 3 {
                eprintln!("    unexpected answer: {}", String::from_utf8_lossy(&body[..body.len().min(300)]));
            }
        }
    };
    let mut cold = Vec::new();
    for event in scenario.events.iter().take(COLD_RUNS) {
        let emulator = runtime_api(scenario.binary).await;
        let started = Instant::now();
        let mut child = spawn(binary, env, &emulator.address, scenario.binary);
        let outcome = emulator.invoke(event.clone()).await;
        match outcome {
            Some(o) => {
                cold.push((o.answered - started).as_secs_f64() * 1000.0);
                check(&o.body, o.error, scenario.http);
            }
            None => check(b"no answer", true, scenario.http),
        }
        let _ = child.kill().await;
    }
    let emulator = runtime_api(scenario.binary).await;
    let mut child = spawn(binary, env, &emulator.address, scenario.binary);
    let pid = child.id().unwrap_or(0);
    if let Some(event) = scenario.events.get(COLD_RUNS) {
        let _ = emulator.invoke(event.clone()).await; // the warm-up (a cold start, not counted)
    }
    counters.take();
    let mut warm = Vec::new();
    for event in scenario.events.iter().skip(COLD_RUNS + 1).take(WARM_RUNS) {
        match emulator.invoke(event.clone()).await {
            Some(o) => {
                warm.push((o.answered - o.handed_out).as_secs_f64() * 1000.0);
                check(&o.body, o.error, scenario.http);
            }
            None => check(b"no answer", true, scenario.http),
        }
    }
    stats.rss_kb = peak_rss_kb(pid);
    let _ = child.kill().await;
    drop(emulator);

    let counted_events = &scenario.events[COLD_RUNS + 1 + WARM_RUNS..];
    let emulator = runtime_api(scenario.binary).await;
    let mut child = spawn(binary, proxied_env, &emulator.address, scenario.binary);
    if let Some(event) = counted_events.first() {
        let _ = emulator.invoke(event.clone()).await;
    }
    counters.take();
    counters.take_busy_ms();
    let mut counted = 0usize;
    let (mut db, mut own) = (Vec::new(), Vec::new());
    for event in counted_events.iter().skip(1) {
        if let Some(o) = emulator.invoke(event.clone()).await {
            counted += 1;
            check(&o.body, o.error, scenario.http);
            let total = (o.answered - o.handed_out).as_secs_f64() * 1000.0;
            let busy = counters.take_busy_ms();
            db.push(busy);
            own.push((total - busy).max(0.0));
        }
    }
    db.sort_by(f64::total_cmp);
    own.sort_by(f64::total_cmp);
    stats.db = db;
    stats.own = own;
    let (calls, rru, wru) = counters.take();
    let _ = child.kill().await;
    let n = counted.max(1) as f64;
    cold.sort_by(f64::total_cmp);
    warm.sort_by(f64::total_cmp);
    stats.cold = cold;
    stats.warm = warm;
    stats.calls = calls as f64 / n;
    stats.rru = rru / n;
    stats.wru = wru / n;
    stats
}

fn zip_size(binary: &Path) -> Option<u64> {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import io,sys,zipfile\nb=io.BytesIO()\nz=zipfile.ZipFile(b,'w',zipfile.ZIP_DEFLATED,compresslevel=9)\nz.write(sys.argv[1],'bootstrap')\nz.close()\nprint(len(b.getvalue()))",
        ])
        .arg(binary)
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

/// The `GLIBC_*` variables template.yaml gives each function (run as deployed).
/// A Lambda Runtime API for one function process (the same one `make run` serves functions with).
async fn runtime_api(name: &str) -> RuntimeApi {
    RuntimeApi::start(name, std::time::Duration::from_secs(30)).await.expect("a Runtime API on a free port")
}

fn glibc_env(root: &Path) -> BTreeMap<String, Vec<(String, String)>> {
    use yaml_rust2::YamlLoader;
    let raw = std::fs::read_to_string(root.join("template.yaml")).unwrap_or_default();
    let Some(t) = YamlLoader::load_from_str(&raw).ok().and_then(|mut d| d.pop()) else { return BTreeMap::new() };
    let mut env = BTreeMap::new();
    for (_, r) in t["Resources"].as_hash().into_iter().flatten() {
        if let Some(binary) = r["Metadata"]["BuildProperties"]["Binary"].as_str() {
            let vars: Vec<(String, String)> = r["Properties"]["Environment"]["Variables"]
                .as_hash()
                .into_iter()
                .flatten()
                .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), v.as_str()?.to_owned())))
                .filter(|(k, _)| k.starts_with("GLIBC_"))
                .collect();
            env.insert(binary.to_owned(), vars);
        }
    }
    env
}

fn memory_sizes(root: &Path) -> BTreeMap<String, u64> {
    use yaml_rust2::YamlLoader;
    let raw = std::fs::read_to_string(root.join("template.yaml")).unwrap_or_default();
    let Some(t) = YamlLoader::load_from_str(&raw).ok().and_then(|mut d| d.pop()) else { return BTreeMap::new() };
    let default = t["Globals"]["Function"]["MemorySize"].as_i64().unwrap_or(128) as u64;
    let mut sizes = BTreeMap::new();
    for (_, r) in t["Resources"].as_hash().into_iter().flatten() {
        if let Some(binary) = r["Metadata"]["BuildProperties"]["Binary"].as_str() {
            sizes.insert(binary.to_owned(), r["Properties"]["MemorySize"].as_i64().map_or(default, |m| m as u64));
        }
    }
    sizes
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| s.lines().next().and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse::<u64>().ok())))
        .map_or(0, |kb| kb / 1024 / 1024);
    let rustc = std::process::Command::new("rustc")
        .arg("-V")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    format!("{cores} cores ({cpu}), {memory} GiB RAM, {}, {rustc}", std::env::consts::ARCH)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    // BENCH_BIN_DIR: measure binaries from another directory (e.g. a profiling build).
    let release = std::env::var_os("BENCH_BIN_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target/release"));
    let started = Instant::now();
    println!("==> starting dynoxide and the counting DynamoDB proxy");
    let db = dynoxide::Database::memory().expect("in-memory dynoxide");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let dynamodb = format!("http://{}", listener.local_addr().expect("an address"));
    tokio::spawn(dynoxide::server::serve_on(listener, db));
    let (proxy_url, counters) = proxy::start(&dynamodb).await;

    let data_dir = std::env::temp_dir().join(format!("storefront-bench-{}", std::process::id()));
    std::fs::create_dir_all(&data_dir).expect("a temporary directory");
    println!("==> starting the S3-compatible server of the image bucket");
    let s3_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let s3 = format!("http://{}", s3_listener.local_addr().expect("an address"));
    let s3_dir = data_dir.join("s3");
    tokio::spawn(async move {
        let prefix = storefront::store::keys::IMAGES_PREFIX;
        let forever = std::future::pending::<()>();
        storefront_local::s3::serve(s3_listener, &s3_dir, scenarios::IMAGES_BUCKET, prefix, forever).await
    });
    println!("==> starting the event bus (the local stack's PutEvents, which takes and drops events)");
    let bus_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let bus = format!("http://{}", bus_listener.local_addr().expect("an address"));
    let drop_events: storefront_local::bus::Sink = std::sync::Arc::new(|_| {});
    tokio::spawn(storefront_local::bus::serve(bus_listener, drop_events, std::future::pending()));
    println!("==> starting a webhook receiver (answers every delivery 200)");
    let receiver_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let receiver = format!("http://{}", receiver_listener.local_addr().expect("an address"));
    let answer_ok = axum::Router::new().fallback(|| async { axum::http::StatusCode::OK });
    tokio::spawn(async move { axum::serve(receiver_listener, answer_ok).await });
    println!("==> seeding the data set (demo catalog + thousands of products, users and orders)");
    let mut world = scenarios::World::seed(&dynamodb, &s3, &data_dir, &receiver).await;
    println!("    seeded in {:.1}s", started.elapsed().as_secs_f64());
    println!("==> timing DynamoDB's own floor (a bare SDK client, no function)");
    let floors = floors::measure(&scenarios::sdk_client(&dynamodb), scenarios::TABLE, world.sample_product()).await;
    for floor in &floors {
        println!("    {:<40} p50 {:>5.2} ms  p99 {:>5.2} ms", floor.what, floor.p50, floor.p99);
    }
    let env: Vec<(String, String)> = [
        ("PATH", std::env::var("PATH").unwrap_or_default()),
        // The image bucket's server checks signatures, with the local stack's key.
        ("AWS_ACCESS_KEY_ID", storefront_local::s3::ACCESS_KEY.into()),
        ("AWS_SECRET_ACCESS_KEY", storefront_local::s3::SECRET_KEY.into()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_ENDPOINT_URL_DYNAMODB", dynamodb.clone()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128".into()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "bench".into()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "bench".into()),
        ("TABLE_NAME", scenarios::TABLE.into()),
        ("JWT_KEY_FILE", world.key_file.display().to_string()),
        ("CURSOR_SECRET", scenarios::CURSOR_SECRET.into()),
        ("PAYMENT_WEBHOOK_SECRET", scenarios::WEBHOOK_SECRET.into()),
        ("AWS_ENDPOINT_URL_S3", s3.clone()),
        ("IMAGES_BUCKET", scenarios::IMAGES_BUCKET.into()),
        ("IMAGE_BASE_URL", scenarios::image_settings(&s3).base_url),
        ("AWS_ENDPOINT_URL_EVENTBRIDGE", bus.clone()),
        ("EVENT_BUS_NAME", "storefront-bench-events".into()),
        ("EMAIL_DIR", data_dir.join("emails").display().to_string()),
        ("WEBHOOK_ALLOW_LOOPBACK_HTTP", "1".into()),
        ("LOG_LEVEL", "info".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .chain(
        // BENCH_ENV="K=V,K2=V2": extra environment for the functions (experiments).
        std::env::var("BENCH_ENV")
            .unwrap_or_default()
            .split(',')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
    )
    .collect();

    let proxied_env: Vec<(String, String)> = env
        .iter()
        .map(
            |(k, v)| {
                if k == "AWS_ENDPOINT_URL_DYNAMODB" { (k.clone(), proxy_url.clone()) } else { (k.clone(), v.clone()) }
            },
        )
        .collect();
    let memory = memory_sizes(&root);
    let function_env = glibc_env(&root);
    let mut rows = Vec::new();
    // BENCH_ONLY="get-me,login": measure only these (experiments; results files are then partial).
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let names: Vec<&str> = scenarios::ORDER
        .iter()
        .copied()
        .filter(|n| only.is_empty() || *n == "hello" || only.split(',').any(|o| o == *n))
        .collect();
    for (i, name) in names.iter().enumerate() {
        let binary = release.join(name.split('?').next().unwrap_or(name));
        if !binary.exists() {
            eprintln!("missing {}: build first (make bench does)", binary.display());
            std::process::exit(1);
        }
        print!("==> [{:>2}/{}] {name:<20}", i + 1, names.len());
        use std::io::Write;
        let _ = std::io::stdout().flush();
        let scenario = world.scenario(name).await;
        let extra = function_env.get(scenario.binary).cloned().unwrap_or_default();
        let env: Vec<(String, String)> = env.iter().cloned().chain(extra.iter().cloned()).collect();
        let proxied_env: Vec<(String, String)> = proxied_env.iter().cloned().chain(extra).collect();
        let stats = measure(&binary, &env, &proxied_env, &scenario, &counters).await;
        let size = std::fs::metadata(&binary).map(|m| m.len()).unwrap_or(0);
        let lambda_binary = root.join("target/lambda").join(scenario.binary).join("bootstrap");
        let (arm_size, arm_zip) = if lambda_binary.exists() {
            (std::fs::metadata(&lambda_binary).map(|m| m.len()).ok(), zip_size(&lambda_binary))
        } else {
            (None, None)
        };
        let memory_mb = memory.get(scenario.binary).copied().unwrap_or(128);
        println!(
            " cold p50 {:>6.2} ms  warm p99 {:>6.2} ms  rss {:>5.1} MB{}",
            percentile(&stats.cold, 0.5),
            percentile(&stats.warm, 0.99),
            stats.rss_kb as f64 / 1024.0,
            if stats.errors > 0 { format!("  ({} unexpected answers)", stats.errors) } else { String::new() }
        );
        rows.push(json!({
            "function": name,
            "budget": match scenario.budget { Budget::Read => "read", Budget::Page => "page", Budget::PlaceOrder => "place-order",
                Budget::Argon2 => "argon2", Budget::Write => "write", Budget::Search => "search",
                Budget::CartRead => "cart-read", Budget::Baseline => "baseline" },
            "coldStartMs": {"median": percentile(&stats.cold, 0.5), "max": stats.cold.last().copied().unwrap_or(f64::NAN), "runs": stats.cold.len()},
            "warmMs": {"p50": percentile(&stats.warm, 0.5), "p99": percentile(&stats.warm, 0.99), "invocations": stats.warm.len()},
            "peakRssMb": stats.rss_kb as f64 / 1024.0,
            "binaryMb": size as f64 / 1_048_576.0,
            "zipMb": zip_size(&binary).map(|z| z as f64 / 1_048_576.0),
            "arm64BinaryMb": arm_size.map(|s| s as f64 / 1_048_576.0),
            "arm64ZipMb": arm_zip.map(|z| z as f64 / 1_048_576.0),
            "dynamodb": {"callsPerInvocation": stats.calls, "rruPerInvocation": stats.rru, "wruPerInvocation": stats.wru,
                "serviceMs": {"p50": percentile(&stats.db, 0.5), "p99": percentile(&stats.db, 0.99)}},
            "ownMs": {"p50": percentile(&stats.own, 0.5), "p99": percentile(&stats.own, 0.99), "invocations": stats.own.len()},
            "memoryMb": memory_mb,
            "http": scenario.http,
            "unexpectedAnswers": stats.errors,
        }));
    }
    let report = scenarios::report(rows, &floors, &machine(), started.elapsed());
    let _ = std::fs::remove_dir_all(&data_dir);
    world.finish();
    std::fs::write(root.join("bench/results.json"), serde_json::to_string_pretty(&report.json).unwrap_or_default())
        .expect("bench/results.json");
    std::fs::write(root.join("bench/RESULTS.md"), &report.markdown).expect("bench/RESULTS.md");
    println!("\n{}", report.table);
    println!("wrote bench/results.json and bench/RESULTS.md in {:.0}s", started.elapsed().as_secs_f64());
    if report.failed > 0 {
        println!("{} budget(s) missed; see bench/RESULTS.md", report.failed);
    }
    let _ = Duration::from_secs(0);
}

/// The estimated cost of a million invocations, in dollars.
pub fn cost_per_million(row: &Value) -> f64 {
    let memory_gb = row["memoryMb"].as_f64().unwrap_or(128.0) / 1024.0;
    let billed_ms = row["warmMs"]["p50"].as_f64().unwrap_or(0.0).ceil().max(1.0);
    let lambda = LAMBDA_PER_MILLION_REQUESTS + billed_ms / 1000.0 * memory_gb * LAMBDA_ARM_GB_SECOND * 1e6;
    let api = if row["http"].as_bool() == Some(true) { HTTP_API_PER_MILLION } else { 0.0 };
    let ddb = row["dynamodb"]["rruPerInvocation"].as_f64().unwrap_or(0.0) * DYNAMODB_PER_MILLION_RRU
        + row["dynamodb"]["wruPerInvocation"].as_f64().unwrap_or(0.0) * DYNAMODB_PER_MILLION_WRU;
    lambda + api + ddb
}

pub fn prices() -> String {
    format!(
        "Lambda arm64 ${LAMBDA_ARM_GB_SECOND}/GB-s + ${LAMBDA_PER_MILLION_REQUESTS}/M requests (billed per ms, warm p50); \
         HTTP API ${HTTP_API_PER_MILLION}/M; DynamoDB on-demand ${DYNAMODB_PER_MILLION_RRU}/M RRU, ${DYNAMODB_PER_MILLION_WRU}/M WRU \
         (us-east-1, AWS's published 2025 prices, checked 2026-11-21)"
    )
}
