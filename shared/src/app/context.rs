use super::AppError;
use crate::auth::{KeyRing, Principal, SigningKey, TokenError, Tokens};
use crate::clock::Clock;
use crate::config::{Config, KeySource};
use crate::store::Store;
use aws_config::SdkConfig;
use std::sync::Arc;
use tokio::sync::OnceCell;

/// Everything an operation needs, built once per process (per cold start) and shared by
/// every request the process serves.
pub struct App {
    pub config: Config,
    pub store: Store,
    pub clock: Clock,
    /// Where metric lines go (stdout in Lambda), read from the environment once.
    pub metrics: crate::metrics::Metrics,
    sdk: Option<SdkConfig>,
    /// Loaded on first use, so functions that never touch tokens never pay for the keys; read
    /// again every few minutes, and sooner for a token signed with a key it does not hold.
    keys: KeyCache,
    webhook_secret: OnceCell<String>,
    /// Built on first use (reading the secret key): only the functions that take payments or
    /// make refunds with Stripe reach it.
    stripe: OnceCell<crate::store::stripe::Stripe>,
    stripe_webhook_secret: OnceCell<String>,
    /// Built on first use: only the image routes reach the bucket.
    objects: std::sync::OnceLock<crate::store::Objects>,
    /// Built on first use: only `publish-events` puts events on the bus.
    bus: std::sync::OnceLock<crate::store::bus::EventBus>,
    /// Guests' cart and order tokens' key, derived once.
    guest_tokens: std::sync::OnceLock<crate::auth::GuestTokens>,
    /// Built on first use: only `send-notifications` sends emails.
    mailer: std::sync::OnceLock<crate::store::mailer::Mailer>,
}

/// Amazon Trust Services' root CAs: every AWS endpoint chains to one of them.
const AWS_ROOTS: &[u8] = include_bytes!("../../certs/aws-roots.pem");

/// The HTTPS client for AWS calls. It trusts Amazon's root CAs only, instead of parsing the
/// whole OS certificate store at every cold start (measured: about 4 ms of a 9 ms cold start).
/// `STOREFRONT_TLS_NATIVE_ROOTS=1` trusts the OS store instead (e.g. behind a TLS-inspecting proxy).
pub fn http_client() -> Result<aws_sdk_dynamodb::config::SharedHttpClient, Box<dyn std::error::Error + Send + Sync>> {
    use aws_smithy_http_client::tls;
    let native = std::env::var("STOREFRONT_TLS_NATIVE_ROOTS").is_ok_and(|v| v == "1");
    let trust =
        if native { tls::TrustStore::default() } else { tls::TrustStore::empty().with_pem_certificate(AWS_ROOTS) };
    let context = tls::TlsContext::builder().with_trust_store(trust).build()?;
    Ok(aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::AwsLc))
        .tls_context(context)
        .build_https())
}

/// Timeouts of every AWS call, all well below the functions' Lambda timeout (10 s in
/// template.yaml): a connection gets 1 s, an attempt 2 s, and a whole operation with the SDK's
/// retries 4 s. A call that runs out of time is an unavailable service (503), not a hung function.
pub fn aws_timeouts() -> aws_sdk_dynamodb::config::timeout::TimeoutConfig {
    use std::time::Duration;
    aws_sdk_dynamodb::config::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(1))
        .operation_attempt_timeout(Duration::from_secs(2))
        .operation_timeout(Duration::from_secs(4))
        .build()
}

impl App {
    pub fn new(config: Config, store: Store, clock: Clock, sdk: Option<SdkConfig>) -> Self {
        Self {
            config,
            store,
            clock,
            metrics: crate::metrics::Metrics::from_env(),
            sdk,
            keys: KeyCache::default(),
            webhook_secret: OnceCell::new(),
            stripe: OnceCell::new(),
            stripe_webhook_secret: OnceCell::new(),
            objects: std::sync::OnceLock::new(),
            bus: std::sync::OnceLock::new(),
            mailer: std::sync::OnceLock::new(),
            guest_tokens: std::sync::OnceLock::new(),
        }
    }

