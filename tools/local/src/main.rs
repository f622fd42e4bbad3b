//! `storefront-local`: the local stack.
//!
//! `storefront-local db` (`make db`): the local database alone —
//! 1. dynoxide (an embedded DynamoDB-compatible engine) on `127.0.0.1:$STOREFRONT_DB_PORT`
//!    (8000), persisting under the data directory;
//! 2. the table, created from the same definition `template.yaml` declares, if missing;
//! 3. a JWT signing key under the data directory, if missing;
//! 4. an S3-compatible server (s3s) on `127.0.0.1:$STOREFRONT_S3_PORT` (9002) with the image
//!    bucket, its objects under the data directory;
//! 5. the admin account from `STOREFRONT_ADMIN_EMAIL` / `STOREFRONT_ADMIN_PASSWORD` (idempotent),
//!    and a demo catalog (tools/local/demo-catalog.json) when the catalog is empty.
//!
//! so that a plain `cargo lambda watch` serves the functions against it with the environment in
//! Cargo.toml's `[workspace.metadata.lambda.env]`.
//!
//! `storefront-local` (`make run`): the same, then the whole API on `127.0.0.1:$STOREFRONT_PORT`
//! (9000): a gateway that does what API Gateway does (routes of Cargo.toml's lambda router,
//! payload 2.0 events, any request bytes) in front of every function's binary, run as Lambda
//! runs it (see `functions`), with that same environment.
//!
//! It also runs the event pipeline as the stack wires it: the table's stream is read and handed
//! to `publish-events` as the event source mapping would (`stream`), and the events it puts on
//! the bus (served on `127.0.0.1:$STOREFRONT_EVENTS_PORT`, 9003: `bus`) go to the consumer
//! functions by Cargo.toml's `[workspace.metadata.storefront.rules]` (template.yaml's rules).
//!
//! Each ends with one ready line. Ctrl-C (or SIGTERM) stops everything it started; the data stays.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use storefront::app::catalog::{self, NewProduct, NewVariant};
use storefront::app::{App, AppError, accounts, images};
use storefront::auth::{KeyRing, SigningKey};
use storefront::clock::Clock;
use storefront::config::{Config, ImageSettings, KeySource};
use storefront::domain::{
    AltText, CategorySlug, Choice, Description, Email, ImageFormat, OptionName, OptionValue, Options, Password,
    PersonName, ProductName, ProductOption, Role, Sku, Stock, VariantChange, parse_price,
};
use storefront::store::{Objects, Store};
use storefront_local::functions::{self, Functions};
use storefront_local::gateway;

type Error = Box<dyn std::error::Error + Send + Sync>;

struct Settings {
    port: u16,
    db_port: u16,
    s3_port: u16,
    events_port: u16,
    bucket: String,
    data_dir: PathBuf,
    table: String,
    admin_email: String,
    admin_password: String,
    webhook_secret: String,
    payment_window_minutes: String,
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_owned())
}

fn port(name: &str, default: &str) -> Result<u16, Error> {
    let raw = env_or(name, default);
    raw.parse().map_err(|_| format!("{name} is not a port number: {raw}").into())
}

impl Settings {
    fn from_env(local_env: &BTreeMap<String, String>) -> Result<Self, Error> {
        let fixed = |name: &str| local_env.get(name).cloned().unwrap_or_default();
        Ok(Self {
            port: port("STOREFRONT_PORT", "9000")?,
            db_port: port("STOREFRONT_DB_PORT", "8000")?,
            s3_port: port("STOREFRONT_S3_PORT", "9002")?,
            events_port: port("STOREFRONT_EVENTS_PORT", "9003")?,
            bucket: fixed("IMAGES_BUCKET"),
            data_dir: PathBuf::from(env_or("STOREFRONT_DATA_DIR", ".local")),
            table: env_or("STOREFRONT_TABLE", &fixed("TABLE_NAME")),
            admin_email: env_or("STOREFRONT_ADMIN_EMAIL", "admin@storefront.local"),
            admin_password: env_or("STOREFRONT_ADMIN_PASSWORD", "storefront-admin"),
            webhook_secret: env_or("STOREFRONT_PAYMENT_WEBHOOK_SECRET", &fixed("PAYMENT_WEBHOOK_SECRET")),
            payment_window_minutes: env_or("PAYMENT_WINDOW_MINUTES", "30"),
        })
    }
}

