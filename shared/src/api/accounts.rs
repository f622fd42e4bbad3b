//! `POST /auth/register`, `POST /auth/login`, `GET /me`, `PATCH /me`.

use crate::app::{App, accounts};
use crate::domain::ProfileChange;
use crate::domain::{Address, Email, Password, PersonName, User};
use crate::http::{self, ApiError, Body, JsonBody, Request, Response};
use serde::Serialize;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionBody<'a> {
    user: &'a User,
    access_token: &'a str,
    token_type: &'static str,
    expires_in: i64,
}

fn session(status: u16, session: &accounts::Session) -> Result<Response<Body>, ApiError> {
    http::json(
        status,
        &SessionBody {
            user: &session.user,
            access_token: &session.token.token,
            token_type: "Bearer",
            expires_in: session.token.expires_in,
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
    let created = accounts::register(app, email, password, name).await?;
    session(201, &created)
}

/// `POST /auth/login` `{email, password}` → 200 session.
pub async fn login(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let mut body = JsonBody::parse(&req)?;
    let email = body.string("email", Email::parse);
    let password = body.string("password", Password::parse_attempt);
    let (email, password) = body.finish((email, password))?;
    let signed_in = accounts::login(app, email, password).await?;
    session(200, &signed_in)
}

/// `GET /me` → 200 user.
pub async fn get_me(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let principal = http::require_user(app, &req).await?;
    let user = accounts::me(app, &principal).await?;
    http::json(200, &user)
}

/// `PATCH /me` `{name?, defaultShippingAddress?}` → 200 user. `defaultShippingAddress: null`
/// removes it; any other field is refused.
pub async fn update_me(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let principal = http::require_user(app, &req).await?;
    let mut body = JsonBody::parse(&req)?;
    let name = body.optional_string("name", PersonName::parse);
    let address = body.nullable_object("defaultShippingAddress", parse_address);
    body.finish(())?;
    let change = ProfileChange { name, default_shipping_address: address };
    let user = accounts::update_me(app, &principal, change).await?;
    http::json(200, &user)
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
