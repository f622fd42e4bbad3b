//! Accounts, end to end through the handlers, against dynoxide through the real SDK.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use std::sync::Arc;
use storefront::api::accounts::{get_me, login, register, update_me};
use storefront_tests::{Answer, PASSWORD, TEST_KID, TEST_SECRET, TestEnv, raw_request, request};

#[tokio::test(flavor = "multi_thread")]
async fn register_returns_201_with_the_user_and_a_bearer_token() {
    let env = TestEnv::start().await;
    let answer = env.register("ada@example.com").await;
    assert_eq!(answer.status, 201, "{:#}", answer.body);
    let user = &answer.body["user"];
    assert_eq!(user["email"], "ada@example.com");
    assert_eq!(user["name"], "Ada Lovelace");
    assert_eq!(user["role"], "customer");
    assert!(user["id"].as_str().is_some_and(|id| id.len() == 26));
    assert!(user["createdAt"].as_str().is_some_and(|t| t.ends_with('Z')));
    assert_eq!(answer.body["tokenType"], "Bearer");
    assert_eq!(answer.body["expiresIn"], 900);
    let keys: Vec<&str> = user.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["createdAt", "email", "emailVerified", "id", "name", "role"],
        "a user shows exactly its public fields"
    );
    assert_eq!(user["emailVerified"], false, "until the emailed code comes back");
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    assert!(answer.header("x-request-id").is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn emails_are_trimmed_and_lower_cased_so_one_mailbox_is_one_account() {
    let env = TestEnv::start().await;
    let answer = env.register("  Ada@Example.COM ").await;
    assert_eq!(answer.body["user"]["email"], "ada@example.com");
    env.register("ADA@example.com").await.problem(409, "email_taken");
    assert_eq!(env.login("ada@EXAMPLE.com", PASSWORD).await.status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_registrations_of_one_email_create_exactly_one_account() {
    let env = Arc::new(TestEnv::start().await);
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let env = env.clone();
            tokio::spawn(async move { env.register("race@example.com").await.status })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    statuses.sort();
    assert_eq!(statuses, [201, 409, 409, 409, 409, 409, 409, 409, 409, 409]);
}

#[tokio::test(flavor = "multi_thread")]
async fn passwords_must_be_8_to_128_characters() {
    let env = TestEnv::start().await;
    for password in ["short", &"x".repeat(129)] {
        let body = json!({"email": "ada@example.com", "password": password, "name": "Ada"});
        let answer = env.call(register, request("POST", "/auth/register", Some(&body), None)).await;
        answer.problem(422, "validation_failed");
        assert_eq!(answer.error_fields(), ["password"]);
    }
    let body = json!({"email": "ada@example.com", "password": "x".repeat(128), "name": "Ada"});
    assert_eq!(env.call(register, request("POST", "/auth/register", Some(&body), None)).await.status, 201);
}

#[tokio::test(flavor = "multi_thread")]
async fn register_reports_every_invalid_missing_and_unknown_field() {
    let env = TestEnv::start().await;
    let body = json!({"email": "not-an-email", "password": 12345678, "role": "admin"});
    let answer = env.call(register, request("POST", "/auth/register", Some(&body), None)).await;
    answer.problem(422, "validation_failed");
    assert_eq!(answer.error_fields(), ["email", "password", "name", "role"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_password_is_stored_only_as_an_argon2id_hash_and_never_shown() {
    let env = TestEnv::start().await;
    let answer = env.register("ada@example.com").await;
    assert!(!answer.body.to_string().contains("argon2"));
    let email = storefront::domain::Email::parse("ada@example.com").unwrap();
    let out = env
        .app
        .store
        .client()
        .get_item()
        .table_name(env.app.store.table())
        .set_key(Some(storefront::store::keys::credentials(&email)))
        .send()
        .await
        .unwrap();
    let item = out.item().expect("the credentials item");
    let hash = item["passwordHash"].as_s().unwrap();
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
    let stored = format!("{item:?}");
    assert!(!stored.contains(PASSWORD));
    let me = env.me(&answer.access_token()).await;
    assert!(!me.body.to_string().contains("argon2") && me.body.get("passwordHash").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn login_issues_a_token_that_get_me_accepts() {
    let env = TestEnv::start().await;
    env.register("ada@example.com").await;
    let answer = env.login("ada@example.com", PASSWORD).await;
    assert_eq!(answer.status, 200, "{:#}", answer.body);
    assert_eq!(answer.body["tokenType"], "Bearer");
    assert_eq!(answer.body["expiresIn"], 900);
    let me = env.me(&answer.access_token()).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["email"], "ada@example.com");
    assert_eq!(me.body, answer.body["user"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_email_and_wrong_password_get_the_same_401() {
    let env = TestEnv::start().await;
    env.register("ada@example.com").await;
    let wrong = env.login("ada@example.com", "wrong password").await;
    let unknown = env.login("nobody@example.com", PASSWORD).await;
    wrong.problem(401, "invalid_credentials");
    unknown.problem(401, "invalid_credentials");
    let strip = |a: &Answer| {
        let mut body = a.body.clone();
        body.as_object_mut().unwrap().remove("requestId");
        body
    };
    assert_eq!(strip(&wrong), strip(&unknown));
}

#[tokio::test(flavor = "multi_thread")]
async fn five_failed_logins_lock_the_email_until_the_window_passes_even_for_the_right_password() {
    let env = TestEnv::start().await;
    env.register("ada@example.com").await;
    for _ in 0..5 {
        env.login("ada@example.com", "wrong password").await.problem(401, "invalid_credentials");
    }
    let locked = env.login("ada@example.com", PASSWORD).await;
    locked.problem(429, "too_many_attempts");
    let retry_after: i64 = locked.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    env.app.clock.advance(retry_after - 5);
    env.login("ada@example.com", PASSWORD).await.problem(429, "too_many_attempts");
    env.app.clock.advance(10);
    assert_eq!(env.login("ada@example.com", PASSWORD).await.status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_emails_lock_the_same_way_so_locking_reveals_nothing() {
    let env = TestEnv::start().await;
    for _ in 0..5 {
        env.login("ghost@example.com", PASSWORD).await.problem(401, "invalid_credentials");
    }
    env.login("ghost@example.com", PASSWORD).await.problem(429, "too_many_attempts");
}

#[tokio::test(flavor = "multi_thread")]
async fn only_failures_count_towards_the_lock() {
    let env = TestEnv::start().await;
    env.register("ada@example.com").await;
    for _ in 0..4 {
        env.login("ada@example.com", "wrong password").await.problem(401, "invalid_credentials");
    }
    for _ in 0..3 {
        assert_eq!(env.login("ada@example.com", PASSWORD).await.status, 200);
    }
    env.login("ada@example.com", "wrong password").await.problem(401, "invalid_credentials");
    env.login("ada@example.com", PASSWORD).await.problem(429, "too_many_attempts");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_burst_of_parallel_guesses_gets_only_five_tries() {
    let env = Arc::new(TestEnv::start().await);
    env.register("ada@example.com").await;
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let env = env.clone();
            tokio::spawn(async move { env.login("ada@example.com", &format!("guess {i}")).await.status })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 5, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 15, "{statuses:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn get_me_without_a_token_is_401_with_a_bearer_challenge() {
    let env = TestEnv::start().await;
    let answer = env.call(get_me, request("GET", "/me", None, None)).await;
    answer.problem(401, "unauthenticated");
    assert_eq!(answer.header("www-authenticate"), Some("Bearer realm=\"storefront\""));
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

fn sign(header: &Value, claims: &Value, secret: &str) -> String {
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    let alg: Algorithm = serde_json::from_value(header["alg"].clone()).unwrap();
    let mut h = Header::new(alg);
    h.typ = header["typ"].as_str().map(str::to_owned);
    h.kid = header["kid"].as_str().map(str::to_owned);
    jsonwebtoken::encode(&h, claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_kind_of_bad_token_is_refused_with_401() {
    let env = TestEnv::start().await;
    let registered = env.register("ada@example.com").await;
    let good = registered.access_token();
    let user_id = registered.body["user"]["id"].as_str().unwrap().to_owned();
    let session = {
        let payload = good.split('.').nth(1).unwrap();
        let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        claims["sid"].as_str().expect("the token names its session").to_owned()
    };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let claims = json!({"sub": user_id, "sid": session, "role": "customer", "iss": "storefront",
        "aud": "storefront-api", "iat": now, "exp": now + 600, "jti": "01J0000000000000000000000"});
    let header = json!({"alg": "HS256", "typ": "at+jwt", "kid": TEST_KID});
    // The control: a token we forge exactly like the server does is accepted.
    assert_eq!(env.me(&sign(&header, &claims, TEST_SECRET)).await.status, 200);

    let with = |k: &str, v: Value| {
        let mut c = claims.clone();
        c[k] = v;
        c
    };
    let without = |k: &str| {
        let mut c = claims.clone();
        c.as_object_mut().unwrap().remove(k);
        c
    };
    let (h, p, s) = {
        let mut parts = good.split('.');
        (parts.next().unwrap().to_owned(), parts.next().unwrap().to_owned(), parts.next().unwrap().to_owned())
    };
    let admin_payload = {
        let mut c: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&p).unwrap()).unwrap();
        c["role"] = json!("admin");
        b64(&c)
    };
    let cases: Vec<(&str, String)> = vec![
        ("garbage", "not-a-token".into()),
        ("tampered payload, original signature", format!("{h}.{admin_payload}.{s}")),
        ("signature stripped", format!("{h}.{p}.")),
        ("alg none", format!("{}.{}.", b64(&json!({"alg": "none", "typ": "at+jwt", "kid": TEST_KID})), b64(&claims))),
        ("re-signed with another key", sign(&header, &claims, "another-secret-another-secret-another-secret")),
        (
            "another algorithm (HS512, same key)",
            sign(&json!({"alg": "HS512", "typ": "at+jwt", "kid": TEST_KID}), &claims, TEST_SECRET),
        ),
        ("expired", sign(&header, &with("exp", json!(now - 3600)), TEST_SECRET)),
        ("wrong issuer", sign(&header, &with("iss", json!("evil")), TEST_SECRET)),
        ("wrong audience", sign(&header, &with("aud", json!("other-api")), TEST_SECRET)),
        ("missing exp", sign(&header, &without("exp"), TEST_SECRET)),
        ("missing sub", sign(&header, &without("sub"), TEST_SECRET)),
        ("missing role", sign(&header, &without("role"), TEST_SECRET)),
        ("missing jti", sign(&header, &without("jti"), TEST_SECRET)),
        ("missing sid", sign(&header, &without("sid"), TEST_SECRET)),
        ("session that is not a session id", sign(&header, &with("sid", json!("s1")), TEST_SECRET)),
        ("missing iat", sign(&header, &without("iat"), TEST_SECRET)),
        ("subject that is not a user id", sign(&header, &with("sub", json!("admin")), TEST_SECRET)),
        (
            "not an access token (typ JWT)",
            sign(&json!({"alg": "HS256", "typ": "JWT", "kid": TEST_KID}), &claims, TEST_SECRET),
        ),
        ("unknown kid", sign(&json!({"alg": "HS256", "typ": "at+jwt", "kid": "other"}), &claims, TEST_SECRET)),
        ("no kid", sign(&json!({"alg": "HS256", "typ": "at+jwt"}), &claims, TEST_SECRET)),
    ];
    for (case, bad) in cases {
        let answer = env.me(&bad).await;
        assert_eq!((answer.status, answer.code()), (401, "unauthenticated"), "{case} was not refused");
        assert_eq!(
            answer.header("www-authenticate"),
            Some("Bearer realm=\"storefront\", error=\"invalid_token\""),
            "{case}"
        );
    }
    // Well signed, but for a session that does not exist (or no longer does).
    let other_session = sign(&header, &with("sid", json!(ulid::Ulid::new().to_string())), TEST_SECRET);
    env.me(&other_session).await.problem(401, "session_revoked");
    let basic = lambda_http::http::Request::builder()
        .uri("/me")
        .header("authorization", format!("Basic {good}"))
        .body(lambda_http::Body::Empty)
        .unwrap();
    env.call(get_me, basic).await.problem(401, "unauthenticated");
}

async fn patch_me(env: &TestEnv, token: &str, body: Value) -> Answer {
    env.call(update_me, request("PATCH", "/me", Some(&body), Some(token))).await
}

#[tokio::test(flavor = "multi_thread")]
async fn patch_me_changes_the_name_and_sets_and_removes_the_default_address() {
    let env = TestEnv::start().await;
    let t = env.register("ada@example.com").await.access_token();
    let address = json!({"name": "Ada King", "line1": "12 St James's Square", "city": "London",
        "postalCode": "SW1Y 4JH", "country": "gb"});
    let answer = patch_me(&env, &t, json!({"name": "  Ada King ", "defaultShippingAddress": address})).await;
    assert_eq!(answer.status, 200, "{:#}", answer.body);
    assert_eq!(answer.body["name"], "Ada King");
    assert_eq!(answer.body["defaultShippingAddress"]["country"], "GB");
    assert_eq!(env.me(&t).await.body, answer.body, "the change is stored");

    let removed = patch_me(&env, &t, json!({"defaultShippingAddress": null})).await;
    assert_eq!(removed.status, 200);
    assert!(removed.body.get("defaultShippingAddress").is_none());
    assert_eq!(removed.body["name"], "Ada King");

    let unchanged = patch_me(&env, &t, json!({})).await;
    assert_eq!(unchanged.body, removed.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn patch_me_refuses_every_field_it_does_not_own_and_changes_nothing() {
    let env = TestEnv::start().await;
    let t = env.register("ada@example.com").await.access_token();
    let before = env.me(&t).await.body;
    for field in ["email", "role", "id", "password", "passwordHash", "createdAt"] {
        let answer = patch_me(&env, &t, json!({"name": "Mallory", field: "admin"})).await;
        answer.problem(422, "validation_failed");
        assert_eq!(answer.error_fields(), [field]);
    }
    assert_eq!(env.me(&t).await.body, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn patch_me_reports_each_invalid_address_field_by_its_path() {
    let env = TestEnv::start().await;
    let t = env.register("ada@example.com").await.access_token();
    let answer = patch_me(
        &env,
        &t,
        json!({"name": null, "defaultShippingAddress": {"line1": "x", "city": "", "postalCode": 7, "country": "XX", "phone": "1"}}),
    )
    .await;
    answer.problem(422, "validation_failed");
    assert_eq!(
        answer.error_fields(),
        [
            "name",
            "defaultShippingAddress.postalCode",
            "defaultShippingAddress.name",
            "defaultShippingAddress.city",
            "defaultShippingAddress.country",
            "defaultShippingAddress.phone"
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_bodies_get_400_413_and_415_problems() {
    let env = TestEnv::start().await;
    env.call(register, raw_request("POST", "/auth/register", Some("application/json"), "{\"email\": "))
        .await
        .problem(400, "malformed_json");
    env.call(register, raw_request("POST", "/auth/register", Some("text/plain"), "{}"))
        .await
        .problem(415, "unsupported_media_type");
    env.call(register, raw_request("POST", "/auth/register", None, "{}")).await.problem(415, "unsupported_media_type");
    let big = format!("{{\"name\": \"{}\"}}", "a".repeat(70 * 1024));
    env.call(register, raw_request("POST", "/auth/register", Some("application/json"), &big))
        .await
        .problem(413, "payload_too_large");
    let answer = env.call(login, raw_request("POST", "/auth/login", Some("application/json"), "[]")).await;
    answer.problem(422, "validation_failed");
}

#[tokio::test(flavor = "multi_thread")]
async fn problems_carry_the_request_id_that_is_also_in_the_header() {
    let env = TestEnv::start().await;
    let answer = env.login("nobody@example.com", PASSWORD).await;
    assert_eq!(answer.body["requestId"].as_str(), answer.header("x-request-id"));
    assert!(answer.body["type"].as_str().unwrap().ends_with("invalid_credentials"));
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_is_granted_only_outside_the_api_and_shows_in_new_tokens() {
    let env = TestEnv::start().await;
    env.register("boss@example.com").await;
    let code = env.emailed_code("boss@example.com", "Confirm your email").await.expect("a verification code");
    let body = json!({ "token": code });
    let verify = request("POST", "/auth/verify-email", Some(&body), None);
    assert_eq!(env.call(storefront::api::accounts::verify_email, verify).await.status, 200);
    let email = storefront::domain::Email::parse("boss@example.com").unwrap();
    let user = storefront::app::accounts::grant_admin(&env.app, &email).await.unwrap().unwrap();
    assert_eq!(user.role, storefront::domain::Role::Admin);
    let t = env.login("boss@example.com", PASSWORD).await.access_token();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(t.split('.').nth(1).unwrap()).unwrap()).unwrap();
    assert_eq!(claims["role"], "admin");
    assert_eq!(env.me(&t).await.body["role"], "admin");
    let nobody = storefront::domain::Email::parse("nobody@example.com").unwrap();
    assert!(storefront::app::accounts::grant_admin(&env.app, &nobody).await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_storage_failure_is_a_500_problem_that_leaks_nothing() {
    let env = TestEnv::start().await;
    // The same app, pointed at a table that does not exist: every DynamoDB call fails.
    let broken = storefront::store::Store::new(storefront_tests::dynamodb_client(&env.endpoint), "no-such-table");
    let config = env.app.config.clone();
    let app = storefront::app::App::new(config, broken, storefront::clock::Clock::system(), None);
    let body = json!({"email": "ada@example.com", "password": PASSWORD});
    let answer: Answer =
        storefront::http::handle(&app, request("POST", "/auth/login", Some(&body), None), login).await.into();
    answer.problem(500, "internal");
    let text = answer.body.to_string();
    for secret in ["no-such-table", "ResourceNotFound", "dynamodb", "UpdateItem"] {
        assert!(!text.contains(secret), "the answer leaks {secret}: {text}");
    }
    assert_eq!(answer.body["requestId"].as_str(), answer.header("x-request-id"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_throttled_or_silent_dynamodb_is_a_503_with_retry_after_that_leaks_nothing() {
    use storefront_tests::{Fault, unhealthy_dynamodb};
    let env = TestEnv::start().await;
    for fault in [Fault::Throttle, Fault::Silence] {
        let endpoint = unhealthy_dynamodb(fault).await;
        let store = storefront::store::Store::new(storefront_tests::dynamodb_client(&endpoint), "storefront-test");
        let app = storefront::app::App::new(env.app.config.clone(), store, storefront::clock::Clock::system(), None);
        let body = json!({"email": "ada@example.com", "password": PASSWORD});
        let started = std::time::Instant::now();
        let answer: Answer =
            storefront::http::handle(&app, request("POST", "/auth/login", Some(&body), None), login).await.into();
        answer.problem(503, "service_unavailable");
        assert_eq!(answer.header("retry-after"), Some("1"), "{fault:?}");
        let text = answer.body.to_string();
        for secret in ["Throttling", "timeout", "dynamodb", "UpdateItem"] {
            assert!(!text.to_lowercase().contains(&secret.to_lowercase()), "{fault:?} leaks {secret}: {text}");
        }
        // Within the SDK's operation timeout (4 s), well inside the 10 s Lambda timeout.
        assert!(started.elapsed() < std::time::Duration::from_secs(6), "{fault:?} took {:?}", started.elapsed());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_transaction_cancelled_for_throttling_is_retried_then_a_503() {
    use storefront_tests::{Fault, unhealthy_dynamodb};
    let env = TestEnv::start().await;
    let endpoint = unhealthy_dynamodb(Fault::ThrottleTransactions).await;
    let store = storefront::store::Store::new(storefront_tests::dynamodb_client(&endpoint), "storefront-test");
    let app = storefront::app::App::new(env.app.config.clone(), store, storefront::clock::Clock::system(), None);
    let body = json!({"email": "ada@example.com", "password": PASSWORD, "name": "Ada Lovelace"});
    let answer: Answer =
        storefront::http::handle(&app, request("POST", "/auth/register", Some(&body), None), register).await.into();
    answer.problem(503, "service_unavailable");
    assert_eq!(answer.header("retry-after"), Some("1"));
}
