//! Orders after checkout: payments by signed webhook, cancellation with exact restock,
//! fulfilment, expiry. Against dynoxide through the real SDK.

use serde_json::json;
use std::sync::Arc;
use storefront::api::{jobs::*, orders::*};
use storefront_tests::{Shop, TEST_WEBHOOK_SECRET, id, payment_event, request, routed};

#[tokio::test(flavor = "multi_thread")]
async fn every_allowed_transition_works_and_every_other_is_refused_for_each_actor() {
    let shop = Shop::open().await;
    let p = shop.product("P").stock(1000).create().await;
    let ada = shop.customer(1).await;
    let bob = shop.customer(2).await;

    // Customer: may cancel only their own unpaid order.
    let o = shop.order(&ada, &p, 1, None).await;
    shop.cancel_order(&bob, &id(&o)).await.problem(404, "order_not_found");
    let cancelled = shop.cancel_order(&ada, &id(&o)).await;
    assert_eq!((cancelled.status, cancelled.body["status"].as_str()), (200, Some("cancelled")));
    shop.cancel_order(&ada, &id(&o)).await.problem(409, "invalid_transition");
    let paid = shop.order(&ada, &p, 1, None).await;
    assert_eq!(shop.pay(&paid, "evt-paid").await.status, 200);
    shop.cancel_order(&ada, &id(&paid)).await.problem(409, "invalid_transition");

    // Admin: ship and deliver in order only; cancel unpaid or paid, never later.
    let pending = shop.order(&ada, &p, 1, None).await;
    shop.admin_update_order(&id(&pending), json!({"status": "shipped"})).await.problem(409, "invalid_transition");
    shop.admin_update_order(&id(&paid), json!({"status": "delivered"})).await.problem(409, "invalid_transition");
    let shipped = shop.admin_update_order(&id(&paid), json!({"status": "shipped", "trackingNumber": "1Z999"})).await;
    assert_eq!(
        (shipped.body["status"].as_str(), shipped.body["trackingNumber"].as_str()),
        (Some("shipped"), Some("1Z999"))
    );
    shop.admin_update_order(&id(&paid), json!({"status": "cancelled"})).await.problem(409, "invalid_transition");
    let delivered = shop.admin_update_order(&id(&paid), json!({"status": "delivered"})).await;
    assert_eq!(delivered.body["status"], "delivered");
    for to in ["shipped", "delivered", "cancelled"] {
        shop.admin_update_order(&id(&paid), json!({"status": to})).await.problem(409, "invalid_transition");
    }
    assert_eq!(
        shop.admin_update_order(&id(&pending), json!({"status": "cancelled"})).await.body["status"],
        "cancelled"
    );
    shop.admin_update_order(&id(&pending), json!({"status": "shipped"})).await.problem(409, "invalid_transition");
    let paid2 = shop.order(&ada, &p, 1, None).await;
    shop.pay(&paid2, "evt-paid2").await;
    let refunded = shop.cancel_order(&shop.admin, &id(&paid2)).await;
    assert_eq!(
        (refunded.body["status"].as_str(), refunded.body["paymentStatus"].as_str()),
        (Some("cancelled"), Some("refunded"))
    );
    shop.admin_update_order(&id(&paid2), json!({"status": "paid"})).await.problem(422, "validation_failed");
    shop.admin_update_order(&id(&paid2), json!({"status": "shipped", "trackingNumber": ""}))
        .await
        .problem(422, "validation_failed");
    let mismatch = shop.admin_update_order(&id(&pending), json!({"status": "delivered", "trackingNumber": "X"})).await;
    assert_eq!(mismatch.error_fields(), ["trackingNumber"]);

    // Payment: succeeded pays an unpaid order; failed leaves it to be paid again.
    let to_fail = shop.order(&ada, &p, 1, None).await;
    assert_eq!(shop.payment_webhook(&payment_event(&to_fail, "evt-fail", false), None).await.status, 200);
    assert_eq!(shop.get_order(&shop.admin, &id(&to_fail)).await.body["status"], "pending_payment");
    // Every order keeps its history.
    let delivered_order = shop.get_order(&shop.admin, &id(&paid)).await.body;
    let history: Vec<&str> =
        delivered_order["history"].as_array().unwrap().iter().map(|h| h["status"].as_str().unwrap()).collect();
    assert_eq!(history, ["pending_payment", "paid", "shipped", "delivered"]);
    let by: Vec<String> = shop.get_order(&shop.admin, &id(&paid)).await.body["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["by"].as_str().unwrap().split(':').next().unwrap().to_owned())
        .collect();
    assert_eq!(by, ["customer", "payment", "admin", "admin"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn cancelling_restocks_each_line_once_and_gives_back_the_redemption() {
    let shop = Shop::open().await;
    let p = shop.product("P").stock(10).create().await;
    shop.create_discount(json!({"code": "ONCE", "amountOffCents": 100, "maxRedemptions": 1})).await;
    let ada = shop.customer(1).await;
    let o = shop.order(&ada, &p, 3, Some("ONCE")).await;
    assert_eq!(shop.stock(&p).await, 7);
    assert_eq!(shop.cancel_order(&ada, &id(&o)).await.status, 200);
    assert_eq!(shop.stock(&p).await, 10);
    shop.cancel_order(&ada, &id(&o)).await.problem(409, "invalid_transition");
    shop.admin_update_order(&id(&o), json!({"status": "cancelled"})).await.problem(409, "invalid_transition");
    shop.payment_webhook(&payment_event(&o, "evt-late-fail", false), None).await;
    assert_eq!(shop.stock(&p).await, 10, "no second restock");
    let listed = shop.list_discounts(&shop.admin).await;
    assert_eq!(listed.body["items"][0]["redemptions"], 0, "the redemption was given back");
    let again = shop.order(&ada, &p, 1, Some("ONCE")).await;
    assert_eq!(again["discountCents"], 100, "so the code can be used again");
}

#[tokio::test(flavor = "multi_thread")]
async fn webhooks_must_be_signed_fresh_and_match_the_order() {
    let shop = Shop::open().await;
    let p = shop.product("P").stock(10).create().await;
    let ada = shop.customer(1).await;
    let o = shop.order(&ada, &p, 1, None).await;
    let event = payment_event(&o, "evt-1", true);
    shop.payment_webhook(&event, Some(String::new())).await.problem(401, "invalid_signature");
    shop.payment_webhook(&event, Some("t=1,v1=00".into())).await.problem(401, "invalid_signature");
    let forged = storefront::auth::webhook::sign(
        "not-the-secret",
        shop.env.app.clock.now().unix_seconds(),
        event.to_string().as_bytes(),
    );
    shop.payment_webhook(&event, Some(forged)).await.problem(401, "invalid_signature");
    let old = storefront::auth::webhook::sign(
        TEST_WEBHOOK_SECRET,
        shop.env.app.clock.now().unix_seconds() - 301,
        event.to_string().as_bytes(),
    );
    shop.payment_webhook(&event, Some(old)).await.problem(401, "stale_signature");
    // A payment of another amount or currency is kept and flagged, not lost, and acknowledged.
    let mut wrong = payment_event(&o, "evt-wrong-amount", true);
    wrong["data"]["amountCents"] = json!(1);
    assert_eq!(shop.payment_webhook(&wrong, None).await.status, 200);
    let mut wrong = payment_event(&o, "evt-wrong-currency", true);
    wrong["data"]["currency"] = json!("EUR");
    assert_eq!(shop.payment_webhook(&wrong, None).await.status, 200);
    let flagged = shop.get_order(&shop.admin, &id(&o)).await.body;
    assert_eq!(
        (flagged["status"].as_str(), flagged["paymentIssue"].as_str()),
        (Some("pending_payment"), Some("amount_mismatch"))
    );
    assert_eq!(shop.env.events_of("payment.issue").await.len(), 2, "each recorded once");
    let mut unknown = event.clone();
    unknown["data"]["orderId"] = json!("01ARZ3NDEKTSV4RRFFQ69G5FAV");
    shop.payment_webhook(&unknown, None).await.problem(404, "order_not_found");
    let ok = shop.payment_webhook(&event, None).await;
    assert_eq!((ok.status, &ok.body), (200, &json!({"received": true})));
    let paid = shop.get_order(&shop.admin, &id(&o)).await.body;
    assert_eq!((paid["status"].as_str(), paid["paymentId"].as_str()), (Some("paid"), Some("pay-evt-1")));
    assert_eq!(shop.payment_webhook(&event, None).await.status, 200, "a replay is acknowledged");
    assert_eq!(
        shop.get_order(&shop.admin, &id(&o)).await.body["history"].as_array().unwrap().len(),
        2,
        "and changes nothing"
    );
    let other_type = json!({"id": "evt-x", "type": "payment.refunded", "data": {"refundId": "re_1", "extra": [1, 2]}});
    assert_eq!(shop.payment_webhook(&other_type, None).await.status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_payment_for_a_cancelled_order_leaves_it_cancelled_and_is_refunded() {
    let shop = Shop::open().await;
    let p = shop.product("P").stock(10).create().await;
    let ada = shop.customer(1).await;
    let o = shop.order(&ada, &p, 2, None).await;
    shop.cancel_order(&ada, &id(&o)).await;
    assert_eq!(shop.pay(&o, "evt-late").await.status, 200);
    let after = shop.get_order(&shop.admin, &id(&o)).await.body;
    assert_eq!((after["status"].as_str(), after["paymentStatus"].as_str()), (Some("cancelled"), Some("refunded")));
    assert_eq!(shop.stock(&p).await, 10, "the stock stays restocked");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_payment_racing_a_cancel_has_exactly_one_winner_and_stock_agrees() {
    let shop = Arc::new(Shop::open().await);
    let p = shop.product("P").stock(100).create().await;
    let ada = Arc::new(shop.customer(1).await);
    for round in 0..8 {
        let o = shop.order(&ada, &p, 2, None).await;
        let before = shop.stock(&p).await;
        let (s1, s2, a1) = (shop.clone(), shop.clone(), ada.clone());
        let order = o.clone();
        let pay = tokio::spawn(async move { s1.pay(&order, &format!("evt-race-{round}")).await });
        let oid = id(&o);
        let cancel = tokio::spawn(async move { s2.cancel_order(&a1, &oid).await });
        let (paid, cancelled) = (pay.await.unwrap(), cancel.await.unwrap());
        assert_eq!(paid.status, 200);
        let after = shop.get_order(&shop.admin, &id(&o)).await.body;
        match after["status"].as_str().unwrap() {
            "paid" => {
                cancelled.problem(409, "invalid_transition");
                assert_eq!(shop.stock(&p).await, before, "paid: the units stay sold");
            }
            "cancelled" => {
                assert_eq!(cancelled.status, 200);
                assert_eq!(after["paymentStatus"], "refunded", "the payment that lost is given back");
                assert_eq!(shop.stock(&p).await, before + 2, "cancelled: restocked once");
            }
            other => panic!("unexpected status {other}"),
        }
        let ours = |events: Vec<serde_json::Value>| events.iter().filter(|e| e["subject"]["id"] == o["id"]).count();
        let paid = ours(shop.env.events_of("order.paid").await);
        let cancelled = ours(shop.env.events_of("order.cancelled").await);
        assert_eq!(paid + cancelled, 1, "exactly one of order.paid and order.cancelled");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ten_concurrent_replays_of_one_event_have_one_effect() {
    let shop = Arc::new(Shop::open().await);
    let p = shop.product("P").stock(10).create().await;
    let ada = shop.customer(1).await;
    for (succeeded, label) in [(true, "ok"), (false, "fail")] {
        let o = shop.order(&ada, &p, 2, None).await;
        let event = payment_event(&o, &format!("evt-replay-{label}"), succeeded);
        let tasks: Vec<_> = (0..10)
            .map(|_| {
                let (shop, event) = (shop.clone(), event.clone());
                tokio::spawn(async move { shop.payment_webhook(&event, None).await.status })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap(), 200);
        }
        let after = shop.get_order(&shop.admin, &id(&o)).await.body;
        let (changes, state) = if succeeded { (2, "succeeded") } else { (1, "failed") };
        assert_eq!(after["history"].as_array().unwrap().len(), changes, "{label}: one change");
        assert_eq!(after["payment"]["status"], state, "{label}");
    }
    assert_eq!(shop.stock(&p).await, 6, "the failed payment's order keeps its units for the next attempt");
}

#[tokio::test(flavor = "multi_thread")]
async fn two_concurrent_expiry_runs_cancel_each_overdue_order_once() {
    let shop = Arc::new(Shop::open().await);
    let p = shop.product("P").stock(200).create().await;
    let mut orders = Vec::new();
    for i in 0..30 {
        let c = shop.customer(i).await;
        orders.push(shop.order(&c, &p, 2, None).await);
    }
    let c = shop.customer(99).await;
    let paid = shop.order(&c, &p, 5, None).await;
    shop.pay(&paid, "evt-before-expiry").await;
    assert_eq!(shop.stock(&p).await, 200 - 60 - 5);
    let fresh_customer = shop.customer(100).await;
    shop.env.app.clock.advance(31 * 60);
    let fresh = shop.order(&fresh_customer, &p, 1, None).await;
    let runs: Vec<_> = (0..2)
        .map(|_| {
            let shop = shop.clone();
            tokio::spawn(async move { expire_orders(&shop.env.app).await.map_err(|e| e.detail.clone()) })
        })
        .collect();
    let mut cancelled = 0;
    for run in runs {
        cancelled += run.await.unwrap().unwrap()["cancelled"].as_u64().unwrap();
    }
    assert_eq!(cancelled, 30, "each overdue order cancelled by exactly one run");
    let expired = shop.env.events_of("order.cancelled").await;
    assert_eq!(expired.len(), 30, "one order.cancelled per expired order");
    assert!(expired.iter().all(|e| e["data"]["reason"] == "expired"));
    for o in &orders {
        let after = shop.get_order(&shop.admin, &id(o)).await.body;
        assert_eq!(after["status"], "cancelled");
        assert_eq!(after["history"].as_array().unwrap().last().unwrap()["by"], "expiry");
    }
    assert_eq!(shop.get_order(&shop.admin, &id(&paid)).await.body["status"], "paid", "a paid order is never expired");
    assert_eq!(
        shop.get_order(&shop.admin, &id(&fresh)).await.body["status"],
        "pending_payment",
        "an order within its window is kept"
    );
    assert_eq!(shop.stock(&p).await, 200 - 5 - 1, "each expired order restocked exactly once");
    let again = expire_orders(&shop.env.app).await.map_err(|e| e.detail.clone()).unwrap();
    assert_eq!(again["cancelled"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn admins_list_orders_by_status_newest_first() {
    let shop = Shop::open().await;
    let p = shop.product("P").stock(100).create().await;
    let ada = shop.customer(1).await;
    let mut pending = Vec::new();
    for _ in 0..3 {
        pending.push(id(&shop.order(&ada, &p, 1, None).await));
    }
    let paid = shop.order(&shop.customer(2).await, &p, 1, None).await;
    shop.pay(&paid, "evt-list").await;
    let page = shop.admin_list_orders(&[("status", "pending_payment"), ("limit", "2")]).await;
    let ids: Vec<&str> = page.body["items"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [pending[2].as_str(), pending[1].as_str()]);
    let cursor = page.body["nextCursor"].as_str().unwrap().to_owned();
    let rest = shop.admin_list_orders(&[("status", "pending_payment"), ("cursor", &cursor)]).await;
    assert_eq!(rest.body["items"][0]["id"], pending[0].as_str());
    shop.admin_list_orders(&[("status", "paid"), ("cursor", &cursor)]).await.problem(400, "invalid_cursor");
    let paid_list = shop.admin_list_orders(&[("status", "paid")]).await;
    assert_eq!(paid_list.body["items"][0]["id"], id(&paid).as_str());
    shop.admin_list_orders(&[]).await.problem(422, "validation_failed");
    shop.admin_list_orders(&[("status", "lost")]).await.problem(422, "validation_failed");
    let customer = routed(request("GET", "/admin/orders", None, Some(&ada)), &[], &[("status", "paid")]);
    shop.env.call(admin_list_orders, customer).await.problem(403, "forbidden");
}

#[tokio::test(flavor = "multi_thread")]
async fn stock_is_conserved_through_orders_cancels_payments_failures_and_expiry() {
    let shop = Arc::new(Shop::open().await);
    let initial = 60;
    let p = shop.product("P").stock(initial).create().await;
    let mut orders = Vec::new();
    for i in 0..12 {
        let c = shop.customer(i).await;
        let o = shop.order(&c, &p, 1 + (i as i64 % 3), None).await;
        orders.push((c, o));
    }
    let tasks: Vec<_> = orders
        .iter()
        .enumerate()
        .map(|(i, (c, o))| {
            let (shop, c, o) = (shop.clone(), c.clone(), o.clone());
            tokio::spawn(async move {
                match i % 4 {
                    0 => {
                        shop.pay(&o, &format!("evt-c-{i}")).await;
                    }
                    1 => {
                        shop.cancel_order(&c, &id(&o)).await;
                    }
                    2 => {
                        shop.payment_webhook(&payment_event(&o, &format!("evt-f-{i}"), false), None).await;
                    }
                    _ => {
                        // Pay and cancel at once; whichever wins, stock must agree.
                        let (event, order_id) = (format!("evt-r-{i}"), id(&o));
                        let (a, b) = tokio::join!(shop.pay(&o, &event), shop.cancel_order(&c, &order_id));
                        let _ = (a, b);
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    shop.env.app.clock.advance(3600);
    expire_orders(&shop.env.app).await.map_err(|e| e.detail.clone()).unwrap();
    assert_eq!(shop.adjust_stock(&p, 7).await.status, 200);
    let mut held = 0;
    for (_, o) in &orders {
        let after = shop.get_order(&shop.admin, &id(o)).await.body;
        if after["status"] != "cancelled" {
            held += after["items"][0]["quantity"].as_i64().unwrap();
        }
    }
    assert_eq!(initial + 7, shop.stock(&p).await + held, "initial + adjustments = stock + units in live orders");
}
