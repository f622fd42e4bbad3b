//! Webhook endpoints of the shop's other systems: where events are delivered, which ones, and
//! the rules a delivery follows (which addresses may be called, when a failed one is tried
//! again, when an endpoint that keeps failing is switched off).

use super::{EventType, Invalid, Timestamp};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::net::IpAddr;

/// The longest endpoint URL accepted.
pub const MAX_URL_CHARS: usize = 2048;
/// The most event types one endpoint names.
pub const MAX_EVENT_TYPES: usize = 20;

const PREFIX: &str = "whsec_";

/// The key an endpoint's deliveries are signed with (`auth::outgoing` makes and signs with
/// them). Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct WebhookSecret(String);

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

impl WebhookSecret {
    /// A secret as stored: `whsec_` and the base64 of 24 to 64 bytes.
    pub fn parse(raw: &str) -> Option<Self> {
        let key = raw.strip_prefix(PREFIX)?;
        let bytes = B64.decode(key).ok()?;
        (24..=64).contains(&bytes.len()).then(|| Self(raw.to_owned()))
    }

    /// The secret itself, for the one answer that shows it (registration, rotation).
    pub fn reveal(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for WebhookSecret {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value).ok_or_else(|| "not a webhook secret".to_owned())
    }
}

impl From<WebhookSecret> for String {
    fn from(value: WebhookSecret) -> Self {
        value.0
    }
}

/// How long a receiver has to answer: a 2xx within it is a success.
pub const DELIVERY_TIMEOUT_SECONDS: u64 = 10;

/// Whether an address may never be called: loopback, private, link-local (the instance
/// metadata service among them), shared (carrier-grade NAT), unspecified, broadcast,
/// multicast or reserved, in IPv4 or IPv6 (an IPv4-mapped IPv6 address is judged as IPv4).
pub fn forbidden_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && v4.octets()[2] == 0)
                || (a == 198 && (b == 18 || b == 19)) // benchmarking
                || a >= 240
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden_address(IpAddr::V4(v4));
            }
            let [first, second, ..] = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || v6.segments()[..6] == [0; 6] // IPv4-compatible (deprecated): an IPv4 address in disguise
                || (first & 0xfe00) == 0xfc00 // unique local, AWS's fd00:ec2::254 metadata among them
                || (first & 0xffc0) == 0xfe80 // link-local
                || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
                || first == 0x2001 && second == 0x0db8 // documentation
                || first == 0x2001 && second == 0 // Teredo: tunnels to any IPv4 address
                || first == 0x2002 // 6to4: likewise
                || first == 0x0064 && second == 0xff9b // NAT64 (64:ff9b::/96, 64:ff9b:1::/48) to anything
                || first == 0x0100 && v6.segments()[1..4] == [0; 3] // discard-only
        }
    }
}

/// Whether a loopback address may be called: only when the deployment allows plain HTTP to
/// `127.0.0.1` (the local stack).
fn loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
    }
}

/// What a deployment lets webhook URLs be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UrlPolicy {
    /// `http://127.0.0.1:<port>/…` (and loopback addresses) allowed: the local stack only.
    pub allow_loopback_http: bool,
}

impl UrlPolicy {
    /// Whether `ip`, an address the URL's host resolved to, may be called.
    pub fn admits(&self, ip: IpAddr) -> bool {
        !forbidden_address(ip) || (self.allow_loopback_http && loopback(ip))
    }
}

/// An endpoint's URL: absolute, `https` (or, where allowed, `http` to a loopback address), no
/// credentials, no fragment, a host that is a name or an address that may be called. A name
/// is resolved and checked again before every delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct WebhookUrl(String);

