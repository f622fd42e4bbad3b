//! Webhooks: admins register endpoints (the secret shown once), each event is delivered signed
//! per Standard Webhooks (verified with the official crate), once per endpoint and event,
//! retried on the schedule until a 2xx, failed after the window; an endpoint failing for a day
//! is disabled and its admin emailed. Against dynoxide (and DynamoDB Local), with real HTTP
//! receivers on loopback and the movable clock standing in for the hours between retries.

use serde_json::{Value, json};
use storefront::domain::{DeliveryStatus, EventId, WebhookDelivery, WebhookId};
use storefront_tests::receiver::{Receiver, Seen};
use storefront_tests::{Shop, id};

/// The envelope of the first event of `kind` written so far.
async fn first(shop: &Shop, kind: &str) -> Value {
    shop.env.events_of(kind).await.remove(0)
}

fn webhook_id(created: &Value) -> WebhookId {
    WebhookId::parse(created["id"].as_str().unwrap()).unwrap()
}

fn event_id(event: &Value) -> EventId {
    EventId::parse(event["id"].as_str().unwrap()).unwrap()
}

async fn deliver(shop: &Shop, event: &Value) -> storefront::app::webhooks::DeliverReport {
    storefront::app::webhooks::deliver(&shop.env.app, event).await.map_err(|e| e.to_string()).unwrap()
}

/// Advances the clock to the delivery's next attempt and runs the retry job once.
async fn next_retry(shop: &Shop, webhook: WebhookId, event: &Value) -> WebhookDelivery {
    let (delivery, _) = shop.env.app.store.delivery(webhook, event_id(event)).await.unwrap().unwrap();
    if let Some(at) = delivery.next_attempt_at {
        let wait = at.unix_seconds() - shop.env.app.clock.now().unix_seconds();
        shop.env.app.clock.advance(wait.max(0) + 1);
    }
    storefront::api::jobs::retry_webhooks(&shop.env.app).await.map_err(|e| e.detail.clone()).unwrap();
    shop.env.app.store.delivery(webhook, event_id(event)).await.unwrap().unwrap().0
}

