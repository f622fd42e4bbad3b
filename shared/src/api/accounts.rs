//! `POST /auth/register`, `POST /auth/login`, `POST /auth/refresh`, `POST /auth/logout`,
//! `GET /me`, `PATCH /me`, `GET /me/sessions`, `DELETE /me/sessions/{id}`, `POST /me/password`,
//! `POST /auth/password-reset`, `POST /auth/password-reset/confirm`, `POST /auth/verify-email`,
//! `POST /me/verification-email`.

use crate::app::{App, AppError, Resource, account_emails, accounts, sessions};
use crate::domain::ProfileChange;
use crate::domain::{Address, Email, Password, PersonName, SessionId, Timestamp, User, UserAgent};
use crate::http::{self, ApiError, Body, JsonBody, Request, Response};
use serde::Serialize;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<&'a User>,
    access_token: &'a str,
    token_type: &'static str,
    expires_in: i64,
    refresh_token: String,
    refresh_expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    cart_merge: Option<&'a crate::app::cart::Merged>,
}

fn session(status: u16, signed_in: &accounts::SignedIn, with_user: bool) -> Result<Response<Body>, ApiError> {
    answer(status, signed_in, with_user, None)
}

fn answer(
    status: u16,
    signed_in: &accounts::SignedIn,
    with_user: bool,
    cart_merge: Option<&crate::app::cart::Merged>,
) -> Result<Response<Body>, ApiError> {
    http::json(
        status,
        &SessionBody {
            cart_merge,
            user: with_user.then_some(&signed_in.user),
            access_token: &signed_in.token.token,
            token_type: "Bearer",
            expires_in: signed_in.token.expires_in,
            refresh_token: signed_in.refresh_token.expose(),
            refresh_expires_in: signed_in.refresh_expires_in,
        },
    )
}

/// `POST /auth/register` `{email, password, name}` → 201 session.
pub async fn register(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let mut body = JsonBody::parse(&req)?;
    let email = body.string("email", Email::parse);
    let password = body.string("password", Password::parse_new);
    let name = body.string("name", PersonName::parse);
    let (email, password, name) = body.finish((email, password, name))?;
    let guest = http::cart_token(app, &req)?;
    let created = accounts::register(app, email, password, name, &http::caller(&req)).await?;
    with_guest_cart(app, 201, &created, guest).await
}

/// A sign-in's answer, after taking in the guest cart of the request's `X-Cart-Token` (if any).
async fn with_guest_cart(
    app: &App,
    status: u16,
    signed_in: &accounts::SignedIn,
    guest: Option<crate::domain::GuestId>,
) -> Result<Response<Body>, ApiError> {
    match guest {
        None => session(status, signed_in, true),
        Some(guest) => match crate::app::cart::merge(app, guest, signed_in.user.id).await {
            Ok(merged) => answer(status, signed_in, true, Some(&merged)),
            // The sign-in happened: answer its tokens. The merge is one transaction, so the
            // guest cart is as it was, and signing in again with it merges it then.
            Err(err) => {
                tracing::warn!(error = %err, "merging a guest cart at sign-in failed; the guest cart is kept");
                session(status, signed_in, true)
            }
        },
    }
}

/// `POST /auth/login` `{email, password}` → 200 session.
pub async fn login(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let mut body = JsonBody::parse(&req)?;
    let email = body.string("email", Email::parse);
    let password = body.string("password", Password::parse_attempt);
    let (email, password) = body.finish((email, password))?;
    let guest = http::cart_token(app, &req)?;
    let signed_in = accounts::login(app, email, password, &http::caller(&req)).await?;
    with_guest_cart(app, 200, &signed_in, guest).await
}

/// `POST /auth/refresh` `{refreshToken}` → 200 a new access token and refresh token.
pub async fn refresh(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let mut body = JsonBody::parse(&req)?;
    let token = body.string("refreshToken", |raw| {
        if raw.is_empty() || raw.len() > 128 {
            Err(crate::domain::Invalid::new("must be a refresh token"))
        } else {
            Ok(raw.to_owned())
        }
    });
    let (token,) = body.finish((token,))?;
    let refreshed = sessions::refresh(app, &token).await?;
    session(200, &refreshed, false)
}

/// `POST /auth/logout` → 204: the caller's session ends, with every token of it.
pub async fn logout(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let principal = http::require_user(app, &req).await?;
    sessions::logout(app, &principal).await?;
    http::no_content()
}

/// `GET /me` → 200 user.
pub async fn get_me(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let verified = http::require_session(app, &req).await?;
    http::json(200, &verified.user)
}