impl WebhookUrl {
    pub fn parse(raw: &str, policy: UrlPolicy) -> Result<Self, Invalid> {
        let refused = |why: &str| Invalid::new(why.to_owned());
        if raw.chars().count() > MAX_URL_CHARS {
            return Err(refused("must be at most 2048 characters"));
        }
        let url = url::Url::parse(raw)
            .map_err(|_| refused("must be an absolute URL, such as https://erp.example.com/hooks"))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(refused("must not carry credentials; the signature authenticates deliveries"));
        }
        if url.fragment().is_some() {
            return Err(refused("must not have a fragment"));
        }
        let ip = match url.host() {
            Some(url::Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
            Some(url::Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
            Some(url::Host::Domain(name)) if name.eq_ignore_ascii_case("localhost") || name.ends_with(".localhost") => {
                Some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST))
            }
            Some(url::Host::Domain(_)) => None,
            None => return Err(refused("must name a host")),
        };
        let to_loopback = ip.is_some_and(loopback);
        match url.scheme() {
            "https" => {}
            "http" if policy.allow_loopback_http && to_loopback => {}
            "http" => return Err(refused("must be https")),
            _ => return Err(refused("must be an https URL")),
        }
        if let Some(ip) = ip
            && !policy.admits(ip)
        {
            return Err(refused("must not point at a loopback, private, link-local or metadata address"));
        }
        Ok(Self(url.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The URL without its query, as events and emails show it (a query may carry a token).
    pub fn without_query(&self) -> String {
        match url::Url::parse(&self.0) {
            Ok(mut url) => {
                url.set_query(None);
                url.to_string()
            }
            Err(_) => String::new(),
        }
    }

    /// The host name to resolve (`None` for an address) and the port to call.
    pub fn host_and_port(&self) -> Option<(String, u16)> {
        let url = url::Url::parse(&self.0).ok()?;
        let port = url.port_or_known_default()?;
        Some((url.host_str()?.trim_start_matches('[').trim_end_matches(']').to_owned(), port))
    }
}

impl TryFrom<String> for WebhookUrl {
    type Error = Invalid;
    /// A stored URL was checked when registered: read back under the most lenient policy (the
    /// addresses it resolves to are checked again at every delivery, by the deployment's own).
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value, UrlPolicy { allow_loopback_http: true })
    }
}

impl From<WebhookUrl> for String {
    fn from(value: WebhookUrl) -> Self {
        value.0
    }
}

/// The events an endpoint is sent: all (`["*"]`) or the types named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventSelection {
    All,
    Only(BTreeSet<EventType>),
}

impl EventSelection {
    /// `["*"]`, or 1 to [`MAX_EVENT_TYPES`] distinct documented types.
    pub fn parse(names: &[String]) -> Result<Self, Invalid> {
        if names.len() == 1 && names[0] == "*" {
            return Ok(Self::All);
        }
        if names.is_empty() || names.len() > MAX_EVENT_TYPES {
            return Err(Invalid::new(format!("must be [\"*\"] or 1 to {MAX_EVENT_TYPES} event types")));
        }
        let mut types = BTreeSet::new();
        for name in names {
            let kind = EventType::parse(name).ok_or_else(|| {
                Invalid::new(format!("{name} is not an event type (asyncapi.yaml lists them; \"*\" is every one)"))
            })?;
            if !types.insert(kind) {
                return Err(Invalid::new(format!("{name} is named twice")));
            }
        }
        Ok(Self::Only(types))
    }

    pub fn includes(&self, kind: &str) -> bool {
        match self {
            Self::All => true,
            Self::Only(types) => types.iter().any(|t| t.as_str() == kind),
        }
    }

    /// As the API shows it.
    pub fn names(&self) -> Vec<String> {
        match self {
            Self::All => vec!["*".to_owned()],
            Self::Only(types) => types.iter().map(|t| t.as_str().to_owned()).collect(),
        }
    }
}

/// When failed deliveries are tried again: exponential backoff with jitter, the first retry
/// `base_seconds` after the first attempt, each wait twice the last (at most `cap_seconds`),
/// for `window_seconds` after the first attempt; then the delivery has failed. The defaults
/// retry for 24 hours: 30 s, 1 min, 2 min, … up to 4 h between attempts, 14 attempts in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetrySchedule {
    pub base_seconds: i64,
    pub cap_seconds: i64,
    pub window_seconds: i64,
}

impl Default for RetrySchedule {
    fn default() -> Self {
        Self { base_seconds: 30, cap_seconds: 4 * 3600, window_seconds: 24 * 3600 }
    }
}

