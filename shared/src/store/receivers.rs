//! Calls to the receivers of webhook deliveries: one HTTP POST, over TLS, to the addresses the
//! URL's host resolves to now, each checked against the deployment's policy (so a name that
//! turns to a private or metadata address is refused, and the connection goes to the address
//! that was checked, not to a second lookup), no redirects, no proxy, 3 seconds to resolve and
//! 10 for the whole answer. Registration resolves the host too.

use crate::domain::{AttemptResult, DELIVERY_TIMEOUT_SECONDS, UrlPolicy, WebhookUrl};
use std::net::SocketAddr;
use std::time::Duration;

/// How long resolving a receiver's host may take.
const LOOKUP_SECONDS: u64 = 3;

/// What resolving a URL's host found.
enum Lookup {
    /// Every address it resolves to may be called.
    Allowed(String, Vec<SocketAddr>),
    /// It resolves to an address that may not be called.
    Refused(String),
    /// It does not resolve (now).
    Unresolved(String),
}

async fn lookup(url: &WebhookUrl, policy: UrlPolicy) -> Lookup {
    let Some((host, port)) = url.host_and_port() else { return Lookup::Unresolved("the URL names no host".into()) };
    let found =
        tokio::time::timeout(Duration::from_secs(LOOKUP_SECONDS), tokio::net::lookup_host((host.as_str(), port)));
    let addresses: Vec<SocketAddr> = match found.await {
        Ok(Ok(found)) => found.collect(),
        Ok(Err(_)) | Err(_) => return Lookup::Unresolved(format!("{host} does not resolve")),
    };
    if addresses.is_empty() {
        return Lookup::Unresolved(format!("{host} does not resolve"));
    }
    match addresses.iter().find(|a| !policy.admits(a.ip())) {
        Some(refused) => Lookup::Refused(format!("{host} resolves to {}, which may not be called", refused.ip())),
        None => Lookup::Allowed(host, addresses),
    }
}

/// Whether `url` may be registered: `Err` with the reason when its host resolves to an address
/// that may not be called. A name that does not resolve (yet) is accepted: each delivery
/// resolves and checks it again.
pub async fn check(url: &WebhookUrl, policy: UrlPolicy) -> Result<(), String> {
    match lookup(url, policy).await {
        Lookup::Refused(why) => Err(why),
        Lookup::Allowed(..) | Lookup::Unresolved(_) => Ok(()),
    }
}

/// Sends `body` to `url` with `headers`; what the receiver answered, or why it did not.
pub async fn post(url: &WebhookUrl, policy: UrlPolicy, headers: &[(&str, String)], body: String) -> AttemptResult {
    let (host, addresses) = match lookup(url, policy).await {
        Lookup::Allowed(host, addresses) => (host, addresses),
        Lookup::Refused(why) | Lookup::Unresolved(why) => return AttemptResult::NoAnswer(why),
    };
    let client = match reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(Duration::from_secs(DELIVERY_TIMEOUT_SECONDS))
        .connect_timeout(Duration::from_secs(5))
        .resolve_to_addrs(&host, &addresses)
        .user_agent("storefront-webhooks/1")
        .build()
    {
        Ok(client) => client,
        Err(_) => return AttemptResult::NoAnswer("no HTTP client".into()),
    };
    let mut request = client.post(url.as_str()).header("content-type", "application/json").body(body);
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    match request.send().await {
        Ok(answer) => AttemptResult::Answered(answer.status().as_u16()),
        Err(err) if err.is_timeout() => AttemptResult::NoAnswer("no answer within 10 seconds".into()),
        Err(err) if err.is_connect() => AttemptResult::NoAnswer("the connection was refused or failed".into()),
        Err(_) => AttemptResult::NoAnswer("the request failed".into()),
    }
}
