//! Webhook deliveries: signed per Standard Webhooks (verified with the official crate), once
//! per endpoint and event, retried on the schedule until a 2xx, failed after the window, and the
//! endpoint disabled after a day of failures. Against dynoxide (and DynamoDB Local), with a real
//! HTTP receiver on loopback and the movable clock standing in for the hours between retries.

use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use storefront::domain::{DeliveryStatus, EventSelection, UrlPolicy, WebhookUrl};
use storefront_tests::Shop;

/// A receiver on loopback answering each request with the next status of `script` (then the
/// last one), keeping every request's headers and body.
/// A request as the receiver saw it: its headers (names lower-cased) and body.
type Seen = (Vec<(String, String)>, String);

struct Receiver {
    url: String,
    requests: Arc<Mutex<Vec<Seen>>>,
}

impl Receiver {
    async fn start(script: Vec<u16>) -> Self {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut buffer = Vec::new();
                let mut chunk = [0u8; 8192];
                let (head, body) = loop {
                    let Ok(read) = socket.read(&mut chunk).await else { break (String::new(), String::new()) };
                    if read == 0 {
                        break (String::new(), String::new());
                    }
                    buffer.extend_from_slice(&chunk[..read]);
                    let text = String::from_utf8_lossy(&buffer).to_string();
                    let Some(end) = text.find("\r\n\r\n") else { continue };
                    let length = text[..end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned())
                        })
                        .and_then(|v| v.parse::<usize>().ok())
                        .unwrap_or(0);
                    if buffer.len() >= end + 4 + length {
                        break (
                            text[..end].to_owned(),
                            String::from_utf8_lossy(&buffer[end + 4..end + 4 + length]).to_string(),
                        );
                    }
                };
                let headers: Vec<(String, String)> = head
                    .lines()
                    .skip(1)
                    .filter_map(|l| l.split_once(':'))
                    .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
                    .collect();
                let n = {
                    let mut all = seen.lock().unwrap();
                    all.push((headers, body));
                    all.len()
                };
                let status = script.get(n - 1).or(script.last()).copied().unwrap_or(200);
                let answer = format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                let _ = socket.write_all(answer.as_bytes()).await;
            }
        });
        Self { url, requests }
    }

    fn requests(&self) -> Vec<Seen> {
        self.requests.lock().unwrap().clone()
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> &'a str {
    headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or_default()
}

async fn endpoint(shop: &Shop, url: &str, events: &[&str]) -> storefront::domain::WebhookEndpoint {
    let admin = storefront::domain::UserId::new();
    let url = WebhookUrl::parse(url, UrlPolicy { allow_loopback_http: true }).unwrap();
    let events = EventSelection::parse(&events.iter().map(|e| e.to_string()).collect::<Vec<_>>()).unwrap();
    storefront::app::webhooks::register(&shop.env.app, admin, url, events, None).await.unwrap()
}

/// The envelope of the first event of `kind` written so far.
async fn first(shop: &Shop, kind: &str) -> Value {
    shop.env.events_of(kind).await.remove(0)
}

/// Advances the clock to the delivery's next attempt and runs the retry job once.
async fn next_retry(
    shop: &Shop,
    webhook: storefront::domain::WebhookId,
    event: &Value,
) -> storefront::domain::WebhookDelivery {
    let event_id = storefront::domain::EventId::parse(event["id"].as_str().unwrap()).unwrap();
    let (delivery, _) = shop.env.app.store.delivery(webhook, event_id).await.unwrap().unwrap();
    if let Some(at) = delivery.next_attempt_at {
        let wait = at.unix_seconds() - shop.env.app.clock.now().unix_seconds();
        shop.env.app.clock.advance(wait.max(0) + 1);
    }
    storefront::app::webhooks::retry_due(&shop.env.app).await.map_err(|e| e.to_string()).unwrap();
    shop.env.app.store.delivery(webhook, event_id).await.unwrap().unwrap().0
}

