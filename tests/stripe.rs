//! The Stripe adapter, against a stand-in for Stripe's API that answers with Stripe's own example
//! objects, and Stripe's webhook events (its example event, carrying its example objects),
//! signed per its `Stripe-Signature` scheme.

use serde_json::{Value, json};
use storefront::config::SecretSource;
use storefront::domain::ProviderName;
use storefront_tests::stripe::{StripeStandIn, event, fixture};
use storefront_tests::{Answer, Shop, checkout, id};

const KEY: &str = "sk_test_storefront_stand_in";
const SIGNING: &str = "whsec_storefront_stripe_test";

async fn shop() -> (Shop, StripeStandIn) {
    let stripe = StripeStandIn::start().await;
    let url = stripe.url.clone();
    let shop = Shop::open_configured(move |config| {
        config.payment_provider = ProviderName::Stripe;
        config.stripe.secret_key = Some(SecretSource::Value(KEY.into()));
        config.stripe.webhook_secret = Some(SecretSource::Value(SIGNING.into()));
        config.stripe.api_base = Some(url);
    })
    .await;
    (shop, stripe)
}

/// `POST /webhooks/stripe` with `event`, signed now with `secrets` (each a `v1`).
async fn deliver(shop: &Shop, event: &Value, secrets: &[&str], at: i64) -> Answer {
    let body = event.to_string();
    let mut header = format!("t={at}");
    for secret in secrets {
        let signed = storefront::auth::webhook::sign(secret, at, body.as_bytes());
        header.push_str(&signed[signed.find(",v1=").expect("a v1")..]);
    }
    let mut req = storefront_tests::raw_request("POST", "/webhooks/stripe", Some("application/json"), &body);
    req.headers_mut().insert("stripe-signature", header.parse().unwrap());
    shop.env.call(storefront::api::payments::stripe_webhook, req).await
}

async fn send(shop: &Shop, event: &Value) -> Answer {
    deliver(shop, event, &[SIGNING], shop.env.app.clock.now().unix_seconds()).await
}

/// The order's PaymentIntent as Stripe's events carry it, `status` and the amount received.
fn intent(order: &Value, status: &str, received: i64) -> Value {
    let mut intent = fixture("payment_intent");
    intent["id"] = order["payment"]["id"].clone();
    intent["amount"] = order["totalCents"].clone();
    intent["amount_received"] = json!(received);
    intent["currency"] = json!("usd");
    intent["status"] = json!(status);
    intent["metadata"] = json!({"order_id": order["id"]});
    intent
}

async fn placed(shop: &Shop, n: usize, units: i64) -> (Value, String) {
    let p = shop.product(&format!("S{n}")).price(1000).stock(20).create().await;
    let c = shop.customer(n).await;
    (shop.order(&c, &p, units, None).await, c)
}

async fn order_now(shop: &Shop, order: &Value) -> Value {
    shop.get_order(&shop.admin, &id(order)).await.body
}

