//! Cart, discounts, quotes and orders, against dynoxide through the real SDK.

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use storefront::api::{cart::*, discounts::*};
use storefront_tests::{Answer, Shop, checkout, request, routed};

#[tokio::test(flavor = "multi_thread")]
async fn the_cart_shows_current_prices_and_what_is_no_longer_available() {
    let shop = Shop::open().await;
    let c = shop.customer(1).await;
    let a = shop.product("A").price(1000).stock(5).create().await;
    let b = shop.product("B").price(250).stock(5).create().await;
    assert_eq!(shop.put_cart_item(&c, &a, json!(2)).await.status, 200);
    let cart = shop.put_cart_item(&c, &b, json!(4)).await;
    assert_eq!(cart.body["subtotalCents"], 3000);
    assert_eq!(
        cart.body["items"][0],
        json!({"productId": a, "variantId": format!("{a}-1"), "sku": "A", "name": "Product A", "options": {},
        "image": null, "unitPriceCents": 1000, "quantity": 2, "lineTotalCents": 2000, "available": true})
    );
    assert_eq!(shop.update_product(&a, json!({"priceCents": 1100}), None).await.status, 200);
    assert_eq!(shop.adjust_stock(&b, -2).await.status, 200);
    let cart = shop.get_cart(&c).await;
    assert_eq!(cart.body["items"][0]["unitPriceCents"], 1100, "the price is the catalog's current one");
    assert_eq!(cart.body["items"][1]["available"], false, "B has 3 left, the line wants 4");
    assert_eq!(cart.body["subtotalCents"], 2200);
    assert!(cart.body["updatedAt"].is_string());
}

