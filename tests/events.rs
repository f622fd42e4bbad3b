//! Events: every change other systems care about writes exactly one event of its type, in the
//! change's own transaction; a change that does not happen writes none. Every event read here
//! is checked against asyncapi.yaml by the harness.

use serde_json::{Value, json};
use std::collections::BTreeSet;
use storefront::api::jobs::expire_orders;
use storefront_tests::{Shop, id, payment_event};

/// `(type, subject id)` of each event so far, oldest first.
async fn happened(shop: &Shop) -> Vec<(String, String)> {
    shop.env
        .events()
        .await
        .iter()
        .map(|e| (e["type"].as_str().unwrap().to_owned(), e["subject"]["id"].as_str().unwrap().to_owned()))
        .collect()
}

/// The events written since `before` (a count of events).
async fn since(shop: &Shop, before: usize) -> Vec<Value> {
    shop.env.events().await.split_off(before)
}

#[tokio::test(flavor = "multi_thread")]
async fn each_change_writes_one_event_of_its_type_and_every_documented_type_is_written() {
    let shop = Shop::open().await;
    let admin_only = shop.env.events().await;
    assert!(admin_only.is_empty(), "an admin account is not a customer: {admin_only:#?}");

    let registered = shop.env.register("ada@example.com").await;
    assert_eq!(registered.status, 201);
    let ada = registered.access_token();
    let customer = shop.env.events_of("customer.registered").await;
    assert_eq!(customer.len(), 1);
    assert_eq!(customer[0]["data"]["email"], "ada@example.com");
    let text = customer[0].to_string();
    assert!(!text.contains("password") && !text.contains("argon2") && !text.contains(&ada), "{text}");
    let verification = shop.env.events_of("customer.verification_requested").await;
    assert_eq!((verification.len(), &verification[0]["data"]["emailVerified"]), (1, &json!(false)));
    let body = json!({"email": "ada@example.com"});
    let req = storefront_tests::request("POST", "/auth/password-reset", Some(&body), None);
    assert_eq!(shop.env.call(storefront::api::accounts::request_password_reset, req).await.status, 202);
    let reset = shop.env.events_of("customer.password_reset_requested").await;
    assert_eq!(
        (reset.len(), &reset[0]["data"]),
        (1, &json!({"id": customer[0]["data"]["id"], "email": "ada@example.com"}))
    );

    let p = shop.product("LOW").stock(8).create().await;
    let created = shop.env.events_of("product.created").await;
    assert_eq!(created.len(), 1);
    assert_eq!(created[0]["data"]["lowStockThreshold"], 5, "the default threshold");
    assert_eq!(created[0]["data"]["inStock"], true);
    let renamed = shop.update_product(&p, json!({"name": "Low Lamp", "lowStockThreshold": 4}), None).await;
    assert_eq!(renamed.status, 200, "{:#}", renamed.body);
    let updated = shop.env.events_of("product.updated").await;
    assert_eq!((updated.len(), &updated[0]["data"]["name"]), (1, &json!("Low Lamp")));

    // 8 → 6 (above 4), → 4 (falls to it: reported), → 3 (already low: not again).
    let before = shop.env.events().await.len();
    assert_eq!(shop.adjust_stock(&p, -2).await.status, 200);
    assert!(since(&shop, before).await.is_empty(), "6 is above the threshold");
    let o1 = shop.order(&ada, &p, 2, None).await;
    let placed = since(&shop, before).await;
    let kinds: Vec<&str> = placed.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["order.placed", "inventory.low"], "the order takes the variant to its threshold");
    assert_eq!(placed[0]["data"], shop.get_order(&ada, &id(&o1)).await.body, "data is the order as the API shows it");
    assert_eq!(placed[1]["data"]["threshold"], 4);
    assert_eq!(placed[1]["data"]["variantId"], format!("{p}-1"));
    let before = shop.env.events().await.len();
    let o2 = shop.order(&ada, &p, 1, None).await;
    let kinds: Vec<String> = since(&shop, before).await.iter().map(|e| e["type"].to_string()).collect();
    assert_eq!(kinds, ["\"order.placed\""], "a variant already low is not reported again");

    // Payment, shipping, delivery; a customer's cancel (restocking above the threshold) and an
    // order falling low again.
    assert_eq!(shop.pay(&o1, "evt-paid-1").await.status, 200);
    let ship = shop.admin_update_order(&id(&o1), json!({"status": "shipped", "trackingNumber": "1Z999"})).await;
    assert_eq!(ship.status, 200);
    assert_eq!(shop.admin_update_order(&id(&o1), json!({"status": "delivered"})).await.status, 200);
    assert_eq!(shop.cancel_order(&ada, &id(&o2)).await.status, 200);
    let paid = shop.env.events_of("order.paid").await;
    assert_eq!((paid.len(), &paid[0]["data"]["previousStatus"]), (1, &json!("pending_payment")));
    let shipped = shop.env.events_of("order.shipped").await;
    assert_eq!((shipped.len(), &shipped[0]["data"]["trackingNumber"]), (1, &json!("1Z999")));
    assert_eq!(shop.env.events_of("order.delivered").await.len(), 1);
    let cancelled = shop.env.events_of("order.cancelled").await;
    assert_eq!(cancelled.len(), 1);
    assert_eq!(
        (&cancelled[0]["data"]["reason"], &cancelled[0]["data"]["status"]),
        (&json!("customer"), &json!("cancelled"))
    );

    // A refund of the delivered order; a payment of the wrong amount for another.
    let refund = shop.refund(&id(&o1), Some("r"), json!({"amountCents": 100, "restock": false})).await;
    assert_eq!(refund.status, 201, "{:#}", refund.body);
    let refunded = shop.env.events_of("order.refunded").await;
    assert_eq!((refunded.len(), &refunded[0]["data"]["id"]), (1, &refund.body["id"]));
    let o3 = shop.order(&ada, &p, 1, None).await;
    let mut short = payment_event(&o3, "evt-short", true);
    short["data"]["amountCents"] = json!(1);
    assert_eq!(shop.payment_webhook(&short, None).await.status, 200);
    let issue = shop.env.events_of("payment.issue").await;
    assert_eq!((issue.len(), &issue[0]["data"]["issue"]), (1, &json!("amount_mismatch")));
    let line = json!({"lines": [{"variantId": format!("{p}-1"), "quantity": 1}], "reason": "Too big"});
    let asked = shop.request_return(&ada, &id(&o1), line).await;
    assert_eq!(asked.status, 201, "{:#}", asked.body);
    assert_eq!(shop.decide_return(&id(&asked.body), "received").await.status, 200);
    let requested = shop.env.events_of("return.requested").await;
    assert_eq!((requested.len(), &requested[0]["subject"]["id"]), (1, &asked.body["id"]));
    let received = shop.env.events_of("return.received").await;
    assert_eq!((received.len(), &received[0]["data"]["status"]), (1, &json!("received")));

    assert_eq!(shop.archive_product(&p).await.status, 204);
    let archived = shop.env.events_of("product.archived").await;
    assert_eq!((archived.len(), &archived[0]["data"]["active"]), (1, &json!(false)));

    let written: BTreeSet<String> = happened(&shop).await.into_iter().map(|(kind, _)| kind).collect();
    // (webhook.disabled, a day of failed deliveries, is written by tests/webhooks.rs.)
    let documented: BTreeSet<String> =
        storefront_tests::events::documented_types().into_iter().filter(|t| t != "webhook.disabled").collect();
    assert_eq!(written, documented, "every documented type is written, and nothing else");
    let ids: BTreeSet<String> = shop.env.events().await.iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(ids.len(), shop.env.events().await.len(), "every event has an id of its own");

    // The business metrics: counted once per event as the stream publishes it, not again.
    let events = shop.env.events().await;
    let env = &shop.env;
    assert_eq!(env.metric("OrdersPlaced"), [], "nothing is counted before it is published");
    env.publish().await;
    env.publish().await;
    let of = |kind: &str| events.iter().filter(|e| e["type"] == kind).count() as f64;
    assert_eq!(env.metric_sum("OrdersPlaced", None), 3.0);
    assert_eq!(env.metric_sum("OrdersPlaced", None), of("order.placed"));
    let value: f64 =
        events.iter().filter(|e| e["type"] == "order.placed").map(|e| e["data"]["totalCents"].as_f64().unwrap()).sum();
    assert!(value > 0.0);
    assert_eq!(env.metric_sum("OrderValueCents", None), value);
    assert_eq!(env.metric_sum("PaymentsCaptured", None), of("order.paid"));
    assert_eq!(env.metric_sum("RefundsIssued", None), of("order.refunded"));
    assert!(of("order.refunded") >= 2.0, "the goodwill refund and the return's");
    assert_eq!(env.metric_sum("PaymentIssue", None), 1.0);
    assert_eq!(env.metric_sum("PaymentIssue", Some(("Issue", "amount_mismatch"))), 1.0);
    for (_, line) in env.metric("PaymentIssue") {
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Dimensions"], json!([[], ["Issue"]]), "in total and by issue: {line}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_change_that_does_not_happen_writes_no_event() {
    let shop = Shop::open().await;
    let ada = shop.customer(1).await;
    let p = shop.product("ONE").stock(1).create().await;
    let bob = shop.customer_with_cart(2, &p, 1).await;
    let o = shop.order(&ada, &p, 1, None).await;
    let before = shop.env.events().await;

    let refused = shop.place_order(&bob, Some("bob-1"), &storefront_tests::checkout("US", "standard", None)).await;
    refused.problem(409, "insufficient_stock");
    shop.admin_update_order(&id(&o), json!({"status": "shipped"})).await.problem(409, "invalid_transition");
    shop.update_product(&p, json!({"name": "Renamed"}), Some("\"stale\"")).await.problem(412, "version_mismatch");
    shop.adjust_stock(&p, -5).await.problem(409, "insufficient_stock");
    assert_eq!(shop.env.register("customer1@example.com").await.status, 409, "the email is taken");
    let unchanged = shop.update_product(&p, json!({"name": "Product ONE"}), None).await;
    assert_eq!(unchanged.status, 200, "{:#}", unchanged.body);

    let after = shop.env.events().await;
    assert_eq!(after, before, "{:#?}", &after[before.len()..]);
}

#[tokio::test(flavor = "multi_thread")]
async fn cancellations_say_why_expired_and_admin_and_a_failed_payment_cancels_nothing() {
    let shop = Shop::open().await;
    let p = shop.product("WHY").stock(50).create().await;
    let ada = shop.customer(1).await;
    let by_admin = shop.order(&ada, &p, 1, None).await;
    assert_eq!(shop.pay(&by_admin, "evt-admin").await.status, 200);
    assert_eq!(shop.admin_update_order(&id(&by_admin), json!({"status": "cancelled"})).await.status, 200);
    let failed = shop.order(&ada, &p, 1, None).await;
    let answer = shop.payment_webhook(&payment_event(&failed, "evt-failed", false), None).await;
    assert_eq!(answer.status, 200);
    let overdue = shop.order(&ada, &p, 1, None).await;
    shop.env.app.clock.advance(31 * 60);
    expire_orders(&shop.env.app).await.map_err(|e| e.detail.clone()).unwrap();

    let mut reasons: Vec<(String, String, String)> = shop
        .env
        .events_of("order.cancelled")
        .await
        .iter()
        .map(|e| {
            let data = &e["data"];
            (id(data), data["reason"].as_str().unwrap().to_owned(), data["paymentStatus"].as_str().unwrap().to_owned())
        })
        .collect();
    reasons.sort();
    let mut expected = vec![
        (id(&by_admin), "admin".to_owned(), "refunded".to_owned()),
        (id(&failed), "expired".to_owned(), "unpaid".to_owned()),
        (id(&overdue), "expired".to_owned(), "unpaid".to_owned()),
    ];
    expected.sort();
    assert_eq!(
        reasons, expected,
        "a paid order cancelled is refunded with it; a failed payment leaves its order to expire"
    );
    assert_eq!(shop.env.events_of("order.refunded").await.len(), 1);
    let again = shop.pay(&by_admin, "evt-admin").await;
    assert_eq!(again.status, 200, "a replayed payment event changes nothing");
    assert_eq!(shop.env.events_of("order.paid").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_schema_check_refuses_events_that_asyncapi_does_not_describe() {
    let shop = Shop::open().await;
    shop.customer(1).await;
    let good = shop.env.events_of("customer.registered").await.remove(0);
    let refused = |bad: Value| std::panic::catch_unwind(|| storefront_tests::events::check(&bad)).is_err();
    let mut secret = good.clone();
    secret["data"]["passwordHash"] = json!("$argon2id$...");
    assert!(refused(secret), "a field the resource does not have");
    let mut unnamed = good.clone();
    unnamed["type"] = json!("customer.deleted");
    assert!(refused(unnamed), "a type asyncapi.yaml does not document");
    let mut no_subject = good.clone();
    no_subject.as_object_mut().unwrap().remove("subject");
    assert!(refused(no_subject), "an envelope without its subject");
    let mut admin = good;
    admin["data"]["role"] = json!("admin");
    assert!(refused(admin), "customer.registered is of customers only");
}

/// The emails written so far, parsed: `(message id, to, subject, plain text)`.
fn emails(shop: &Shop) -> Vec<(String, String, String, String)> {
    shop.env
        .emails()
        .values()
        .map(|raw| {
            let message = mail_parser::MessageParser::default().parse(raw).expect("an RFC 5322 message");
            let to = message.to().and_then(|a| a.first()).and_then(|a| a.address()).unwrap_or_default().to_owned();
            let from = message.from().and_then(|a| a.first()).expect("a sender");
            assert_eq!(from.name(), Some("storefront"), "the store's name");
            assert!(message.body_html(0).is_some(), "an HTML part");
            (
                message.message_id().unwrap_or_default().to_owned(),
                to,
                message.subject().unwrap_or_default().to_owned(),
                message.body_text(0).unwrap_or_default().into_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_stream_publishes_every_event_on_the_bus_once_in_order() {
    let shop = Shop::open().await;
    let ada = shop.customer(1).await;
    let p = shop.product("BUS").stock(20).create().await;
    let o = shop.order(&ada, &p, 2, None).await;
    assert_eq!(shop.pay(&o, "evt-bus").await.status, 200);
    let written = shop.env.events().await;
    let published = shop.env.publish().await;
    let ids = |events: &[Value], path: &str| -> Vec<String> {
        events.iter().map(|e| e.pointer(path).and_then(Value::as_str).unwrap_or_default().to_owned()).collect()
    };
    assert_eq!(ids(&published, "/detail/id"), ids(&written, "/id"), "every event, once, in the order written");
    for event in &published {
        assert_eq!(event["source"], "storefront");
        assert_eq!(event["detail-type"], event["detail"]["type"]);
    }
    assert_eq!(shop.env.publish().await.len(), published.len(), "a second pass publishes nothing again");
    let later = shop.order(&ada, &p, 1, None).await;
    let more = shop.env.publish().await;
    assert_eq!(more.len(), published.len() + 1);
    assert_eq!(more.last().unwrap()["detail"]["data"]["id"], later["id"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn order_events_email_the_customer_at_most_once_each() {
    let shop = Shop::open().await;
    let ada = shop.customer(1).await;
    let p = shop.product("MAIL").price(1250).stock(20).create().await;
    let paid = shop.order(&ada, &p, 2, None).await;
    assert_eq!(shop.pay(&paid, "evt-mail").await.status, 200);
    let ship = json!({"status": "shipped", "trackingNumber": "1Z-MAIL-1"});
    assert_eq!(shop.admin_update_order(&id(&paid), ship).await.status, 200);
    let dropped = shop.order(&ada, &p, 1, None).await;
    assert_eq!(shop.cancel_order(&ada, &id(&dropped)).await.status, 200);

    let bus = shop.env.publish().await;
    // Each event twice (a consumer invoked again with the same event): the second sends nothing.
    for event in bus.iter().chain(bus.iter()) {
        let answer = storefront::api::notifications::send_notifications(&shop.env.app, event.clone()).await;
        assert!(answer.is_ok(), "{:?}", answer.err().map(|e| e.detail.clone()));
    }
    let mut got = emails(&shop);
    got.sort_by(|a, b| a.0.cmp(&b.0));
    let subjects: Vec<&str> = got.iter().map(|(_, _, s, _)| s.as_str()).collect();
    assert_eq!(got.len(), 5, "two placed, paid, shipped, cancelled: {subjects:#?}");
    assert!(got.iter().all(|(_, to, _, _)| to == "customer1@example.com"));
    let about = |needle: &str| got.iter().filter(|(_, _, s, _)| s.contains(needle)).count();
    assert_eq!((about("order"), about("Payment received"), about("on its way"), about("cancelled")), (5, 1, 1, 1));
    let placed =
        &got.iter().find(|(_, _, s, _)| s.starts_with("Your storefront order") && s.ends_with(&id(&paid))).unwrap().3;
    assert!(placed.contains("2 x Product MAIL") && placed.contains("$25.00"), "lines and amounts: {placed}");
    assert!(placed.contains(&format!(
        "Total: ${}.{:02}",
        paid["totalCents"].as_i64().unwrap() / 100,
        paid["totalCents"].as_i64().unwrap() % 100
    )));
    let shipped = &got.iter().find(|(_, _, s, _)| s.contains("on its way")).unwrap().3;
    assert!(shipped.contains("Tracking number: 1Z-MAIL-1"), "{shipped}");
    let cancelled = &got.iter().find(|(_, _, s, _)| s.contains("cancelled")).unwrap().3;
    assert!(cancelled.contains("as you asked"), "{cancelled}");
    for (message_id, _, _, text) in &got {
        assert!(message_id.ends_with("@storefront"), "{message_id}");
        assert!(!text.contains("argon2") && !text.contains("Bearer"), "nothing secret in an email");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_email_that_could_not_be_sent_is_sent_when_the_event_comes_again() {
    let shop = Shop::open().await;
    let ada = shop.customer(1).await;
    let p = shop.product("RETRY").stock(5).create().await;
    shop.order(&ada, &p, 1, None).await;
    let placed: Vec<Value> =
        shop.env.publish().await.into_iter().filter(|e| e["detail-type"] == "order.placed").collect();
    // Sending fails (the mail directory cannot be made): the claim is given back.
    std::fs::create_dir_all(shop.env.emails.parent().unwrap()).unwrap();
    std::fs::write(&shop.env.emails, "not a directory").unwrap();
    let failed = storefront::api::notifications::send_notifications(&shop.env.app, placed[0].clone()).await;
    assert!(failed.is_err(), "the invocation fails, so the bus retries it");
    std::fs::remove_file(&shop.env.emails).unwrap();
    let retried = storefront::api::notifications::send_notifications(&shop.env.app, placed[0].clone()).await;
    assert_eq!(retried.map_err(|e| e.detail.clone()).unwrap()["sent"], true);
    assert_eq!(shop.env.emails().len(), 1);
}
