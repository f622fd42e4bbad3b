//! The address book: up to 20 saved addresses, one the default shipping address the profile
//! shows (and `PATCH /me` keeps setting); checkout by `shippingAddressId`; no change lost to a
//! concurrent one; a profile of the version before address books reads as a one-entry book.

use serde_json::{Value, json};
use std::sync::Arc;
use storefront::api::addresses::{create_address, delete_address, list_addresses, update_address};
use storefront_tests::{Answer, Shop, TestEnv, request, routed};

fn address(name: &str) -> Value {
    json!({"name": name, "line1": "12 St James's Square", "city": "London", "postalCode": "SW1Y 4JH", "country": "gb"})
}

async fn add(env: &TestEnv, token: &str, body: Value) -> Answer {
    env.call(create_address, request("POST", "/me/addresses", Some(&body), Some(token))).await
}

async fn list(env: &TestEnv, token: &str) -> Vec<Value> {
    let answer = env.call(list_addresses, request("GET", "/me/addresses", None, Some(token))).await;
    assert_eq!(answer.status, 200, "{:#}", answer.body);
    answer.body["items"].as_array().unwrap().clone()
}

async fn patch(env: &TestEnv, token: &str, id: &str, body: Value) -> Answer {
    let req = routed(request("PATCH", "/me/addresses/x", Some(&body), Some(token)), &[("id", id)], &[]);
    env.call(update_address, req).await
}

async fn delete(env: &TestEnv, token: &str, id: &str) -> Answer {
    env.call(delete_address, routed(request("DELETE", "/me/addresses/x", None, Some(token)), &[("id", id)], &[])).await
}

async fn patch_me(env: &TestEnv, token: &str, body: Value) -> Answer {
    env.call(storefront::api::accounts::update_me, request("PATCH", "/me", Some(&body), Some(token))).await
}

