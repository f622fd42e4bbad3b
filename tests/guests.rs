//! Guest checkout: a cart without an account (`X-Cart-Token`), a guest's quote and order (with
//! `email`), the order's own token (`X-Order-Token`), its emails to the checkout address, and
//! the merge of a guest cart into an account's when its owner signs in or registers.

use serde_json::{Value, json};
use std::sync::Arc;
use storefront_tests::{Answer, PASSWORD, Shop, checkout, guest, id, order_holder, request};

fn guest_checkout(email: &str) -> Value {
    let mut body = checkout("GB", "standard", None);
    body["email"] = json!(email);
    body
}

async fn sign_in(shop: &Shop, email: &str, cart: &str) -> Answer {
    let body = json!({"email": email, "password": PASSWORD});
    let mut req = request("POST", "/auth/login", Some(&body), None);
    let token = cart.strip_prefix("x-cart-token: ").unwrap();
    req.headers_mut().insert("x-cart-token", token.parse().unwrap());
    shop.env.call(storefront::api::accounts::login, req).await
}

fn quantities(cart: &Answer) -> Vec<(String, i64)> {
    cart.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["variantId"].as_str().unwrap().to_owned(), l["quantity"].as_i64().unwrap()))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_guest_fills_a_cart_orders_with_an_email_and_reads_and_cancels_the_order_by_its_token() {
    let shop = Shop::open().await;
    let lamp = shop.product("GUEST-LAMP").price(2000).stock(5).create().await;
    let cart = shop.guest_cart().await;
    assert_eq!(shop.put_cart_item(&cart, &lamp, 2).await.status, 200);
    assert_eq!(shop.get_cart(&cart).await.body["subtotalCents"], 4000);

    let no_email = shop.quote(&cart, &checkout("GB", "standard", None)).await;
    no_email.problem(422, "validation_failed");
    assert_eq!(no_email.error_fields(), ["email"]);
    assert_eq!(shop.quote(&cart, &guest_checkout("grace@example.com")).await.status, 200);

    let placed = shop.place_order(&cart, Some("guest-1"), &guest_checkout("Grace@Example.com")).await;
    assert_eq!(placed.status, 201, "{:#}", placed.body);
    assert!(placed.body.get("userId").is_none(), "a guest's order belongs to no account");
    assert_eq!(placed.body["email"], "grace@example.com");
    assert_eq!(placed.body["history"][0]["by"], "guest");
    let order = id(&placed.body);
    let token = order_holder(placed.body["orderToken"].as_str().expect("an order token"));
    assert!(shop.get_cart(&cart).await.body["items"].as_array().unwrap().is_empty(), "ordered: the cart is empty");
    let again = shop.place_order(&cart, Some("guest-1"), &guest_checkout("Grace@Example.com")).await;
    assert_eq!((again.status, id(&again.body)), (201, order.clone()), "one order per key, for guests too");
    assert_eq!(again.body["orderToken"], placed.body["orderToken"]);

    let read = shop.get_order(&token, &order).await;
    assert_eq!(read.status, 200, "{:#}", read.body);
    assert!(read.body.get("orderToken").is_none(), "the token is shown once, at placing");
    let other = shop.place_order(&cart, Some("guest-2"), &guest_checkout("grace@example.com")).await;
    other.problem(409, "cart_empty");
    shop.get_order(&order_holder("not-a-token"), &order).await.problem(401, "unauthenticated");
    let customer = shop.customer(1).await;
    shop.get_order(&customer, &order).await.problem(404, "order_not_found");
    shop.cancel_order(&customer, &order).await.problem(404, "order_not_found");

    let cancelled = shop.cancel_order(&token, &order).await;
    assert_eq!(cancelled.status, 200, "{:#}", cancelled.body);
    assert_eq!(cancelled.body["status"], "cancelled");
    assert_eq!(cancelled.body["history"][1]["by"], "guest");
    assert_eq!(shop.env.events_of("order.cancelled").await[0]["data"]["reason"], "customer");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_order_token_opens_its_own_order_only() {
    let shop = Shop::open().await;
    let lamp = shop.product("TOKEN-LAMP").stock(5).create().await;
    let mut orders = Vec::new();
    for key in ["a", "b"] {
        let cart = shop.guest_cart().await;
        shop.put_cart_item(&cart, &lamp, 1).await;
        let placed = shop.place_order(&cart, Some(key), &guest_checkout("g@example.com")).await;
        orders.push((id(&placed.body), order_holder(placed.body["orderToken"].as_str().unwrap())));
    }
    let ((first, first_token), (second, _)) = (&orders[0], &orders[1]);
    assert_eq!(shop.get_order(first_token, first).await.status, 200);
    shop.get_order(first_token, second).await.problem(401, "unauthenticated");
    shop.cancel_order(first_token, second).await.problem(401, "unauthenticated");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cart_token_this_api_did_not_issue_is_refused_and_customers_give_no_email() {
    let shop = Shop::open().await;
    let lamp = shop.product("FORGED").stock(5).create().await;
    let cart = shop.guest_cart().await;
    let (id_part, tag) = cart.strip_prefix("x-cart-token: ").unwrap().split_once('.').unwrap();
    let forged = guest(&format!("{}.{tag}", ulid::Ulid::new()));
    shop.put_cart_item(&forged, &lamp, 1).await.problem(401, "unauthenticated");
    shop.get_cart(&guest(&format!("{id_part}.AAAA"))).await.problem(401, "unauthenticated");
    shop.get_cart(&guest("garbage")).await.problem(401, "unauthenticated");
    let customer = shop.customer_with_cart(1, &lamp, 1).await;
    let refused = shop.quote(&customer, &guest_checkout("someone@example.com")).await;
    refused.problem(422, "validation_failed");
    assert_eq!(refused.error_fields(), ["email"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_guests_order_emails_go_to_the_checkout_address() {
    let shop = Shop::open().await;
    let lamp = shop.product("MAIL-LAMP").price(1500).stock(5).create().await;
    let cart = shop.guest_cart().await;
    shop.put_cart_item(&cart, &lamp, 1).await;
    let placed = shop.place_order(&cart, Some("mail"), &guest_checkout("guest.buyer@example.com")).await;
    assert_eq!(placed.status, 201);
    for event in shop.env.publish().await {
        storefront::api::notifications::send_notifications(&shop.env.app, event)
            .await
            .map_err(|e| e.detail.clone())
            .unwrap();
    }
    let emails = shop.env.emails();
    let raw =
        emails.get(shop.env.events_of("order.placed").await[0]["id"].as_str().unwrap()).expect("the confirmation");
    let email = mail_parser::MessageParser::default().parse(raw).unwrap();
    assert_eq!(email.to().unwrap().first().unwrap().address().unwrap(), "guest.buyer@example.com");
    let text = email.body_text(0).unwrap();
    let name = placed.body["shippingAddress"]["name"].as_str().unwrap();
    assert!(text.contains(&format!("Hello {name}")) && text.contains("$15.00"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn registering_with_a_guest_cart_takes_it_into_the_new_account() {
    let shop = Shop::open().await;
    let (a, b) = (shop.product("MERGE-A").stock(10).create().await, shop.product("MERGE-B").stock(10).create().await);
    let cart = shop.guest_cart().await;
    shop.put_cart_item(&cart, &a, 3).await;
    shop.put_cart_item(&cart, &b, 2).await;
    let body = json!({"email": "new@example.com", "password": PASSWORD, "name": "New Customer"});
    let mut req = request("POST", "/auth/register", Some(&body), None);
    req.headers_mut().insert("x-cart-token", cart.strip_prefix("x-cart-token: ").unwrap().parse().unwrap());
    let registered = shop.env.call(storefront::api::accounts::register, req).await;
    assert_eq!(registered.status, 201, "{:#}", registered.body);
    assert_eq!(registered.body["cartMerge"], json!({"lines": 2, "capped": []}));
    let mine = shop.get_cart(&registered.access_token()).await;
    assert_eq!(quantities(&mine), [(format!("{a}-1"), 3), (format!("{b}-1"), 2)]);
    assert!(quantities(&shop.get_cart(&cart).await).is_empty(), "the guest cart is gone");
}

#[tokio::test(flavor = "multi_thread")]
async fn signing_in_adds_the_guest_lines_capped_by_the_cart_and_by_stock_and_says_which() {
    let shop = Shop::open().await;
    let (plenty, scarce) =
        (shop.product("PLENTY").stock(500).create().await, shop.product("SCARCE").stock(4).create().await);
    shop.env.register("ada@example.com").await;
    let ada = shop.env.login("ada@example.com", PASSWORD).await.access_token();
    shop.put_cart_item(&ada, &plenty, 98).await;
    shop.put_cart_item(&ada, &scarce, 3).await;
    let cart = shop.guest_cart().await;
    shop.put_cart_item(&cart, &plenty, 5).await;
    shop.put_cart_item(&cart, &scarce, 1).await;
    // Another shopper takes a unit meanwhile: 3 are left for Ada's 3 + 1.
    let other = shop.customer_with_cart(7, &scarce, 1).await;
    assert_eq!(shop.place_order(&other, Some("o"), &checkout("GB", "standard", None)).await.status, 201);

    let signed_in = sign_in(&shop, "ada@example.com", &cart).await;
    assert_eq!(signed_in.status, 200, "{:#}", signed_in.body);
    let merge = &signed_in.body["cartMerge"];
    assert_eq!(merge["lines"], 2);
    let capped: Vec<(String, i64, i64)> = merge["capped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["variantId"].as_str().unwrap().to_owned(),
                c["requested"].as_i64().unwrap(),
                c["quantity"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(capped, [(format!("{plenty}-1"), 103, 99), (format!("{scarce}-1"), 4, 3)]);
    let mine = shop.get_cart(&signed_in.access_token()).await;
    assert_eq!(quantities(&mine), [(format!("{plenty}-1"), 99), (format!("{scarce}-1"), 3)]);

    // A retried sign-in merges nothing more.
    let again = sign_in(&shop, "ada@example.com", &cart).await;
    assert_eq!(again.body["cartMerge"], json!({"lines": 0, "capped": []}));
    assert_eq!(quantities(&shop.get_cart(&ada).await), quantities(&mine));
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_sign_ins_with_one_guest_cart_merge_it_once() {
    let shop = Arc::new(Shop::open().await);
    let lamp = shop.product("ONCE").stock(100).create().await;
    shop.env.register("ada@example.com").await;
    let cart = shop.guest_cart().await;
    shop.put_cart_item(&cart, &lamp, 4).await;
    let tasks: Vec<_> = (0..5)
        .map(|_| {
            let (shop, cart) = (shop.clone(), cart.clone());
            tokio::spawn(async move { sign_in(&shop, "ada@example.com", &cart).await })
        })
        .collect();
    let mut merged = 0;
    let mut token = String::new();
    for task in tasks {
        let answer = task.await.unwrap();
        assert_eq!(answer.status, 200, "{:#}", answer.body);
        merged += answer.body["cartMerge"]["lines"].as_i64().unwrap();
        token = answer.access_token();
    }
    assert_eq!(merged, 1, "exactly one sign-in took the line in");
    assert_eq!(quantities(&shop.get_cart(&token).await), [(format!("{lamp}-1"), 4)]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sign_in_with_a_cart_token_this_api_did_not_issue_is_refused_before_it_signs_in() {
    let shop = Shop::open().await;
    shop.env.register("ada@example.com").await;
    let refused = sign_in(&shop, "ada@example.com", &guest("forged.token")).await;
    refused.problem(401, "unauthenticated");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_guest_cart_lasts_30_days_from_its_last_change() {
    let shop = Shop::open().await;
    let lamp = shop.product("TTL").stock(5).create().await;
    let cart = shop.guest_cart().await;
    shop.put_cart_item(&cart, &lamp, 1).await;
    let cart_id =
        storefront::domain::GuestId::parse(cart.strip_prefix("x-cart-token: ").unwrap().split('.').next().unwrap())
            .unwrap();
    let key = storefront::store::keys::cart(storefront::domain::Shopper::Guest(cart_id));
    let item = shop.env.stored(key).await.expect("the guest cart's item");
    let expires: i64 = item["expiresAt"].as_n().unwrap().parse().unwrap();
    let now = shop.env.app.clock.now().unix_seconds();
    assert!((expires - now - 30 * 24 * 3600).abs() < 5, "{expires} vs {now}");
}