fn step(message: &str) {
    println!("==> {message}");
}

/// The workspace root, where Cargo.toml and functions/src/bin/ are.
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[tokio::main]
async fn main() -> ExitCode {
    let only_db = match std::env::args().nth(1).as_deref() {
        None | Some("run") => false,
        Some("db") => true,
        Some(other) => {
            eprintln!("storefront-local: unknown command {other} (use: storefront-local [run|db])");
            return ExitCode::FAILURE;
        }
    };
    match run(only_db).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("storefront-local: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run(only_db: bool) -> Result<(), Error> {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml"))?;
    let local_env = gateway::environment(&manifest)?;
    let settings = Settings::from_env(&local_env)?;
    std::fs::create_dir_all(&settings.data_dir)
        .map_err(|e| format!("cannot create {}: {e}", settings.data_dir.display()))?;
    let data_dir = settings.data_dir.canonicalize()?;
    let api = if only_db {
        None
    } else {
        Some(
            tokio::net::TcpListener::bind(("127.0.0.1", settings.port))
                .await
                .map_err(|_| format!("port {} is in use; set STOREFRONT_PORT to another", settings.port))?,
        )
    };
    let db_listener = tokio::net::TcpListener::bind(("127.0.0.1", settings.db_port))
        .await
        .map_err(|_| format!("port {} is in use; set STOREFRONT_DB_PORT to another", settings.db_port))?;

    let s3_listener = tokio::net::TcpListener::bind(("127.0.0.1", settings.s3_port))
        .await
        .map_err(|_| format!("port {} is in use; set STOREFRONT_S3_PORT to another", settings.s3_port))?;

    let db_path = data_dir.join("dynamodb.sqlite");
    step(&format!("starting DynamoDB (dynoxide) with data in {}", db_path.display()));
    let db = dynoxide::Database::new(&db_path.to_string_lossy())
        .map_err(|e| format!("cannot open {}: {e}", db_path.display()))?;
    let dynamodb = format!("http://127.0.0.1:{}", settings.db_port);
    let (stop_db, db_stopped) = tokio::sync::oneshot::channel::<()>();
    let db_server = tokio::spawn(dynoxide::server::serve_with_shutdown(db_listener, db, async {
        let _ = db_stopped.await;
    }));

    let s3_dir = data_dir.join("s3");
    let s3 = format!("http://127.0.0.1:{}", settings.s3_port);
    step(&format!("starting S3 (s3s) with the image bucket {} in {}", settings.bucket, s3_dir.display()));
    let (stop_s3, s3_stopped) = tokio::sync::oneshot::channel::<()>();
    let s3_server = {
        let (dir, bucket) = (s3_dir.clone(), settings.bucket.clone());
        let prefix = storefront::store::keys::IMAGES_PREFIX;
        tokio::spawn(async move {
            storefront_local::s3::serve(s3_listener, &dir, &bucket, prefix, async {
                let _ = s3_stopped.await;
            })
            .await
            .map_err(|e| e.to_string())
        })
    };
    let image_base_url = format!("{s3}/{}", settings.bucket);

    let store = Store::new(local_client(&dynamodb), settings.table.clone());
    if store.ensure_table().await? {
        step(&format!("created table {}", settings.table));
    } else {
        step(&format!("table {} exists; keeping its data", settings.table));
    }

    let key_file = data_dir.join("jwt-key.json");
    let key = signing_key(&key_file)?;
    let cursor_secret = local_env.get("CURSOR_SECRET").cloned().unwrap_or_default();
    let mut config = Config::new(settings.table.clone(), KeySource::Inline(KeyRing::single(key)), cursor_secret);
    config.images =
        ImageSettings { bucket: Some(settings.bucket.clone()), base_url: image_base_url.clone(), path_style: true };
    let objects = Objects::new(storefront_local::s3::client(&s3, None), settings.bucket.clone());
    let app = App::new(config, store, Clock::system(), None).with_objects(objects);
    seed_admin(&app, &settings).await?;
    if storefront::app::migrate::needed(&app).await? {
        // Data of a version before products had variants: what `storefront-admin migrate`
        // does for a deployed table, done here before anything is served.
        step("the local table was written before products had variants; migrating it in place");
        let report = storefront::app::migrate::run(&app, step).await?;
        step(&format!("migrated {} products", report.migrated));
    }
    seed_catalog(&app).await?;

    let outcome = match api {
        None => {
            println!(
                "DynamoDB is ready at {dynamodb} (table {}; admin: {}; S3: {s3}); serve the functions against \
                 it with `PATH=\"$PWD/.venv/bin:$PATH\" cargo lambda watch`; Ctrl-C stops it",
                settings.table, settings.admin_email
            );
            shutdown_signal().await;
            Ok(())
        }
        Some(listener) => {
            // The functions' environment: Cargo.toml's, with this stack's settings.
            let mut env = local_env.clone();
            env.insert("TABLE_NAME".into(), settings.table.clone());
            env.insert("AWS_ENDPOINT_URL_DYNAMODB".into(), dynamodb.clone());
            env.insert("JWT_KEY_FILE".into(), key_file.display().to_string());
            env.insert("PAYMENT_WEBHOOK_SECRET".into(), settings.webhook_secret.clone());
            env.insert("PAYMENT_WINDOW_MINUTES".into(), settings.payment_window_minutes.clone());
            env.insert("AWS_ENDPOINT_URL_S3".into(), s3.clone());
            env.insert("IMAGES_BUCKET".into(), settings.bucket.clone());
            env.insert("IMAGE_BASE_URL".into(), image_base_url.clone());
            env.insert("AWS_ENDPOINT_URL_EVENTBRIDGE".into(), format!("http://127.0.0.1:{}", settings.events_port));
            env.insert("EMAIL_DIR".into(), data_dir.join("emails").display().to_string());
            serve(listener, &manifest, env, &settings, &dynamodb, &data_dir).await
        }
    };
    step("stopping");
    let _ = stop_db.send(());
    let _ = stop_s3.send(());
    let _ = tokio::time::timeout(Duration::from_secs(5), db_server).await;
    let _ = tokio::time::timeout(Duration::from_secs(5), s3_server).await;
    outcome
}

