//! Configuration, read from the environment once per process.

use std::path::PathBuf;

/// Where the JWT signing keys come from.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// A JSON file `{"kid": "...", "secret": "..."}` (the local stack writes one under `.local/`).
    File(PathBuf),
    /// A Secrets Manager secret holding the same JSON (the deployed stack generates it).
    SecretsManager(String),
    /// Keys given directly (tests).
    Inline(crate::auth::KeyRing),
}

#[derive(Debug, Clone)]
pub struct Config {
    pub table_name: String,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    pub key_source: KeySource,
    /// HMAC key that makes pagination cursors tamper-evident (at least 32 bytes).
    pub cursor_secret: String,
    /// The store's one currency (`STORE_CURRENCY`, default `USD`).
    pub currency: crate::domain::Currency,
    /// Shipping amounts and tax rates (`SHIPPING_STANDARD_CENTS`, `SHIPPING_EXPRESS_CENTS`,
    /// `FREE_SHIPPING_FROM_CENTS`, `TAX_RATES_BPS`); defaults in `domain::pricing`.
    pub pricing: crate::domain::PricingRules,
    /// The payment provider's webhook signing secret: `PAYMENT_WEBHOOK_SECRET` (local) or
    /// `PAYMENT_WEBHOOK_SECRET_ARN` (a Secrets Manager secret, read once per process on first use).
    pub webhook_secret: Option<SecretSource>,
    /// How long an order may await payment before expiry cancels it (`PAYMENT_WINDOW_MINUTES`, default 30).
    pub payment_window_minutes: i64,
    /// Stripe's keys and API (`PAYMENT_PROVIDER=stripe`).
    pub stripe: StripeSettings,
    /// How many days after delivery a customer may ask to return units (`RETURN_WINDOW_DAYS`, default 30).
    pub return_window_days: i64,
    /// Who takes payments (`PAYMENT_PROVIDER`: `manual`, the default, or `stripe`).
    pub payment_provider: crate::domain::ProviderName,
    /// How many orders one buyer may have awaiting payment at once (`MAX_UNPAID_ORDERS`, default 3).
    pub max_unpaid_orders: i64,
    pub images: ImageSettings,
    /// The event bus `publish-events` puts events on (`EVENT_BUS_NAME`); only it needs one.
    pub event_bus: Option<String>,
    pub emails: EmailSettings,
    pub webhooks: WebhookSettings,
}

/// Where Stripe's keys come from, and its API's address.
#[derive(Debug, Clone, Default)]
pub struct StripeSettings {
    /// The secret API key: `STRIPE_SECRET_KEY_ARN` (a Secrets Manager secret) or `STRIPE_SECRET_KEY`.
    pub secret_key: Option<SecretSource>,
    /// The webhook endpoint's signing secret: `STRIPE_WEBHOOK_SECRET_ARN` or `STRIPE_WEBHOOK_SECRET`.
    pub webhook_secret: Option<SecretSource>,
    /// `STRIPE_API_BASE`: another address for Stripe's API (a stand-in, in tests); default Stripe's.
    pub api_base: Option<String>,
}

/// How webhooks are delivered.
#[derive(Debug, Clone, Copy, Default)]
pub struct WebhookSettings {
    /// `WEBHOOK_ALLOW_LOOPBACK_HTTP=1`: endpoints may be `http://127.0.0.1:…` (the local stack).
    pub policy: crate::domain::UrlPolicy,
    /// `WEBHOOK_RETRY_BASE_SECONDS`, `WEBHOOK_RETRY_WINDOW_SECONDS` (tests shorten them).
    pub schedule: crate::domain::RetrySchedule,
}

/// What customer emails say and how they leave.
#[derive(Debug, Clone)]
pub struct EmailSettings {
    /// The store's name, in every email (`STORE_NAME`, default `storefront`).
    pub store_name: String,
    /// The address emails come from: SES's verified sender identity (`EMAIL_SENDER`).
    pub sender: String,
    /// Where customers write to (`SUPPORT_EMAIL`, default the sender): Reply-To and the text.
    pub support: String,
    /// `EMAIL_DIR`: write each email as an `.eml` file here instead of sending it (locally).
    pub directory: Option<PathBuf>,
}