#[tokio::test(flavor = "multi_thread")]
async fn cart_lines_are_validated() {
    let shop = Shop::open().await;
    let c = shop.customer(1).await;
    let a = shop.product("A").price(1000).stock(5).create().await;
    shop.put_cart_item(&c, &a, json!(6)).await.problem(409, "insufficient_stock");
    let short = shop.put_cart_item(&c, &a, json!(6)).await;
    assert_eq!(
        short.body["items"],
        json!([{"productId": a, "variantId": format!("{a}-1"), "requested": 6, "available": 5}])
    );
    for bad in [json!(0), json!(100), json!("2"), json!(1.5)] {
        shop.put_cart_item(&c, &a, bad).await.problem(422, "validation_failed");
    }
    shop.put_cart_item(&c, "01ARZ3NDEKTSV4RRFFQ69G5FAV", json!(1)).await.problem(404, "product_not_found");
    shop.put_cart_item(&c, "nonsense", json!(1)).await.problem(404, "product_not_found");
    shop.env.call(get_cart, request("GET", "/cart", None, None)).await.problem(401, "unauthenticated");
    assert_eq!(shop.put_cart_item(&c, &a, json!(5)).await.body["items"][0]["quantity"], 5, "up to the stock is fine");
    let removed =
        shop.env.call(delete_cart_item, routed(request("DELETE", "/c", None, Some(&c)), &[("itemId", &a)], &[])).await;
    assert_eq!(removed.body["items"], json!([]));
    shop.put_cart_item(&c, &a, json!(1)).await;
    assert_eq!(shop.env.call(clear_cart, request("DELETE", "/cart", None, Some(&c))).await.status, 204);
    assert_eq!(shop.get_cart(&c).await.body["items"], json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cart_holds_at_most_31_products_and_expires_after_30_days() {
    let shop = Shop::open().await;
    let c = shop.customer(1).await;
    for i in 0..31 {
        let p = shop.product(&format!("P{i}")).price(100).stock(5).create().await;
        assert_eq!(shop.put_cart_item(&c, &p, json!(1)).await.status, 200);
    }
    let extra = shop.product("EXTRA").price(100).stock(5).create().await;
    shop.put_cart_item(&c, &extra, json!(1)).await.problem(422, "cart_full");
    let me = shop.env.me(&c).await;
    let user_id = me.body["id"].as_str().unwrap();
    let owner = storefront::domain::Shopper::Customer(storefront::domain::UserId::parse(user_id).unwrap());
    let item = shop.env.stored(storefront::store::keys::cart(owner)).await.expect("the cart's item");
    let expires: i64 = item["expiresAt"].as_n().unwrap().parse().unwrap();
    let now = shop.env.app.clock.now().unix_seconds();
    assert!((now + 30 * 86400 - 5..=now + 30 * 86400 + 5).contains(&expires), "TTL 30 days after the last change");
}

#[tokio::test(flavor = "multi_thread")]
async fn discounts_are_unique_ignoring_case_and_admins_switch_them() {
    let shop = Shop::open().await;
    let created = shop.create_discount(json!({"code": "welcome10", "percentOff": 10, "maxRedemptions": 3})).await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    assert_eq!(created.body["code"], "WELCOME10");
    assert_eq!(created.body["redemptions"], 0);
    shop.create_discount(json!({"code": "WELCOME10", "amountOffCents": 5})).await.problem(409, "discount_code_taken");
    let both = shop.create_discount(json!({"code": "X", "percentOff": 5, "amountOffCents": 5})).await;
    both.problem(422, "validation_failed");
    shop.create_discount(json!({"code": "Y"})).await.problem(422, "validation_failed");
    shop.create_discount(json!({"code": "Z", "percentOff": 101})).await.problem(422, "validation_failed");
    shop.create_discount(
        json!({"code": "W", "percentOff": 5, "startsAt": "2030-01-02T00:00:00Z", "endsAt": "2030-01-01T00:00:00Z"}),
    )
    .await
    .problem(422, "validation_failed");
    let listed = shop.list_discounts(&shop.admin).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
    let off = routed(
        request("PATCH", "/d", Some(&json!({"active": false})), Some(&shop.admin)),
        &[("code", "welcome10")],
        &[],
    );
    assert_eq!(shop.env.call(update_discount, off).await.body["active"], false);
    let missing =
        routed(request("PATCH", "/d", Some(&json!({"active": true})), Some(&shop.admin)), &[("code", "NOPE")], &[]);
    shop.env.call(update_discount, missing).await.problem(404, "discount_not_found");
    let customer = shop.customer(1).await;
    shop.list_discounts(&customer).await.problem(403, "forbidden");

    let p = shop.product("A").price(1000).stock(5).create().await;
    shop.put_cart_item(&customer, &p, json!(1)).await;
    let refused = shop.quote(&customer, &checkout("GB", "standard", Some("welcome10"))).await;
    refused.problem(422, "invalid_discount");
    assert_eq!(refused.body["reason"], "inactive");
    let unknown = shop.quote(&customer, &checkout("GB", "standard", Some("NOSUCH"))).await;
    assert_eq!(unknown.body["reason"], "unknown");
}

#[tokio::test(flavor = "multi_thread")]
async fn checkout_refuses_what_it_cannot_price() {
    let shop = Shop::open().await;
    let c = shop.customer(1).await;
    shop.quote(&c, &checkout("GB", "standard", None)).await.problem(409, "cart_empty");
    shop.place_order(&c, Some("k1"), &checkout("GB", "standard", None)).await.problem(409, "cart_empty");
    let p = shop.product("A").price(1000).stock(5).create().await;
    shop.put_cart_item(&c, &p, json!(1)).await;
    shop.quote(&c, &checkout("BR", "standard", None)).await.problem(422, "unsupported_country");
    shop.place_order(&c, None, &checkout("GB", "standard", None)).await.problem(400, "idempotency_key_required");
    shop.place_order(&c, Some(&"k".repeat(256)), &checkout("GB", "standard", None))
        .await
        .problem(400, "idempotency_key_required");
    let bad = shop.quote(&c, &json!({"shippingMethod": "teleport", "extra": 1})).await;
    bad.problem(422, "validation_failed");
    assert_eq!(bad.error_fields(), ["shippingAddress", "shippingMethod", "extra"]);
    // A refused order leaves the key free: the same key works once the problem is fixed.
    shop.place_order(&c, Some("k2"), &checkout("BR", "standard", None)).await.problem(422, "unsupported_country");
    assert_eq!(shop.place_order(&c, Some("k2"), &checkout("GB", "standard", None)).await.status, 201);
}

/// (lines as (price, quantity), discount, country, method) → expected (subtotal, discount, shipping, tax, total)
#[tokio::test(flavor = "multi_thread")]
async fn quotes_and_the_orders_placed_right_after_agree_to_the_cent() {
    let shop = Shop::open().await;
    shop.create_discount(json!({"code": "PCT10", "percentOff": 10})).await;
    shop.create_discount(json!({"code": "PCT15", "percentOff": 15})).await;
    shop.create_discount(json!({"code": "FIVE", "amountOffCents": 500})).await;
    shop.create_discount(json!({"code": "HUGE", "amountOffCents": 1_000_000})).await;
    shop.create_discount(json!({"code": "MIN50", "percentOff": 20, "minSubtotalCents": 5000})).await;
    type Case = (&'static [(i64, i64)], Option<&'static str>, &'static str, &'static str, [i64; 5]);
    let cases: &[Case] = &[
        (&[(1000, 2)], None, "US", "standard", [2000, 0, 500, 0, 2500]),
        (&[(2500, 2)], None, "US", "standard", [5000, 0, 0, 0, 5000]),
        (&[(2500, 2)], Some("FIVE"), "US", "standard", [5000, 500, 500, 0, 5000]),
        (&[(2500, 2)], None, "US", "express", [5000, 0, 1500, 0, 6500]),
        (&[(1050, 1)], Some("PCT15"), "GB", "standard", [1050, 158, 500, 278, 1670]),
        (&[(2499, 2), (1050, 1)], Some("PCT10"), "GB", "standard", [6048, 605, 0, 1089, 6532]),
        (&[(999, 3)], None, "DE", "express", [2997, 0, 1500, 854, 5351]),
        (&[(999, 3)], Some("HUGE"), "FR", "standard", [2997, 2997, 500, 100, 600]),
        (&[(3000, 2)], Some("MIN50"), "NL", "standard", [6000, 1200, 500, 1113, 6413]),
        (&[(1, 1)], None, "IE", "standard", [1, 0, 500, 115, 616]),
    ];
    for (i, (lines, code, country, method, expected)) in cases.iter().enumerate() {
        let c = shop.customer(100 + i).await;
        for (j, (price, qty)) in lines.iter().enumerate() {
            let p = shop.product(&format!("C{i}-{j}")).price(*price).stock(100).create().await;
            assert_eq!(shop.put_cart_item(&c, &p, json!(qty)).await.status, 200);
        }
        let body = checkout(country, method, *code);
        let quoted = shop.quote(&c, &body).await;
        assert_eq!(quoted.status, 200, "case {i}: {:#}", quoted.body);
        let amounts = |v: &Value| {
            ["subtotalCents", "discountCents", "shippingCents", "taxCents", "totalCents"]
                .map(|k| v[k].as_i64().unwrap())
        };
        assert_eq!(amounts(&quoted.body), *expected, "case {i}: quote");
        let ordered = shop.place_order(&c, Some(&format!("case-{i}")), &body).await;
        assert_eq!(ordered.status, 201, "case {i}: {:#}", ordered.body);
        assert_eq!(amounts(&ordered.body), *expected, "case {i}: order");
        assert_eq!(ordered.body["status"], "pending_payment");
        assert_eq!(ordered.body["currency"], quoted.body["currency"]);
        assert_eq!(shop.get_cart(&c).await.body["items"], json!([]), "case {i}: the order empties the cart");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn fifty_customers_racing_for_ten_units_make_exactly_ten_orders() {
    let shop = Arc::new(Shop::open().await);
    let product = shop.product("SCARCE").price(1000).stock(10).create().await;
    let mut customers = Vec::new();
    for i in 0..50 {
        customers.push(shop.customer_with_cart(i, &product, 1).await);
    }
    let tasks: Vec<_> = customers
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let shop = shop.clone();
            tokio::spawn(async move {
                shop.place_order_until_decided(&c, &format!("race-{i}"), &checkout("US", "standard", None)).await
            })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    let placed = answers.iter().filter(|a| a.status == 201).count();
    let refused: Vec<&Answer> = answers.iter().filter(|a| a.status == 409).collect();
    assert_eq!(placed, 10, "{:?}", answers.iter().map(|a| a.status).collect::<Vec<_>>());
    assert_eq!(refused.len(), 40);
    assert!(refused.iter().all(|a| a.code() == "insufficient_stock"));
    assert_eq!(shop.stock(&product).await, 0);
    let rejected = shop.env.metric_sum("CheckoutRejected", Some(("Reason", "insufficient_stock")));
    assert_eq!((rejected, shop.env.metric_sum("CheckoutRejected", None)), (40.0, 40.0), "each refusal counted once");
}

#[tokio::test(flavor = "multi_thread")]
async fn twenty_concurrent_retries_of_one_order_place_it_once() {
    let shop = Arc::new(Shop::open().await);
    let product = shop.product("ONE").price(1000).stock(100).create().await;
    let c = Arc::new(shop.customer_with_cart(1, &product, 3).await);
    let body = checkout("GB", "express", None);
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (shop, c, body) = (shop.clone(), c.clone(), body.clone());
            tokio::spawn(async move { shop.place_order(&c, Some("same-key"), &body).await })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    let created: Vec<&Answer> = answers.iter().filter(|a| a.status == 201).collect();
    assert!(!created.is_empty());
    assert!(answers.iter().all(|a| a.status == 201 || a.code() == "request_in_progress"), "{answers:?}");
    assert!(created.iter().all(|a| a.body == created[0].body), "every success is the same order");
    assert_eq!(shop.stock(&product).await, 97, "one stock decrement");
    let orders = shop.list_orders(&c, &[]).await;
    assert_eq!(orders.body["items"].as_array().unwrap().len(), 1);
    let replay = shop.place_order(&c, Some("same-key"), &body).await;
    assert_eq!((replay.status, &replay.body), (201, &created[0].body), "a later replay answers the same");
    assert_eq!(shop.pay(&created[0].body, "evt-paid").await.status, 200);
    let after_payment = shop.place_order(&c, Some("same-key"), &body).await;
    assert_eq!(after_payment.body, created[0].body, "a replay answers the order as it was placed, even once paid");
    // A holder that stopped answering is taken over once its lock runs out, and the order it
    // placed is the one answered: never a second order under one key.
    shop.env.app.clock.advance(60);
    assert_eq!(shop.place_order(&c, Some("same-key"), &body).await.body, created[0].body);
    assert_eq!(shop.list_orders(&c, &[]).await.body["items"].as_array().unwrap().len(), 1);
    shop.place_order(&c, Some("same-key"), &checkout("GB", "standard", None))
        .await
        .problem(422, "idempotency_key_reused");
    let other = shop.customer(2).await;
    shop.place_order(&other, Some("same-key"), &body).await.problem(409, "cart_empty");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_discount_limited_to_five_redemptions_is_redeemed_five_times_under_a_rush() {
    let shop = Arc::new(Shop::open().await);
    shop.create_discount(json!({"code": "FIRST5", "amountOffCents": 100, "maxRedemptions": 5})).await;
    let product = shop.product("D").price(1000).stock(100).create().await;
    let mut customers = Vec::new();
    for i in 0..20 {
        customers.push(shop.customer_with_cart(i, &product, 1).await);
    }
    let tasks: Vec<_> = customers
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let shop = shop.clone();
            tokio::spawn(async move {
                shop.place_order_until_decided(&c, &format!("d-{i}"), &checkout("US", "standard", Some("first5"))).await
            })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    assert_eq!(answers.iter().filter(|a| a.status == 201).count(), 5);
    let refused: Vec<&Answer> = answers.iter().filter(|a| a.status != 201).collect();
    assert!(refused.iter().all(|a| a.code() == "invalid_discount" && a.body["reason"] == "exhausted"), "{refused:?}");
    let listed = shop.list_discounts(&shop.admin).await;
    assert_eq!(listed.body["items"][0]["redemptions"], 5);
    assert_eq!(shop.stock(&product).await, 95, "refused orders took no stock");
}

#[tokio::test(flavor = "multi_thread")]
async fn stock_is_conserved_across_orders_adjustments_and_refusals() {
    let shop = Arc::new(Shop::open().await);
    let initial = [7i64, 3, 12];
    let mut products = Vec::new();
    for (i, stock) in initial.iter().enumerate() {
        products.push(shop.product(&format!("K{i}")).price(300 + i as i64).stock(*stock).create().await);
    }
    let mut adjustments = BTreeMap::new();
    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let shop = shop.clone();
            let products = products.clone();
            tokio::spawn(async move {
                let c = shop.customer(i).await;
                shop.put_cart_item(&c, &products[i % 3], json!(1 + i % 3)).await;
                shop.put_cart_item(&c, &products[(i + 1) % 3], json!(1)).await;
                shop.place_order(&c, Some("k"), &checkout("US", "standard", None)).await
            })
        })
        .collect();
    for (i, delta) in [(0usize, 5i64), (1, -1), (2, 4)] {
        if shop.adjust_stock(&products[i], delta).await.status == 200 {
            *adjustments.entry(i).or_insert(0) += delta;
        }
    }
    let mut ordered = [0i64; 3];
    for t in tasks {
        let answer = t.await.unwrap();
        if answer.status == 201 {
            for line in answer.body["items"].as_array().unwrap() {
                let i = products.iter().position(|p| p == line["productId"].as_str().unwrap()).unwrap();
                ordered[i] += line["quantity"].as_i64().unwrap();
            }
        } else {
            assert_eq!(answer.code(), "insufficient_stock", "{:#}", answer.body);
        }
    }
    for i in 0..3 {
        let current = shop.stock(&products[i]).await;
        assert!(current >= 0);
        assert_eq!(initial[i] + adjustments.get(&i).copied().unwrap_or(0), current + ordered[i], "product {i}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn customers_see_only_their_own_orders_and_admins_see_any() {
    let shop = Shop::open().await;
    let p = shop.product("A").price(1000).stock(100).create().await;
    let ada = shop.customer(1).await;
    let bob = shop.customer(2).await;
    let mut ids = Vec::new();
    for i in 0..3 {
        shop.put_cart_item(&ada, &p, json!(1)).await;
        ids.push(
            shop.place_order(&ada, Some(&format!("o{i}")), &checkout("US", "standard", None)).await.body["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let page = shop.list_orders(&ada, &[("limit", "2")]).await;
    assert_eq!(
        page.body["items"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap()).collect::<Vec<_>>(),
        [&ids[2], &ids[1]]
    );
    let cursor = page.body["nextCursor"].as_str().unwrap().to_owned();
    let rest = shop.list_orders(&ada, &[("cursor", &cursor)]).await;
    assert_eq!(rest.body["items"][0]["id"], ids[0].as_str());
    assert!(rest.body["nextCursor"].is_null());
    shop.list_orders(&bob, &[("cursor", &cursor)]).await.problem(400, "invalid_cursor");
    assert_eq!(shop.get_order(&ada, &ids[0]).await.status, 200);
    let hidden = shop.get_order(&bob, &ids[0]).await;
    hidden.problem(404, "order_not_found");
    assert!(!hidden.body.to_string().contains(&ids[0]) || hidden.body["detail"] == "No such order.");
    assert_eq!(shop.get_order(&shop.admin, &ids[0]).await.status, 200);
    shop.get_order(&ada, "nonsense").await.problem(404, "order_not_found");
    let order = shop.get_order(&ada, &ids[0]).await.body;
    assert_eq!(order["items"][0]["sku"], "A");
    assert_eq!(order["items"][0]["unitPriceCents"], 1000);
    assert_eq!(order["shippingAddress"]["country"], "US");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_whose_holder_stopped_before_placing_is_taken_over_and_places_one_order() {
    let shop = Shop::open().await;
    let product = shop.product("ONE").stock(5).create().await;
    let c = shop.customer_with_cart(1, &product, 1).await;
    let body = checkout("GB", "standard", None);
    let user = shop.env.app.tokens().await.unwrap().verify(&c).expect("a customer").user_id;
    let now = shop.env.app.clock.now();
    let begun = shop
        .env
        .app
        .store
        .begin_idempotent(storefront::domain::Shopper::Customer(user), "k", &body.to_string(), "gone", now, 30)
        .await
        .unwrap();
    let storefront::store::Begun::Acquired { order_id } = begun else { panic!("{begun:?}") };
    shop.place_order(&c, Some("k"), &body).await.problem(409, "request_in_progress");
    shop.env.app.clock.advance(31);
    let placed = shop.place_order(&c, Some("k"), &body).await;
    assert_eq!(placed.status, 201, "{:#}", placed.body);
    assert_eq!(placed.body["id"], order_id.to_string(), "the order id the key was taken with");
    assert_eq!(shop.place_order(&c, Some("k"), &body).await.body, placed.body);
    assert_eq!(shop.stock(&product).await, 4);
}

/// The largest order there can be, selling out every line with a discount (the largest
/// transactions: a stock write per line, two listing writes per product, the redemption, the
/// order, the cart), is placed and cancelled, not refused.
#[tokio::test(flavor = "multi_thread")]
async fn a_full_cart_that_sells_out_every_line_is_ordered_and_cancelled() {
    let shop = Shop::open().await;
    let c = shop.customer(1).await;
    let mut products = Vec::new();
    for i in 0..storefront::domain::Cart::MAX_LINES {
        let p = shop.product(&format!("LAST{i}")).price(100).stock(1).create().await;
        assert_eq!(shop.put_cart_item(&c, &p, json!(1)).await.status, 200);
        products.push(p);
    }
    assert_eq!(shop.create_discount(json!({"code": "FULL10", "percentOff": 10})).await.status, 201);
    let order = shop.place_order(&c, Some("everything"), &checkout("US", "standard", Some("FULL10"))).await;
    assert_eq!(order.status, 201, "{:#}", order.body);
    assert!(shop.listing(&[("inStock", "true")]).await.is_empty(), "every product sold out");
    let cancelled = shop.cancel_order(&c, order.body["id"].as_str().unwrap()).await;
    assert_eq!(cancelled.status, 200, "{:#}", cancelled.body);
    assert_eq!(shop.listing(&[("inStock", "true")]).await.len(), products.len(), "every product back");
}

// Stock nobody can hoard: unpaid orders and discount uses per buyer.

#[tokio::test(flavor = "multi_thread")]
async fn a_customer_has_at_most_three_unpaid_orders_and_paying_cancelling_or_expiry_frees_one() {
    let shop = Shop::open().await;
    let p = shop.product("HOARD").price(1000).stock(1000).create().await;
    let c = shop.customer(1).await;
    let mut unpaid = Vec::new();
    for _ in 0..3 {
        unpaid.push(shop.order(&c, &p, 99, None).await);
    }
    assert_eq!(shop.put_cart_item(&c, &p, json!(99)).await.status, 200);
    let fourth = shop.place_order(&c, Some("fourth"), &checkout("US", "standard", None)).await;
    fourth.problem(409, "too_many_unpaid_orders");
    assert_eq!(fourth.body["limit"], 3);
    assert_eq!(shop.stock(&p).await, 1000 - 3 * 99, "a refused order reserves nothing");
    assert_eq!(shop.get_cart(&c).await.body["items"].as_array().map(Vec::len), Some(1), "and keeps the cart");
    let other = shop.customer(2).await;
    shop.order(&other, &p, 1, None).await;

    assert_eq!(shop.pay(&unpaid[0], "evt-frees-a-slot").await.status, 200);
    let placed = shop.place_order(&c, Some("fourth"), &checkout("US", "standard", None)).await;
    assert_eq!(placed.status, 201, "a paid order frees its slot: {:#}", placed.body);
    assert_eq!(shop.cancel_order(&c, unpaid[1]["id"].as_str().unwrap()).await.status, 200);
    shop.order(&c, &p, 1, None).await;
    shop.env.app.clock.advance(31 * 60);
    let report = storefront::api::jobs::expire_orders(&shop.env.app).await.map_err(|e| e.detail.clone()).unwrap();
    assert_eq!((report["cancelled"].as_u64(), report["remaining"].as_i64()), (Some(4), Some(0)), "{report}");
    let backlog: Vec<f64> = shop.env.metric("ExpiryBacklog").into_iter().map(|(v, _)| v).collect();
    assert_eq!(backlog, [0.0], "each run reports what it left");
    for _ in 0..3 {
        shop.order(&c, &p, 1, None).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn guests_racing_with_one_email_place_at_most_three_unpaid_orders() {
    let shop = Arc::new(Shop::open().await);
    let p = shop.product("RACE").price(500).stock(100).create().await;
    let mut carts = Vec::new();
    for _ in 0..10 {
        let cart = shop.guest_cart().await;
        assert_eq!(shop.put_cart_item(&cart, &p, json!(5)).await.status, 200);
        carts.push(cart);
    }
    let tasks: Vec<_> = carts
        .into_iter()
        .map(|cart| {
            let shop = shop.clone();
            tokio::spawn(async move {
                let mut body = checkout("US", "standard", None);
                body["email"] = json!("Hoarder@Example.com");
                let answer = shop.place_order(&cart, Some("k"), &body).await;
                (answer.status, answer.code().to_owned())
            })
        })
        .collect();
    let mut outcomes = BTreeMap::new();
    for task in tasks {
        *outcomes.entry(task.await.unwrap()).or_insert(0) += 1;
    }
    let expected = BTreeMap::from([((201, String::new()), 3), ((409, "too_many_unpaid_orders".to_owned()), 7)]);
    assert_eq!(outcomes, expected);
    assert_eq!(shop.stock(&p).await, 100 - 15);
    let mut body = checkout("US", "standard", None);
    body["email"] = json!("someone.else@example.com");
    let cart = shop.guest_cart().await;
    assert_eq!(shop.put_cart_item(&cart, &p, json!(1)).await.status, 200);
    assert_eq!(shop.place_order(&cart, Some("k"), &body).await.status, 201, "another email has its own limit");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_code_serves_each_customer_once_by_default_and_a_cancelled_order_gives_its_use_back() {
    let shop = Shop::open().await;
    let p = shop.product("MUG").price(2000).stock(100).create().await;
    let created = shop.create_discount(json!({"code": "ONCE10", "percentOff": 10})).await;
    assert_eq!((created.status, created.body["perCustomerLimit"].as_i64()), (201, Some(1)), "{:#}", created.body);
    let c = shop.customer(1).await;
    let first = shop.order(&c, &p, 1, Some("ONCE10")).await;
    assert_eq!(first["discountCents"], 200);
    assert_eq!(shop.put_cart_item(&c, &p, json!(1)).await.status, 200);
    let quote = shop.quote(&c, &checkout("US", "standard", Some("once10"))).await;
    assert_eq!((quote.problem(422, "invalid_discount").body["reason"].as_str()), Some("already_used"));
    let again = shop.place_order(&c, Some("again"), &checkout("US", "standard", Some("ONCE10"))).await;
    assert_eq!(again.problem(422, "invalid_discount").body["reason"], "already_used");
    let other = shop.customer(2).await;
    shop.order(&other, &p, 1, Some("ONCE10")).await;

    assert_eq!(shop.cancel_order(&c, first["id"].as_str().unwrap()).await.status, 200);
    let reused = shop.place_order(&c, Some("again"), &checkout("US", "standard", Some("ONCE10"))).await;
    assert_eq!((reused.status, reused.body["discountCents"].as_i64()), (201, Some(200)), "{:#}", reused.body);
    assert_eq!(shop.pay(&reused.body, "evt-keeps-the-use").await.status, 200);
    assert_eq!(shop.put_cart_item(&c, &p, json!(1)).await.status, 200);
    let paid_use = shop.quote(&c, &checkout("US", "standard", Some("ONCE10"))).await;
    assert_eq!(paid_use.problem(422, "invalid_discount").body["reason"], "already_used", "a paid order keeps its use");

    let twice = shop.create_discount(json!({"code": "TWICE", "amountOffCents": 100, "perCustomerLimit": 2})).await;
    assert_eq!(twice.status, 201);
    shop.order(&c, &p, 1, Some("TWICE")).await;
    shop.order(&c, &p, 1, Some("TWICE")).await;
    assert_eq!(shop.put_cart_item(&c, &p, json!(1)).await.status, 200);
    let third = shop.place_order(&c, Some("third"), &checkout("US", "standard", Some("TWICE"))).await;
    assert_eq!(third.problem(422, "invalid_discount").body["reason"], "already_used");
    let refused = shop.create_discount(json!({"code": "NONE", "percentOff": 5, "perCustomerLimit": 0})).await;
    assert_eq!(refused.problem(422, "validation_failed").error_fields(), vec!["perCustomerLimit"]);
}