impl RetrySchedule {
    /// When to try again after `attempts` attempts, the first made at `first`, the last at
    /// `last`; `None` when the window is over. `jitter` in [0, 1) spreads the wait over
    /// 80–120 % of its length, so that many failing deliveries do not retry in step.
    pub fn next(&self, first: Timestamp, last: Timestamp, attempts: u32, jitter: f64) -> Option<Timestamp> {
        let exponent = attempts.saturating_sub(1).min(30);
        let wait = self.base_seconds.saturating_mul(1i64 << exponent).min(self.cap_seconds).max(1);
        let spread = (wait as f64 * (0.8 + 0.4 * jitter.clamp(0.0, 1.0))).round() as i64;
        let at = last.plus_seconds(spread.max(1));
        (at.unix_seconds() - first.unix_seconds() <= self.window_seconds).then_some(at)
    }
}

/// Where a delivery is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Not yet answered with a 2xx, and to be tried again.
    Pending,
    Succeeded,
    /// Not answered with a 2xx within the retry window (or its endpoint was disabled).
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Pending, Self::Succeeded, Self::Failed].into_iter().find(|s| s.as_str() == raw)
    }
}

/// How long every delivery to an endpoint may have failed before it is disabled.
pub const DISABLE_AFTER_SECONDS: i64 = 24 * 3600;

/// How long a secret replaced by a rotation still signs deliveries.
pub const OLD_SECRET_SECONDS: i64 = 24 * 3600;

/// An endpoint of the shop's other systems, as stored. Its secrets never leave but in the
/// answer that makes one (registration, rotation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEndpoint {
    pub id: super::WebhookId,
    pub url: WebhookUrl,
    /// `["*"]` or event types (parsed again when read: see [`WebhookEndpoint::selection`]).
    pub events: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<super::Text>,
    pub enabled: bool,
    pub secret: WebhookSecret,
    /// The secret a rotation replaced, and until when it still signs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_secret: Option<(WebhookSecret, Timestamp)>,
    /// The admin who registered it: told when it is disabled.
    pub created_by: super::UserId,
    /// Since when every delivery has failed (none has succeeded since); absent when the last one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<Timestamp>,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl WebhookEndpoint {
    pub fn selection(&self) -> EventSelection {
        EventSelection::parse(&self.events).unwrap_or(EventSelection::Only(BTreeSet::new()))
    }

    /// The secrets that sign a delivery at `now`: the current one, and the one it replaced for
    /// a day after the rotation.
    pub fn signing_secrets(&self, now: Timestamp) -> Vec<&WebhookSecret> {
        let mut secrets = vec![&self.secret];
        if let Some((old, until)) = &self.previous_secret
            && now < *until
        {
            secrets.push(old);
        }
        secrets
    }

    /// Whether it should be switched off at `now`: every delivery has failed for a day.
    /// Since when every delivery has failed, after an attempt at `at` that `succeeded` or not:
    /// a success ends the streak; a failure starts one, or continues the one under way.
    pub fn failing_after(&self, succeeded: bool, at: Timestamp) -> Option<Timestamp> {
        if succeeded { None } else { Some(self.failing_since.unwrap_or(at)) }
    }

    pub fn failing_too_long(&self, now: Timestamp) -> bool {
        self.enabled
            && self
                .failing_since
                .is_some_and(|since| now.unix_seconds() - since.unix_seconds() >= DISABLE_AFTER_SECONDS)
    }
}

/// One event's delivery to one endpoint, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookDelivery {
    pub webhook_id: super::WebhookId,
    pub event_id: super::EventId,
    pub event_type: String,
    pub status: DeliveryStatus,
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_attempt_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempt_at: Option<Timestamp>,
    /// The HTTP status the receiver last answered, if it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_response_status: Option<u16>,
    /// Why the last attempt failed without an answer (timeout, refused address, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptResult {
    /// The receiver answered with this status (a 2xx is a success).
    Answered(u16),
    /// No answer: why (timeout, connection refused, an address that may not be called).
    NoAnswer(String),
}

impl AttemptResult {
    pub fn succeeded(&self) -> bool {
        matches!(self, Self::Answered(status) if (200..300).contains(status))
    }
}

impl WebhookDelivery {
    /// A delivery about to be attempted for the first time, at `now`.
    pub fn new(webhook: super::WebhookId, event: super::EventId, kind: &str, now: Timestamp) -> Self {
        Self {
            webhook_id: webhook,
            event_id: event,
            event_type: kind.to_owned(),
            status: DeliveryStatus::Pending,
            attempts: 0,
            first_attempt_at: None,
            last_attempt_at: None,
            last_response_status: None,
            last_error: None,
            next_attempt_at: Some(now),
            created_at: now,
        }
    }

