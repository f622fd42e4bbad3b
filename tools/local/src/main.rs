//! `storefront-local`: the local stack behind `make run`.
//!
//! 1. dynoxide (an embedded DynamoDB-compatible engine) on a free loopback port, persisting
//!    under the data directory;
//! 2. the table, created from the same definition `template.yaml` declares, if missing;
//! 3. a JWT signing key under the data directory, if missing;
//! 4. the admin account from `STOREFRONT_ADMIN_EMAIL` / `STOREFRONT_ADMIN_PASSWORD` (idempotent),
//!    and a demo catalog (tools/local/demo-catalog.json) when the catalog is empty;
//! 5. every function behind `cargo lambda watch`, with API Gateway's paths, on
//!    `127.0.0.1:$STOREFRONT_PORT`;
//!
//! then one ready line. Ctrl-C (or SIGTERM) stops everything it started; the data stays.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};
use storefront::app::catalog::{self, NewProduct};
use storefront::app::{App, AppError, accounts};
use storefront::auth::{KeyRing, SigningKey};
use storefront::clock::Clock;
use storefront::config::{Config, KeySource};
use storefront::domain::{
    CategorySlug, Description, Email, Password, PersonName, ProductName, Role, Sku, Stock, parse_price,
};
use storefront::store::Store;
use tokio::process::{Child, Command};

type Error = Box<dyn std::error::Error + Send + Sync>;

struct Settings {
    port: u16,
    data_dir: PathBuf,
    table: String,
    admin_email: String,
    admin_password: String,
    log_level: String,
    webhook_secret: String,
    payment_window_minutes: String,
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_owned())
}

impl Settings {
    fn from_env() -> Result<Self, Error> {
        let port = env_or("STOREFRONT_PORT", "9000");
        Ok(Self {
            port: port.parse().map_err(|_| format!("STOREFRONT_PORT is not a port number: {port}"))?,
            data_dir: PathBuf::from(env_or("STOREFRONT_DATA_DIR", ".local")),
            table: env_or("STOREFRONT_TABLE", "storefront"),
            admin_email: env_or("STOREFRONT_ADMIN_EMAIL", "admin@storefront.local"),
            admin_password: env_or("STOREFRONT_ADMIN_PASSWORD", "storefront-admin"),
            log_level: env_or("LOG_LEVEL", "info"),
            webhook_secret: env_or("STOREFRONT_PAYMENT_WEBHOOK_SECRET", "whsec_storefront_local_development_secret"),
            payment_window_minutes: env_or("PAYMENT_WINDOW_MINUTES", "30"),
        })
    }
}

fn step(message: &str) {
    println!("==> {message}");
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("storefront-local: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Error> {
    let settings = Settings::from_env()?;
    std::fs::create_dir_all(&settings.data_dir)
        .map_err(|e| format!("cannot create {}: {e}", settings.data_dir.display()))?;
    let data_dir = settings.data_dir.canonicalize()?;
    if std::net::TcpListener::bind(("127.0.0.1", settings.port)).is_err() {
        return Err(format!("port {} is in use; set STOREFRONT_PORT to another", settings.port).into());
    }

    let db_path = data_dir.join("dynamodb.sqlite");
    step(&format!("starting DynamoDB (dynoxide) with data in {}", db_path.display()));
    let db = dynoxide::Database::new(&db_path.to_string_lossy())
        .map_err(|e| format!("cannot open {}: {e}", db_path.display()))?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let dynamodb = format!("http://{}", listener.local_addr()?);
    let (stop_db, db_stopped) = tokio::sync::oneshot::channel::<()>();
    let db_server = tokio::spawn(dynoxide::server::serve_with_shutdown(listener, db, async {
        let _ = db_stopped.await;
    }));

    let store = Store::new(local_client(&dynamodb), settings.table.clone());
    if store.ensure_table().await? {
        step(&format!("created table {}", settings.table));
    } else {
        step(&format!("table {} exists; keeping its data", settings.table));
    }

    let key_file = data_dir.join("jwt-key.json");
    let key = signing_key(&key_file)?;
    let cursor_secret = cursor_secret(&data_dir.join("cursor-secret"))?;
    let config = Config::new(settings.table.clone(), KeySource::Inline(KeyRing::single(key)), cursor_secret.clone());
    let app = App::new(config, store, Clock::system(), None);
    seed_admin(&app, &settings).await?;
    seed_catalog(&app).await?;

    let env_file = data_dir.join("functions.env");
    write_env_file(&env_file, &settings, &dynamodb, &key_file, &cursor_secret)?;
    step(&format!("starting the functions with cargo lambda watch on port {}", settings.port));
    let mut watch = Command::new("cargo")
        .args(["lambda", "watch", "--invoke-address", "127.0.0.1", "--invoke-port"])
        .arg(settings.port.to_string())
        .arg("--disable-cors")
        .arg("--env-file")
        .arg(&env_file)
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start cargo lambda watch (is cargo-lambda installed?): {e}"))?;

    let url = format!("http://127.0.0.1:{}", settings.port);
    let outcome = tokio::select! {
        ready = wait_until_listening(settings.port, &mut watch) => ready,
        _ = shutdown_signal() => Err("stopped before it was ready".into()),
    };
    if outcome.is_ok() {
        println!(
            "==> unpaid orders expire after {} minutes; to run the expiry now: \
             .venv/bin/cargo-lambda lambda invoke expire-orders --data-file events/expire-orders.json --invoke-address 127.0.0.1 --invoke-port {}",
            settings.payment_window_minutes, settings.port
        );
        println!(
            "storefront is ready at {url} (admin: {}; DynamoDB: {dynamodb}; Ctrl-C stops it)",
            settings.admin_email
        );
        tokio::select! {
            _ = shutdown_signal() => {}
            status = watch.wait() => eprintln!("cargo lambda watch exited ({status:?})"),
        }
    }
    step("stopping");
    stop(&mut watch).await;
    let _ = stop_db.send(());
    let _ = tokio::time::timeout(Duration::from_secs(5), db_server).await;
    outcome
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

/// Reads the local cursor-signing secret, or creates one.
fn cursor_secret(path: &Path) -> Result<String, Error> {
    if let Ok(existing) = std::fs::read_to_string(path)
        && existing.trim().len() >= 32
    {
        return Ok(existing.trim().to_owned());
    }
    let secret = storefront::auth::random_hex(32);
    write_private(path, &secret)?;
    Ok(secret)
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
            accounts::grant_admin(app, &email).await.map_err(|e| e.to_string())?;
            step(&format!("admin account {email} exists"));
        }
        Err(err) => return Err(err.to_string().into()),
    }
    Ok(())
}