    /// Guests' cart and order tokens.
    pub fn guest_tokens(&self) -> &crate::auth::GuestTokens {
        self.guest_tokens.get_or_init(|| crate::auth::GuestTokens::new(&self.config.cursor_secret))
    }

    /// Where emails go: `.eml` files in `EMAIL_DIR` when it is set (locally), SES otherwise.
    pub fn mailer(&self) -> Result<&crate::store::mailer::Mailer, AppError> {
        use crate::store::mailer::Mailer;
        if let Some(mailer) = self.mailer.get() {
            return Ok(mailer);
        }
        let mailer = match &self.config.emails.directory {
            Some(dir) => Mailer::Files(dir.clone()),
            None => {
                let sdk = self.sdk.as_ref().ok_or_else(|| AppError::Internal("no AWS configuration".into()))?;
                Mailer::Ses(aws_sdk_sesv2::Client::new(sdk))
            }
        };
        Ok(self.mailer.get_or_init(|| mailer))
    }

    /// The same app with its metric lines going to `metrics` (tests).
    pub fn with_metrics(self, metrics: crate::metrics::Metrics) -> Self {
        Self { metrics, ..self }
    }

    /// The same app with its event bus reached through `bus` (tests, tools).
    pub fn with_bus(self, bus: crate::store::bus::EventBus) -> Self {
        let _ = self.bus.set(bus);
        self
    }

    /// The event bus.
    pub fn bus(&self) -> Result<&crate::store::bus::EventBus, AppError> {
        if let Some(bus) = self.bus.get() {
            return Ok(bus);
        }
        let name =
            self.config.event_bus.as_ref().ok_or_else(|| AppError::Internal("EVENT_BUS_NAME is not set".into()))?;
        let sdk = self.sdk.as_ref().ok_or_else(|| AppError::Internal("no AWS configuration".into()))?;
        let client = aws_sdk_eventbridge::Client::new(sdk);
        Ok(self.bus.get_or_init(|| crate::store::bus::EventBus::new(client, name.clone())))
    }

    /// The same app with its image bucket reached through `objects` (tests, tools).
    pub fn with_objects(self, objects: crate::store::Objects) -> Self {
        let _ = self.objects.set(objects);
        self
    }

    /// The image bucket.
    pub fn objects(&self) -> Result<&crate::store::Objects, AppError> {
        if let Some(objects) = self.objects.get() {
            return Ok(objects);
        }
        let bucket =
            self.config.images.bucket.as_ref().ok_or_else(|| AppError::Internal("IMAGES_BUCKET is not set".into()))?;
        let sdk = self.sdk.as_ref().ok_or_else(|| AppError::Internal("no AWS configuration".into()))?;
        let config = aws_sdk_s3::config::Builder::from(sdk).force_path_style(self.config.images.path_style).build();
        Ok(self
            .objects
            .get_or_init(|| crate::store::Objects::new(aws_sdk_s3::Client::from_conf(config), bucket.clone())))
    }