/// `GET /docs`: the API reference page `make docs` builds from openapi.yaml (read on each
/// request, so a rebuild shows without a restart). Local only: the deployed API has no such
/// route.
async fn api_reference() -> axum::response::Response {
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse;
    match tokio::fs::read(root().join("target/api-docs/index.html")).await {
        Ok(page) => ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response(),
        Err(_) => (StatusCode::NOT_FOUND, "no API reference built yet: run make docs\n").into_response(),
    }
}

/// Serves the API until Ctrl-C.
async fn serve(
    listener: tokio::net::TcpListener,
    manifest: &str,
    env: BTreeMap<String, String>,
    settings: &Settings,
    dynamodb: &str,
    data_dir: &Path,
) -> Result<(), Error> {
    let routes = gateway::routes(manifest)?;
    let rules = storefront_local::bus::rules(manifest)?;
    let schedules = storefront_local::schedule::schedules(manifest)?;
    let bus_listener = tokio::net::TcpListener::bind(("127.0.0.1", settings.events_port))
        .await
        .map_err(|_| format!("port {} is in use; set STOREFRONT_EVENTS_PORT to another", settings.events_port))?;
    let all = function_names(&root())?;
    let others: Vec<&str> =
        all.iter().map(String::as_str).filter(|f| !routes.iter().any(|r| r.function == *f)).collect();
    let bin_dir = std::env::current_exe()?.parent().map(Path::to_path_buf).ok_or("no binary directory")?;
    let functions = Arc::new(Functions::new(routes, &others, &bin_dir, env).await?);
    functions.check_binaries()?;
    step(&format!("serving {} functions on port {} as API Gateway and Lambda would", all.len(), settings.port));
    let app = axum::Router::new()
        .route("/docs", axum::routing::get(api_reference))
        .fallback(functions::handle)
        .with_state(functions.clone());
    let (stop_pipeline, pipeline_stopped) = tokio::sync::watch::channel(false);
    let mut pipeline = start_pipeline(
        functions.clone(),
        rules,
        bus_listener,
        dynamodb,
        &settings.table,
        data_dir,
        pipeline_stopped.clone(),
    );
    pipeline.extend(start_schedules(functions.clone(), &schedules, pipeline_stopped));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    println!(
        "==> unpaid orders expire after {} minutes (expire-orders runs every {} minutes; to run it now: \
         .venv/bin/cargo-lambda lambda invoke expire-orders --data-file events/expire-orders.json --invoke-address 127.0.0.1 --invoke-port {})",
        settings.payment_window_minutes,
        schedules.get("expire-orders").copied().unwrap_or_default(),
        settings.port
    );
    println!(
        "==> webhooks may be http://127.0.0.1:<port>/…; failed deliveries are retried by retry-webhooks every minute"
    );
    println!("==> customer emails are written to {} (one .eml file per email)", data_dir.join("emails").display());
    println!("==> the API reference (openapi.yaml, built by make docs) is at http://127.0.0.1:{}/docs", settings.port);
    println!(
        "storefront is ready at http://127.0.0.1:{} (admin: {}; DynamoDB: {dynamodb}; Ctrl-C stops it)",
        settings.port, settings.admin_email
    );
    shutdown_signal().await;
    let _ = stop.send(());
    let _ = stop_pipeline.send(true);
    for task in pipeline {
        let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
    }
    functions.stop().await;
    let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
    Ok(())
}

