//! Calls to the receivers of webhook deliveries: one HTTP POST, over TLS, to the addresses the
//! URL's host resolves to now, each checked against the deployment's policy (so a name that
//! turns to a private or metadata address is refused, and the connection goes to the address
//! that was checked, not to a second lookup), no redirects, 10 seconds for the whole answer.

use crate::domain::{AttemptResult, DELIVERY_TIMEOUT_SECONDS, UrlPolicy, WebhookUrl};
use std::net::SocketAddr;
use std::time::Duration;

/// Sends `body` to `url` with `headers`; what the receiver answered, or why it did not.
pub async fn post(url: &WebhookUrl, policy: UrlPolicy, headers: &[(&str, String)], body: String) -> AttemptResult {
    let Some((host, port)) = url.host_and_port() else {
        return AttemptResult::NoAnswer("the URL names no host".into());
    };
    let addresses: Vec<SocketAddr> = match tokio::net::lookup_host((host.as_str(), port)).await {
        Ok(found) => found.collect(),
        Err(_) => return AttemptResult::NoAnswer(format!("{host} does not resolve")),
    };
    if addresses.is_empty() {
        return AttemptResult::NoAnswer(format!("{host} does not resolve"));
    }
    if let Some(refused) = addresses.iter().find(|a| !policy.admits(a.ip())) {
        return AttemptResult::NoAnswer(format!("{host} resolves to {}, which may not be called", refused.ip()));
    }
    let client = match reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(DELIVERY_TIMEOUT_SECONDS))
        .connect_timeout(Duration::from_secs(5))
        .resolve_to_addrs(&host, &addresses)
        .user_agent("storefront-webhooks/1")
        .build()
    {
        Ok(client) => client,
        Err(err) => return AttemptResult::NoAnswer(format!("no HTTP client: {err}")),
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
