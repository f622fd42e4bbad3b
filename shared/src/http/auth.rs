use super::ApiError;
use crate::app::App;
use crate::auth::Principal;
use lambda_http::Request;

/// The caller, from `Authorization: Bearer <token>`; 401 `unauthenticated` otherwise.
pub async fn require_user(app: &App, req: &Request) -> Result<Principal, ApiError> {
    let header = req.headers().get("authorization").ok_or_else(|| ApiError::unauthenticated(false))?;
    let token = header
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|token| !token.is_empty())
        .ok_or_else(|| ApiError::unauthenticated(true))?;
    let tokens = app.tokens().await?;
    tokens.verify(token).map_err(|_| ApiError::unauthenticated(true))
}

/// The caller, who must be an admin; 403 `forbidden` for a customer.
pub async fn require_admin(app: &App, req: &Request) -> Result<Principal, ApiError> {
    let principal = require_user(app, req).await?;
    if principal.is_admin() { Ok(principal) } else { Err(crate::app::AppError::Forbidden.into()) }
}