/// The event pipeline: the bus (each event it takes goes to the functions whose rule names
/// its type, retried as EventBridge retries a failed target), and the stream's mapping to
/// `publish-events`. Stops when `stopped` turns true.
fn start_pipeline(
    functions: Arc<Functions>,
    rules: BTreeMap<String, Vec<String>>,
    bus_listener: tokio::net::TcpListener,
    dynamodb: &str,
    table: &str,
    data_dir: &Path,
    stopped: tokio::sync::watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let until_stopped = |mut stopped: tokio::sync::watch::Receiver<bool>| async move {
        let _ = stopped.wait_for(|s| *s).await;
    };
    let routing = functions.clone();
    let sink: storefront_local::bus::Sink = Arc::new(move |event: serde_json::Value| {
        for target in storefront_local::bus::targets(&rules, &event) {
            let (functions, target, event) = (routing.clone(), target.to_owned(), event.to_string());
            tokio::spawn(async move {
                for attempt in 0..3u32 {
                    match functions.invoke(&target, event.clone().into()).await {
                        Some(Ok(_)) => return,
                        Some(Err(error)) => {
                            eprintln!("{target} failed on an event: {}", String::from_utf8_lossy(&error))
                        }
                        None => eprintln!("{target} did not answer an event in time"),
                    }
                    tokio::time::sleep(Duration::from_secs(1 << attempt)).await;
                }
                eprintln!("{target} gave up on an event after 3 attempts: {event}");
            });
        }
    });
    let bus = tokio::spawn({
        let stopped = stopped.clone();
        async move {
            if let Err(err) = storefront_local::bus::serve(bus_listener, sink, until_stopped(stopped)).await {
                eprintln!("the local event bus stopped: {err}");
            }
        }
    });
    let mapping = storefront_local::stream::Mapping {
        streams: streams_client(dynamodb),
        dynamodb: local_client(dynamodb),
        table: table.to_owned(),
        checkpoint: data_dir.join("stream-checkpoint"),
    };
    let publish = move |event: Vec<u8>| {
        let functions = functions.clone();
        async move {
            match functions.invoke("publish-events", event.into()).await {
                Some(Ok(answer)) => Ok(answer.to_vec()),
                Some(Err(error)) => Err(String::from_utf8_lossy(&error).into_owned()),
                None => Err("no answer in time".to_owned()),
            }
        }
    };
    let stream = tokio::spawn(mapping.run(publish, until_stopped(stopped)));
    vec![bus, stream]
}