#[tokio::test(flavor = "multi_thread")]
async fn a_receiver_that_fails_three_times_gets_the_event_once_signed_on_the_fourth_attempt() {
    let mut shop = Shop::open().await;
    shop.env.app.config.webhooks.policy.allow_loopback_http = true;
    let receiver = Receiver::start(vec![500, 503, 500, 200]).await;
    let hook = endpoint(&shop, &receiver.url, &["order.placed"]).await;
    let ada = shop.customer(1).await;
    let p = shop.product("HOOK").stock(9).create().await;
    shop.order(&ada, &p, 1, None).await;
    let placed = first(&shop, "order.placed").await;

    let report = storefront::app::webhooks::deliver(&shop.env.app, &placed).await.map_err(|e| e.to_string()).unwrap();
    assert_eq!((report.endpoints, report.failed), (1, 1));
    let again = storefront::app::webhooks::deliver(&shop.env.app, &placed).await.map_err(|e| e.to_string()).unwrap();
    assert_eq!(again.repeated, 1, "the same event handed over again is not delivered again");
    let mut delivery = next_retry(&shop, hook.id, &placed).await;
    delivery =
        if delivery.status == DeliveryStatus::Pending { next_retry(&shop, hook.id, &placed).await } else { delivery };
    delivery =
        if delivery.status == DeliveryStatus::Pending { next_retry(&shop, hook.id, &placed).await } else { delivery };
    assert_eq!(
        (delivery.status, delivery.attempts, delivery.last_response_status),
        (DeliveryStatus::Succeeded, 4, Some(200))
    );
    let more = next_retry(&shop, hook.id, &placed).await;
    assert_eq!(more.attempts, 4, "nothing more once it succeeded");

    let requests = receiver.requests();
    assert_eq!(requests.len(), 4, "four attempts, one success");
    let (headers, body) = requests.last().unwrap();
    assert_eq!(header(headers, "webhook-id"), placed["id"].as_str().unwrap());
    assert_eq!(serde_json::from_str::<Value>(body).unwrap(), placed, "the body is the envelope");
    let mut map = lambda_http::http::HeaderMap::new();
    for name in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
        map.insert(name, header(headers, name).parse().unwrap());
    }
    let verifier = standardwebhooks::Webhook::new(hook.secret.reveal()).unwrap();
    verifier.verify(body.as_bytes(), &map).expect("the signature verifies with the endpoint's secret");
    assert!(requests.iter().all(|(h, _)| header(h, "webhook-id") == placed["id"].as_str().unwrap()));
    let stored = shop.env.app.store.webhook(hook.id).await.unwrap().unwrap();
    assert_eq!(stored.failing_since, None, "a success ends the failing streak");
    let _ = &mut shop;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_receiver_that_never_succeeds_ends_failed_after_the_window_and_is_disabled_after_a_day() {
    let mut shop = Shop::open().await;
    shop.env.app.config.webhooks.policy.allow_loopback_http = true;
    let receiver = Receiver::start(vec![500]).await;
    let hook = endpoint(&shop, &receiver.url, &["*"]).await;
    shop.customer(1).await;
    let registered = first(&shop, "customer.registered").await;
    storefront::app::webhooks::deliver(&shop.env.app, &registered).await.map_err(|e| e.to_string()).unwrap();
    let mut delivery = next_retry(&shop, hook.id, &registered).await;
    while delivery.status == DeliveryStatus::Pending {
        delivery = next_retry(&shop, hook.id, &registered).await;
    }
    assert_eq!(delivery.status, DeliveryStatus::Failed);
    assert!(delivery.attempts >= 8, "{} attempts", delivery.attempts);
    assert_eq!(receiver.requests().len() as u32, delivery.attempts);
    let first_at = delivery.first_attempt_at.unwrap().unix_seconds();
    assert!(delivery.last_attempt_at.unwrap().unix_seconds() - first_at <= 24 * 3600, "within the window");
    let longest_wait = 4 * 3600 * 6 / 5;
    assert!(
        delivery.last_attempt_at.unwrap().unix_seconds() - first_at >= 24 * 3600 - longest_wait,
        "for most of a day"
    );

    // A day after the first failure, the next failing delivery switches the endpoint off.
    shop.env.app.clock.advance(24 * 3600);
    shop.product("LATE").create().await;
    let created = first(&shop, "product.created").await;
    storefront::app::webhooks::deliver(&shop.env.app, &created).await.map_err(|e| e.to_string()).unwrap();
    let stored = shop.env.app.store.webhook(hook.id).await.unwrap().unwrap();
    assert!(!stored.enabled, "disabled after a day of failures");
    let before = receiver.requests().len();
    shop.product("LATER").create().await;
    let later = shop.env.events_of("product.created").await.pop().unwrap();
    let report = storefront::app::webhooks::deliver(&shop.env.app, &later).await.map_err(|e| e.to_string()).unwrap();
    assert_eq!((report.endpoints, receiver.requests().len()), (0, before), "a disabled endpoint gets nothing");
    let _ = json!({});
    let _ = &mut shop;
}