    /// Reads configuration and AWS settings from the environment. Makes no network call:
    /// credentials and region come from the Lambda environment.
    pub async fn from_env() -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let config = Config::from_env()?;
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .http_client(http_client()?)
            .timeout_config(aws_timeouts())
            .load()
            .await;
        let store = Store::new(aws_sdk_dynamodb::Client::new(&sdk), config.table_name.clone());
        Ok(Self::new(config, store, Clock::system(), Some(sdk)))
    }

    /// The signing keys as last read: read on first use, and again once they are
    /// [`KEYS_MAX_AGE_SECONDS`] old, so a rotation (or a key removed from the secret) reaches
    /// every warm function within minutes, without a cold start.
    pub async fn tokens(&self) -> Result<Arc<Tokens>, AppError> {
        let now = self.clock.now();
        match self.keys.loaded() {
            Some(loaded) if loaded.age(now) < KEYS_MAX_AGE_SECONDS => Ok(loaded.tokens),
            _ => self.reload_keys(None).await,
        }
    }

    /// The caller a bearer token proves. A token signed with a key id the ring does not hold
    /// makes the keys be read again first (at most once a minute): it may be from a function
    /// that saw a rotation before this one.
    pub async fn verify_token(&self, token: &str) -> Result<Principal, AppError> {
        let tokens = self.tokens().await?;
        match tokens.verify(token) {
            Err(TokenError::UnknownKey) => {
                let fresh = self.reload_keys(Some(KEYS_MIN_AGE_SECONDS)).await?;
                fresh.verify(token).map_err(|_| AppError::Unauthenticated)
            }
            other => other.map_err(|_| AppError::Unauthenticated),
        }
    }

    /// Reads the keys again, unless they are younger than `min_age` (default: the regular
    /// [`KEYS_MAX_AGE_SECONDS`]) or a read was tried less than [`KEYS_MIN_AGE_SECONDS`] ago: so the
    /// secret is read at most once a minute, whatever tokens arrive and whether it answers. If the
    /// keys cannot be read, the ones held keep working: an unreachable secret must not sign every
    /// user out.
    async fn reload_keys(&self, min_age: Option<i64>) -> Result<Arc<Tokens>, AppError> {
        let _one_at_a_time = self.keys.loading.lock().await;
        let now = self.clock.now();
        let held = self.keys.loaded();
        if let Some(loaded) = &held {
            let young = loaded.age(now) < min_age.unwrap_or(KEYS_MAX_AGE_SECONDS);
            let tried_lately = self.keys.tried_within(now, KEYS_MIN_AGE_SECONDS);
            if young || tried_lately {
                return Ok(loaded.tokens.clone());
            }
        }
        self.keys.tried(now);
        match self.load_keys().await {
            Ok(ring) => {
                let tokens = Arc::new(Tokens::new(ring, &self.config.jwt_issuer, &self.config.jwt_audience));
                self.keys.store(Loaded { tokens: tokens.clone(), at: now });
                Ok(tokens)
            }
            Err(err) => match held {
                Some(loaded) => {
                    tracing::warn!(error = %err, "reading the signing keys failed; keeping the ones held");
                    Ok(loaded.tokens)
                }
                None => Err(err),
            },
        }
    }

    /// The payment webhook secret, read once per process on first use.
    pub async fn webhook_secret(&self) -> Result<&str, AppError> {
        let source = self.config.webhook_secret.as_ref();
        Ok(self.webhook_secret.get_or_try_init(|| self.secret(source, "the payment webhook secret")).await?.as_str())
    }

    /// Stripe's webhook signing secret (read once per process).
    pub async fn stripe_webhook_secret(&self) -> Result<&str, AppError> {
        let source = self.config.stripe.webhook_secret.as_ref();
        Ok(self
            .stripe_webhook_secret
            .get_or_try_init(|| self.secret(source, "the Stripe webhook secret"))
            .await?
            .as_str())
    }

    /// Stripe's API, with the secret key (read once per process).
    pub async fn stripe(&self) -> Result<&crate::store::stripe::Stripe, AppError> {
        self.stripe
            .get_or_try_init(|| async {
                let key = self.secret(self.config.stripe.secret_key.as_ref(), "the Stripe secret key").await?;
                Ok::<_, AppError>(crate::store::stripe::Stripe::new(key, self.config.stripe.api_base.clone())?)
            })
            .await
    }

    /// A secret's value from where the configuration says it is (a Secrets Manager secret's
    /// string, or the value itself).
    async fn secret(&self, source: Option<&crate::config::SecretSource>, what: &str) -> Result<String, AppError> {
        match source {
            None => Err(AppError::Internal(format!("{what} is not configured"))),
            Some(crate::config::SecretSource::Value(value)) => Ok(value.clone()),
            Some(crate::config::SecretSource::SecretsManager(arn)) => {
                let sdk = self.sdk.as_ref().ok_or_else(|| AppError::Internal("no AWS configuration".into()))?;
                let out =
                    aws_sdk_secretsmanager::Client::new(sdk).get_secret_value().secret_id(arn).send().await.map_err(
                        |e| {
                            AppError::Unavailable(format!(
                                "reading {what}: {}",
                                aws_sdk_secretsmanager::error::DisplayErrorContext(e)
                            ))
                        },
                    )?;
                out.secret_string().map(str::to_owned).ok_or_else(|| AppError::Internal(format!("{what} is empty")))
            }
        }
    }

    async fn load_keys(&self) -> Result<KeyRing, AppError> {
        match &self.config.key_source {
            KeySource::Inline(keys) => Ok(keys.clone()),
            KeySource::File(path) => {
                let raw = std::fs::read_to_string(path)
                    .map_err(|e| AppError::Internal(format!("reading JWT key file {}: {e}", path.display())))?;
                Ok(SigningKey::ring_from_json(&raw)?)
            }
            KeySource::SecretsManager(arn) => {
                let sdk = self.sdk.as_ref().ok_or_else(|| AppError::Internal("no AWS configuration".into()))?;
                let client = aws_sdk_secretsmanager::Client::new(sdk);
                let fetch = |stage: &'static str| client.get_secret_value().secret_id(arn).version_stage(stage).send();
                // The previous version still verifies tokens issued before a rotation.
                let (current, previous) = tokio::join!(fetch("AWSCURRENT"), fetch("AWSPREVIOUS"));
                let current = current.map_err(|e| {
                    AppError::Internal(format!(
                        "reading JWT secret: {}",
                        aws_sdk_secretsmanager::error::DisplayErrorContext(e)
                    ))
                })?;
                let mut ring = SigningKey::ring_from_json(current.secret_string().unwrap_or_default())?;
                if let Ok(prev) = previous
                    && let Ok(key) = SigningKey::from_json(prev.secret_string().unwrap_or_default())
                    && !ring.kids().contains(&key.kid.as_str())
                {
                    ring.previous.push(key);
                }
                Ok(ring)
            }
        }
    }
}

