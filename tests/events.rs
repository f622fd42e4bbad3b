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

    assert_eq!(shop.archive_product(&p).await.status, 204);
    let archived = shop.env.events_of("product.archived").await;
    assert_eq!((archived.len(), &archived[0]["data"]["active"]), (1, &json!(false)));

    let written: BTreeSet<String> = happened(&shop).await.into_iter().map(|(kind, _)| kind).collect();
    let documented: BTreeSet<String> = storefront_tests::events::documented_types().into_iter().collect();
    assert_eq!(written, documented, "every documented type is written, and nothing else");
    let ids: BTreeSet<String> = shop.env.events().await.iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(ids.len(), shop.env.events().await.len(), "every event has an id of its own");
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
async fn cancellations_say_why_expired_failed_payment_and_admin() {
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

    let reasons: Vec<(String, String, bool)> = shop
        .env
        .events_of("order.cancelled")
        .await
        .iter()
        .map(|e| {
            let data = &e["data"];
            (id(data), data["reason"].as_str().unwrap().to_owned(), data["refundDue"] == true)
        })
        .collect();
    assert_eq!(
        reasons,
        [
            (id(&by_admin), "admin".to_owned(), true),
            (id(&failed), "payment_failed".to_owned(), false),
            (id(&overdue), "expired".to_owned(), false)
        ]
    );
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
