//! Function-level tests: each function's handler fed the API Gateway HTTP API (payload 2.0)
//! event from `events/`, exactly as Lambda would hand it over, against dynoxide.

use storefront::api::accounts::{get_me, login, register, update_me};
use storefront_tests::{Shop, TestEnv, event, event_json, event_with};

fn request_id_of(name: &str) -> String {
    event_json(name)["requestContext"]["requestId"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sample_events_drive_register_login_get_me_and_update_me() {
    let env = TestEnv::start().await;

    let registered = env.call(register, event("register", None)).await;
    assert_eq!(registered.status, 201, "{:#}", registered.body);
    assert_eq!(registered.body["user"]["email"], "ada@example.com");

    let signed_in = env.call(login, event("login", None)).await;
    assert_eq!(signed_in.status, 200, "{:#}", signed_in.body);
    let token = signed_in.access_token();

    let me = env.call(get_me, event("get-me", Some(&token))).await;
    assert_eq!(me.status, 200, "{:#}", me.body);
    assert_eq!(me.body["name"], "Ada Lovelace");

    let updated = env.call(update_me, event("update-me", Some(&token))).await;
    assert_eq!(updated.status, 200, "{:#}", updated.body);
    assert_eq!(updated.body["name"], "Ada King");
    assert_eq!(updated.body["defaultShippingAddress"]["city"], "London");
}

#[tokio::test(flavor = "multi_thread")]
async fn answers_carry_api_gateways_request_id() {
    let env = TestEnv::start().await;
    let answer = env.call(register, event("register", None)).await;
    assert_eq!(answer.header("x-request-id"), Some(request_id_of("register").as_str()));
    let refused = env.call(get_me, event("get-me", None)).await;
    refused.problem(401, "unauthenticated");
    assert_eq!(refused.body["requestId"].as_str(), Some(request_id_of("get-me").as_str()));
}

#[tokio::test(flavor = "multi_thread")]
async fn replaying_the_register_event_is_409_email_taken() {
    let env = TestEnv::start().await;
    assert_eq!(env.call(register, event("register", None)).await.status, 201);
    env.call(register, event("register", None)).await.problem(409, "email_taken");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_catalog_sample_events_drive_their_functions() {
    use storefront::api::catalog::*;
    let Shop { env, admin } = Shop::open().await;

    let created = env.call(create_product, event("create-product", Some(&admin))).await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let etag = created.header("etag").unwrap().trim_matches('"').to_owned();
    let with_id = |name: &str| {
        event_with(
            name,
            &[("REPLACE_WITH_PRODUCT_ID", &id), ("REPLACE_WITH_ACCESS_TOKEN", &admin), ("REPLACE_WITH_ETAG", &etag)],
        )
    };

    let listed = env.call(list_products, event("list-products", None)).await;
    assert_eq!(listed.status, 200, "{:#}", listed.body);
    assert_eq!(listed.body["items"][0]["id"], id.as_str(), "the event searches 'wire mou' in electronics");

    assert_eq!(env.call(get_product, with_id("get-product")).await.body["sku"], "WM-100");
    assert_eq!(env.call(list_categories, event("list-categories", None)).await.body["items"][0]["slug"], "electronics");

    let updated = env.call(update_product, with_id("update-product")).await;
    assert_eq!(updated.status, 200, "{:#}", updated.body);
    assert_eq!(updated.body["priceCents"], 1999);
    env.call(update_product, with_id("update-product")).await.problem(412, "version_mismatch");

    assert_eq!(env.call(adjust_stock, with_id("adjust-stock")).await.body["stock"], 22);
    assert_eq!(env.call(admin_get_product, with_id("admin-get-product")).await.status, 200);
    assert_eq!(env.call(admin_list_products, with_id("admin-list-products")).await.body["items"][0]["id"], id.as_str());
    assert_eq!(env.call(archive_product, with_id("archive-product")).await.status, 204);
    env.call(get_product, with_id("get-product")).await.problem(404, "product_not_found");
}

/// The image functions' part of the permissions test: what each used, by binary.
async fn drive_images(
    env: &storefront_tests::TestEnv,
    admin: &str,
    product: &str,
) -> std::collections::BTreeMap<&'static str, std::collections::BTreeSet<(String, String)>> {
    use storefront::api::images::*;
    let mut used: std::collections::BTreeMap<&str, std::collections::BTreeSet<(String, String)>> = Default::default();
    env.recorder.take();
    macro_rules! run {
        ($binary:literal, $handler:expr, $req:expr) => {{
            let answer = env.call($handler, $req).await;
            used.entry($binary).or_default().extend(env.recorder.take());
            answer
        }};
    }
    let at = |method: &str, body: Option<serde_json::Value>, image: Option<&str>| {
        let req = storefront_tests::request(method, "/i", body.as_ref(), Some(admin));
        let mut params = vec![("id", product)];
        params.extend(image.map(|i| ("imageId", i)));
        storefront_tests::routed(req, &params, &[])
    };
    let declare = |bytes: &[u8]| {
        at("POST", Some(serde_json::json!({"contentType": "image/png", "contentLength": bytes.len()})), None)
    };
    let picture = tiny_png();
    let created = run!("create-image-upload", create_image_upload, declare(&picture));
    assert_eq!(created.status, 201, "{:#}", created.body);
    send(&created, &picture).await;
    let image = created.body["imageId"].as_str().unwrap().to_owned();
    let done = run!("complete-image-upload", complete_image_upload, at("POST", None, Some(&image)));
    assert_eq!(done.status, 200, "{:#}", done.body);
    // Bytes that are no image are deleted.
    let junk = b"not an image".to_vec();
    let refused = run!("create-image-upload", create_image_upload, declare(&junk));
    send(&refused, &junk).await;
    let refused_id = refused.body["imageId"].as_str().unwrap().to_owned();
    let answer = run!("complete-image-upload", complete_image_upload, at("POST", None, Some(&refused_id)));
    assert_eq!(answer.code(), "invalid_image");
    // Two uploads begun while there was room for one: the second is copied, then cannot be
    // attached, and its copy is deleted.
    let mut begun = Vec::new();
    for _ in 0..storefront::domain::MAX_IMAGES {
        let more = env.call(create_image_upload, declare(&picture)).await;
        assert_eq!(more.status, 201, "{:#}", more.body);
        send(&more, &picture).await;
        begun.push(more.body["imageId"].as_str().unwrap().to_owned());
    }
    let extra = begun.pop().unwrap();
    for more in &begun {
        assert_eq!(env.call(complete_image_upload, at("POST", None, Some(more))).await.status, 200);
    }
    env.recorder.take();
    let full = run!("complete-image-upload", complete_image_upload, at("POST", None, Some(&extra)));
    assert_eq!(full.code(), "too_many_images");
    let listed = env.call(storefront::api::catalog::admin_get_product, at("GET", None, None)).await;
    let reversed: Vec<serde_json::Value> =
        listed.body["images"].as_array().unwrap().iter().rev().map(|i| serde_json::json!({"id": i["id"]})).collect();
    env.recorder.take();
    let arranged =
        run!("update-images", update_images, at("PATCH", Some(serde_json::json!({"images": reversed})), None));
    assert_eq!(arranged.status, 200, "{:#}", arranged.body);
    assert_eq!(run!("delete-image", delete_image, at("DELETE", None, Some(&image))).status, 204);
    used
}

/// A 1×1 PNG.
fn tiny_png() -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, 1, 1);
    encoder.set_color(png::ColorType::Rgb);
    encoder.write_header().unwrap().write_image_data(&[10, 20, 30]).unwrap();
    out
}