/// Fills an empty catalog with the demo products, so there is something to browse.
async fn seed_catalog(app: &App) -> Result<(), Error> {
    if !app.store.catalog_is_empty().await? {
        step("catalog has products; not seeding the demo catalog");
        return Ok(());
    }
    let demo: Vec<serde_json::Value> = serde_json::from_str(include_str!("../demo-catalog.json"))?;
    for entry in &demo {
        let text = |field: &str| entry[field].as_str().unwrap_or_default().to_owned();
        let number = |field: &str| entry[field].as_i64().unwrap_or(-1);
        let product = NewProduct {
            sku: Sku::parse(&text("sku"))?,
            name: ProductName::parse(&text("name"))?,
            description: Description::parse(&text("description"))?,
            price_cents: parse_price(number("priceCents"))?,
            category: CategorySlug::parse(&text("category"))?,
            stock: Stock::parse(number("stock"))?,
            active: true,
        };
        catalog::create(app, product).await.map_err(|e| format!("seeding {}: {e}", text("sku")))?;
    }
    step(&format!("seeded the demo catalog ({} products)", demo.len()));
    Ok(())
}

fn write_env_file(
    path: &Path,
    settings: &Settings,
    dynamodb: &str,
    key_file: &Path,
    cursor_secret: &str,
) -> Result<(), Error> {
    let contents = format!(
        "TABLE_NAME={}\nJWT_KEY_FILE={}\nCURSOR_SECRET={cursor_secret}\nSTORE_CURRENCY=USD\n\
         AWS_ENDPOINT_URL_DYNAMODB={dynamodb}\nAWS_ACCESS_KEY_ID=local\nAWS_SECRET_ACCESS_KEY=local\n\
         AWS_REGION=us-east-1\nLOG_LEVEL={}\nPAYMENT_WEBHOOK_SECRET={}\nPAYMENT_WINDOW_MINUTES={}\n",
        settings.table,
        key_file.display(),
        settings.log_level,
        settings.webhook_secret,
        settings.payment_window_minutes,
    );
    // Pricing configuration set in the shell reaches the functions too.
    let mut contents = contents;
    for name in [
        "SHIPPING_STANDARD_CENTS",
        "SHIPPING_EXPRESS_CENTS",
        "FREE_SHIPPING_FROM_CENTS",
        "TAX_RATES_BPS",
        "STORE_CURRENCY",
    ] {
        if let Ok(value) = std::env::var(name) {
            contents =
                contents.lines().filter(|l| !l.starts_with(&format!("{name}="))).collect::<Vec<_>>().join("\n") + "\n";
            contents.push_str(&format!("{name}={value}\n"));
        }
    }
    write_private(path, &contents)
}

async fn wait_until_listening(port: u16, watch: &mut Child) -> Result<(), Error> {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return Ok(());
        }
        if let Some(status) = watch.try_wait()? {
            return Err(format!("cargo lambda watch exited before it was ready ({status})").into());
        }
        if Instant::now() > deadline {
            return Err("cargo lambda watch did not start listening within 5 minutes".into());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
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

/// Stops cargo lambda watch and the function processes it started (its whole process group).
async fn stop(watch: &mut Child) {
    if let Some(pid) = watch.id() {
        let group = format!("-{pid}");
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status().await;
        if tokio::time::timeout(Duration::from_secs(5), watch.wait()).await.is_err() {
            let _ = Command::new("kill").args(["-KILL", "--", &group]).status().await;
        }
    }
    let _ = watch.wait().await;
}
