//! Passwords and email verification: codes emailed through the events pipeline, used once,
//! within their lifetime; password changes and resets revoke sessions; resets answer alike for
//! any email and send at most 3 emails an hour; only verified accounts become admins.

use serde_json::json;
use storefront::api::accounts::{
    change_password, confirm_password_reset, request_password_reset, send_verification_email, verify_email,
};
use storefront_tests::{Answer, PASSWORD, TestEnv, request};

const NEW_PASSWORD: &str = "a brand new battery staple";
const VERIFY: &str = "Confirm your email";
const RESET: &str = "Reset your";

async fn verify(env: &TestEnv, code: &str) -> Answer {
    let body = json!({ "token": code });
    env.call(verify_email, request("POST", "/auth/verify-email", Some(&body), None)).await
}

async fn ask_reset(env: &TestEnv, email: &str) -> Answer {
    let body = json!({ "email": email });
    env.call(request_password_reset, request("POST", "/auth/password-reset", Some(&body), None)).await
}

async fn confirm(env: &TestEnv, code: &str, password: &str) -> Answer {
    let body = json!({ "token": code, "password": password });
    env.call(confirm_password_reset, request("POST", "/auth/password-reset/confirm", Some(&body), None)).await
}

async fn change(env: &TestEnv, token: &str, current: &str, new: &str) -> Answer {
    let body = json!({ "currentPassword": current, "newPassword": new });
    env.call(change_password, request("POST", "/me/password", Some(&body), Some(token))).await
}

async fn resend(env: &TestEnv, token: &str) -> Answer {
    env.call(send_verification_email, request("POST", "/me/verification-email", None, Some(token))).await
}