#[tokio::test(flavor = "multi_thread")]
async fn placing_an_order_creates_one_payment_intent_and_answers_its_client_secret() {
    let (shop, stripe) = shop().await;
    let (order, c) = placed(&shop, 1, 2).await;
    let payment = &order["payment"];
    assert_eq!((payment["provider"].as_str(), payment["status"].as_str()), (Some("stripe"), Some("pending")));
    let intent = payment["id"].as_str().expect("the intent's id");
    assert!(
        intent.starts_with("pi_")
            && payment["clientSecret"].as_str().unwrap().starts_with(&format!("{intent}_secret_"))
    );
    let calls = stripe.calls();
    assert_eq!(calls.len(), 1);
    let call = &calls[0];
    assert_eq!((call.method.as_str(), call.path.as_str()), ("POST", "/v1/payment_intents"));
    assert_eq!(call.header("authorization"), format!("Bearer {KEY}"));
    assert_eq!(call.header("content-type"), "application/x-www-form-urlencoded");
    assert_eq!(call.header("idempotency-key"), format!("storefront-order-{}", id(&order)));
    for (field, expected) in [
        ("amount", order["totalCents"].to_string()),
        ("currency", "usd".to_owned()),
        ("metadata[order_id]", id(&order)),
        ("automatic_payment_methods[enabled]", "true".to_owned()),
    ] {
        assert_eq!(call.field(field), Some(expected.as_str()), "{field}");
    }
    let read = shop.get_order(&c, &id(&order)).await.body;
    assert_eq!(read["payment"], order["payment"], "the customer reads the same payment");
    let events = shop.env.events_of("order.placed").await;
    assert_eq!(
        events[0]["data"]["payment"],
        json!({"provider": "stripe", "status": "pending"}),
        "no id or secret before it is opened"
    );

    // Stripe out of reach: 503, and the same request again opens the payment.
    stripe.fail_with(Some(503));
    let p = shop.product("OUT").price(500).stock(5).create().await;
    assert_eq!(shop.put_cart_item(&c, &p, json!(1)).await.status, 200);
    let body = checkout("US", "standard", None);
    let refused = shop.place_order(&c, Some("while-down"), &body).await;
    refused.problem(503, "service_unavailable");
    assert!(refused.header("retry-after").is_some());
    stripe.fail_with(None);
    let again = shop.place_order(&c, Some("while-down"), &body).await;
    assert_eq!((again.status, again.body["payment"]["status"].as_str()), (201, Some("pending")), "{:#}", again.body);
    assert!(again.body["payment"]["clientSecret"].is_string());
    let more = shop.place_order(&c, Some("while-down"), &body).await;
    assert_eq!(more.body["payment"], again.body["payment"], "one intent per order");
    assert_eq!(
        stripe.calls().iter().filter(|c| c.path == "/v1/payment_intents").count(),
        3,
        "the refused one, then one"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn stripe_webhooks_are_verified_and_pay_fail_and_flag_the_order() {
    let (shop, _stripe) = shop().await;
    let (order, _) = placed(&shop, 1, 1).await;
    let now = shop.env.app.clock.now().unix_seconds();
    let failed = event("payment_intent.payment_failed", intent(&order, "requires_payment_method", 0));
    assert_eq!(deliver(&shop, &failed, &["whsec_other"], now).await.problem(401, "invalid_signature").status, 401);
    deliver(&shop, &failed, &[SIGNING], now - 301).await.problem(401, "stale_signature");
    let mut req =
        storefront_tests::raw_request("POST", "/webhooks/stripe", Some("application/json"), &failed.to_string());
    req.headers_mut().insert("stripe-signature", "t=1".parse().unwrap());
    shop.env.call(storefront::api::payments::stripe_webhook, req).await.problem(401, "invalid_signature");
    assert_eq!(send(&shop, &failed).await.status, 200);
    let now_order = order_now(&shop, &order).await;
    assert_eq!(
        (now_order["status"].as_str(), now_order["payment"]["status"].as_str()),
        (Some("pending_payment"), Some("failed"))
    );

    // While a secret is rolled, either signature will do.
    let paid = event("payment_intent.succeeded", intent(&order, "succeeded", order["totalCents"].as_i64().unwrap()));
    let answer = deliver(&shop, &paid, &["whsec_rolled_out", SIGNING], now).await;
    assert_eq!((answer.status, &answer.body), (200, &json!({"received": true})));
    let paid_order = order_now(&shop, &order).await;
    assert_eq!((paid_order["status"].as_str(), paid_order["paymentStatus"].as_str()), (Some("paid"), Some("paid")));
    assert_eq!(paid_order["paymentId"], order["payment"]["id"]);
    let paid_event = shop.env.events_of("order.paid").await;
    assert_eq!(paid_event[0]["data"]["payment"]["id"], order["payment"]["id"]);
    assert!(paid_event[0]["data"]["payment"].get("clientSecret").is_none(), "events never carry the client secret");
    assert_eq!(send(&shop, &paid).await.status, 200, "a redelivery is acknowledged");
    assert_eq!(order_now(&shop, &order).await["history"].as_array().map(Vec::len), Some(2), "and changes nothing");

    let mut dispute = fixture("dispute");
    dispute["payment_intent"] = order["payment"]["id"].clone();
    let disputed = event("charge.dispute.created", dispute);
    assert_eq!(send(&shop, &disputed).await.status, 200);
    assert_eq!(send(&shop, &disputed).await.status, 200);
    assert_eq!(order_now(&shop, &order).await["paymentIssue"], "disputed");
    let issues = shop.env.events_of("payment.issue").await;
    assert_eq!(issues.len(), 1, "once");
    assert_eq!(
        (issues[0]["data"]["issue"].as_str(), issues[0]["data"]["reported"]["reason"].as_str()),
        (Some("disputed"), Some("general"))
    );

    // Stripe's example event (a plan created) is acknowledged and changes nothing.
    assert_eq!(send(&shop, &fixture("event")).await.status, 200);
    let (other, _) = placed(&shop, 2, 1).await;
    let mut short = intent(&other, "succeeded", 1);
    short["amount_received"] = json!(1);
    assert_eq!(send(&shop, &event("payment_intent.succeeded", short)).await.status, 200);
    assert_eq!(order_now(&shop, &other).await["paymentIssue"], "amount_mismatch");
}

#[tokio::test(flavor = "multi_thread")]
async fn refunds_go_through_stripe_once_and_follow_what_it_reports() {
    let (shop, stripe) = shop().await;
    let (order, _) = placed(&shop, 1, 3).await;
    let total = order["totalCents"].as_i64().unwrap();
    assert_eq!(send(&shop, &event("payment_intent.succeeded", intent(&order, "succeeded", total))).await.status, 200);
    let line = order["items"][0]["variantId"].clone();
    let body = json!({"lines": [{"variantId": line, "quantity": 1}], "restock": true});
    let made = shop.refund(&id(&order), Some("one"), body.clone()).await;
    assert_eq!((made.status, made.body["status"].as_str()), (201, Some("succeeded")), "{:#}", made.body);
    let call = stripe.calls().into_iter().find(|c| c.path == "/v1/refunds").expect("a refund asked of Stripe");
    assert_eq!(call.header("idempotency-key"), format!("storefront-refund-{}", id(&made.body)));
    assert_eq!(call.field("payment_intent"), order["payment"]["id"].as_str());
    assert_eq!((call.field("amount"), call.field("metadata[refund_id]")), (Some("1000"), made.body["id"].as_str()));
    assert!(made.body["providerRefundId"].as_str().unwrap().starts_with("re_"));

    // Pending with Stripe: it stays pending until Stripe's charge.refunded says it is made.
    // Stripe's charges list no refunds since API version 2022-11-15: storefront asks for them
    // (the example charge lists one of Stripe's examples, which must be ignored).
    stripe.answer_refunds("pending");
    let pending = shop.refund(&id(&order), Some("two"), body.clone()).await;
    assert_eq!(pending.body["status"], "pending", "{:#}", pending.body);
    let stripe_id = pending.body["providerRefundId"].as_str().expect("Stripe's id kept").to_owned();
    stripe.settle(&stripe_id, "succeeded");
    let mut charge = fixture("charge");
    charge["payment_intent"] = order["payment"]["id"].clone();
    charge["amount_refunded"] = json!(2000);
    assert_eq!(send(&shop, &event("charge.refunded", charge.clone())).await.status, 200);
    let asked = stripe.calls().into_iter().filter(|c| c.method == "GET" && c.path == "/v1/refunds").count();
    assert_eq!(asked, 1, "the refunds of the payment asked for");
    let refunds = shop.refunds(&id(&order)).await.body["items"].clone();
    assert_eq!(refunds.as_array().map(Vec::len), Some(2), "no refund of the provider's for storefront's own");
    assert_eq!(refunds[1]["status"], "succeeded");

    // Refused by Stripe: failed, and the unit may be refunded again.
    stripe.answer_refunds("succeeded");
    stripe.fail_with(Some(400));
    let refused = shop.refund(&id(&order), Some("three"), body.clone()).await;
    assert_eq!((refused.status, refused.body["status"].as_str()), (201, Some("failed")), "{:#}", refused.body);
    assert!(refused.body["failure"].as_str().unwrap().starts_with("charge_already_refunded"));
    assert_eq!(order_now(&shop, &order).await["refundedCents"], 2000, "given back");
    // A key Stripe does not take (being rotated), or Stripe out of reach: pending, made by the
    // settling job once Stripe answers.
    stripe.fail_with(Some(401));
    let unauthorised = shop.refund(&id(&order), Some("key"), json!({"amountCents": 1, "restock": false})).await;
    assert_eq!(unauthorised.body["status"], "pending", "{:#}", unauthorised.body);
    stripe.fail_with(Some(500));
    let later = shop.refund(&id(&order), Some("four"), body.clone()).await;
    assert_eq!(later.body["status"], "pending");
    stripe.fail_with(None);
    shop.env.app.clock.advance(61);
    let report = storefront::api::jobs::settle_refunds(&shop.env.app).await.map_err(|e| e.detail.clone()).unwrap();
    assert_eq!(report["settled"], 2, "{report}");
    let refunds = shop.refunds(&id(&order)).await.body["items"].clone();
    assert_eq!((refunds[3]["status"].as_str(), refunds[4]["status"].as_str()), (Some("succeeded"), Some("succeeded")));
    assert_eq!(order_now(&shop, &order).await["refundedCents"], 3001, "the three units and a cent, not the shipping");
    assert_eq!(shop.env.events_of("order.refunded").await.len(), 4);
}

/// Stripe's example refund as its events carry it: `id`, of the order's payment, `status`.
fn reported(order: &Value, id: &str, status: &str) -> Value {
    let mut refund = fixture("refund");
    refund["id"] = json!(id);
    refund["payment_intent"] = order["payment"]["id"].clone();
    refund["status"] = json!(status);
    refund
}

async fn paid(shop: &Shop, n: usize, units: i64) -> Value {
    let (order, _) = placed(shop, n, units).await;
    let total = order["totalCents"].as_i64().unwrap();
    assert_eq!(send(shop, &event("payment_intent.succeeded", intent(&order, "succeeded", total))).await.status, 200);
    order
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refund_made_in_stripes_dashboard_becomes_a_refund_record_once() {
    let (shop, stripe) = shop().await;
    let order = paid(&shop, 1, 2).await;
    let intent_id = order["payment"]["id"].as_str().unwrap().to_owned();
    let dashboard = stripe.dashboard_refund(&intent_id, 700);
    let mut charge = fixture("charge");
    charge["payment_intent"] = json!(intent_id);
    charge["amount_refunded"] = json!(700);
    let refunded = event("charge.refunded", charge.clone());
    assert_eq!(send(&shop, &refunded).await.status, 200);
    assert_eq!(send(&shop, &refunded).await.status, 200, "a redelivery");
    // The same refund's own events, in any order, add nothing.
    for kind in ["refund.created", "refund.updated", "charge.refund.updated"] {
        assert_eq!(send(&shop, &event(kind, reported(&order, &dashboard, "succeeded"))).await.status, 200);
    }
    let refunds = shop.refunds(&id(&order)).await.body["items"].clone();
    assert_eq!(refunds.as_array().map(Vec::len), Some(1), "{refunds:#}");
    let refund = &refunds[0];
    assert_eq!(
        (refund["amountCents"].as_i64(), refund["source"].as_str(), refund["status"].as_str()),
        (Some(700), Some("provider"), Some("succeeded"))
    );
    assert_eq!(refund["providerRefundId"], dashboard.as_str());
    assert_eq!(order_now(&shop, &order).await["refundedCents"], 700);

    // More refunds than Stripe lists on one page (100): every one is taken in, each once.
    for _ in 0..101 {
        stripe.dashboard_refund(&intent_id, 1);
    }
    assert_eq!(send(&shop, &event("charge.refunded", charge.clone())).await.status, 200);
    assert_eq!(send(&shop, &event("charge.refunded", charge)).await.status, 200);
    assert_eq!(shop.refunds(&id(&order)).await.body["items"].as_array().map(Vec::len), Some(102));
    assert_eq!(order_now(&shop, &order).await["refundedCents"], 801);

    // Reported before the payment it refunds is applied (Stripe's order is not guaranteed): 503,
    // so Stripe sends it again.
    let (unpaid, _) = placed(&shop, 2, 1).await;
    stripe.dashboard_refund(unpaid["payment"]["id"].as_str().unwrap(), 500);
    let mut early = fixture("charge");
    early["payment_intent"] = unpaid["payment"]["id"].clone();
    early["amount_refunded"] = json!(500);
    send(&shop, &event("charge.refunded", early)).await.problem(503, "service_unavailable");

    // A charge storefront does not know is acknowledged.
    let mut stranger = fixture("charge");
    stranger["payment_intent"] = json!("pi_not_ours");
    assert_eq!(send(&shop, &event("charge.refunded", stranger)).await.status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dashboard_refund_of_what_storefronts_pending_refund_holds_is_counted_once_that_one_fails() {
    let (shop, stripe) = shop().await;
    let order = paid(&shop, 1, 1).await;
    let total = order["totalCents"].as_i64().unwrap();
    // storefront's refund cannot reach Stripe: pending, holding 400 of the payment.
    stripe.fail_with(Some(500));
    let held = shop.refund(&id(&order), Some("held"), json!({"amountCents": 400, "restock": false})).await;
    assert_eq!(held.body["status"], "pending", "{:#}", held.body);
    stripe.fail_with(None);
    // Meanwhile the whole payment is refunded in Stripe's dashboard.
    stripe.dashboard_refund(order["payment"]["id"].as_str().unwrap(), total);
    let mut charge = fixture("charge");
    charge["payment_intent"] = order["payment"]["id"].clone();
    charge["amount_refunded"] = json!(total);
    assert_eq!(send(&shop, &event("charge.refunded", charge)).await.status, 200);
    let refunds = shop.refunds(&id(&order)).await.body["items"].clone();
    assert_eq!(refunds[0]["status"], "failed", "Stripe refused it: nothing was left {refunds:#}");
    assert_eq!((refunds[1]["source"].as_str(), refunds[1]["amountCents"].as_i64()), (Some("provider"), Some(total)));
    let now = order_now(&shop, &order).await;
    assert_eq!((now["refundedCents"].as_i64(), now["paymentStatus"].as_str()), (Some(total), Some("refunded")));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refund_that_fails_later_gives_its_money_back_and_flags_the_order() {
    let (shop, stripe) = shop().await;
    let order = paid(&shop, 1, 2).await;
    let line = order["items"][0]["variantId"].clone();
    // Pending with Stripe, then failed: Stripe's refund.failed (asked for as Stripe has it now).
    stripe.answer_refunds("pending");
    let unit = json!({"lines": [{"variantId": line, "quantity": 1}], "restock": false});
    let pending = shop.refund(&id(&order), Some("one"), unit.clone()).await;
    let stripe_id = pending.body["providerRefundId"].as_str().unwrap().to_owned();
    stripe.settle(&stripe_id, "failed");
    let failed = event("refund.failed", reported(&order, &stripe_id, "failed"));
    assert_eq!(send(&shop, &failed).await.status, 200);
    assert_eq!(send(&shop, &failed).await.status, 200, "a redelivery");
    let now = order_now(&shop, &order).await;
    assert_eq!((now["refundedCents"].as_i64(), now["paymentIssue"].as_str()), (Some(0), Some("refund_failed")));
    assert_eq!(now["items"][0]["refundedQuantity"].as_i64().unwrap_or(0), 0, "the unit may be refunded again");
    let refunds = shop.refunds(&id(&order)).await.body["items"].clone();
    assert_eq!(
        (refunds[0]["status"].as_str(), refunds[0]["failure"].as_str()),
        (Some("failed"), Some("lost_or_stolen_card"))
    );
    let issues = shop.env.events_of("payment.issue").await;
    assert_eq!(issues.len(), 1, "{issues:#?}");
    assert_eq!(
        (issues[0]["data"]["issue"].as_str(), issues[0]["data"]["reported"]["refundId"].as_str()),
        (Some("refund_failed"), pending.body["id"].as_str())
    );

    // Made, then reversed by Stripe (a refund to a closed account): given back, once.
    stripe.answer_refunds("succeeded");
    let made = shop.refund(&id(&order), Some("two"), unit).await;
    assert_eq!(made.body["status"], "succeeded");
    assert_eq!(order_now(&shop, &order).await["refundedCents"], 1000);
    let stripe_id = made.body["providerRefundId"].as_str().unwrap().to_owned();
    stripe.settle(&stripe_id, "failed");
    let reversed = event("charge.refund.updated", reported(&order, &stripe_id, "failed"));
    assert_eq!(send(&shop, &reversed).await.status, 200);
    assert_eq!(send(&shop, &event("refund.failed", reported(&order, &stripe_id, "failed"))).await.status, 200);
    let now = order_now(&shop, &order).await;
    assert_eq!((now["refundedCents"].as_i64(), now["paymentStatus"].as_str()), (Some(0), Some("paid")));
    assert_eq!(shop.refunds(&id(&order)).await.body["items"][1]["status"], "failed");
    assert_eq!(shop.env.events_of("payment.issue").await.len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cancelled_orders_refund_that_fails_leaves_it_flagged_and_refundable_again() {
    let (shop, stripe) = shop().await;
    let order = paid(&shop, 1, 1).await;
    let total = order["totalCents"].as_i64().unwrap();
    stripe.answer_refunds("pending");
    let cancelled = shop.admin_update_order(&id(&order), json!({"status": "cancelled"})).await;
    assert_eq!(cancelled.status, 200, "{:#}", cancelled.body);
    let automatic = shop.refunds(&id(&order)).await.body["items"][0].clone();
    assert_eq!((automatic["source"].as_str(), automatic["status"].as_str()), (Some("automatic"), Some("pending")));
    let stripe_id = automatic["providerRefundId"].as_str().unwrap().to_owned();
    stripe.settle(&stripe_id, "failed");
    assert_eq!(send(&shop, &event("refund.updated", reported(&order, &stripe_id, "failed"))).await.status, 200);
    let now = order_now(&shop, &order).await;
    assert_eq!(
        (now["status"].as_str(), now["refundedCents"].as_i64(), now["paymentIssue"].as_str()),
        (Some("cancelled"), Some(0), Some("refund_failed"))
    );
    // What is owed may be refunded again.
    stripe.answer_refunds("succeeded");
    let again = shop.refund(&id(&order), Some("again"), json!({"amountCents": total, "restock": false})).await;
    assert_eq!((again.status, again.body["status"].as_str()), (201, Some("succeeded")), "{:#}", again.body);
    assert_eq!(order_now(&shop, &order).await["paymentStatus"], "refunded");
}

#[test]
fn the_fixtures_are_stripes_published_ones_as_handed_over() {
    // The copy in tests/fixtures is the one ../shared holds, where that folder exists.
    let shared = storefront_tests::root().join("../shared/stripe/fixtures.json");
    if let Ok(theirs) = std::fs::read_to_string(shared) {
        let ours =
            std::fs::read_to_string(storefront_tests::root().join("tests/fixtures/stripe/fixtures.json")).unwrap();
        assert_eq!(ours, theirs);
    }
    for name in ["payment_intent", "refund", "charge", "event", "dispute"] {
        assert_eq!(fixture(name)["object"], name, "{name}");
    }
}