#[tokio::test(flavor = "multi_thread")]
async fn saved_addresses_are_listed_edited_and_deleted_and_one_is_the_profiles_default() {
    let env = TestEnv::start().await;
    let token = env.register("ada@example.com").await.access_token();
    assert!(list(&env, &token).await.is_empty());
    let mut home = address("Home");
    home["defaultShipping"] = json!(true);
    let home = add(&env, &token, home).await;
    assert_eq!(home.status, 201, "{:#}", home.body);
    assert_eq!((&home.body["country"], &home.body["defaultShipping"]), (&json!("GB"), &json!(true)));
    let work = add(&env, &token, address("Work")).await;
    assert_eq!(work.body["defaultShipping"], false);
    assert_eq!(env.me(&token).await.body["defaultShippingAddress"]["name"], "Home");

    let (home_id, work_id) = (home.body["id"].as_str().unwrap(), work.body["id"].as_str().unwrap());
    let moved = patch(&env, &token, work_id, json!({"line2": "Floor 3", "defaultShipping": true})).await;
    assert_eq!(moved.status, 200, "{:#}", moved.body);
    assert_eq!((&moved.body["line2"], &moved.body["city"]), (&json!("Floor 3"), &json!("London")), "the rest kept");
    let listed = list(&env, &token).await;
    let defaults: Vec<&str> =
        listed.iter().filter(|a| a["defaultShipping"] == true).map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(defaults, ["Work"], "one default");
    assert_eq!(env.me(&token).await.body["defaultShippingAddress"]["line2"], "Floor 3");

    let bad = patch(&env, &token, home_id, json!({"country": "XX", "city": ""})).await;
    bad.problem(422, "validation_failed");
    assert_eq!(bad.error_fields(), ["city", "country"]);
    assert_eq!(delete(&env, &token, work_id).await.status, 204);
    assert!(env.me(&token).await.body.get("defaultShippingAddress").is_none(), "the default went with it");
    delete(&env, &token, work_id).await.problem(404, "address_not_found");
    patch(&env, &token, "nope", json!({"city": "Leeds"})).await.problem(404, "address_not_found");
    // Another account's id is not found either.
    let eve = env.register("eve@example.com").await.access_token();
    delete(&env, &eve, home_id).await.problem(404, "address_not_found");
    assert_eq!(list(&env, &token).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_address_book_holds_twenty_and_refuses_bad_addresses_field_by_field() {
    let env = TestEnv::start().await;
    let token = env.register("ada@example.com").await.access_token();
    let bad =
        add(&env, &token, json!({"name": "", "line1": "x", "city": "y", "postalCode": "z", "country": "QQ"})).await;
    bad.problem(422, "validation_failed");
    assert_eq!(bad.error_fields(), ["name", "country"]);
    for i in 0..20 {
        assert_eq!(add(&env, &token, address(&format!("A{i}"))).await.status, 201);
    }
    add(&env, &token, address("one too many")).await.problem(422, "address_book_full");
}

#[tokio::test(flavor = "multi_thread")]
async fn patch_me_with_a_default_shipping_address_sets_the_books_default_entry() {
    let env = TestEnv::start().await;
    let token = env.register("ada@example.com").await.access_token();
    let set = patch_me(&env, &token, json!({"name": "Ada King", "defaultShippingAddress": address("Via PATCH")})).await;
    assert_eq!((set.status, &set.body["name"]), (200, &json!("Ada King")), "{:#}", set.body);
    let listed = list(&env, &token).await;
    assert_eq!(listed.len(), 1);
    assert_eq!((&listed[0]["name"], &listed[0]["defaultShipping"]), (&json!("Via PATCH"), &json!(true)));
    patch_me(&env, &token, json!({"defaultShippingAddress": address("Other")})).await;
    let listed = list(&env, &token).await;
    let names: Vec<(&str, bool)> =
        listed.iter().map(|a| (a["name"].as_str().unwrap(), a["defaultShipping"] == true)).collect();
    assert_eq!(names, [("Via PATCH", false), ("Other", true)], "a new default; the saved one is kept");
    let removed = patch_me(&env, &token, json!({"defaultShippingAddress": null})).await;
    assert!(removed.body.get("defaultShippingAddress").is_none());
    let listed = list(&env, &token).await;
    assert_eq!(listed.len(), 2, "no saved address is deleted");
    assert!(listed.iter().all(|a| a["defaultShipping"] == false));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_profile_from_before_address_books_shows_its_default_address_as_the_one_entry() {
    let env = TestEnv::start().await;
    let registered = env.register("old@example.com").await;
    let token = registered.access_token();
    let user = storefront::domain::UserId::parse(registered.body["user"]["id"].as_str().unwrap()).unwrap();
    use aws_sdk_dynamodb::types::AttributeValue;
    let fields =
        [("name", "Old Default"), ("line1", "1 High St"), ("city", "Leeds"), ("postalCode", "LS1"), ("country", "GB")];
    let stored =
        AttributeValue::M(fields.iter().map(|(k, v)| (k.to_string(), AttributeValue::S(v.to_string()))).collect());
    env.app
        .store
        .client()
        .update_item()
        .table_name(env.app.store.table())
        .set_key(Some(storefront::store::keys::user(user)))
        .update_expression("SET defaultShippingAddress = :a")
        .expression_attribute_values(":a", stored)
        .send()
        .await
        .unwrap();
    let listed = list(&env, &token).await;
    assert_eq!(listed.len(), 1, "{listed:#?}");
    assert_eq!((&listed[0]["id"], &listed[0]["defaultShipping"]), (&json!(user.to_string()), &json!(true)));
    let id = listed[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(patch(&env, &token, &id, json!({"city": "York"})).await.body["city"], "York");
    assert_eq!(env.me(&token).await.body["defaultShippingAddress"]["city"], "York");
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_additions_are_all_kept() {
    let env = Arc::new(TestEnv::start().await);
    let token = env.register("ada@example.com").await.access_token();
    // Five at once: each loser decides again from the book as the winner left it, and a change
    // is decided at most five times (then 503), so five racers all get through.
    let tasks: Vec<_> = (0..5)
        .map(|i| {
            let (env, token) = (env.clone(), token.clone());
            tokio::spawn(async move { add(&env, &token, address(&format!("Parallel {i}"))).await.status })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), 201);
    }
    assert_eq!(list(&env, &token).await.len(), 5, "no addition lost to another");
}

#[tokio::test(flavor = "multi_thread")]
async fn checkout_ships_to_a_saved_address_by_its_id() {
    let shop = Shop::open().await;
    let lamp = shop.product("SAVED").stock(5).create().await;
    let token = shop.customer_with_cart(1, &lamp, 1).await;
    let saved = add(&shop.env, &token, address("Saved Place")).await;
    let id = saved.body["id"].as_str().unwrap();
    let by_id = json!({"shippingAddressId": id, "shippingMethod": "standard"});
    assert_eq!(shop.quote(&token, &by_id).await.status, 200);
    let placed = shop.place_order(&token, Some("saved"), &by_id).await;
    assert_eq!(placed.status, 201, "{:#}", placed.body);
    assert_eq!(placed.body["shippingAddress"]["name"], "Saved Place");
    assert_eq!(placed.body["shippingAddress"]["country"], "GB");

    let unknown = json!({"shippingAddressId": ulid::Ulid::new().to_string(), "shippingMethod": "standard"});
    assert_eq!(shop.quote(&token, &unknown).await.error_fields(), ["shippingAddressId"]);
    let both = json!({"shippingAddressId": id, "shippingAddress": address("x"), "shippingMethod": "standard"});
    assert_eq!(shop.quote(&token, &both).await.error_fields(), ["shippingAddressId"]);
    let cart = shop.env.call(storefront::api::cart::create_cart, request("POST", "/carts", None, None)).await;
    let guest = storefront_tests::guest(cart.body["cartToken"].as_str().unwrap());
    let guest_by_id = json!({"email": "g@example.com", "shippingAddressId": id, "shippingMethod": "standard"});
    assert_eq!(shop.quote(&guest, &guest_by_id).await.error_fields(), ["shippingAddressId"]);
}