    /// The delivery after an attempt made at `at` came to `result`: succeeded, or pending until
    /// the next attempt of `schedule`, or failed when the window is over.
    pub fn after_attempt(
        &self,
        result: &AttemptResult,
        at: Timestamp,
        schedule: &RetrySchedule,
        jitter: f64,
    ) -> WebhookDelivery {
        let mut next = self.clone();
        next.attempts = self.attempts + 1;
        next.first_attempt_at = Some(self.first_attempt_at.unwrap_or(at));
        next.last_attempt_at = Some(at);
        (next.last_response_status, next.last_error) = match result {
            AttemptResult::Answered(status) => (Some(*status), None),
            AttemptResult::NoAnswer(why) => (None, Some(why.clone())),
        };
        if result.succeeded() {
            next.status = DeliveryStatus::Succeeded;
            next.next_attempt_at = None;
        } else {
            let first = next.first_attempt_at.unwrap_or(at);
            next.next_attempt_at = schedule.next(first, at, next.attempts, jitter);
            next.status = if next.next_attempt_at.is_some() { DeliveryStatus::Pending } else { DeliveryStatus::Failed };
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn strict() -> UrlPolicy {
        UrlPolicy::default()
    }

    #[test]
    fn urls_must_be_https_to_a_public_host() {
        assert!(WebhookUrl::parse("https://erp.example.com/hooks?x=1", strict()).is_ok());
        assert!(WebhookUrl::parse("https://203.0.113.9/h", strict()).is_err(), "documentation range");
        for bad in [
            "http://erp.example.com/hooks",
            "ftp://erp.example.com/",
            "https://user:pw@erp.example.com/",
            "https://erp.example.com/#frag",
            "https://127.0.0.1/h",
            "https://localhost:8443/h",
            "https://10.1.2.3/h",
            "https://172.20.0.1/h",
            "https://192.168.1.1/h",
            "https://169.254.169.254/latest/meta-data/",
            "https://100.64.0.1/h",
            "https://0.0.0.0/h",
            "https://[::1]/h",
            "https://[fd00:ec2::254]/h",
            "https://[fe80::1]/h",
            "https://[::ffff:127.0.0.1]/h",
            "https://[::10.0.0.1]/h",
            "https://[2002:a9fe:a9fe::1]/h",
            "https://[2001:0:4136:e378::1]/h",
            "https://[64:ff9b:1::a9fe:a9fe]/h",
            "https://[fec0::1]/h",
            "https://198.18.0.1/h",
            "not a url",
        ] {
            assert!(WebhookUrl::parse(bad, strict()).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_streak_starts_at_the_first_failure_after_a_success_and_a_success_ends_it() {
        let at = |h: i64| Timestamp::parse("2026-12-03T00:00:00Z").unwrap().plus_seconds(h * 3600);
        let url = WebhookUrl::parse("https://erp.example.com/h?key=secret", strict()).unwrap();
        assert_eq!(url.without_query(), "https://erp.example.com/h");
        let mut endpoint = WebhookEndpoint {
            id: crate::domain::WebhookId::new(),
            url,
            events: vec!["*".into()],
            description: None,
            enabled: true,
            secret: WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap(),
            previous_secret: None,
            created_by: crate::domain::UserId::new(),
            failing_since: None,
            version: 1,
            created_at: at(0),
            updated_at: at(0),
        };
        assert_eq!(endpoint.failing_after(false, at(5)), Some(at(5)), "a failure starts a streak now");
        endpoint.failing_since = Some(at(5));
        assert_eq!(endpoint.failing_after(false, at(9)), Some(at(5)), "and continues it");
        assert_eq!(endpoint.failing_after(true, at(9)), None, "a success ends it");
        assert!(!endpoint.failing_too_long(at(28)) && endpoint.failing_too_long(at(29)));
        endpoint.enabled = false;
        assert!(!endpoint.failing_too_long(at(30)), "a disabled endpoint is not disabled again");
    }

    #[test]
    fn loopback_http_is_allowed_only_where_the_deployment_says_so() {
        let local = UrlPolicy { allow_loopback_http: true };
        assert!(WebhookUrl::parse("http://127.0.0.1:8088/hook", local).is_ok());
        assert!(WebhookUrl::parse("http://127.0.0.1:8088/hook", strict()).is_err());
        assert!(WebhookUrl::parse("http://10.0.0.1/hook", local).is_err(), "private stays refused");
        assert!(WebhookUrl::parse("http://erp.example.com/hook", local).is_err(), "http only to loopback");
        assert!(local.admits("127.0.0.1".parse().unwrap()) && !strict().admits("127.0.0.1".parse().unwrap()));
        assert!(strict().admits("93.184.216.34".parse().unwrap()));
    }

    #[test]
    fn a_delivery_succeeds_on_a_2xx_and_otherwise_waits_for_its_next_attempt_or_fails() {
        let at = Timestamp::parse("2026-12-03T10:00:00Z").unwrap();
        let new =
            WebhookDelivery::new(crate::domain::WebhookId::new(), crate::domain::EventId::new(), "order.paid", at);
        let schedule = RetrySchedule::default();
        let failed = new.after_attempt(&AttemptResult::Answered(500), at, &schedule, 0.5);
        assert_eq!(
            (failed.status, failed.attempts, failed.last_response_status),
            (DeliveryStatus::Pending, 1, Some(500))
        );
        assert_eq!(failed.next_attempt_at, Some(at.plus_seconds(30)));
        let silent =
            failed.after_attempt(&AttemptResult::NoAnswer("timed out".into()), at.plus_seconds(30), &schedule, 0.5);
        assert_eq!((silent.last_response_status, silent.last_error.as_deref()), (None, Some("timed out")));
        let ok = silent.after_attempt(&AttemptResult::Answered(204), at.plus_seconds(90), &schedule, 0.5);
        assert_eq!((ok.status, ok.attempts, ok.next_attempt_at), (DeliveryStatus::Succeeded, 3, None));
        assert_eq!(ok.first_attempt_at, Some(at));
        let late = failed.after_attempt(&AttemptResult::Answered(503), at.plus_seconds(24 * 3600), &schedule, 0.5);
        assert_eq!(late.status, DeliveryStatus::Failed, "past the window");
        assert!(!AttemptResult::Answered(302).succeeded() && AttemptResult::Answered(299).succeeded());
    }

    #[test]
    fn event_selections_are_every_type_or_documented_ones() {
        assert_eq!(EventSelection::parse(&["*".into()]), Ok(EventSelection::All));
        let some = EventSelection::parse(&["order.paid".into(), "order.placed".into()]).unwrap();
        assert!(some.includes("order.paid") && !some.includes("order.cancelled"));
        assert_eq!(some.names(), ["order.placed", "order.paid"]);
        assert!(EventSelection::parse(&[]).is_err());
        assert!(EventSelection::parse(&["order.lost".into()]).is_err());
        assert!(EventSelection::parse(&["order.paid".into(), "order.paid".into()]).is_err());
        assert!(EventSelection::parse(&["*".into(), "order.paid".into()]).is_err());
    }

    proptest! {
        #[test]
        fn retries_back_off_exponentially_within_the_window_and_give_up_after_it(jitters in proptest::collection::vec(0.0f64..1.0, 40)) {
            let schedule = RetrySchedule::default();
            let first = Timestamp::parse("2026-12-03T10:00:00Z").unwrap();
            let mut last = first;
            let mut attempts = 1;
            let mut waits = Vec::new();
            while let Some(next) = schedule.next(first, last, attempts, jitters[attempts as usize % jitters.len()]) {
                waits.push(next.unix_seconds() - last.unix_seconds());
                prop_assert!(next.unix_seconds() - first.unix_seconds() <= schedule.window_seconds);
                last = next;
                attempts += 1;
            }
            prop_assert!(attempts >= 8, "at least 8 attempts in the window, got {}", attempts);
            prop_assert!(waits.iter().all(|w| *w <= schedule.cap_seconds * 6 / 5));
            prop_assert!(waits[0] >= 24 && waits[0] <= 36);
            prop_assert!(first.unix_seconds() + schedule.window_seconds - last.unix_seconds() <= schedule.cap_seconds * 6 / 5);
        }
    }
}