/// The scheduled functions, each run every so many minutes (template.yaml's schedules), until
/// `stopped` turns true.
fn start_schedules(
    functions: Arc<Functions>,
    schedules: &BTreeMap<String, u64>,
    stopped: tokio::sync::watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    schedules
        .iter()
        .map(|(function, minutes)| {
            let (functions, function, mut stopped) = (functions.clone(), function.clone(), stopped.clone());
            let period = storefront_local::schedule::period(*minutes);
            tokio::spawn(async move {
                let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
                ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
                loop {
                    tokio::select! {
                        _ = ticks.tick() => {}
                        _ = stopped.wait_for(|s| *s) => return,
                    }
                    let now = time::OffsetDateTime::now_utc()
                        .format(&time::format_description::well_known::Rfc3339)
                        .unwrap_or_default();
                    let event = storefront_local::schedule::event(&function, &now).to_string();
                    match functions.invoke(&function, event.into()).await {
                        Some(Ok(_)) => {}
                        Some(Err(error)) => eprintln!("{function} failed: {}", String::from_utf8_lossy(&error)),
                        None => eprintln!("{function} did not answer in time"),
                    }
                }
            })
        })
        .collect()
}

fn streams_client(endpoint: &str) -> aws_sdk_dynamodbstreams::Client {
    use aws_sdk_dynamodbstreams::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_dynamodbstreams::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "storefront-local"))
        .build();
    aws_sdk_dynamodbstreams::Client::from_conf(config)
}

/// Every function of the workspace: one binary per file of functions/src/bin/.
fn function_names(root: &Path) -> Result<Vec<String>, Error> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(root.join("functions/src/bin"))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "rs")
            && let Some(name) = path.file_stem()
        {
            names.push(name.to_string_lossy().into_owned());
        }
    }
    names.sort();
    Ok(names)
}

fn local_client(endpoint: &str) -> aws_sdk_dynamodb::Client {
    use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "storefront-local"))
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

/// Reads the local signing key, or creates one (readable by this user only).
fn signing_key(path: &Path) -> Result<SigningKey, Error> {
    if path.exists() {
        let raw = std::fs::read_to_string(path)?;
        return SigningKey::from_json(&raw)
            .map_err(|e| format!("{}: {e} (delete it to get a new one)", path.display()).into());
    }
    let key = SigningKey::generate("local");
    write_private(path, &key.to_json())?;
    step(&format!("created a JWT signing key in {}", path.display()));
    Ok(key)
}

fn write_private(path: &Path, contents: &str) -> Result<(), Error> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    file.write_all(contents.as_bytes())?;
    Ok(())
}

/// Makes sure the admin account exists and is an admin. Never changes an existing password.
async fn seed_admin(app: &App, settings: &Settings) -> Result<(), Error> {
    let email = Email::parse(&settings.admin_email).map_err(|e| format!("STOREFRONT_ADMIN_EMAIL {e}"))?;
    let password =
        Password::parse_new(&settings.admin_password).map_err(|e| format!("STOREFRONT_ADMIN_PASSWORD {e}"))?;
    let name = PersonName::parse("Store admin").map_err(|e| e.to_string())?;
    match accounts::create_user(app, email.clone(), &password, name, Role::Admin).await {
        Ok(_) => step(&format!("created admin account {email}")),
        Err(AppError::EmailTaken) => {
            // The operator named this address: it is theirs (an account of an older version
            // may not be marked verified yet, and grant-admin refuses unverified ones).
            accounts::vouch_for_email(app, &email).await.map_err(|e| e.to_string())?;
            accounts::grant_admin(app, &email).await.map_err(|e| e.to_string())?;
            step(&format!("admin account {email} exists"));
        }
        Err(err) => return Err(err.to_string().into()),
    }
    Ok(())
}