/// Keys are read again once they are this old (seconds)…
pub const KEYS_MAX_AGE_SECONDS: i64 = 5 * 60;
/// …or, for a token with an unknown key id, once they are this old.
pub const KEYS_MIN_AGE_SECONDS: i64 = 60;

#[derive(Default)]
struct KeyCache {
    loaded: std::sync::RwLock<Option<Loaded>>,
    loading: tokio::sync::Mutex<()>,
    /// When the keys were last asked for (epoch ms; 0: never), read or not.
    tried: std::sync::atomic::AtomicI64,
}

#[derive(Clone)]
struct Loaded {
    tokens: Arc<Tokens>,
    at: crate::domain::Timestamp,
}

impl Loaded {
    fn age(&self, now: crate::domain::Timestamp) -> i64 {
        now.unix_seconds() - self.at.unix_seconds()
    }
}

impl KeyCache {
    fn loaded(&self) -> Option<Loaded> {
        self.loaded.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn store(&self, loaded: Loaded) {
        *self.loaded.write().unwrap_or_else(|e| e.into_inner()) = Some(loaded);
    }

    fn tried(&self, now: crate::domain::Timestamp) {
        self.tried.store(now.unix_millis(), std::sync::atomic::Ordering::Relaxed);
    }

    fn tried_within(&self, now: crate::domain::Timestamp, seconds: i64) -> bool {
        let last = self.tried.load(std::sync::atomic::Ordering::Relaxed);
        last != 0 && now.unix_millis() - last < seconds * 1000
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_bundled_roots_are_amazons_five_certificates() {
        let text = String::from_utf8_lossy(super::AWS_ROOTS);
        assert_eq!(text.matches("-----BEGIN CERTIFICATE-----").count(), 5);
        for name in
            ["Amazon_Root_CA_1", "Amazon_Root_CA_2", "Amazon_Root_CA_3", "Amazon_Root_CA_4", "Starfield_Services"]
        {
            assert!(text.contains(name), "{name}");
        }
    }

    /// The TLS configuration (where the PEMs are parsed) is built at the first HTTPS call: make
    /// one, to a closed port, and expect a clean connection error rather than a panic.
    #[tokio::test]
    async fn an_https_call_with_them_fails_cleanly_when_nothing_listens() {
        use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .http_client(super::http_client().expect("an HTTPS client"))
            .endpoint_url("https://127.0.0.1:1")
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("a", "b", None, None, "test"))
            .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
            .build();
        let client = aws_sdk_dynamodb::Client::from_conf(config);
        assert!(client.list_tables().send().await.is_err());
    }
}
