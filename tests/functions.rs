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