/// `PATCH /me` `{name?, defaultShippingAddress?}` → 200 user. `defaultShippingAddress: null`
/// removes it; any other field is refused.
pub async fn update_me(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let verified = http::require_session(app, &req).await?;
    let mut body = JsonBody::parse(&req)?;
    let name = body.optional_string("name", PersonName::parse);
    let address = body.nullable_object("defaultShippingAddress", parse_address);
    body.finish(())?;
    let change = ProfileChange { name, default_shipping_address: address };
    let user = accounts::update_me(app, verified, change).await?;
    http::json(200, &user)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionView<'a> {
    id: SessionId,
    created_at: Timestamp,
    last_used_at: Timestamp,
    expires_at: Timestamp,
    user_agent: Option<&'a UserAgent>,
    current: bool,
}

#[derive(Serialize)]
struct SessionList<'a> {
    items: Vec<SessionView<'a>>,
}

/// `GET /me/sessions` → 200 the caller's live sessions, newest first.
pub async fn list_sessions(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let verified = http::require_session(app, &req).await?;
    let listed = sessions::list(app, &verified).await?;
    let items = listed
        .iter()
        .map(|l| SessionView {
            id: l.session.id,
            created_at: l.session.created_at,
            last_used_at: l.session.last_used_at,
            expires_at: l.session.expires_at(),
            user_agent: l.session.user_agent.as_ref(),
            current: l.current,
        })
        .collect();
    http::json(200, &SessionList { items })
}

/// `DELETE /me/sessions/{id}` → 204; 404 `session_not_found` if the caller has no such session.
pub async fn delete_session(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let verified = http::require_session(app, &req).await?;
    let id = http::path_param(&req, "id").map(SessionId::parse).ok_or(AppError::NotFound(Resource::Session))?;
    sessions::revoke(app, &verified, id).await?;
    http::no_content()
}

/// An emailed token as a client sends it back: checked against the table, not here.
fn token_field(raw: &str) -> Result<String, crate::domain::Invalid> {
    if raw.is_empty() || raw.len() > 128 {
        Err(crate::domain::Invalid::new("must be the code from the email"))
    } else {
        Ok(raw.to_owned())
    }
}

/// `POST /me/password` `{currentPassword, newPassword}` → 204; every other session is revoked.
pub async fn change_password(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let verified = http::require_session(app, &req).await?;
    let mut body = JsonBody::parse(&req)?;
    let current = body.string("currentPassword", Password::parse_attempt);
    let new = body.string("newPassword", Password::parse_new);
    let (current, new) = body.finish((current, new))?;
    accounts::change_password(app, &verified, current, new, &http::caller(&req)).await?;
    http::no_content()
}

/// `POST /auth/password-reset` `{email}` → 202, whatever the email: a known one is sent a
/// reset code (at most 3 an hour).
pub async fn request_password_reset(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let mut body = JsonBody::parse(&req)?;
    let email = body.string("email", Email::parse);
    let (email,) = body.finish((email,))?;
    account_emails::request_reset(app, &email).await?;
    http::accepted()
}

/// `POST /auth/password-reset/confirm` `{token, password}` → 204; every session is revoked.
pub async fn confirm_password_reset(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let mut body = JsonBody::parse(&req)?;
    let token = body.string("token", token_field);
    let password = body.string("password", Password::parse_new);
    let (token, password) = body.finish((token, password))?;
    account_emails::confirm_reset(app, &token, password).await?;
    http::no_content()
}

/// `POST /auth/verify-email` `{token}` → 200 user, `emailVerified: true`.
pub async fn verify_email(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let mut body = JsonBody::parse(&req)?;
    let token = body.string("token", token_field);
    let (token,) = body.finish((token,))?;
    http::json(200, &account_emails::verify_email(app, &token).await?)
}

/// `POST /me/verification-email` → 202: another verification email (at most 3 an hour).
pub async fn send_verification_email(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let verified = http::require_session(app, &req).await?;
    account_emails::resend_verification(app, &verified).await?;
    http::accepted()
}

/// An address object: every field a string, every error reported under its own name.
pub fn parse_address(body: &mut JsonBody) -> Option<Address> {
    let mut raw = std::collections::HashMap::new();
    let mut mistyped = Vec::new();
    for (field, _, _) in crate::domain::ADDRESS_FIELDS {
        match body.take(field) {
            None => {}
            Some(serde_json::Value::String(text)) => {
                raw.insert(field, text);
            }
            Some(_) => {
                body.invalid(field, crate::domain::Invalid::new("must be a string"));
                mistyped.push(field);
            }
        }
    }
    match Address::parse(|f| raw.get(f).map(String::as_str)) {
        Ok(address) if mistyped.is_empty() => Some(address),
        Ok(_) => None,
        Err(errors) => {
            for (field, invalid) in errors.into_iter().filter(|(f, _)| !mistyped.contains(f)) {
                body.invalid(field, invalid);
            }
            None
        }
    }
}