impl Default for EmailSettings {
    fn default() -> Self {
        Self {
            store_name: "storefront".into(),
            sender: "orders@storefront.invalid".into(),
            support: "orders@storefront.invalid".into(),
            directory: None,
        }
    }
}

/// Where product images are kept and served from.
#[derive(Debug, Clone, Default)]
pub struct ImageSettings {
    /// The bucket uploads go to (`IMAGES_BUCKET`); only the image routes need it.
    pub bucket: Option<String>,
    /// What an image's object key is appended to in its URL (`IMAGE_BASE_URL`: the CDN's
    /// address; locally the bucket's). Empty: URLs are paths.
    pub base_url: String,
    /// Path-style bucket addressing, for an S3-compatible server named by `AWS_ENDPOINT_URL_S3`.
    pub path_style: bool,
}

impl ImageSettings {
    /// The URL an object key is served at.
    pub fn url(&self, key: &str) -> String {
        format!("{}/{key}", self.base_url.trim_end_matches('/'))
    }
}

/// Where a secret comes from.
#[derive(Debug, Clone)]
pub enum SecretSource {
    Value(String),
    SecretsManager(String),
}

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

impl Config {
    /// A configuration with the default issuer, audience and currency (tools and tests).
    pub fn new(table_name: impl Into<String>, key_source: KeySource, cursor_secret: impl Into<String>) -> Self {
        Self {
            table_name: table_name.into(),
            jwt_issuer: "storefront".into(),
            jwt_audience: "storefront-api".into(),
            key_source,
            cursor_secret: cursor_secret.into(),
            currency: crate::domain::Currency::usd(),
            pricing: crate::domain::PricingRules::default(),
            webhook_secret: None,
            payment_window_minutes: 30,
            max_unpaid_orders: 3,
            payment_provider: crate::domain::ProviderName::Manual,
            stripe: StripeSettings::default(),
            return_window_days: 30,
            images: ImageSettings::default(),
            event_bus: None,
            emails: EmailSettings::default(),
            webhooks: WebhookSettings::default(),
        }
    }