/// Whether `seen` verifies, with the official Standard Webhooks library, under `secret`. A
/// delivery sent after the test moved its clock on has a timestamp the library refuses as out of
/// its 5 minutes' tolerance: its signature is then compared with the library's own.
fn verifies(seen: &Seen, secret: &str) -> bool {
    use standardwebhooks::{Webhook, WebhookError};
    let verifier = Webhook::new(secret).unwrap();
    match verifier.verify(seen.body.as_bytes(), &seen.headers) {
        Ok(()) => true,
        Err(WebhookError::TimestampTooOldError | WebhookError::FutureTimestampError) => {
            let timestamp = seen.header("webhook-timestamp").parse().unwrap();
            let expected = verifier.sign(seen.header("webhook-id"), timestamp, seen.body.as_bytes()).unwrap();
            seen.header("webhook-signature").split(' ').any(|s| s == expected)
        }
        Err(_) => false,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_receiver_that_fails_three_times_gets_the_event_once_signed_on_the_fourth_attempt() {
    let shop = Shop::open().await;
    let receiver = Receiver::start(vec![500, 503, 500, 200]).await;
    let created = shop.webhook(&receiver.url, &["order.placed"]).await;
    let hook = webhook_id(&created);
    let ada = shop.customer(1).await;
    let p = shop.product("HOOK").stock(9).create().await;
    shop.order(&ada, &p, 1, None).await;
    let placed = first(&shop, "order.placed").await;

    let report = deliver(&shop, &placed).await;
    assert_eq!((report.endpoints, report.failed), (1, 1));
    let again = deliver(&shop, &placed).await;
    assert_eq!(again.repeated, 1, "the same event handed over again is not delivered again");
    let mut delivery = next_retry(&shop, hook, &placed).await;
    while delivery.status == DeliveryStatus::Pending && delivery.attempts < 4 {
        delivery = next_retry(&shop, hook, &placed).await;
    }
    assert_eq!(
        (delivery.status, delivery.attempts, delivery.last_response_status),
        (DeliveryStatus::Succeeded, 4, Some(200))
    );
    assert_eq!(next_retry(&shop, hook, &placed).await.attempts, 4, "nothing more once it succeeded");
    assert_eq!(shop.env.metric_sum("WebhookDeliveriesFailed", None), 3.0, "each failed attempt counted once");

    let requests = receiver.requests();
    assert_eq!(requests.len(), 4, "four attempts, one success");
    let last = requests.last().unwrap();
    assert_eq!(last.header("webhook-id"), placed["id"].as_str().unwrap());
    assert_eq!(serde_json::from_str::<Value>(&last.body).unwrap(), placed, "the body is the envelope");
    assert!(verifies(last, created["secret"].as_str().unwrap()), "the signature verifies with the endpoint's secret");
    assert!(!verifies(last, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), "and with no other");
    assert!(requests.iter().all(|r| r.header("webhook-id") == placed["id"].as_str().unwrap()));

    // As the admin sees it.
    let listed = shop.webhook_deliveries(&id(&created), &[]).await;
    assert_eq!(listed.status, 200, "{:#}", listed.body);
    let shown = &listed.body["items"][0];
    assert_eq!(
        (&shown["id"], &shown["eventType"], &shown["status"]),
        (&placed["id"], &json!("order.placed"), &json!("succeeded"))
    );
    assert_eq!((&shown["attempts"], &shown["lastResponseStatus"]), (&json!(4), &json!(200)));
    assert!(shown.get("nextAttemptAt").is_none());
    let pending = shop.webhook_deliveries(&id(&created), &[("status", "pending")]).await;
    assert_eq!(pending.body["items"], json!([]));
    let bad = shop.webhook_deliveries(&id(&created), &[("status", "lost")]).await;
    assert_eq!((bad.status, bad.code()), (422, "validation_failed"));
    let endpoint = shop.get_webhook(&id(&created)).await.body;
    assert!(endpoint.get("failingSince").is_none(), "a success ends the failing streak: {endpoint:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_consumer_stopped_between_recording_and_sending_a_delivery_sends_it_when_invoked_again() {
    let shop = Shop::open().await;
    let receiver = Receiver::start(vec![200]).await;
    let hook = webhook_id(&shop.webhook(&receiver.url, &["customer.registered"]).await);
    shop.customer(1).await;
    let registered = first(&shop, "customer.registered").await;
    let recorded = WebhookDelivery::new(hook, event_id(&registered), "customer.registered", shop.env.app.clock.now());
    assert!(shop.env.app.store.insert_delivery(&recorded, &registered.to_string()).await.unwrap());
    let report = deliver(&shop, &registered).await;
    assert_eq!((report.delivered, receiver.requests().len()), (1, 1), "{report:?}");
    assert_eq!(deliver(&shop, &registered).await.repeated, 1);
    assert_eq!(receiver.requests().len(), 1, "once, however often it is handed over");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_receiver_that_never_succeeds_ends_failed_after_the_window_and_is_disabled_and_its_admin_emailed() {
    let shop = Shop::open().await;
    let receiver = Receiver::start(vec![500]).await;
    let created = shop.webhook(&receiver.url, &["*"]).await;
    let hook = webhook_id(&created);
    shop.customer(1).await;
    let registered = first(&shop, "customer.registered").await;
    deliver(&shop, &registered).await;
    let mut delivery = next_retry(&shop, hook, &registered).await;
    while delivery.status == DeliveryStatus::Pending {
        delivery = next_retry(&shop, hook, &registered).await;
    }
    assert_eq!(delivery.status, DeliveryStatus::Failed);
    assert!(delivery.attempts >= 8, "{} attempts", delivery.attempts);
    assert_eq!(receiver.requests().len() as u32, delivery.attempts);
    let first_at = delivery.first_attempt_at.unwrap().unix_seconds();
    assert!(delivery.last_attempt_at.unwrap().unix_seconds() - first_at <= 24 * 3600, "within the window");
    let longest_wait = 4 * 3600 * 6 / 5;
    assert!(delivery.last_attempt_at.unwrap().unix_seconds() - first_at >= 24 * 3600 - longest_wait, "most of a day");
    let failed = shop.webhook_deliveries(&id(&created), &[("status", "failed")]).await;
    assert_eq!(failed.body["items"][0]["lastResponseStatus"], 500, "{:#}", failed.body);

    // A day after the first failure, the retry job switches the endpoint off (no other event
    // need come).
    shop.env.app.clock.advance(24 * 3600 - (shop.env.app.clock.now().unix_seconds() - first_at) - 60);
    let report = storefront::api::jobs::retry_webhooks(&shop.env.app).await.map_err(|e| e.detail.clone()).unwrap();
    assert_eq!(report["disabled"], 0, "not before the day is over: {report}");
    shop.env.app.clock.advance(120);
    let report = storefront::api::jobs::retry_webhooks(&shop.env.app).await.map_err(|e| e.detail.clone()).unwrap();
    assert_eq!(report["disabled"], 1, "{report}");
    let endpoint = shop.get_webhook(&id(&created)).await.body;
    assert_eq!(endpoint["enabled"], false, "disabled after a day of failures: {endpoint:#}");
    let disabled = shop.env.events_of("webhook.disabled").await;
    assert_eq!(disabled.len(), 1);
    assert_eq!(disabled[0]["data"]["id"], created["id"]);
    assert!(!disabled[0].to_string().contains(created["secret"].as_str().unwrap()), "no secret in events");
    assert_eq!(disabled[0]["data"]["url"], receiver.url.split('?').next().unwrap(), "the URL, without a query");
    let again = storefront::api::jobs::retry_webhooks(&shop.env.app).await.map_err(|e| e.detail.clone()).unwrap();
    assert_eq!((again["disabled"].as_u64(), shop.env.events_of("webhook.disabled").await.len()), (Some(0), 1), "once");
    let before = receiver.requests().len();
    shop.product("LATER").create().await;
    let later = shop.env.events_of("product.created").await.pop().unwrap();
    assert_eq!((deliver(&shop, &later).await.endpoints, receiver.requests().len()), (0, before), "nothing more");

    // The admin who registered it is emailed, through the same pipeline as customers.
    let published = shop.env.publish().await;
    let event = published.iter().find(|e| e["detail-type"] == "webhook.disabled").expect("published").clone();
    storefront::api::notifications::send_notifications(&shop.env.app, event)
        .await
        .map_err(|e| e.detail.clone())
        .unwrap();
    let emails = shop.env.emails();
    let raw = emails.get(disabled[0]["id"].as_str().unwrap()).expect("an email for the event");
    let email = mail_parser::MessageParser::default().parse(raw).unwrap();
    assert_eq!(email.to().unwrap().first().unwrap().address().unwrap(), "admin@example.com");
    assert!(email.subject().unwrap().contains("disabled"), "{:?}", email.subject());
    assert!(email.body_text(0).unwrap().contains(&receiver.url));

    // The admin tries the receiver again by hand, then switches the endpoint back on.
    let retried = shop.retry_delivery(&id(&created), registered["id"].as_str().unwrap()).await;
    assert_eq!((retried.status, &retried.body["status"]), (200, &json!("failed")), "{:#}", retried.body);
    assert_eq!(retried.body["attempts"], delivery.attempts + 1);
    let on = shop.update_webhook(&id(&created), json!({"enabled": true})).await;
    assert_eq!((on.status, &on.body["enabled"]), (200, &json!(true)), "{:#}", on.body);
    assert!(on.body.get("failingSince").is_none() && on.body.get("secret").is_none(), "{:#}", on.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn admins_register_read_change_and_delete_endpoints_and_see_a_secret_only_when_it_is_made() {
    let mut shop = Shop::open().await;
    let receiver = Receiver::start(vec![200]).await;
    for (body, field) in [
        (json!({"url": "http://erp.example.com/hooks", "events": ["*"]}), "url"),
        (json!({"url": "https://10.1.2.3/hooks", "events": ["*"]}), "url"),
        (json!({"url": "https://169.254.169.254/latest", "events": ["*"]}), "url"),
        (json!({"url": "https://erp.example.com/hooks", "events": ["order.lost"]}), "events"),
        (json!({"url": "https://erp.example.com/hooks", "events": []}), "events"),
        (json!({"url": "https://erp.example.com/hooks", "events": "*"}), "events"),
        (json!({"url": "https://erp.example.com/hooks"}), "events"),
        (json!({"url": "https://erp.example.com/hooks", "events": ["*"], "secret": "whsec_x"}), "secret"),
    ] {
        let refused = shop.create_webhook(body.clone()).await;
        assert_eq!((refused.status, refused.code()), (422, "validation_failed"), "{body}: {:#}", refused.body);
        assert_eq!(refused.body["errors"][0]["field"], field, "{body}: {:#}", refused.body);
    }
    // Loopback HTTP only where the deployment allows it (make run does; the cloud does not).
    shop.env.app.config.webhooks.policy.allow_loopback_http = false;
    let strict = shop.create_webhook(json!({"url": receiver.url, "events": ["*"]})).await;
    assert_eq!(strict.status, 422, "{:#}", strict.body);
    shop.env.app.config.webhooks.policy.allow_loopback_http = true;

    let body = json!({"url": receiver.url, "events": ["order.paid", "customer.registered"], "description": "ERP"});
    let created = shop.create_webhook(body).await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    let secret = created.body["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert_eq!(created.body["events"], json!(["order.paid", "customer.registered"]));
    let hook = id(&created.body);
    let read = shop.get_webhook(&hook).await;
    assert_eq!(read.status, 200);
    assert!(read.body.get("secret").is_none() && !read.body.to_string().contains(&secret), "{:#}", read.body);
    shop.webhook("https://erp.example.com/second", &["*"]).await;
    let page = shop.list_webhooks(&[("limit", "1")]).await;
    assert_eq!((page.status, &page.body["items"][0]["id"]), (200, &json!(hook)), "{:#}", page.body);
    let cursor = page.body["nextCursor"].as_str().unwrap().to_owned();
    let next = shop.list_webhooks(&[("limit", "1"), ("cursor", &cursor)]).await;
    assert_eq!(next.body["items"][0]["url"], "https://erp.example.com/second");
    assert!(!page.body.to_string().contains("whsec_") && !next.body.to_string().contains("whsec_"));
    let forged = shop.list_webhooks(&[("cursor", "forged")]).await;
    assert_eq!((forged.status, forged.code()), (400, "invalid_cursor"));

    let changed = shop.update_webhook(&hook, json!({"events": ["*"], "description": null})).await;
    assert_eq!((changed.status, &changed.body["events"]), (200, &json!(["*"])), "{:#}", changed.body);
    assert!(changed.body.get("description").is_none() && changed.body.get("secret").is_none());
    for bad in [json!({"rotateSecret": false}), json!({"enabled": "yes"}), json!({"colour": "red"})] {
        let refused = shop.update_webhook(&hook, bad.clone()).await;
        assert_eq!(refused.status, 422, "{bad}: {:#}", refused.body);
    }

    // A rotation: the new secret is shown once; for a day both sign every delivery.
    let rotated = shop.update_webhook(&hook, json!({"rotateSecret": true})).await;
    assert_eq!(rotated.status, 200, "{:#}", rotated.body);
    let new_secret = rotated.body["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, secret);
    assert!(rotated.body["previousSecretExpiresAt"].is_string(), "{:#}", rotated.body);
    shop.customer(1).await;
    deliver(&shop, &first(&shop, "customer.registered").await).await;
    let seen = receiver.requests().pop().expect("a delivery");
    assert!(verifies(&seen, &secret) && verifies(&seen, &new_secret), "both secrets sign during the overlap");
    shop.env.app.clock.advance(24 * 3600 + 1);
    shop.customer(2).await;
    deliver(&shop, &shop.env.events_of("customer.registered").await.pop().unwrap()).await;
    let seen = receiver.requests().pop().expect("a delivery");
    assert!(verifies(&seen, &new_secret) && !verifies(&seen, &secret), "the old secret no longer signs");
    assert!(shop.get_webhook(&hook).await.body.get("previousSecretExpiresAt").is_none());

    // While another attempt of a delivery is under way, an admin's retry makes none.
    let busy = shop.env.events_of("customer.registered").await.pop().unwrap();
    let (held, _) = shop.env.app.store.delivery(webhook_id(&created.body), event_id(&busy)).await.unwrap().unwrap();
    assert!(shop.env.app.store.claim_attempt(&held, shop.env.app.clock.now()).await.unwrap());
    let refused = shop.retry_delivery(&hook, busy["id"].as_str().unwrap()).await;
    assert_eq!((refused.status, refused.code()), (409, "delivery_in_progress"), "{:#}", refused.body);
    // A name that does not resolve (yet) may be registered: every delivery resolves it again.
    // And the addresses are checked again at each delivery: once loopback is no longer allowed,
    // a receiver registered on it is not called.
    let unresolved = shop.webhook("https://erp.invalid/hooks", &["customer.registered"]).await;
    shop.env.app.config.webhooks.policy.allow_loopback_http = false;
    let before = receiver.requests().len();
    shop.customer(4).await;
    deliver(&shop, &shop.env.events_of("customer.registered").await.pop().unwrap()).await;
    assert_eq!(receiver.requests().len(), before, "no call to a refused address");
    let refused = shop.webhook_deliveries(&hook, &[]).await.body;
    let why = refused["items"][0]["lastError"].as_str().unwrap_or_default();
    assert!(why.contains("127.0.0.1, which may not be called"), "{refused:#}");
    let to_nowhere = shop.webhook_deliveries(&id(&unresolved), &[]).await.body;
    assert_eq!(to_nowhere["items"][0]["lastError"], "erp.invalid does not resolve", "{to_nowhere:#}");
    shop.env.app.config.webhooks.policy.allow_loopback_http = true;
    let unknown = shop.retry_delivery(&hook, &storefront::domain::EventId::new().to_string()).await;
    assert_eq!((unknown.status, unknown.code()), (404, "delivery_not_found"));
    assert_eq!(shop.delete_webhook(&hook).await.status, 204);
    for gone in
        [shop.get_webhook(&hook).await, shop.delete_webhook(&hook).await, shop.webhook_deliveries(&hook, &[]).await]
    {
        assert_eq!((gone.status, gone.code()), (404, "webhook_not_found"), "{:#}", gone.body);
    }
    let nonsense = shop.get_webhook("not-an-id").await;
    assert_eq!((nonsense.status, nonsense.code()), (404, "webhook_not_found"));
    let customer = shop.customer(3).await;
    let req = storefront_tests::request("GET", "/admin/webhooks", None, Some(&customer));
    assert_eq!(shop.env.call(storefront::api::webhooks::list_webhooks, req).await.status, 403);
}
