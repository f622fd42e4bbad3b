//! Money going back: refunds of lines and of amounts (never more than was paid, also under
//! concurrent refunds; restocked units back once), automatic refunds of payments an order
//! cannot take, failed and mismatched payments. Against dynoxide through the real SDK.

use serde_json::{Value, json};
use std::sync::Arc;
use storefront_tests::{Answer, Shop, checkout, id, payment_event};

/// A paid order of 2 × A at 25.00 and 1 × B at 10.50 with 10% off (605), shipped free to the
/// US (no tax): 54.45. The lines were paid 45.00 (22.50 a unit) and 9.45.
/// Also the customer's token.
async fn paid_order(shop: &Shop, customer: usize) -> (Value, String, String, String) {
    shop.create_discount(json!({"code": format!("TEN{customer}"), "percentOff": 10})).await;
    let a = shop.product(&format!("A{customer}")).price(2500).stock(10).create().await;
    let b = shop.product(&format!("B{customer}")).price(1050).stock(10).create().await;
    let c = shop.customer(customer).await;
    assert_eq!(shop.put_cart_item(&c, &a, json!(2)).await.status, 200);
    assert_eq!(shop.put_cart_item(&c, &b, json!(1)).await.status, 200);
    let code = format!("TEN{customer}");
    let placed = shop.place_order(&c, Some("order"), &checkout("US", "standard", Some(&code))).await;
    assert_eq!((placed.status, placed.body["totalCents"].as_i64()), (201, Some(5445)), "{:#}", placed.body);
    assert_eq!(placed.body["payment"], json!({"provider": "manual", "status": "pending"}));
    assert_eq!(
        (placed.body["paymentStatus"].as_str(), placed.body["refundedCents"].as_i64()),
        (Some("unpaid"), Some(0))
    );
    assert_eq!(shop.pay(&placed.body, &format!("evt-pay-{customer}")).await.status, 200);
    (placed.body, a, b, c)
}

fn variant(order: &Value, line: usize) -> String {
    order["items"][line]["variantId"].as_str().expect("a variant id").to_owned()
}

async fn order_now(shop: &Shop, order: &Value) -> Value {
    shop.get_order(&shop.admin, &id(order)).await.body
}