/// Fills an empty catalog with the demo products, so there is something to browse: products
/// sold one way and products sold in options, and for these generated pictures, uploaded the
/// way an admin's client uploads them (presigned PUT, then complete).
async fn seed_catalog(app: &App) -> Result<(), Error> {
    if !app.store.catalog_is_empty().await? {
        step("catalog has products; not seeding the demo catalog");
        return Ok(());
    }
    let demo: Vec<serde_json::Value> = serde_json::from_str(include_str!("../demo-catalog.json"))?;
    let mut pictures = 0;
    for entry in &demo {
        let text = |value: &serde_json::Value| value.as_str().unwrap_or_default().to_owned();
        let variant = |v: &serde_json::Value| -> Result<NewVariant, Error> {
            let mut choice = BTreeMap::new();
            for (name, value) in v["options"].as_object().into_iter().flatten() {
                choice.insert(OptionName::parse(name)?, OptionValue::parse(&text(value))?);
            }
            Ok(NewVariant {
                sku: Sku::parse(&text(&v["sku"]))?,
                options: Choice::new(choice),
                price_cents: parse_price(v["priceCents"].as_i64().unwrap_or(-1))?,
                stock: Stock::parse(v["stock"].as_i64().unwrap_or(-1))?,
                active: true,
                image_id: None,
            })
        };
        let mut options = Vec::new();
        for option in entry["options"].as_array().into_iter().flatten() {
            let values = option["values"].as_array().into_iter().flatten();
            options.push(ProductOption {
                name: OptionName::parse(&text(&option["name"]))?,
                values: values.map(|v| OptionValue::parse(&text(v))).collect::<Result<_, _>>()?,
            });
        }
        let variants = match entry["variants"].as_array() {
            Some(variants) => variants.iter().map(variant).collect::<Result<Vec<_>, _>>()?,
            None => vec![variant(entry)?],
        };
        let product = NewProduct {
            low_stock_threshold: storefront::domain::DEFAULT_LOW_STOCK_THRESHOLD,
            name: ProductName::parse(&text(&entry["name"]))?,
            description: Description::parse(&text(&entry["description"]))?,
            category: CategorySlug::parse(&text(&entry["category"]))?,
            active: true,
            options: Options::parse(options)?,
            variants,
        };
        let name = text(&entry["name"]);
        let created = catalog::create(app, product).await.map_err(|e| format!("seeding {name}: {e}"))?;
        for picture in entry["images"].as_array().into_iter().flatten() {
            seed_picture(app, &created.view, picture).await.map_err(|e| format!("a picture of {name}: {e}"))?;
            pictures += 1;
        }
    }
    step(&format!("seeded the demo catalog ({} products, {pictures} pictures)", demo.len()));
    Ok(())
}

/// Uploads a generated picture of a demo product, attaches it, and shows it on the variants
/// whose options `shows` names.
async fn seed_picture(app: &App, product: &catalog::ProductView, picture: &serde_json::Value) -> Result<(), Error> {
    let rgb: Vec<u8> =
        picture["rgb"].as_array().into_iter().flatten().filter_map(|c| c.as_u64()).map(|c| c as u8).collect();
    let [r, g, b] = rgb[..] else { return Err("rgb must be three numbers".into()) };
    let png = demo_picture([r, g, b])?;
    let alt = AltText::parse(picture["alt"].as_str().unwrap_or_default())?;
    let ticket = images::begin(app, product.id, ImageFormat::Png, png.len() as i64, alt).await?;
    storefront_local::s3::send(&ticket.upload, png).await?;
    images::complete(app, product.id, ticket.image_id).await?;
    let Some(shows) = picture["shows"].as_object() else { return Ok(()) };
    for variant in &product.variants {
        let shown = shows.iter().all(|(name, value)| {
            let name = OptionName::parse(name).ok();
            name.and_then(|n| variant.options.value(&n).map(|v| Some(v.as_str()) == value.as_str())).unwrap_or(false)
        });
        if shown {
            let change = VariantChange { image_id: Some(Some(ticket.image_id)), ..Default::default() };
            let patch = catalog::VariantPatch { change, on_hand: None };
            catalog::update_variant(app, variant.id, patch, None).await?;
        }
    }
    Ok(())
}

/// A 96×96 PNG: a product-coloured square with a lighter band, small and recognisable.
fn demo_picture([r, g, b]: [u8; 3]) -> Result<Vec<u8>, Error> {
    const SIDE: u32 = 96;
    let light = |c: u8| c.saturating_add((255 - c) / 2);
    let mut pixels = Vec::with_capacity((SIDE * SIDE * 3) as usize);
    for y in 0..SIDE {
        for _ in 0..SIDE {
            let band = (36..60).contains(&y);
            pixels.extend(if band { [light(r), light(g), light(b)] } else { [r, g, b] });
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, SIDE, SIDE);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.write_header()?.write_image_data(&pixels)?;
    Ok(out)
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(term) => term,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