/// Sends the bytes of an upload to its presigned URL, as an admin's client would.
async fn send(created: &storefront_tests::Answer, bytes: &[u8]) {
    let upload = &created.body["upload"];
    let headers: Vec<(String, String)> = upload["headers"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect();
    let (status, _) =
        storefront_tests::http_send("PUT", upload["url"].as_str().unwrap(), &headers, bytes.to_vec()).await;
    assert_eq!(status, 200);
}

/// Drives every function through the paths that need the most of DynamoDB, records what each
/// call needed, and compares it with what template.yaml grants that function: no function may
/// be refused in AWS (dynoxide has no IAM), and none may hold a permission it never uses.
#[tokio::test(flavor = "multi_thread")]
async fn each_function_is_granted_exactly_the_dynamodb_actions_it_uses() {
    use std::collections::{BTreeMap, BTreeSet};
    use storefront::api::catalog::*;
    let Shop { env, admin } = Shop::open().await;
    env.recorder.take();
    let mut used: BTreeMap<&str, BTreeSet<(String, String)>> = BTreeMap::new();
    macro_rules! run {
        ($binary:literal, $handler:expr, $req:expr) => {{
            let answer = env.call($handler, $req).await;
            used.entry($binary).or_default().extend(env.recorder.take());
            answer
        }};
    }
    let json_req = |method: &str, path: &str, body: serde_json::Value, token: Option<&str>| {
        storefront_tests::request(method, path, Some(&body), token)
    };

    run!("register", register, event("register", None));
    let mut token = run!("login", login, event("login", None)).access_token();
    run!(
        "login",
        login,
        json_req(
            "POST",
            "/auth/login",
            serde_json::json!({"email": "ada@example.com", "password": "wrong password"}),
            None
        )
    );
    run!("get-me", get_me, event("get-me", Some(&token)));
    run!("update-me", update_me, event("update-me", Some(&token)));
    run!("update-me", update_me, json_req("PATCH", "/me", serde_json::json!({}), Some(&token)));
    {
        use storefront::api::accounts::{delete_session, list_sessions, logout, refresh};
        let other = run!("login", login, event("login", None));
        let old = other.body["refreshToken"].as_str().unwrap().to_owned();
        let refresh_with = |token: &str| event_with("refresh", &[("REPLACE_WITH_REFRESH_TOKEN", token)]);
        assert_eq!(run!("refresh", refresh, refresh_with(&old)).status, 200);
        // The rotated token again, after the grace window: its session is revoked.
        env.app.clock.advance(60);
        run!("refresh", refresh, refresh_with(&old)).problem(401, "session_revoked");
        assert_eq!(run!("list-sessions", list_sessions, event("list-sessions", Some(&token))).status, 200);
        let third = run!("login", login, event("login", None)).access_token();
        let listed = env.call(list_sessions, event("list-sessions", Some(&third))).await;
        let third_id = listed.body["items"][0]["id"].as_str().unwrap().to_owned();
        env.recorder.take();
        let delete = event_with(
            "delete-session",
            &[("REPLACE_WITH_ACCESS_TOKEN", token.as_str()), ("REPLACE_WITH_SESSION_ID", third_id.as_str())],
        );
        assert_eq!(run!("delete-session", delete_session, delete).status, 204);
        let fourth = run!("login", login, event("login", None)).access_token();
        assert_eq!(run!("logout", logout, event("logout", Some(&fourth))).status, 204);
    }
    {
        use storefront::api::accounts::*;
        use storefront::app::account_emails::issue_token;
        use storefront::domain::TokenPurpose;
        let ada = env.me(&token).await.body;
        let ada: storefront::domain::User = serde_json::from_value(ada).unwrap();
        let sent =
            run!("send-verification-email", send_verification_email, event("send-verification-email", Some(&token)));
        assert_eq!(sent.status, 202, "{:#}", sent.body);
        let code = issue_token(&env.app, TokenPurpose::Verify, &ada).await.unwrap().expose();
        env.recorder.take();
        let verified = run!(
            "verify-email",
            verify_email,
            event_with("verify-email", &[("REPLACE_WITH_VERIFICATION_TOKEN", &code)])
        );
        assert_eq!(verified.status, 200, "{:#}", verified.body);
        assert_eq!(
            run!("request-password-reset", request_password_reset, event("request-password-reset", None)).status,
            202
        );
        let code = issue_token(&env.app, TokenPurpose::Reset, &ada).await.unwrap().expose();
        env.recorder.take();
        let reset = event_with("confirm-password-reset", &[("REPLACE_WITH_RESET_TOKEN", &code)]);
        assert_eq!(run!("confirm-password-reset", confirm_password_reset, reset).status, 204);
        // The reset signed every session out: sign in with the new password, and change it back.
        let body = serde_json::json!({"email": "ada@example.com", "password": "a new horse battery staple"});
        let again = env.call(login, json_req("POST", "/auth/login", body.clone(), None)).await.access_token();
        env.call(login, json_req("POST", "/auth/login", body, None)).await; // another session, to be revoked
        env.recorder.take();
        let back = serde_json::json!({"currentPassword": "a new horse battery staple", "newPassword": "correct horse battery staple"});
        assert_eq!(
            run!("change-password", change_password, json_req("POST", "/me/password", back, Some(&again))).status,
            204
        );
        token = env.login("ada@example.com", "correct horse battery staple").await.access_token();
        env.recorder.take();
    }
    {
        use storefront::api::addresses::*;
        let created = run!("create-address", create_address, event("create-address", Some(&token)));
        assert_eq!(created.status, 201, "{:#}", created.body);
        let address = created.body["id"].as_str().unwrap().to_owned();
        run!("list-addresses", list_addresses, event("list-addresses", Some(&token)));
        let with = |name: &str| {
            event_with(
                name,
                &[("REPLACE_WITH_ACCESS_TOKEN", token.as_str()), ("REPLACE_WITH_ADDRESS_ID", address.as_str())],
            )
        };
        assert_eq!(run!("update-address", update_address, with("update-address")).status, 200);
        assert_eq!(run!("delete-address", delete_address, with("delete-address")).status, 204);
    }

    let created = run!("create-product", create_product, event("create-product", Some(&admin)));
    let id = created.body["id"].as_str().unwrap().to_owned();
    let routed = |req, id: &str| storefront_tests::routed(req, &[("id", id)], &[]);
    run!("list-products", list_products, event("list-products", None));
    run!(
        "list-products",
        list_products,
        storefront_tests::routed(
            storefront_tests::request("GET", "/products", None, None),
            &[],
            &[("category", "electronics")]
        )
    );
    run!("get-product", get_product, routed(storefront_tests::request("GET", "/p", None, None), &id));
    run!("list-categories", list_categories, event("list-categories", None));
    let change = serde_json::json!({"sku": "WM-200", "name": "Silent Rodent", "category": "peripherals"});
    let updated = run!("update-product", update_product, routed(json_req("PATCH", "/p", change, Some(&admin)), &id));
    assert_eq!(updated.status, 200, "{:#}", updated.body);
    // Off sale and back: the variants go back on sale only while the product is that version.
    for active in [false, true] {
        let flip = serde_json::json!({"active": active});
        let flipped = run!("update-product", update_product, routed(json_req("PATCH", "/p", flip, Some(&admin)), &id));
        assert_eq!(flipped.status, 200, "{:#}", flipped.body);
    }
    for delta in [1, -21] {
        // 25 + 1, then down to 5: the variant runs low, and its event is written with the change.
        let adjusted = run!(
            "adjust-stock",
            adjust_stock,
            routed(json_req("POST", "/p", serde_json::json!({"delta": delta}), Some(&admin)), &id)
        );
        assert_eq!(adjusted.status, 200, "{:#}", adjusted.body);
    }
    run!(
        "admin-get-product",
        admin_get_product,
        routed(storefront_tests::request("GET", "/p", None, Some(&admin)), &id)
    );
    run!(
        "admin-list-products",
        admin_list_products,
        storefront_tests::request("GET", "/admin/products", None, Some(&admin))
    );
    let tee = serde_json::json!({"name": "Tee", "category": "apparel",
        "options": [{"name": "Size", "values": ["S", "M"]}],
        "variants": [{"sku": "IAM-TEE-S", "options": {"Size": "S"}, "priceCents": 900, "stock": 1}]});
    let tee = run!("create-product", create_product, json_req("POST", "/products", tee, Some(&admin)));
    assert_eq!(tee.status, 201, "{:#}", tee.body);
    let tee_id = tee.body["id"].as_str().unwrap().to_owned();
    let variant = |method: &str, body: serde_json::Value, variant: &str| {
        let req = json_req(method, "/v", body, Some(&admin));
        storefront_tests::routed(req, &[("id", &tee_id), ("variantId", &format!("{tee_id}-{variant}"))], &[])
    };
    let medium = serde_json::json!({"sku": "IAM-TEE-M", "options": {"Size": "M"}, "priceCents": 900, "stock": 2});
    assert_eq!(run!("create-variant", create_variant, variant("POST", medium, "1")).status, 201);
    let cheaper = serde_json::json!({"sku": "IAM-TEE-MED", "priceCents": 800, "onHand": 9});
    assert_eq!(run!("update-variant", update_variant, variant("PATCH", cheaper, "2")).status, 200);
    let sold_out = serde_json::json!({"delta": -1});
    assert_eq!(run!("adjust-variant-stock", adjust_variant_stock, variant("POST", sold_out, "1")).status, 200);
    let low = serde_json::json!({"delta": -5});
    assert_eq!(run!("adjust-variant-stock", adjust_variant_stock, variant("POST", low, "2")).status, 200);
    assert_eq!(env.events_of("inventory.low").await.len(), 2, "adjust-stock and adjust-variant-stock ran low");
    let gone = storefront_tests::routed(
        storefront_tests::request("DELETE", "/v", None, Some(&admin)),
        &[("id", &tee_id), ("variantId", &format!("{tee_id}-1"))],
        &[],
    );
    assert_eq!(run!("archive-variant", archive_variant, gone).status, 204);

    for (binary, needed) in Box::pin(drive_images(&env, &admin, &tee_id)).await {
        used.entry(binary).or_default().extend(needed);
    }

    {
        use storefront::api::{cart::*, checkout::*, discounts::*, jobs::*, orders::*, payments::*};
        let cart_item = |method: &str, body: Option<serde_json::Value>| {
            let req = storefront_tests::request(method, "/cart/items/x", body.as_ref(), Some(&token));
            storefront_tests::routed(req, &[("itemId", &id)], &[])
        };
        let second =
            serde_json::json!({"sku": "SECOND", "name": "Second", "priceCents": 5, "category": "x", "stock": 5});
        let second = run!("create-product", create_product, json_req("POST", "/products", second, Some(&admin)));
        let second_id = second.body["id"].as_str().unwrap().to_owned();
        let put_second = storefront_tests::routed(
            json_req("PUT", "/cart/items/x", serde_json::json!({"quantity": 1}), Some(&token)),
            &[("itemId", &second_id)],
            &[],
        );
        run!("put-cart-item", put_cart_item, put_second);
        // A guest's cart, taken in by a registration and then by a sign-in.
        let guest_cart = |answer: &storefront_tests::Answer| answer.body["cartToken"].as_str().unwrap().to_owned();
        let first_guest = guest_cart(&run!("create-cart", create_cart, event("create-cart", None)));
        let as_guest = |cart: &str| {
            let req = json_req("PUT", "/cart/items/x", serde_json::json!({"quantity": 1}), None);
            let mut req = storefront_tests::routed(req, &[("itemId", &second_id)], &[]);
            req.headers_mut().insert("x-cart-token", cart.parse().unwrap());
            req
        };
        assert_eq!(env.call(put_cart_item, as_guest(&first_guest)).await.status, 200);
        env.recorder.take();
        let merge = serde_json::json!({"email": "merge@example.com", "password": "a merging password", "name": "M"});
        let mut req = json_req("POST", "/auth/register", merge, None);
        req.headers_mut().insert("x-cart-token", first_guest.parse().unwrap());
        let merged = run!("register", storefront::api::accounts::register, req);
        assert_eq!(merged.body["cartMerge"]["lines"], 1, "{:#}", merged.body);
        let second_guest = guest_cart(&env.call(create_cart, event("create-cart", None)).await);
        assert_eq!(env.call(put_cart_item, as_guest(&second_guest)).await.status, 200);
        env.recorder.take();
        let again = serde_json::json!({"email": "merge@example.com", "password": "a merging password"});
        let mut req = json_req("POST", "/auth/login", again, None);
        req.headers_mut().insert("x-cart-token", second_guest.parse().unwrap());
        assert_eq!(run!("login", login, req).body["cartMerge"]["lines"], 1);
        run!("put-cart-item", put_cart_item, cart_item("PUT", Some(serde_json::json!({"quantity": 2}))));
        run!("delete-cart-item", delete_cart_item, cart_item("DELETE", None));
        run!("clear-cart", clear_cart, storefront_tests::request("DELETE", "/cart", None, Some(&token)));
        run!("put-cart-item", put_cart_item, cart_item("PUT", Some(serde_json::json!({"quantity": 1}))));
        run!("get-cart", get_cart, storefront_tests::request("GET", "/cart", None, Some(&token)));
        let discount = serde_json::json!({"code": "TENOFF", "amountOffCents": 10});
        run!("create-discount", create_discount, json_req("POST", "/discounts", discount, Some(&admin)));
        run!("list-discounts", list_discounts, storefront_tests::request("GET", "/discounts", None, Some(&admin)));
        let on = storefront_tests::routed(
            json_req("PATCH", "/d", serde_json::json!({"active": true}), Some(&admin)),
            &[("code", "TENOFF")],
            &[],
        );
        run!("update-discount", update_discount, on);
        let checkout = |country: &str| {
            serde_json::json!({"shippingAddress": {"name": "A", "line1": "B", "city": "C", "postalCode": "D", "country": country},
                "shippingMethod": "standard", "discountCode": "TENOFF"})
        };
        run!("checkout-quote", quote, json_req("POST", "/checkout/quote", checkout("GB"), Some(&token)));
        let order = |country: &str| {
            let mut req = json_req("POST", "/orders", checkout(country), Some(&token));
            req.headers_mut().insert("idempotency-key", "iam-test".parse().unwrap());
            req
        };
        let refused = run!("place-order", place_order, order("BR"));
        assert_eq!(refused.code(), "unsupported_country", "a refused order releases its key");
        let placed = run!("place-order", place_order, order("GB"));
        assert_eq!(placed.status, 201, "{:#}", placed.body);
        let order_id = placed.body["id"].as_str().unwrap().to_owned();
        run!("list-orders", list_orders, storefront_tests::request("GET", "/orders", None, Some(&token)));
        let get = storefront_tests::routed(
            storefront_tests::request("GET", "/o", None, Some(&token)),
            &[("id", &order_id)],
            &[],
        );
        run!("get-order", get_order, get);

        // The lifecycle: a signed payment, an admin cancel of a paid order, a listing, a
        // customer cancel, and an expiry.
        let body = serde_json::json!({"id": "evt-iam", "type": "payment.succeeded", "data": {"orderId": order_id,
            "amountCents": placed.body["totalCents"], "currency": "USD", "paymentId": "pay-iam"}})
        .to_string();
        let webhook = env.webhook_request(body, None);
        assert_eq!(run!("payment-webhook", payment_webhook, webhook).status, 200);
        // Refunds: one of a line with restock, the order's refunds listed, and one left pending
        // (its request stopped before the provider) that the settling job makes.
        let paid_order = env.app.store.order(storefront::domain::OrderId::parse(&order_id).unwrap()).await.unwrap();
        let variant = paid_order.unwrap().items[0].variant_id.to_string();
        let mut refund = json_req(
            "POST",
            "/r",
            serde_json::json!({"lines": [{"variantId": variant, "quantity": 1}], "restock": true}),
            Some(&admin),
        );
        refund.headers_mut().insert("idempotency-key", "iam-refund".parse().unwrap());
        let refund = storefront_tests::routed(refund, &[("id", &order_id)], &[]);
        let made = run!("create-refund", storefront::api::payments::create_refund, refund);
        assert_eq!((made.status, made.body["status"].as_str()), (201, Some("succeeded")), "{:#}", made.body);
        let listing = storefront_tests::routed(
            storefront_tests::request("GET", "/r", None, Some(&admin)),
            &[("id", &order_id)],
            &[],
        );
        assert_eq!(run!("list-refunds", storefront::api::payments::list_refunds, listing).status, 200);
        storefront_tests::pending_refund(&env, &order_id, 1).await;
        env.recorder.take();
        env.app.clock.advance(61);
        let settled = storefront::api::jobs::settle_refunds(&env.app).await.map_err(|e| e.detail.clone()).unwrap();
        assert_eq!(settled["settled"], 1, "{settled}");
        used.entry("settle-refunds").or_default().extend(env.recorder.take());
        let cancel_paid = storefront_tests::routed(
            json_req("PATCH", "/a", serde_json::json!({"status": "cancelled"}), Some(&admin)),
            &[("id", &order_id)],
            &[],
        );
        let cancelled = run!("admin-update-order", admin_update_order, cancel_paid);
        assert_eq!(cancelled.status, 200, "{:#}", cancelled.body);
        let list = storefront_tests::routed(
            storefront_tests::request("GET", "/admin/orders", None, Some(&admin)),
            &[],
            &[("status", "cancelled")],
        );
        run!("admin-list-orders", admin_list_orders, list);
        let place_again = |key: &str| {
            let mut req = json_req("POST", "/orders", checkout("GB"), Some(&token));
            req.headers_mut().insert("idempotency-key", key.parse().unwrap());
            req
        };
        run!("put-cart-item", put_cart_item, cart_item("PUT", Some(serde_json::json!({"quantity": 1}))));
        let second = run!("place-order", place_order, place_again("iam-test-2"));
        let second_id = second.body["id"].as_str().unwrap().to_owned();
        let cancel = storefront_tests::routed(
            storefront_tests::request("POST", "/c", None, Some(&token)),
            &[("id", &second_id)],
            &[],
        );
        assert_eq!(run!("cancel-order", cancel_order, cancel).status, 200);
        run!("put-cart-item", put_cart_item, cart_item("PUT", Some(serde_json::json!({"quantity": 1}))));
        // A failed payment leaves its order awaiting payment (the customer may try again).
        let failing = run!("place-order", place_order, place_again("iam-test-4"));
        let failed = serde_json::json!({"id": "evt-iam-failed", "type": "payment.failed", "data": {"orderId":
            failing.body["id"], "amountCents": failing.body["totalCents"], "currency": "USD", "paymentId": "pay-no"}})
        .to_string();
        assert_eq!(run!("payment-webhook", payment_webhook, env.webhook_request(failed, None)).status, 200);
        // A return of a delivered order: requested, listed, received (restocked and refunded).
        run!("put-cart-item", put_cart_item, cart_item("PUT", Some(serde_json::json!({"quantity": 1}))));
        // (Without the code: the order left to expire holds this customer's one use of it.)
        let mut no_code = checkout("GB");
        no_code.as_object_mut().unwrap().remove("discountCode");
        let mut keep = json_req("POST", "/orders", no_code, Some(&token));
        keep.headers_mut().insert("idempotency-key", "iam-test-5".parse().unwrap());
        let kept = run!("place-order", place_order, keep);
        let kept_id = kept.body["id"].as_str().unwrap().to_owned();
        let paid = serde_json::json!({"id": "evt-iam-kept", "type": "payment.succeeded", "data": {"orderId": kept_id,
            "amountCents": kept.body["totalCents"], "currency": "USD", "paymentId": "pay-kept"}})
        .to_string();
        assert_eq!(run!("payment-webhook", payment_webhook, env.webhook_request(paid, None)).status, 200);
        for status in ["shipped", "delivered"] {
            let change = json_req("PATCH", "/a", serde_json::json!({"status": status}), Some(&admin));
            let changed = run!(
                "admin-update-order",
                admin_update_order,
                storefront_tests::routed(change, &[("id", &kept_id)], &[])
            );
            assert_eq!(changed.status, 200, "{:#}", changed.body);
        }
        let line = serde_json::json!({"lines": [{"variantId": kept.body["items"][0]["variantId"], "quantity": 1}],
            "reason": "Too small"});
        let asked = storefront_tests::routed(json_req("POST", "/r", line, Some(&token)), &[("id", &kept_id)], &[]);
        let asked = run!("create-return", storefront::api::returns::create_return, asked);
        assert_eq!(asked.status, 201, "{:#}", asked.body);
        let listing = storefront_tests::routed(
            storefront_tests::request("GET", "/admin/returns", None, Some(&admin)),
            &[],
            &[("status", "requested")],
        );
        assert_eq!(run!("list-returns", storefront::api::returns::list_returns, listing).status, 200);
        let receive = json_req("PATCH", "/r", serde_json::json!({"status": "received"}), Some(&admin));
        let return_id = asked.body["id"].as_str().unwrap().to_owned();
        let receive = storefront_tests::routed(receive, &[("id", &return_id)], &[]);
        let received = run!("update-return", storefront::api::returns::update_return, receive);
        assert_eq!(received.status, 200, "{:#}", received.body);
        // The order the payment failed for is left to expire.
        env.app.clock.advance(3600);
        env.recorder.take();
        let report = expire_orders(&env.app).await.map_err(|e| e.detail.clone()).unwrap();
        assert_eq!(report["cancelled"], 1);
        used.entry("expire-orders").or_default().extend(env.recorder.take());
    }
    let archived = run!(
        "archive-product",
        archive_product,
        routed(storefront_tests::request("DELETE", "/p", None, Some(&admin)), &id)
    );
    assert_eq!(archived.status, 204);

    // The event pipeline: publish-events puts the outbox on the bus; send-notifications emails
    // an order event (once failing to send, which gives its claim back, then sending).
    env.recorder.take();
    let published = env.publish().await;
    used.entry("publish-events").or_default().extend(env.recorder.take());
    let placed = published.iter().find(|e| e["detail-type"] == "order.placed").expect("an order.placed").clone();
    std::fs::create_dir_all(env.emails.parent().unwrap()).unwrap();
    std::fs::write(&env.emails, "not a directory").unwrap();
    assert!(storefront::api::notifications::send_notifications(&env.app, placed.clone()).await.is_err());
    std::fs::remove_file(&env.emails).unwrap();
    assert!(storefront::api::notifications::send_notifications(&env.app, placed).await.is_ok());
    used.entry("send-notifications").or_default().extend(env.recorder.take());

    // Webhooks: an endpoint registered, listed, read and changed; an event delivered to it
    // (failing once), retried by the job, then by hand; its deliveries listed; the endpoint deleted.
    use storefront::api::webhooks::*;
    let receiver = storefront_tests::Receiver::start(vec![500, 200]).await;
    let hook = serde_json::json!({"url": receiver.url, "events": ["*"]});
    let created = run!("create-webhook", create_webhook, json_req("POST", "/admin/webhooks", hook, Some(&admin)));
    assert_eq!(created.status, 201, "{:#}", created.body);
    let hook_id = created.body["id"].as_str().unwrap().to_owned();
    let at_hook = |req, extra: &[(&str, &str)]| {
        let mut params = vec![("id", hook_id.as_str())];
        params.extend_from_slice(extra);
        storefront_tests::routed(req, &params, &[])
    };
    let get = |path: &str| storefront_tests::request("GET", path, None, Some(&admin));
    assert_eq!(run!("list-webhooks", list_webhooks, get("/admin/webhooks")).status, 200);
    assert_eq!(run!("get-webhook", get_webhook, at_hook(get("/h"), &[])).status, 200);
    let rotate = json_req("PATCH", "/h", serde_json::json!({"rotateSecret": true}), Some(&admin));
    assert_eq!(run!("update-webhook", update_webhook, at_hook(rotate, &[])).status, 200);
    let order_event = published.iter().find(|e| e["detail-type"] == "order.paid").expect("an order.paid").clone();
    let report = deliver_webhooks(&env.app, order_event.clone()).await.map_err(|e| e.detail.clone()).unwrap();
    assert_eq!(report["failed"], 1, "{report}");
    let report = deliver_webhooks(&env.app, order_event.clone()).await.map_err(|e| e.detail.clone()).unwrap();
    assert_eq!(report["repeated"], 1, "the bus handing the event over again: {report}");
    used.entry("deliver-webhooks").or_default().extend(env.recorder.take());
    env.app.clock.advance(60);
    let retried = storefront::api::jobs::retry_webhooks(&env.app).await.map_err(|e| e.detail.clone()).unwrap();
    assert_eq!(retried["delivered"], 1, "{retried}");
    used.entry("retry-webhooks").or_default().extend(env.recorder.take());
    let delivery = order_event["detail"]["id"].as_str().unwrap();
    let again = storefront_tests::request("POST", "/r", None, Some(&admin));
    let again = run!("retry-webhook-delivery", retry_webhook_delivery, at_hook(again, &[("deliveryId", delivery)]));
    assert_eq!(again.status, 200, "{:#}", again.body);
    // A second delivery, so that the listing has a second page (whose query does not meet the
    // endpoint: it is read by key).
    let placed_event = published.iter().find(|e| e["detail-type"] == "order.placed").expect("an order.placed");
    storefront::app::webhooks::deliver(&env.app, &placed_event["detail"]).await.map_err(|e| e.to_string()).unwrap();
    env.recorder.take();
    let first_page = storefront_tests::routed(get("/d"), &[("id", hook_id.as_str())], &[("limit", "1")]);
    let listed = run!("list-webhook-deliveries", list_webhook_deliveries, first_page);
    assert_eq!(listed.body["items"][0]["attempts"], 3, "the order.paid delivery, newest: {:#}", listed.body);
    let cursor = listed.body["nextCursor"].as_str().expect("a second page").to_owned();
    let second =
        storefront_tests::routed(get("/d"), &[("id", hook_id.as_str())], &[("limit", "1"), ("cursor", &cursor)]);
    let listed = run!("list-webhook-deliveries", list_webhook_deliveries, second);
    assert_eq!(listed.body["items"][0]["eventType"], "order.placed", "{:#}", listed.body);
    let delete = storefront_tests::request("DELETE", "/h", None, Some(&admin));
    assert_eq!(run!("delete-webhook", delete_webhook, at_hook(delete, &[])).status, 204);

    // Stripe's webhook, in a shop whose payments Stripe takes (a stand-in for its API).
    let stripe = storefront_tests::stripe::StripeStandIn::start().await;
    let url = stripe.url.clone();
    let with_stripe = Shop::open_configured(move |config| {
        config.payment_provider = storefront::domain::ProviderName::Stripe;
        config.stripe.secret_key = Some(storefront::config::SecretSource::Value("sk_test_iam".into()));
        config.stripe.webhook_secret = Some(storefront::config::SecretSource::Value("whsec_iam".into()));
        config.stripe.api_base = Some(url);
    })
    .await;
    let p = with_stripe.product("IAM-STRIPE").price(1000).stock(5).create().await;
    let buyer = with_stripe.customer(1).await;
    let order = with_stripe.order(&buyer, &p, 1, None).await;
    let mut intent = storefront_tests::stripe::fixture("payment_intent");
    intent["id"] = order["payment"]["id"].clone();
    intent["amount_received"] = order["totalCents"].clone();
    intent["currency"] = serde_json::json!("usd");
    intent["metadata"] = serde_json::json!({"order_id": order["id"]});
    let body = storefront_tests::stripe::event("payment_intent.succeeded", intent).to_string();
    let signature =
        storefront::auth::webhook::sign("whsec_iam", with_stripe.env.app.clock.now().unix_seconds(), body.as_bytes());
    let mut req = storefront_tests::raw_request("POST", "/webhooks/stripe", Some("application/json"), &body);
    req.headers_mut().insert("stripe-signature", signature.parse().unwrap());
    with_stripe.env.recorder.take();
    let answer = with_stripe.env.call(storefront::api::payments::stripe_webhook, req).await;
    assert_eq!(answer.status, 200, "{:#}", answer.body);
    used.entry("stripe-webhook").or_default().extend(with_stripe.env.recorder.take());

    let functions = storefront_tests::function_binaries();
    assert_eq!(used.keys().map(|k| k.to_string()).collect::<BTreeSet<_>>(), functions, "every function is exercised");
    // Every disagreement at once, so that one run says all that must change.
    let wrong: Vec<String> = used
        .iter()
        .filter(|(binary, needed)| &storefront_tests::granted_actions(binary) != *needed)
        .map(|(binary, needed)| {
            format!("{binary}: granted {:?}, used {needed:?}", storefront_tests::granted_actions(binary))
        })
        .collect();
    assert!(wrong.is_empty(), "granted vs used:\n{}", wrong.join("\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cart_checkout_and_lifecycle_sample_events_drive_their_functions() {
    use storefront::api::catalog::create_product;
    use storefront::api::{cart::*, checkout::*, discounts::*, orders::*, payments::*};
    let shop = Shop::open().await;
    let customer = shop.customer(1).await;
    let Shop { env, admin } = shop;
    let product =
        env.call(create_product, event("create-product", Some(&admin))).await.body["id"].as_str().unwrap().to_owned();
    let as_customer = |name: &str| {
        event_with(name, &[("REPLACE_WITH_ACCESS_TOKEN", &customer), ("REPLACE_WITH_PRODUCT_ID", &product)])
    };
    let as_admin = |name: &str, extra: &[(&str, &str)]| {
        let mut r = vec![("REPLACE_WITH_ACCESS_TOKEN", admin.as_str())];
        r.extend_from_slice(extra);
        event_with(name, &r)
    };

    assert_eq!(env.call(put_cart_item, as_customer("put-cart-item")).await.body["items"][0]["quantity"], 2);
    assert_eq!(env.call(get_cart, as_customer("get-cart")).await.body["subtotalCents"], 4998);
    assert_eq!(env.call(delete_cart_item, as_customer("delete-cart-item")).await.body["items"], serde_json::json!([]));
    assert_eq!(env.call(clear_cart, as_customer("clear-cart")).await.status, 204);
    let created = env.call(create_discount, as_admin("create-discount", &[])).await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    assert_eq!(env.call(list_discounts, as_admin("list-discounts", &[])).await.body["items"][0]["code"], "WELCOME10");
    let off =
        env.call(update_discount, as_admin("update-discount", &[("REPLACE_WITH_DISCOUNT_CODE", "WELCOME10")])).await;
    assert_eq!(off.body["active"], false);
    env.call(
        update_discount,
        as_admin(
            "update-discount",
            &[("REPLACE_WITH_DISCOUNT_CODE", "WELCOME10"), (r#"\"active\":false"#, r#"\"active\":true"#)],
        ),
    )
    .await;

    env.call(put_cart_item, as_customer("put-cart-item")).await;
    let quoted = env.call(quote, as_customer("checkout-quote")).await;
    assert_eq!(quoted.status, 200, "{:#}", quoted.body);
    let placed = env.call(place_order, as_customer("place-order")).await;
    assert_eq!(placed.status, 201, "{:#}", placed.body);
    assert_eq!(placed.body["totalCents"], quoted.body["totalCents"]);
    let order_id = placed.body["id"].as_str().unwrap().to_owned();
    let total = placed.body["totalCents"].to_string();
    assert_eq!(env.call(place_order, as_customer("place-order")).await.body, placed.body, "the event's key replays");
    assert_eq!(env.call(list_orders, as_customer("list-orders")).await.body["items"][0]["id"], order_id.as_str());
    let with_order = |name: &str, token: &str| {
        event_with(name, &[("REPLACE_WITH_ACCESS_TOKEN", token), ("REPLACE_WITH_ORDER_ID", &order_id)])
    };
    assert_eq!(env.call(get_order, with_order("get-order", &customer)).await.body["id"], order_id.as_str());

    // The webhook event, with this order's id and total, signed now.
    let mut raw = event_json("payment-webhook");
    let body = raw["body"].as_str().unwrap().replace("REPLACE_WITH_ORDER_ID", &order_id).replace("4098", &total);
    raw["headers"]["storefront-signature"] = serde_json::json!(env.webhook_signature(&body));
    raw["headers"]["content-length"] = serde_json::json!(body.len().to_string());
    raw["body"] = serde_json::json!(body);
    let webhook = lambda_http::request::from_str(&raw.to_string()).unwrap();
    let paid = env.call(payment_webhook, webhook).await;
    assert_eq!(paid.status, 200, "{:#}", paid.body);

    let list = as_admin("admin-list-orders", &[]);
    assert_eq!(env.call(admin_list_orders, list).await.body["items"][0]["id"], order_id.as_str());
    let shipped = env.call(admin_update_order, with_order("admin-update-order", &admin)).await;
    assert_eq!((shipped.status, shipped.body["trackingNumber"].as_str()), (200, Some("1Z999AA10123456784")));
    env.call(cancel_order, with_order("cancel-order", &customer)).await.problem(409, "invalid_transition");

    let scheduled = event_json("expire-orders");
    assert_eq!(scheduled["detail-type"], "Scheduled Event");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_that_would_outlast_its_lambda_deadline_answers_503_before_it() {
    use lambda_http::RequestExt;
    let env = TestEnv::start().await;
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    let mut context = lambda_http::Context::default();
    context.deadline = now_ms + 1_500;
    let req = event("get-me", None).with_lambda_context(context);
    let started = std::time::Instant::now();
    let slow = |app, req| async move {
        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
        get_me(app, req).await
    };
    let answer = env.call(slow, req).await;
    answer.problem(503, "service_unavailable");
    assert_eq!(answer.header("retry-after"), Some("1"));
    // The handler gave up half a second before the deadline, leaving time to answer.
    let took = started.elapsed();
    assert!(
        took >= std::time::Duration::from_millis(800) && took < std::time::Duration::from_millis(1_400),
        "{took:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_image_sample_events_drive_their_functions() {
    use storefront::api::catalog::create_product;
    use storefront::api::images::*;
    let Shop { env, admin } = Shop::open().await;
    let created = env.call(create_product, event("create-product", Some(&admin))).await;
    let product = created.body["id"].as_str().unwrap().to_owned();
    let with = |name: &str, image: &str| {
        event_with(
            name,
            &[
                ("REPLACE_WITH_PRODUCT_ID", &product),
                ("REPLACE_WITH_ACCESS_TOKEN", &admin),
                ("REPLACE_WITH_IMAGE_ID", image),
            ],
        )
    };
    let picture = tiny_png();
    let declared = event_json("create-image-upload")["body"].as_str().map(str::to_owned).unwrap();
    assert!(declared.contains(&format!("\"contentLength\":{}", picture.len())), "the event declares the test's PNG");
    let ticket = env.call(create_image_upload, with("create-image-upload", "")).await;
    assert_eq!(ticket.status, 201, "{:#}", ticket.body);
    send(&ticket, &picture).await;
    let image = ticket.body["imageId"].as_str().unwrap().to_owned();
    let done = env.call(complete_image_upload, with("complete-image-upload", &image)).await;
    assert_eq!(done.status, 200, "{:#}", done.body);
    assert_eq!(done.body["images"][0]["alt"], "The mouse from above");
    let edited = env.call(update_images, with("update-images", &image)).await;
    assert_eq!(edited.status, 200, "{:#}", edited.body);
    assert_eq!(edited.body["images"][0]["alt"], "The wireless mouse, from above");
    assert_eq!(env.call(delete_image, with("delete-image", &image)).await.status, 204);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_request_writes_one_metric_line_with_its_route_outcome_latency_and_trace_id() {
    use lambda_http::RequestExt;
    use storefront::api::catalog::{get_product, list_categories};
    let env = TestEnv::start().await;
    let mut context = lambda_http::Context::default();
    context.xray_trace_id = Some("Root=1-67891233-abcdef012345678912345678;Parent=53995c3f42cd8ad8;Sampled=1".into());
    let listed = env.call(list_categories, event("list-categories", None).with_lambda_context(context)).await;
    assert_eq!(listed.status, 200);
    let missing = env
        .call(get_product, event_with("get-product", &[("REPLACE_WITH_PRODUCT_ID", "01ARZ3NDEKTSV4RRFFQ69G5FAV")]))
        .await;
    assert_eq!(missing.status, 404, "{:#}", missing.body);
    let lines: Vec<_> = env.metric("Requests").into_iter().map(|(_, line)| line).collect();
    assert_eq!(lines.len(), 2, "one line per request: {lines:#?}");
    let (ok, problem) = (&lines[0], &lines[1]);
    assert_eq!((ok["Route"].as_str(), ok["StatusClass"].as_str()), (Some("GET /categories"), Some("2xx")));
    assert_eq!(ok["traceId"], "1-67891233-abcdef012345678912345678", "the trace id beside the request id");
    assert_eq!(ok["requestId"].as_str(), listed.header("x-request-id"));
    assert!(ok["Latency"].as_f64().is_some_and(|ms| ms > 0.0) && ok.get("Code").is_none(), "{ok}");
    assert_eq!(ok["ColdStart"], 1, "the first request of the process is its cold start");
    assert_eq!((problem["Route"].as_str(), problem["StatusClass"].as_str()), (Some("GET /products/{id}"), Some("4xx")));
    assert_eq!((problem["Code"].as_str(), problem["Problems"].as_f64()), (Some(missing.code()), Some(1.0)));
    assert!(problem.get("ColdStart").is_none(), "one cold start per process");
    let names: Vec<&str> = problem["_aws"]["CloudWatchMetrics"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["Metrics"].as_array().unwrap().iter().map(|m| m["Name"].as_str().unwrap()))
        .collect();
    assert_eq!(names, ["Latency", "Requests", "Problems"]);
}
