//! Function-level tests: each function's handler fed the API Gateway HTTP API (payload 2.0)
//! event from `events/`, exactly as Lambda would hand it over, against dynoxide.

use storefront::api::accounts::{get_me, login, register, update_me};
use storefront_tests::{TestEnv, event};

fn request_id_of(name: &str) -> String {
    let raw = std::fs::read_to_string(storefront_tests::root().join("events").join(format!("{name}.json"))).unwrap();
    let value: serde_json::Value = serde_json::from_str(&raw).unwrap();
    value["requestContext"]["requestId"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sample_events_drive_register_login_get_me_and_update_me() {
    let env = TestEnv::start().await;

    let registered = env.call(register, event("register", None)).await;
    assert_eq!(registered.status, 201, "{:#}", registered.body);
    assert_eq!(registered.body["user"]["email"], "ada@example.com");

    let signed_in = env.call(login, event("login", None)).await;
    assert_eq!(signed_in.status, 200, "{:#}", signed_in.body);
    let token = signed_in.body["accessToken"].as_str().unwrap().to_owned();

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
    let env = TestEnv::start().await;
    let admin = env.admin_token().await;

    let created = env.call(create_product, event("create-product", Some(&admin))).await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let etag = created.header("etag").unwrap().trim_matches('"').to_owned();
    let with_id = |name: &str| {
        let raw = std::fs::read_to_string(storefront_tests::root().join("events").join(format!("{name}.json")))
            .unwrap()
            .replace("REPLACE_WITH_PRODUCT_ID", &id)
            .replace("REPLACE_WITH_ACCESS_TOKEN", &admin)
            .replace("REPLACE_WITH_ETAG", &etag);
        lambda_http::request::from_str(&raw).unwrap()
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
