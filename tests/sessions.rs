//! Sessions: refresh tokens that rotate, theft detection, sign-out, the session list, sliding
//! and absolute ends, live checks on the routes that change accounts, orders and money, signing
//! key rotation without a cold start, and sign-in limits per client.

use serde_json::json;
use std::sync::Arc;
use storefront::domain::{SESSION_IDLE_SECONDS, SESSION_MAX_SECONDS};
use storefront_tests::{Answer, PASSWORD, Shop, TestEnv, checkout, from_ip, request};

const DAY: i64 = 24 * 3600;

#[tokio::test(flavor = "multi_thread")]
async fn register_and_login_answer_a_refresh_token_of_256_bits_for_a_30_day_session() {
    let env = TestEnv::start().await;
    for answer in [env.register("ada@example.com").await, env.login("ada@example.com", PASSWORD).await] {
        assert!(answer.status == 201 || answer.status == 200, "{:#}", answer.body);
        let token = answer.refresh_token();
        assert_eq!(token.len(), 43, "32 random bytes, base64url");
        assert_eq!(answer.body["refreshExpiresIn"], SESSION_IDLE_SECONDS);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refresh_token_is_stored_only_as_its_hash() {
    let env = TestEnv::start().await;
    let token = env.register("ada@example.com").await.refresh_token();
    let items = env.app.store.client().scan().table_name(env.app.store.table()).send().await.unwrap();
    let stored = format!("{:?}", items.items());
    assert!(!stored.contains(&token), "the token is nowhere in the table");
    let hash = storefront::auth::OpaqueToken::parse(&token).unwrap().hash();
    assert!(stored.contains(&format!("REFRESH#{hash}")));
}

#[tokio::test(flavor = "multi_thread")]
async fn refreshing_rotates_both_tokens_and_the_old_refresh_token_stops_working() {
    let env = TestEnv::start().await;
    let first = env.register("ada@example.com").await;
    let refreshed = env.refresh(&first.refresh_token()).await;
    assert_eq!(refreshed.status, 200, "{:#}", refreshed.body);
    assert_ne!(refreshed.refresh_token(), first.refresh_token());
    assert_ne!(refreshed.access_token(), first.access_token());
    assert_eq!(refreshed.body["tokenType"], "Bearer");
    assert_eq!(refreshed.body["expiresIn"], 900);
    assert_eq!(env.me(&refreshed.access_token()).await.status, 200);
    // The new refresh token works in turn.
    env.app.clock.advance(60);
    assert_eq!(env.refresh(&refreshed.refresh_token()).await.status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rotated_refresh_token_presented_again_revokes_the_whole_session() {
    let env = TestEnv::start().await;
    let first = env.register("ada@example.com").await;
    let stolen = first.refresh_token();
    let legit = env.refresh(&stolen).await;
    env.app.clock.advance(storefront::domain::REFRESH_GRACE_SECONDS + 1);
    // The thief (or the victim) replays the rotated token: both lose the session.
    env.refresh(&stolen).await.problem(401, "session_revoked");
    env.refresh(&legit.refresh_token()).await.problem(401, "session_revoked");
    env.me(&legit.access_token()).await.problem(401, "session_revoked");
    env.me(&first.access_token()).await.problem(401, "session_revoked");
    // Signing in again starts a fresh session.
    assert_eq!(env.login("ada@example.com", PASSWORD).await.status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_refreshes_with_one_token_get_the_same_new_pair_and_leave_one_session() {
    let env = Arc::new(TestEnv::start().await);
    let first = env.register("ada@example.com").await;
    let token = first.refresh_token();
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let (env, token) = (env.clone(), token.clone());
            tokio::spawn(async move { env.refresh(&token).await })
        })
        .collect();
    let mut answers: Vec<Answer> = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    for answer in &answers {
        assert_eq!(answer.status, 200, "{:#}", answer.body);
    }
    let successors: std::collections::BTreeSet<String> = answers.iter().map(Answer::refresh_token).collect();
    assert_eq!(successors.len(), 1, "every racer got the same refresh token");
    let sessions = env.sessions(&answers[0].access_token()).await;
    assert_eq!(sessions.body["items"].as_array().unwrap().len(), 1, "{:#}", sessions.body);
    env.app.clock.advance(60);
    let next = env.refresh(successors.first().unwrap()).await;
    assert_eq!(next.status, 200, "the shared successor is the live token: {:#}", next.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_and_malformed_refresh_tokens_are_401_and_bad_bodies_422() {
    let env = TestEnv::start().await;
    env.register("ada@example.com").await;
    let unknown = storefront::auth::OpaqueToken::generate().unwrap().expose();
    env.refresh(&unknown).await.problem(401, "unauthenticated");
    env.refresh("not-a-token").await.problem(401, "unauthenticated");
    let body = json!({"refreshToken": 42});
    let answer =
        env.call(storefront::api::accounts::refresh, request("POST", "/auth/refresh", Some(&body), None)).await;
    answer.problem(422, "validation_failed");
    assert_eq!(answer.error_fields(), ["refreshToken"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_slide_for_30_days_of_inactivity_and_end_after_90_days_in_all() {
    let env = TestEnv::start().await;
    let mut token = env.register("ada@example.com").await.refresh_token();
    // Refreshed every 29 days, a session lasts 90 days and no longer.
    for _ in 0..3 {
        env.app.clock.advance(29 * DAY);
        let refreshed = env.refresh(&token).await;
        assert_eq!(refreshed.status, 200, "{:#}", refreshed.body);
        let left = refreshed.body["refreshExpiresIn"].as_i64().unwrap();
        assert!(left <= SESSION_IDLE_SECONDS && left > 0, "{left}");
        token = refreshed.refresh_token();
    }
    // 87 days in: 3 days are left, whatever the activity.
    let left = env.refresh(&token).await;
    assert_eq!(left.body["refreshExpiresIn"], SESSION_MAX_SECONDS - 87 * DAY);
    token = left.refresh_token();
    env.app.clock.advance(3 * DAY);
    env.refresh(&token).await.problem(401, "session_expired");

    // Idle for 30 days: ended.
    let idle = env.login("ada@example.com", PASSWORD).await;
    env.app.clock.advance(SESSION_IDLE_SECONDS);
    env.refresh(&idle.refresh_token()).await.problem(401, "session_expired");
}

#[tokio::test(flavor = "multi_thread")]
async fn logout_revokes_the_current_session_and_its_tokens() {
    let env = TestEnv::start().await;
    let signed_in = env.register("ada@example.com").await;
    let other = env.login("ada@example.com", PASSWORD).await;
    let answer = env.logout(&signed_in.access_token()).await;
    assert_eq!(answer.status, 204, "{:#}", answer.body);
    env.me(&signed_in.access_token()).await.problem(401, "session_revoked");
    env.refresh(&signed_in.refresh_token()).await.problem(401, "session_revoked");
    // Signing out again is fine; the other session is untouched.
    assert_eq!(env.logout(&signed_in.access_token()).await.status, 204);
    assert_eq!(env.me(&other.access_token()).await.status, 200);
    env.logout("not a token").await.problem(401, "unauthenticated");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_session_list_shows_each_live_session_and_one_can_be_revoked() {
    let env = TestEnv::start().await;
    env.register("ada@example.com").await;
    let mut req =
        request("POST", "/auth/login", Some(&json!({"email": "ada@example.com", "password": PASSWORD})), None);
    req.headers_mut().insert("user-agent", "storefront-tests/1.0\t(phone)".parse().unwrap());
    let phone = env.call(storefront::api::accounts::login, req).await;
    env.app.clock.advance(5);
    let laptop = env.login("ada@example.com", PASSWORD).await;
    let listed = env.sessions(&laptop.access_token()).await;
    assert_eq!(listed.status, 200, "{:#}", listed.body);
    let items = listed.body["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 3);
    let keys: Vec<&str> = items[0].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["createdAt", "current", "expiresAt", "id", "lastUsedAt", "userAgent"]);
    assert_eq!(items[0]["current"], true, "newest first, and the caller's own is marked");
    assert_eq!(items.iter().filter(|s| s["current"] == true).count(), 1);
    let phone_session = items.iter().find(|s| s["userAgent"].as_str().is_some_and(|u| u.contains("phone"))).unwrap();
    let phone_id = phone_session["id"].as_str().unwrap().to_owned();

    assert_eq!(env.delete_session(&laptop.access_token(), &phone_id).await.status, 204);
    env.me(&phone.access_token()).await.problem(401, "session_revoked");
    env.refresh(&phone.refresh_token()).await.problem(401, "session_revoked");
    env.delete_session(&laptop.access_token(), &phone_id).await.problem(404, "session_not_found");
    env.delete_session(&laptop.access_token(), "not-an-id").await.problem(404, "session_not_found");
    assert_eq!(env.sessions(&laptop.access_token()).await.body["items"].as_array().unwrap().len(), 2);

    // Nobody reaches another account's sessions by id.
    let eve = env.register("eve@example.com").await;
    let laptop_id = items[0]["id"].as_str().unwrap();
    env.delete_session(&eve.access_token(), laptop_id).await.problem(404, "session_not_found");
    assert_eq!(env.me(&laptop.access_token()).await.status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_sessions_access_token_is_refused_where_money_orders_or_accounts_change() {
    let shop = Shop::open().await;
    let product = shop.product("SESS-1").stock(5).create().await;
    let token = shop.customer_with_cart(1, &product, 1).await;
    let order = shop.place_order(&token, Some("before"), &checkout("US", "standard", None)).await;
    assert_eq!(order.status, 201, "{:#}", order.body);
    let order_id = storefront_tests::id(&order.body);
    assert_eq!(shop.env.logout(&token).await.status, 204);

    shop.place_order(&token, Some("after"), &checkout("US", "standard", None)).await.problem(401, "session_revoked");
    shop.cancel_order(&token, &order_id).await.problem(401, "session_revoked");
    shop.env.me(&token).await.problem(401, "session_revoked");
    let patch = request("PATCH", "/me", Some(&json!({"name": "Eve"})), Some(&token));
    shop.env.call(storefront::api::accounts::update_me, patch).await.problem(401, "session_revoked");
    shop.env.sessions(&token).await.problem(401, "session_revoked");

    // An admin's too, on admin routes.
    assert_eq!(shop.env.logout(&shop.admin).await.status, 204);
    shop.admin_list_orders(&[("status", "pending_payment")]).await.problem(401, "session_revoked");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_demoted_admin_loses_admin_rights_at_once() {
    let shop = Shop::open().await;
    assert_eq!(shop.admin_list_orders(&[("status", "paid")]).await.status, 200);
    let admin = shop.env.me(&shop.admin).await.body["id"].as_str().unwrap().to_owned();
    let id = storefront::domain::UserId::parse(&admin).unwrap();
    assert!(
        shop.env.app.store.set_role(id, storefront::domain::Role::Customer, shop.env.app.clock.now()).await.unwrap()
    );
    // The token still says "admin"; the role as stored says otherwise.
    shop.admin_list_orders(&[("status", "paid")]).await.problem(403, "forbidden");
    let body = json!({"sku": "DEMOTE-1", "name": "Mouse", "priceCents": 100, "category": "x", "stock": 1});
    shop.create_product(body).await.problem(403, "forbidden");
}

#[tokio::test(flavor = "multi_thread")]
async fn functions_pick_up_a_rotated_signing_key_and_drop_a_removed_one_without_a_restart() {
    use storefront::auth::SigningKey;
    use storefront::config::KeySource;
    let env = TestEnv::start().await;
    let dir = std::env::temp_dir().join(format!("storefront-keys-{}", ulid::Ulid::new()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("jwt.json");
    let old = SigningKey::generate("old");
    let new = SigningKey::generate("new");
    std::fs::write(&file, old.to_json()).unwrap();
    let app_with = |clock: storefront::clock::Clock| {
        let mut config = env.app.config.clone();
        config.key_source = KeySource::File(file.clone());
        storefront::app::App::new(config, env.app.store.clone(), clock, None)
    };
    let warm = app_with(env.app.clock.clone());
    let user = storefront::app::accounts::create_user(
        &warm,
        storefront::domain::Email::parse("ada@example.com").unwrap(),
        &storefront::domain::Password::parse_new(PASSWORD).unwrap(),
        storefront::domain::PersonName::parse("Ada").unwrap(),
        storefront::domain::Role::Customer,
    )
    .await
    .unwrap();
    let caller = storefront_tests::test_caller();
    let by_old = storefront::app::accounts::open_session(&warm, user.clone(), &caller).await.unwrap().token.token;
    assert!(warm.verify_token(&by_old).await.is_ok());

    // Rotation: the new key signs, the old one still verifies. A function that started after
    // it (a cold one) issues tokens with the new key.
    std::fs::write(&file, format!("[{}, {}]", new.to_json(), old.to_json())).unwrap();
    let cold = app_with(env.app.clock.clone());
    let by_new = storefront::app::accounts::open_session(&cold, user.clone(), &caller).await.unwrap().token.token;
    // The warm function read its keys moments ago: an unknown key id does not make it read
    // them again at once…
    assert!(warm.verify_token(&by_new).await.is_err());
    // …but a minute later it does, and accepts the token.
    env.app.clock.advance(storefront::app::KEYS_MIN_AGE_SECONDS);
    assert!(warm.verify_token(&by_new).await.is_ok());
    assert!(warm.verify_token(&by_old).await.is_ok());

    // The old key is removed from the secret: within minutes, its tokens stop working.
    std::fs::write(&file, new.to_json()).unwrap();
    assert!(warm.verify_token(&by_old).await.is_ok(), "not read again yet");
    env.app.clock.advance(storefront::app::KEYS_MAX_AGE_SECONDS);
    assert!(warm.verify_token(&by_old).await.is_err());
    assert!(warm.verify_token(&by_new).await.is_ok());

    // Keys that cannot be read keep the ones held working.
    std::fs::write(&file, "not JSON").unwrap();
    env.app.clock.advance(storefront::app::KEYS_MAX_AGE_SECONDS);
    assert!(warm.verify_token(&by_new).await.is_ok());
    let _ = std::fs::remove_dir_all(&dir);
}

async fn login_from(env: &TestEnv, ip: &str, email: &str, password: &str) -> Answer {
    let body = json!({"email": email, "password": password});
    env.call(storefront::api::accounts::login, from_ip(request("POST", "/auth/login", Some(&body), None), ip)).await
}

#[tokio::test(flavor = "multi_thread")]
async fn guessing_one_accounts_password_from_one_client_does_not_lock_its_owner_out_elsewhere() {
    let env = TestEnv::start().await;
    env.register("ada@example.com").await;
    let attacker = "198.51.100.66";
    for _ in 0..5 {
        login_from(&env, attacker, "ada@example.com", "wrong password").await.problem(401, "invalid_credentials");
    }
    let refused = login_from(&env, attacker, "ada@example.com", PASSWORD).await;
    refused.problem(429, "too_many_attempts");
    assert!(refused.header("retry-after").and_then(|v| v.parse::<i64>().ok()).is_some_and(|s| s > 0));
    // The owner, from their own network, signs in.
    assert_eq!(login_from(&env, "203.0.113.7", "ada@example.com", PASSWORD).await.status, 200);
    // Another address of the attacker's IPv6 /64 is the same client.
    for _ in 0..5 {
        login_from(&env, "2001:db8:7:7::1", "ada@example.com", "wrong password").await;
    }
    login_from(&env, "2001:db8:7:7::2", "ada@example.com", PASSWORD).await.problem(429, "too_many_attempts");
    assert_eq!(login_from(&env, "2001:db8:7:8::1", "ada@example.com", PASSWORD).await.status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn guesses_across_many_emails_from_one_client_are_throttled_too() {
    let env = TestEnv::start().await;
    env.register("ada@example.com").await;
    let attacker = "198.51.100.77";
    let limit = storefront::app::accounts::MAX_FAILED_LOGINS_PER_CLIENT;
    for n in 0..limit {
        let email = format!("victim{n}@example.com");
        login_from(&env, attacker, &email, "password123").await.problem(401, "invalid_credentials");
    }
    // One more, for yet another email (even a real one, rightly): refused before any check.
    login_from(&env, attacker, "ada@example.com", PASSWORD).await.problem(429, "too_many_attempts");
    login_from(&env, attacker, "victim999@example.com", "password123").await.problem(429, "too_many_attempts");
    // Other clients are not affected, and the window passes.
    assert_eq!(login_from(&env, "203.0.113.8", "ada@example.com", PASSWORD).await.status, 200);
    env.app.clock.advance(storefront::app::accounts::LOGIN_WINDOW_SECONDS);
    assert_eq!(login_from(&env, attacker, "ada@example.com", PASSWORD).await.status, 200);
}