    /// Reads `TABLE_NAME`, `JWT_ISSUER`, `JWT_AUDIENCE`, one of `JWT_SECRET_ARN` / `JWT_KEY_FILE`,
    /// `CURSOR_SECRET`, `STORE_CURRENCY`, the pricing variables (`SHIPPING_STANDARD_CENTS`,
    /// `SHIPPING_EXPRESS_CENTS`, `FREE_SHIPPING_FROM_CENTS`, `TAX_RATES_BPS`), one of
    /// `PAYMENT_WEBHOOK_SECRET_ARN` / `PAYMENT_WEBHOOK_SECRET`, `PAYMENT_WINDOW_MINUTES`,
    /// `MAX_UNPAID_ORDERS`, and
    /// the image settings (`IMAGES_BUCKET`, `IMAGE_BASE_URL`, `AWS_ENDPOINT_URL_S3`), and
    /// `EVENT_BUS_NAME`, and the email settings (`STORE_NAME`, `EMAIL_SENDER`, `SUPPORT_EMAIL`,
    /// `EMAIL_DIR`).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let table_name = get("TABLE_NAME").ok_or_else(|| ConfigError("TABLE_NAME is not set".into()))?;
        let key_source = match (get("JWT_SECRET_ARN"), get("JWT_KEY_FILE")) {
            (Some(arn), _) => KeySource::SecretsManager(arn),
            (None, Some(path)) => KeySource::File(PathBuf::from(path)),
            (None, None) => return Err(ConfigError("set JWT_SECRET_ARN or JWT_KEY_FILE".into())),
        };
        let cursor_secret = get("CURSOR_SECRET").ok_or_else(|| ConfigError("CURSOR_SECRET is not set".into()))?;
        if cursor_secret.len() < 32 {
            return Err(ConfigError("CURSOR_SECRET must be at least 32 characters".into()));
        }
        let currency = crate::domain::Currency::parse(&get("STORE_CURRENCY").unwrap_or_else(|| "USD".into()))
            .map_err(|e| ConfigError(format!("STORE_CURRENCY {e}")))?;
        let mut pricing = crate::domain::PricingRules::default();
        let cents = |name: &str, default: crate::domain::Money| -> Result<crate::domain::Money, ConfigError> {
            match get(name) {
                None => Ok(default),
                Some(raw) => raw
                    .parse::<i64>()
                    .ok()
                    .filter(|c| *c >= 0)
                    .map(crate::domain::Money::from_cents)
                    .ok_or_else(|| ConfigError(format!("{name} must be a whole number of cents"))),
            }
        };
        pricing.standard_shipping = cents("SHIPPING_STANDARD_CENTS", pricing.standard_shipping)?;
        pricing.express_shipping = cents("SHIPPING_EXPRESS_CENTS", pricing.express_shipping)?;
        pricing.free_shipping_from = cents("FREE_SHIPPING_FROM_CENTS", pricing.free_shipping_from)?;
        if let Some(rates) = get("TAX_RATES_BPS") {
            pricing.tax_rates_bps = crate::domain::pricing::parse_tax_rates(&rates)
                .map_err(|e| ConfigError(format!("TAX_RATES_BPS: {e}")))?;
        }
        let webhook_secret = match (get("PAYMENT_WEBHOOK_SECRET_ARN"), get("PAYMENT_WEBHOOK_SECRET")) {
            (Some(arn), _) => Some(SecretSource::SecretsManager(arn)),
            (None, Some(value)) => Some(SecretSource::Value(value)),
            (None, None) => None,
        };
        // A whole number within bounds, or the default when unset.
        let whole = |name: &str, default: i64, range: std::ops::RangeInclusive<i64>| -> Result<i64, ConfigError> {
            match get(name) {
                None => Ok(default),
                Some(raw) => raw
                    .parse::<i64>()
                    .ok()
                    .filter(|v| range.contains(v))
                    .ok_or_else(|| ConfigError(format!("{name} must be {} to {}", range.start(), range.end()))),
            }
        };
        let payment_window_minutes = whole("PAYMENT_WINDOW_MINUTES", 30, 1..=10_080)?;
        let max_unpaid_orders = whole("MAX_UNPAID_ORDERS", 3, 1..=1000)?;
        let payment_provider = match get("PAYMENT_PROVIDER").as_deref() {
            None | Some("manual") => crate::domain::ProviderName::Manual,
            Some("stripe") => crate::domain::ProviderName::Stripe,
            Some(_) => return Err(ConfigError("PAYMENT_PROVIDER must be manual or stripe".into())),
        };
        let secret = |arn: &str, value: &str| match (get(arn), get(value)) {
            (Some(arn), _) => Some(SecretSource::SecretsManager(arn)),
            (None, Some(value)) => Some(SecretSource::Value(value)),
            (None, None) => None,
        };
        let stripe = StripeSettings {
            secret_key: secret("STRIPE_SECRET_KEY_ARN", "STRIPE_SECRET_KEY"),
            webhook_secret: secret("STRIPE_WEBHOOK_SECRET_ARN", "STRIPE_WEBHOOK_SECRET"),
            api_base: get("STRIPE_API_BASE"),
        };
        let return_window_days = whole("RETURN_WINDOW_DAYS", 30, 0..=365)?;
        let images = ImageSettings {
            bucket: get("IMAGES_BUCKET"),
            base_url: get("IMAGE_BASE_URL").unwrap_or_default(),
            path_style: get("AWS_ENDPOINT_URL_S3").is_some(),
        };
        let mut webhooks = WebhookSettings::default();
        webhooks.policy.allow_loopback_http = get("WEBHOOK_ALLOW_LOOPBACK_HTTP").is_some_and(|v| v == "1");
        let seconds = |name: &str, default: i64| -> Result<i64, ConfigError> {
            match get(name) {
                None => Ok(default),
                Some(raw) => raw
                    .parse::<i64>()
                    .ok()
                    .filter(|s| (1..=7 * 24 * 3600).contains(s))
                    .ok_or_else(|| ConfigError(format!("{name} must be 1 to 604800 seconds"))),
            }
        };
        webhooks.schedule.base_seconds = seconds("WEBHOOK_RETRY_BASE_SECONDS", webhooks.schedule.base_seconds)?;
        webhooks.schedule.window_seconds = seconds("WEBHOOK_RETRY_WINDOW_SECONDS", webhooks.schedule.window_seconds)?;
        Ok(Self {
            images,
            webhooks,
            event_bus: get("EVENT_BUS_NAME"),
            emails: {
                let defaults = EmailSettings::default();
                let sender = get("EMAIL_SENDER").unwrap_or(defaults.sender);
                EmailSettings {
                    store_name: get("STORE_NAME").unwrap_or(defaults.store_name),
                    support: get("SUPPORT_EMAIL").unwrap_or_else(|| sender.clone()),
                    sender,
                    directory: get("EMAIL_DIR").map(PathBuf::from),
                }
            },
            webhook_secret,
            payment_window_minutes,
            max_unpaid_orders,
            payment_provider,
            stripe,
            return_window_days,
            pricing,
            cursor_secret,
            currency,
            table_name,
            jwt_issuer: get("JWT_ISSUER").unwrap_or_else(|| "storefront".into()),
            jwt_audience: get("JWT_AUDIENCE").unwrap_or_else(|| "storefront-api".into()),
            key_source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        map.entry("CURSOR_SECRET".into()).or_insert_with(|| "c".repeat(32));
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn needs_a_table_and_a_key_source() {
        assert!(config(&[("JWT_KEY_FILE", "k.json")]).is_err());
        assert!(config(&[("TABLE_NAME", "t")]).is_err());
        let c = config(&[("TABLE_NAME", "t"), ("JWT_KEY_FILE", "k.json")]).unwrap();
        assert_eq!(c.jwt_issuer, "storefront");
        assert!(matches!(c.key_source, KeySource::File(_)));
        assert_eq!(c.currency.as_str(), "USD");
    }

    #[test]
    fn pricing_is_configurable() {
        let c = config(&[
            ("TABLE_NAME", "t"),
            ("JWT_KEY_FILE", "k"),
            ("SHIPPING_EXPRESS_CENTS", "999"),
            ("TAX_RATES_BPS", "BR=1700"),
        ])
        .unwrap();
        assert_eq!(c.pricing.express_shipping.cents(), 999);
        assert_eq!(c.pricing.tax_rates_bps.get("BR"), Some(&1700));
        assert!(!c.pricing.tax_rates_bps.contains_key("US"), "the table replaces the default");
        assert!(config(&[("TABLE_NAME", "t"), ("JWT_KEY_FILE", "k"), ("SHIPPING_STANDARD_CENTS", "-1")]).is_err());
    }

    #[test]
    fn refuses_a_short_cursor_secret_and_a_bad_currency() {
        assert!(config(&[("TABLE_NAME", "t"), ("JWT_KEY_FILE", "k"), ("CURSOR_SECRET", "short")]).is_err());
        assert!(config(&[("TABLE_NAME", "t"), ("JWT_KEY_FILE", "k"), ("STORE_CURRENCY", "usd")]).is_err());
    }

    #[test]
    fn limits_and_windows_are_whole_numbers_within_bounds() {
        let base = [("TABLE_NAME", "t"), ("JWT_KEY_FILE", "k")];
        let with = |name: &'static str, value: &'static str| {
            let mut vars = base.to_vec();
            vars.push((name, value));
            config(&vars)
        };
        let c = config(&base).unwrap();
        assert_eq!((c.payment_window_minutes, c.max_unpaid_orders, c.return_window_days), (30, 3, 30));
        assert_eq!(with("MAX_UNPAID_ORDERS", "5").unwrap().max_unpaid_orders, 5);
        assert_eq!(with("RETURN_WINDOW_DAYS", "0").unwrap().return_window_days, 0);
        for (name, bad) in [("MAX_UNPAID_ORDERS", "0"), ("RETURN_WINDOW_DAYS", "366"), ("PAYMENT_WINDOW_MINUTES", "x")]
        {
            let err = with(name, bad).unwrap_err().0;
            assert!(err.starts_with(name), "{err}");
        }
        assert!(with("PAYMENT_PROVIDER", "paypal").is_err());
        assert_eq!(with("PAYMENT_PROVIDER", "stripe").unwrap().payment_provider, crate::domain::ProviderName::Stripe);
    }

    #[test]
    fn a_secret_arn_wins_over_a_key_file() {
        let c = config(&[("TABLE_NAME", "t"), ("JWT_KEY_FILE", "k"), ("JWT_SECRET_ARN", "arn:x")]).unwrap();
        assert!(matches!(c.key_source, KeySource::SecretsManager(a) if a == "arn:x"));
    }
}
