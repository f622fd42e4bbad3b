use super::ApiError;
use crate::app::sessions::{self, Verified};
use crate::app::{App, AppError};
use crate::auth::Principal;
use crate::domain::Role;
use lambda_http::Request;

/// The caller, from `Authorization: Bearer <token>`; 401 `unauthenticated` otherwise. Only the
/// token is checked (no read), for routes that read the caller's own cart and orders. A token
/// that claims the admin role is checked against the session and the role as stored, since
/// admin rights reach other people's data.
pub async fn require_user(app: &App, req: &Request) -> Result<Principal, ApiError> {
    let principal = bearer(app, req).await?;
    if principal.role == Role::Admin {
        return Ok(sessions::verify(app, &principal).await?.principal);
    }
    Ok(principal)
}

/// The caller, whose session must be live (not revoked, not ended) and whose account must
/// exist: for routes that change money, orders or accounts. 401 `session_revoked` /
/// `session_expired` otherwise.
pub async fn require_session(app: &App, req: &Request) -> Result<Verified, ApiError> {
    let principal = bearer(app, req).await?;
    Ok(sessions::verify(app, &principal).await?)
}

/// The caller, who must be an admin as stored now (a demoted admin's tokens lose their rights at
/// once); 403 `forbidden` for anyone else.
pub async fn require_admin(app: &App, req: &Request) -> Result<Verified, ApiError> {
    let verified = require_session(app, req).await?;
    if sessions::is_admin(&verified) { Ok(verified) } else { Err(AppError::Forbidden.into()) }
}

async fn bearer(app: &App, req: &Request) -> Result<Principal, ApiError> {
    let header = req.headers().get("authorization").ok_or_else(|| ApiError::unauthenticated(false))?;
    let token = header
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|token| !token.is_empty())
        .ok_or_else(|| ApiError::unauthenticated(true))?;
    app.verify_token(token).await.map_err(|e| match e {
        AppError::Unauthenticated => ApiError::unauthenticated(true),
        other => other.into(),
    })
}

/// Who is calling, for sign-in: the source address API Gateway saw (the request context's
/// `http.sourceIp`, which a client cannot set; `X-Forwarded-For` can be) and the `User-Agent`.
pub fn caller(req: &Request) -> crate::app::accounts::Caller {
    use lambda_http::RequestExt;
    use lambda_http::request::RequestContext;
    let source_ip = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.http.source_ip.clone(),
        _ => None,
    };
    let user_agent =
        req.headers().get("user-agent").and_then(|v| v.to_str().ok()).and_then(crate::domain::UserAgent::from_header);
    crate::app::accounts::Caller { client: crate::domain::ClientKey::from_source_ip(source_ip.as_deref()), user_agent }
}

/// The `X-Cart-Token` header's cart, if the header is there: 401 `unauthenticated` if it is not a
/// cart token this API issued.
pub fn cart_token(app: &App, req: &Request) -> Result<Option<crate::domain::GuestId>, ApiError> {
    let Some(header) = req.headers().get("x-cart-token") else { return Ok(None) };
    let cart = header.to_str().ok().and_then(|token| app.guest_tokens().cart(token));
    match cart {
        Some(cart) => Ok(Some(cart)),
        None => Err(ApiError::of(
            super::Kind::Unauthenticated,
            "X-Cart-Token is not a cart token this API issued; ask POST /carts for one.",
        )),
    }
}

/// Whose cart a request is: the signed-in caller's (`Authorization`, checked as
/// [`require_user`] does, or as [`require_session`] with `session`), else the guest's whose
/// `X-Cart-Token` it carries; 401 `unauthenticated` with neither.
pub async fn require_shopper(app: &App, req: &Request, session: bool) -> Result<crate::domain::Shopper, ApiError> {
    use crate::domain::Shopper;
    if req.headers().contains_key("authorization") || !req.headers().contains_key("x-cart-token") {
        let principal =
            if session { require_session(app, req).await?.principal } else { require_user(app, req).await? };
        return Ok(Shopper::Customer(principal.user_id));
    }
    Ok(Shopper::Guest(cart_token(app, req)?.ok_or_else(|| ApiError::unauthenticated(false))?))
}

/// Who reads or cancels order `id`: the signed-in caller (with `session`, checked as
/// [`require_session`] does), else a guest whose `X-Order-Token` is this order's; 401
/// `unauthenticated` otherwise (a wrong order token as well: it names no other order).
pub async fn require_order_reader(
    app: &App,
    req: &Request,
    id: crate::domain::OrderId,
    session: bool,
) -> Result<crate::app::checkout::OrderReader, ApiError> {
    use crate::app::checkout::OrderReader;
    let token = req.headers().get("x-order-token").and_then(|v| v.to_str().ok());
    match token {
        Some(token) if !req.headers().contains_key("authorization") => {
            if app.guest_tokens().opens_order(id, token) {
                Ok(OrderReader::Guest(id))
            } else {
                Err(ApiError::of(super::Kind::Unauthenticated, "X-Order-Token is not this order's token."))
            }
        }
        _ => {
            let principal =
                if session { require_session(app, req).await?.principal } else { require_user(app, req).await? };
            Ok(OrderReader::User(principal))
        }
    }
}