#[tokio::test(flavor = "multi_thread")]
async fn registering_emails_a_verification_code_that_verifies_the_address_once() {
    let env = TestEnv::start().await;
    let registered = env.register("ada@example.com").await;
    assert_eq!(registered.body["user"]["emailVerified"], false);
    let code = env.emailed_code("ada@example.com", VERIFY).await.expect("a verification email with a code");
    let verified = verify(&env, &code).await;
    assert_eq!(verified.status, 200, "{:#}", verified.body);
    assert_eq!(verified.body["emailVerified"], true);
    assert_eq!(env.me(&registered.access_token()).await.body["emailVerified"], true);
    verify(&env, &code).await.problem(400, "invalid_token");
    resend(&env, &registered.access_token()).await.problem(409, "already_verified");
    // The code is in the email only: not in any event, nor stored.
    let events = serde_json::to_string(&env.events().await).unwrap();
    assert!(!events.contains(&code));
    let items = env.app.store.client().scan().table_name(env.app.store.table()).send().await.unwrap();
    assert!(!format!("{:?}", items.items()).contains(&code));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_verification_code_expires_after_a_day_and_another_can_be_asked_for_three_times_an_hour() {
    let env = TestEnv::start().await;
    let token = env.register("ada@example.com").await.access_token();
    let first = env.emailed_code("ada@example.com", VERIFY).await.unwrap();
    env.app.clock.advance(24 * 3600);
    verify(&env, &first).await.problem(400, "invalid_token");
    verify(&env, "not-a-code").await.problem(400, "invalid_token");
    let token = {
        // The access token of sign-up has expired meanwhile; the session lives on.
        let _ = token;
        env.login("ada@example.com", PASSWORD).await.access_token()
    };
    for _ in 0..3 {
        assert_eq!(resend(&env, &token).await.status, 202);
    }
    let refused = resend(&env, &token).await;
    refused.problem(429, "too_many_attempts");
    assert!(refused.header("retry-after").is_some());
    let fresh = env.emailed_code("ada@example.com", VERIFY).await.unwrap();
    assert_ne!(fresh, first);
    assert_eq!(verify(&env, &fresh).await.body["emailVerified"], true);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reset_is_asked_for_alike_for_any_email_and_emails_only_an_account() {
    let env = TestEnv::start().await;
    env.register("ada@example.com").await;
    let known = ask_reset(&env, "ada@example.com").await;
    let unknown = ask_reset(&env, "nobody@example.com").await;
    assert_eq!((known.status, unknown.status), (202, 202));
    assert_eq!((&known.body, &unknown.body), (&unknown.body, &known.body), "the same answer");
    assert_eq!(env.events_of("customer.password_reset_requested").await.len(), 1);
    assert!(env.emailed_code("nobody@example.com", RESET).await.is_none());
    assert!(env.emailed_code("ada@example.com", RESET).await.is_some());
    let bad = ask_reset(&env, "not an email").await;
    bad.problem(422, "validation_failed");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reset_code_sets_a_new_password_once_and_signs_out_every_session() {
    let env = TestEnv::start().await;
    let phone = env.register("ada@example.com").await;
    let laptop = env.login("ada@example.com", PASSWORD).await;
    assert_eq!(ask_reset(&env, "ada@example.com").await.status, 202);
    let code = env.emailed_code("ada@example.com", RESET).await.unwrap();

    confirm(&env, &code, "short").await.problem(422, "validation_failed");
    assert_eq!(confirm(&env, &code, NEW_PASSWORD).await.status, 204, "a refused password does not use the code up");
    for session in [&phone, &laptop] {
        env.me(&session.access_token()).await.problem(401, "session_revoked");
        env.refresh(&session.refresh_token()).await.problem(401, "session_revoked");
    }
    env.login("ada@example.com", PASSWORD).await.problem(401, "invalid_credentials");
    let signed_in = env.login("ada@example.com", NEW_PASSWORD).await;
    assert_eq!(signed_in.status, 200);
    assert_eq!(signed_in.body["user"]["emailVerified"], true, "the reset proved the mailbox");
    confirm(&env, &code, "yet another battery staple").await.problem(400, "invalid_token");
    confirm(&env, "never-issued", NEW_PASSWORD).await.problem(400, "invalid_token");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reset_code_expires_after_30_minutes() {
    let env = TestEnv::start().await;
    env.register("ada@example.com").await;
    ask_reset(&env, "ada@example.com").await;
    let code = env.emailed_code("ada@example.com", RESET).await.unwrap();
    env.app.clock.advance(30 * 60);
    confirm(&env, &code, NEW_PASSWORD).await.problem(400, "invalid_token");
    assert_eq!(env.login("ada@example.com", PASSWORD).await.status, 200, "the password is unchanged");
}

#[tokio::test(flavor = "multi_thread")]
async fn at_most_three_reset_emails_an_hour_go_to_one_account() {
    let env = TestEnv::start().await;
    env.register("ada@example.com").await;
    for _ in 0..5 {
        assert_eq!(ask_reset(&env, "ada@example.com").await.status, 202, "the answer never tells");
    }
    assert_eq!(env.events_of("customer.password_reset_requested").await.len(), 3);
    env.app.clock.advance(3600);
    ask_reset(&env, "ada@example.com").await;
    assert_eq!(env.events_of("customer.password_reset_requested").await.len(), 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn changing_the_password_needs_the_current_one_and_signs_out_every_other_session() {
    let env = TestEnv::start().await;
    let phone = env.register("ada@example.com").await;
    let laptop = env.login("ada@example.com", PASSWORD).await;
    let wrong = change(&env, &laptop.access_token(), "not my password", NEW_PASSWORD).await;
    wrong.problem(422, "validation_failed");
    assert_eq!(wrong.error_fields(), ["currentPassword"]);
    let weak = change(&env, &laptop.access_token(), PASSWORD, "short").await;
    assert_eq!(weak.error_fields(), ["newPassword"]);
    assert_eq!(change(&env, &laptop.access_token(), PASSWORD, NEW_PASSWORD).await.status, 204);
    env.me(&phone.access_token()).await.problem(401, "session_revoked");
    assert_eq!(env.me(&laptop.access_token()).await.status, 200, "the session that changed it goes on");
    env.login("ada@example.com", PASSWORD).await.problem(401, "invalid_credentials");
    assert_eq!(env.login("ada@example.com", NEW_PASSWORD).await.status, 200);
    // Guessing the current password through this route meets the sign-in limit.
    for _ in 0..5 {
        change(&env, &laptop.access_token(), "guess", "whatever whatever").await;
    }
    change(&env, &laptop.access_token(), NEW_PASSWORD, PASSWORD).await.problem(429, "too_many_attempts");
}

#[tokio::test(flavor = "multi_thread")]
async fn only_a_verified_account_can_be_made_an_admin() {
    let env = TestEnv::start().await;
    env.register("eve@example.com").await;
    let email = storefront::domain::Email::parse("eve@example.com").unwrap();
    let refused = storefront::app::accounts::grant_admin(&env.app, &email).await;
    assert!(matches!(refused, Err(storefront::app::AppError::EmailNotVerified)), "{refused:?}");
    let code = env.emailed_code("eve@example.com", VERIFY).await.unwrap();
    assert_eq!(verify(&env, &code).await.status, 200);
    let admin = storefront::app::accounts::grant_admin(&env.app, &email).await.unwrap().unwrap();
    assert_eq!(admin.role, storefront::domain::Role::Admin);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_used_reset_code_voids_the_others_sent_before_it_and_so_does_a_password_change() {
    let env = TestEnv::start().await;
    let token = env.register("ada@example.com").await.access_token();
    ask_reset(&env, "ada@example.com").await;
    let first = env.emailed_code("ada@example.com", RESET).await.unwrap();
    env.app.clock.advance(1);
    ask_reset(&env, "ada@example.com").await;
    let second = env.emailed_code("ada@example.com", RESET).await.unwrap();
    assert_ne!(first, second);
    assert_eq!(confirm(&env, &second, NEW_PASSWORD).await.status, 204);
    confirm(&env, &first, "an attackers battery staple").await.problem(400, "invalid_token");

    // A code outstanding when the password is changed is void too.
    let signed_in = env.login("ada@example.com", NEW_PASSWORD).await.access_token();
    let _ = token;
    ask_reset(&env, "ada@example.com").await;
    let pending = env.emailed_code("ada@example.com", RESET).await.unwrap();
    env.app.clock.advance(1);
    assert_eq!(change(&env, &signed_in, NEW_PASSWORD, PASSWORD).await.status, 204);
    confirm(&env, &pending, "an attackers battery staple").await.problem(400, "invalid_token");
    assert_eq!(env.login("ada@example.com", PASSWORD).await.status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_password_change_ends_the_other_sessions_before_their_items_are_deleted() {
    let env = TestEnv::start().await;
    let phone = env.register("ada@example.com").await;
    let laptop = env.login("ada@example.com", PASSWORD).await;
    let me = env.me(&laptop.access_token()).await.body;
    let user = storefront::domain::UserId::parse(me["id"].as_str().unwrap()).unwrap();
    let email = storefront::domain::Email::parse("ada@example.com").unwrap();
    let current = env.app.store.credentials(&email).await.unwrap().unwrap().password_hash;
    let sessions = env.sessions(&laptop.access_token()).await.body;
    let kept = sessions["items"].as_array().unwrap().iter().find(|s| s["current"] == true).unwrap()["id"].clone();
    let kept = storefront::domain::SessionId::parse(kept.as_str().unwrap()).unwrap();
    // The password's own transaction, and nothing else (no session item deleted).
    let now = env.app.clock.now();
    assert!(env.app.store.change_password(&email, user, &current, &current, kept, now).await.unwrap());
    env.me(&phone.access_token()).await.problem(401, "session_revoked");
    env.refresh(&phone.refresh_token()).await.problem(401, "session_revoked");
    assert_eq!(env.me(&laptop.access_token()).await.status, 200);
    let listed = env.sessions(&laptop.access_token()).await.body;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "the ended ones are not listed: {listed:#}");
}