#[tokio::test(flavor = "multi_thread")]
async fn a_line_refund_gives_back_what_its_units_were_paid_restocks_once_and_is_made_once_per_key() {
    let shop = Shop::open().await;
    let (order, a, _, _) = paid_order(&shop, 1).await;
    let paid = order_now(&shop, &order).await;
    assert_eq!((paid["paymentStatus"].as_str(), paid["capturedCents"].as_i64()), (Some("paid"), Some(5445)));
    assert_eq!(paid["payment"]["status"], "succeeded");
    let available = shop.stock(&a).await;
    let body = json!({"lines": [{"variantId": variant(&order, 0), "quantity": 1}], "restock": true,
        "reason": "Arrived damaged"});
    let refund = shop.refund(&id(&order), Some("r-1"), body.clone()).await;
    assert_eq!(refund.status, 201, "{:#}", refund.body);
    for (field, expected) in [
        ("amountCents", json!(2250)),
        ("status", json!("succeeded")),
        ("restocked", json!(true)),
        ("orderId", json!(id(&order))),
        ("reason", json!("Arrived damaged")),
        ("source", json!("admin")),
    ] {
        assert_eq!(refund.body[field], expected, "{field}: {:#}", refund.body);
    }
    assert_eq!(refund.body["lines"], json!([{"variantId": variant(&order, 0), "quantity": 1, "amountCents": 2250}]));
    assert_eq!(shop.stock(&a).await, available + 1, "the unit is released from the order");

    let again = shop.refund(&id(&order), Some("r-1"), body.clone()).await;
    assert_eq!((again.status, &again.body["id"]), (201, &refund.body["id"]), "the same key makes it once");
    assert_eq!(shop.stock(&a).await, available + 1, "and restocks once");
    let other = json!({"amountCents": 100, "restock": false});
    shop.refund(&id(&order), Some("r-1"), other).await.problem(422, "idempotency_key_reused");

    let now = order_now(&shop, &order).await;
    assert_eq!(
        (now["refundedCents"].as_i64(), now["paymentStatus"].as_str()),
        (Some(2250), Some("partially_refunded"))
    );
    assert_eq!(
        (now["items"][0]["refundedQuantity"].as_i64(), now["items"][0]["restockedQuantity"].as_i64()),
        (Some(1), Some(1))
    );
    let listed = shop.refunds(&id(&order)).await;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(1), "{:#}", listed.body);
    let events = shop.env.events_of("order.refunded").await;
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0]["data"]["amountCents"].as_i64(), events[0]["data"]["order"]["refundedCents"].as_i64()),
        (Some(2250), Some(2250))
    );

    // Shipping takes what is left of the line; a refund after it puts the unit on the shelf.
    let shipped = shop.admin_update_order(&id(&order), json!({"status": "shipped"})).await;
    assert_eq!(shipped.status, 200, "{:#}", shipped.body);
    let on_shelf = shop.stock(&a).await;
    let second = json!({"lines": [{"variantId": variant(&order, 0), "quantity": 1}], "restock": true});
    let refund = shop.refund(&id(&order), Some("r-2"), second).await;
    assert_eq!((refund.status, refund.body["amountCents"].as_i64()), (201, Some(2250)), "{:#}", refund.body);
    assert_eq!(shop.stock(&a).await, on_shelf + 1, "the parcel's unit back on the shelf");
    let third = json!({"lines": [{"variantId": variant(&order, 0), "quantity": 1}], "restock": true});
    let refused = shop.refund(&id(&order), Some("r-3"), third).await;
    assert_eq!(refused.problem(409, "refund_exceeds_payment").body["refundableCents"], 5445 - 4500);
    let rest = shop.refund(&id(&order), Some("r-4"), json!({"amountCents": 945, "restock": false})).await;
    assert_eq!(rest.status, 201, "{:#}", rest.body);
    assert_eq!(order_now(&shop, &order).await["paymentStatus"], "refunded");
    let more = shop.refund(&id(&order), Some("r-5"), json!({"amountCents": 1, "restock": false})).await;
    more.problem(409, "refund_exceeds_payment");
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_refunds_never_give_back_more_than_was_captured() {
    let shop = Arc::new(Shop::open().await);
    let (order, _, _, _) = paid_order(&shop, 1).await;
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let shop = shop.clone();
            let order = id(&order);
            tokio::spawn(async move {
                let answer = shop
                    .refund(&order, Some(&format!("rush-{i}")), json!({"amountCents": 1500, "restock": false}))
                    .await;
                (answer.status, answer.code().to_owned())
            })
        })
        .collect();
    let mut made = 0;
    for task in tasks {
        match task.await.unwrap() {
            (201, _) => made += 1,
            (409, code) => assert_eq!(code, "refund_exceeds_payment"),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(made, 3, "54.45 holds three refunds of 15.00");
    let now = order_now(&shop, &order).await;
    assert_eq!(now["refundedCents"], 4500);
    let listed = shop.refunds(&id(&order)).await.body["items"].as_array().map(Vec::len);
    assert_eq!(listed, Some(3));
}

#[tokio::test(flavor = "multi_thread")]
async fn refund_requests_are_checked_before_anything_moves() {
    let shop = Shop::open().await;
    let (order, _, _, _) = paid_order(&shop, 1).await;
    let o = id(&order);
    let line = |v: &str, q: i64| json!({"lines": [{"variantId": v, "quantity": q}], "restock": true});
    shop.refund(&o, None, json!({"amountCents": 1, "restock": false})).await.problem(400, "idempotency_key_required");
    let no_restock = shop.refund(&o, Some("k1"), json!({"amountCents": 1})).await;
    assert_eq!(no_restock.problem(422, "validation_failed").error_fields(), vec!["restock"]);
    let stranger = format!("{}-1", storefront::domain::ProductId::new());
    let unknown = shop.refund(&o, Some("k2"), line(&stranger, 1)).await;
    assert_eq!(unknown.problem(422, "validation_failed").error_fields(), vec!["lines[0].variantId"]);
    shop.refund(&o, Some("k3"), line(&variant(&order, 0), 3)).await.problem(409, "refund_exceeds_payment");
    let nothing = shop.refund(&o, Some("k4"), json!({"restock": false})).await;
    assert_eq!(nothing.problem(422, "validation_failed").error_fields(), vec!["amountCents"]);
    let zero = shop.refund(&o, Some("k5"), json!({"amountCents": 0, "restock": false})).await;
    assert_eq!(zero.problem(422, "validation_failed").error_fields(), vec!["amountCents"]);
    let missing = storefront::domain::OrderId::new().to_string();
    shop.refund(&missing, Some("k6"), json!({"amountCents": 1, "restock": false}))
        .await
        .problem(404, "order_not_found");
    shop.refunds(&missing).await.problem(404, "order_not_found");
    let c = shop.customer(2).await;
    let unpaid = shop.order(&c, &shop.product("U").price(100).stock(5).create().await, 1, None).await;
    shop.refund(&id(&unpaid), Some("k7"), json!({"amountCents": 1, "restock": false}))
        .await
        .problem(409, "refund_exceeds_payment");
    let mut as_customer =
        storefront_tests::request("POST", "/r", Some(&json!({"amountCents": 1, "restock": false})), Some(&c));
    as_customer.headers_mut().insert("idempotency-key", "k8".parse().unwrap());
    let as_customer = storefront_tests::routed(as_customer, &[("id", &o)], &[]);
    shop.env.call(storefront::api::payments::create_refund, as_customer).await.problem(403, "forbidden");
    assert_eq!(order_now(&shop, &order).await["refundedCents"], 0, "nothing was refunded");
}

#[tokio::test(flavor = "multi_thread")]
async fn cancelling_a_paid_order_refunds_the_rest_and_a_late_payment_is_refunded_automatically() {
    let shop = Shop::open().await;
    let (order, a, _, _) = paid_order(&shop, 1).await;
    let partial = json!({"lines": [{"variantId": variant(&order, 0), "quantity": 1}], "restock": true});
    assert_eq!(shop.refund(&id(&order), Some("p"), partial).await.status, 201);
    let before = shop.stock(&a).await;
    let cancelled = shop.admin_update_order(&id(&order), json!({"status": "cancelled"})).await;
    assert_eq!(cancelled.status, 200, "{:#}", cancelled.body);
    assert_eq!(
        (cancelled.body["refundedCents"].as_i64(), cancelled.body["paymentStatus"].as_str()),
        (Some(5445), Some("refunded"))
    );
    assert_eq!(shop.stock(&a).await, before + 1, "only the unit not released before comes back");
    let refunds = shop.refunds(&id(&order)).await.body;
    let automatic = &refunds["items"][1];
    assert_eq!(
        (automatic["amountCents"].as_i64(), automatic["source"].as_str(), automatic["status"].as_str()),
        (Some(3195), Some("automatic"), Some("succeeded"))
    );

    // A payment that arrives for an order expiry cancelled goes back, whole, through the provider.
    let c = shop.customer(2).await;
    let late = shop.order(&c, &shop.product("LATE").price(700).stock(5).create().await, 1, None).await;
    shop.env.app.clock.advance(31 * 60);
    storefront::api::jobs::expire_orders(&shop.env.app).await.map_err(|e| e.detail.clone()).unwrap();
    assert_eq!(shop.pay(&late, "evt-late").await.status, 200);
    assert_eq!(shop.pay(&late, "evt-late").await.status, 200, "a replay changes nothing");
    let now = order_now(&shop, &late).await;
    assert_eq!((now["status"].as_str(), now["paymentStatus"].as_str()), (Some("cancelled"), Some("refunded")));
    let refunds = shop.refunds(&id(&late)).await.body;
    assert_eq!(refunds["items"].as_array().map(Vec::len), Some(1), "{refunds:#}");
    assert_eq!(
        (refunds["items"][0]["amountCents"].as_i64(), refunds["items"][0]["paymentId"].as_str()),
        (Some(1200), Some("pay-evt-late"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_payment_leaves_the_order_to_try_again_and_a_mismatched_one_is_kept_and_flagged() {
    let shop = Shop::open().await;
    let p = shop.product("P").price(1000).stock(5).create().await;
    let c = shop.customer(1).await;
    let order = shop.order(&c, &p, 1, None).await;
    let failed: Answer = shop.payment_webhook(&payment_event(&order, "evt-fail", false), None).await;
    assert_eq!(failed.status, 200);
    let now = order_now(&shop, &order).await;
    assert_eq!((now["status"].as_str(), now["payment"]["status"].as_str()), (Some("pending_payment"), Some("failed")));
    assert_eq!(shop.stock(&p).await, 4, "its units stay reserved for the next attempt");

    let mut wrong = payment_event(&order, "evt-short", true);
    wrong["data"]["amountCents"] = json!(1);
    assert_eq!(shop.payment_webhook(&wrong, None).await.status, 200, "acknowledged, so the provider stops");
    let now = order_now(&shop, &order).await;
    assert_eq!(
        (now["status"].as_str(), now["paymentIssue"].as_str()),
        (Some("pending_payment"), Some("amount_mismatch"))
    );
    let issues = shop.env.events_of("payment.issue").await;
    assert_eq!(issues.len(), 1);
    assert_eq!(
        (issues[0]["data"]["issue"].as_str(), issues[0]["data"]["reported"]["amountCents"].as_i64()),
        (Some("amount_mismatch"), Some(1))
    );
    assert_eq!(shop.payment_webhook(&wrong, None).await.status, 200);
    assert_eq!(shop.env.events_of("payment.issue").await.len(), 1, "recorded once");

    assert_eq!(shop.pay(&order, "evt-right").await.status, 200);
    assert_eq!(order_now(&shop, &order).await["status"], "paid", "the right payment still pays it");
}

async fn delivered(shop: &Shop, order: &Value) {
    for status in ["shipped", "delivered"] {
        let answer = shop.admin_update_order(&id(order), json!({"status": status})).await;
        assert_eq!(answer.status, 200, "{:#}", answer.body);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_received_return_is_back_on_the_shelf_and_refunded_once() {
    let shop = Shop::open().await;
    let (order, _, b, c) = paid_order(&shop, 1).await;
    shop.request_return(
        &c,
        &id(&order),
        json!({"lines": [{"variantId": variant(&order, 1), "quantity": 1}], "reason": "Too small"}),
    )
    .await
    .problem(409, "return_not_allowed");
    delivered(&shop, &order).await;
    let shelf = shop.stock(&b).await;
    let body = json!({"lines": [{"variantId": variant(&order, 1), "quantity": 1}], "reason": "Too small"});
    let requested = shop.request_return(&c, &id(&order), body.clone()).await;
    assert_eq!((requested.status, requested.body["status"].as_str()), (201, Some("requested")), "{:#}", requested.body);
    let more = shop.request_return(&c, &id(&order), body).await;
    assert_eq!(
        more.problem(422, "validation_failed").error_fields(),
        vec!["lines[0].quantity"],
        "one unit, returned already"
    );
    assert_eq!(order_now(&shop, &order).await["items"][1]["returnedQuantity"], 1);
    let listed = shop.returns(&[("status", "requested")]).await;
    assert_eq!(listed.body["items"][0]["id"], requested.body["id"], "{:#}", listed.body);
    assert_eq!(shop.returns(&[("status", "received")]).await.body["items"], json!([]));

    let rid = id(&requested.body);
    let received = shop.decide_return(&rid, "received").await;
    assert_eq!((received.status, received.body["status"].as_str()), (200, Some("received")), "{:#}", received.body);
    assert_eq!(shop.stock(&b).await, shelf + 1, "back on the shelf");
    let refunds = shop.refunds(&id(&order)).await.body;
    let refund = &refunds["items"][0];
    assert_eq!(
        (refund["amountCents"].as_i64(), refund["source"].as_str(), refund["returnId"].as_str()),
        (Some(945), Some("return"), Some(rid.as_str()))
    );
    assert_eq!(received.body["refundId"], refund["id"]);
    shop.decide_return(&rid, "received").await.problem(409, "invalid_transition");
    shop.decide_return(&rid, "rejected").await.problem(409, "invalid_transition");
    assert_eq!(shop.stock(&b).await, shelf + 1, "once");
    assert_eq!(order_now(&shop, &order).await["refundedCents"], 945);
    assert_eq!(shop.returns(&[("status", "received")]).await.body["items"][0]["id"], rid.as_str());
    for kind in ["return.requested", "return.received"] {
        assert_eq!(shop.env.events_of(kind).await.len(), 1, "{kind}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rejected_return_frees_its_units_and_the_window_closes_after_its_days() {
    let shop = Shop::open().await;
    let (order, a, _, c) = paid_order(&shop, 1).await;
    delivered(&shop, &order).await;
    let both = json!({"lines": [{"variantId": variant(&order, 0), "quantity": 2}], "reason": "Changed my mind"});
    let first = shop.request_return(&c, &id(&order), both.clone()).await;
    assert_eq!(first.status, 201, "{:#}", first.body);
    let rejected = shop.decide_return(&id(&first.body), "rejected").await;
    assert_eq!(rejected.body["status"], "rejected");
    assert_eq!(order_now(&shop, &order).await["items"][0].get("returnedQuantity"), None, "given back");
    let stranger = shop.customer(2).await;
    shop.request_return(&stranger, &id(&order), both.clone()).await.problem(404, "order_not_found");
    shop.request_return(&c, &id(&order), json!({"reason": "x"})).await.problem(422, "validation_failed");

    // A unit refunded before it comes back: the return puts it on the shelf and refunds nothing more.
    let refund = json!({"lines": [{"variantId": variant(&order, 0), "quantity": 1}], "restock": false});
    assert_eq!(shop.refund(&id(&order), Some("before"), refund).await.status, 201);
    let one = json!({"lines": [{"variantId": variant(&order, 0), "quantity": 2}], "reason": "Both broke"});
    let second = shop.request_return(&c, &id(&order), one).await;
    let shelf = shop.stock(&a).await;
    let received = shop.decide_return(&id(&second.body), "received").await;
    assert_eq!(received.status, 200, "{:#}", received.body);
    assert_eq!(shop.stock(&a).await, shelf + 2, "both units back");
    let refunds = shop.refunds(&id(&order)).await.body["items"].clone();
    assert_eq!(refunds.as_array().map(Vec::len), Some(2));
    assert_eq!(refunds[1]["amountCents"], 2250, "only the unit not refunded before");
    assert_eq!(order_now(&shop, &order).await["refundedCents"], 4500);

    shop.returns(&[("status", "lost")]).await.problem(422, "validation_failed");
    let missing = storefront::domain::ReturnId::new().to_string();
    shop.decide_return(&missing, "received").await.problem(404, "return_not_found");

    // 30 days after delivery (signed in again: the session idled out meanwhile).
    shop.env.app.clock.advance(30 * 86_400);
    let c = shop.env.login("customer1@example.com", "a password for tests").await.access_token();
    let late = json!({"lines": [{"variantId": variant(&order, 1), "quantity": 1}], "reason": "Late"});
    shop.request_return(&c, &id(&order), late).await.problem(409, "return_not_allowed");
}

#[tokio::test(flavor = "multi_thread")]
async fn stock_is_conserved_with_refunds_returns_and_cancels_racing() {
    let shop = Arc::new(Shop::open().await);
    let initial = 60;
    let p = shop.product("CONSERVE").price(1000).stock(initial).create().await;
    let line = format!("{p}-1");
    let mut orders = Vec::new();
    for i in 0..12 {
        let c = shop.customer(i).await;
        let o = shop.order(&c, &p, 3, None).await;
        assert_eq!(shop.pay(&o, &format!("evt-conserve-{i}")).await.status, 200);
        orders.push((c, o));
    }
    let units =
        move |q: i64, restock: bool| json!({"lines": [{"variantId": line.clone(), "quantity": q}], "restock": restock});
    let tasks: Vec<_> = orders
        .iter()
        .enumerate()
        .map(|(i, (c, o))| {
            let (shop, c, o, units) = (shop.clone(), c.clone(), o.clone(), units.clone());
            tokio::spawn(async move {
                let oid = id(&o);
                let back = |q: i64| json!({"lines": [{"variantId": o["items"][0]["variantId"], "quantity": q}], "reason": "r"});
                match i % 4 {
                    0 => {
                        shop.refund(&oid, Some("a"), units(1, true)).await;
                        delivered(&shop, &o).await;
                        let asked = shop.request_return(&c, &oid, back(1)).await;
                        shop.decide_return(&id(&asked.body), "received").await;
                    }
                    1 => {
                        let (a, b) = tokio::join!(
                            shop.refund(&oid, Some("a"), units(2, false)),
                            shop.refund(&oid, Some("b"), units(1, true))
                        );
                        let _ = (a, b);
                        shop.admin_update_order(&oid, json!({"status": "cancelled"})).await;
                    }
                    2 => {
                        delivered(&shop, &o).await;
                        let rejected = shop.request_return(&c, &oid, back(2)).await;
                        shop.decide_return(&id(&rejected.body), "rejected").await;
                        let received = shop.request_return(&c, &oid, back(1)).await;
                        let rid = id(&received.body);
                        let (a, b) =
                            tokio::join!(shop.decide_return(&rid, "received"), shop.decide_return(&rid, "received"));
                        let _ = (a, b);
                    }
                    _ => {
                        let (a, b, s) = tokio::join!(
                            shop.refund(&oid, Some("a"), units(2, true)),
                            shop.refund(&oid, Some("b"), units(2, true)),
                            shop.admin_update_order(&oid, json!({"status": "shipped"}))
                        );
                        let _ = (a, b, s);
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(shop.adjust_stock(&p, 5).await.status, 200);
    let mut out = 0;
    for (_, o) in &orders {
        let now = order_now(&shop, o).await;
        let line = &now["items"][0];
        let (bought, refunded) = (line["quantity"].as_i64().unwrap(), line["refundedQuantity"].as_i64().unwrap_or(0));
        let restocked = line["restockedQuantity"].as_i64().unwrap_or(0);
        assert!(refunded <= bought && restocked <= bought, "{now:#}");
        assert!(now["refundedCents"].as_i64() <= now["capturedCents"].as_i64(), "{now:#}");
        let refunds = shop.refunds(&id(o)).await.body["items"].clone();
        let made: i64 = refunds
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["status"] != "failed")
            .map(|r| r["amountCents"].as_i64().unwrap())
            .sum();
        assert_eq!(Some(made), now["refundedCents"].as_i64(), "the order counts its refunds: {refunds:#}");
        if now["status"] != "cancelled" {
            out += bought - restocked;
        }
    }
    assert_eq!(initial + 5, shop.stock(&p).await + out, "initial + adjustments = stock + units still out with orders");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_return_received_after_goodwill_refunds_refunds_only_what_is_left() {
    let shop = Shop::open().await;
    let (order, _, b, c) = paid_order(&shop, 1).await;
    let goodwill = json!({"amountCents": 5445 - 100, "restock": false});
    assert_eq!(shop.refund(&id(&order), Some("goodwill"), goodwill).await.status, 201);
    delivered(&shop, &order).await;
    let body = json!({"lines": [{"variantId": variant(&order, 1), "quantity": 1}], "reason": "Too small"});
    let asked = shop.request_return(&c, &id(&order), body).await;
    let shelf = shop.stock(&b).await;
    let received = shop.decide_return(&id(&asked.body), "received").await;
    assert_eq!((received.status, received.body["status"].as_str()), (200, Some("received")), "{:#}", received.body);
    assert_eq!(shop.stock(&b).await, shelf + 1, "back on the shelf");
    let refunds = shop.refunds(&id(&order)).await.body["items"].clone();
    assert_eq!(refunds[1]["amountCents"], 100, "only what was left, not the 945 it was paid");
    assert_eq!(order_now(&shop, &order).await["paymentStatus"], "refunded");
}
