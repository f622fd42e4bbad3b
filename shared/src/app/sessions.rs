//! Sessions: refresh with rotation (and theft detection), sign-out, the list of one's sessions,
//! and the live check that routes changing money, orders or accounts make.

use super::accounts::{SignedIn, signed_in};
use super::{App, AppError, Resource};
use crate::auth::{OpaqueToken, Principal};
use crate::domain::{PasswordChange, Refresh, Role, Session, SessionId, User, refresh_decision};

/// A caller whose session was checked just now, with their account as stored.
#[derive(Debug)]
pub struct Verified {
    /// The token's caller, with the role as stored (not as the token says).
    pub principal: Principal,
    pub user: User,
    /// The account's last password change (which ended the sessions begun before it).
    pub password_change: Option<PasswordChange>,
}

/// Checks that the caller's session is live and their account exists, in one read: a revoked
/// session's access tokens stop working at once, and a role change (a demoted admin) counts
/// at once too.
pub async fn verify(app: &App, principal: &Principal) -> Result<Verified, AppError> {
    let (session, user) = app.store.session_and_user(principal.user_id, principal.session_id).await?;
    let session = session.ok_or(AppError::SessionRevoked)?;
    let (user, password_change) = user.ok_or(AppError::Unauthenticated)?;
    if password_change.is_some_and(|change| change.ends(&session)) {
        return Err(AppError::SessionRevoked);
    }
    if !session.is_live(app.clock.now()) {
        return Err(AppError::SessionExpired);
    }
    Ok(Verified { principal: Principal { role: user.role, ..*principal }, user, password_change })
}

/// Whether a checked caller is an admin now.
pub fn is_admin(verified: &Verified) -> bool {
    verified.user.role == Role::Admin
}

/// Trades a refresh token for a new access token and a new refresh token. The one presented
/// stops working; presenting it again later revokes the session (someone else holds a copy).
/// Presented again within seconds of its rotation, while its successor is still current, it
/// answers that same successor: two refreshes racing with one token leave one session.
pub async fn refresh(app: &App, presented: &str) -> Result<SignedIn, AppError> {
    let token = OpaqueToken::parse(presented).ok_or(AppError::InvalidRefreshToken)?;
    let hash = token.hash();
    for _ in 0..super::MAX_DECISIONS {
        let stored = app.store.refresh_token(&hash).await?.ok_or(AppError::InvalidRefreshToken)?;
        let record = &stored.record;
        let (session, user) = app.store.session_and_user(record.user_id, record.session_id).await?;
        let (Some(session), Some((user, password_change))) = (session, user) else {
            return Err(AppError::SessionRevoked);
        };
        if password_change.is_some_and(|change| change.ends(&session)) {
            return Err(AppError::SessionRevoked);
        }
        let now = app.clock.now();
        match refresh_decision(record, &session, now) {
            Refresh::Rotate => {
                let next_token = OpaqueToken::generate()?;
                let next = session.refreshed(now);
                if app
                    .store
                    .rotate_session(&session, &next, &hash, &token.seal(&next_token), &next_token.hash())
                    .await?
                {
                    return signed_in(app, user, &next, next_token).await;
                }
                // Another refresh got in first: decide again from what it left.
            }
            Refresh::Replay => {
                let successor = stored.successor.as_deref().and_then(|sealed| token.open(sealed));
                return match successor {
                    Some(successor) => signed_in(app, user, &session, successor).await,
                    None => Err(AppError::SessionRevoked),
                };
            }
            Refresh::Stale => {} // a refresh committed between the two reads: read again
            Refresh::Expired => return Err(AppError::SessionExpired),
            Refresh::Theft => {
                tracing::warn!(
                    user = %session.user_id,
                    session = %session.id,
                    generation = record.generation,
                    "a rotated refresh token was presented again; revoking its session"
                );
                app.store.revoke_session(session.user_id, session.id).await?;
                return Err(AppError::SessionRevoked);
            }
        }
    }
    Err(AppError::Unavailable("refreshes of one session kept racing".into()))
}

/// Ends the caller's session (`POST /auth/logout`). Ending one that already ended is fine.
pub async fn logout(app: &App, principal: &Principal) -> Result<(), AppError> {
    app.store.revoke_session(principal.user_id, principal.session_id).await?;
    Ok(())
}

/// One of the caller's sessions, as `GET /me/sessions` lists it.
#[derive(Debug)]
pub struct Listed {
    pub session: Session,
    pub current: bool,
}

/// The caller's live sessions, newest first.
pub async fn list(app: &App, verified: &Verified) -> Result<Vec<Listed>, AppError> {
    let now = app.clock.now();
    let current = verified.principal.session_id;
    Ok(app
        .store
        .sessions(verified.principal.user_id)
        .await?
        .into_iter()
        .filter(|s| s.is_live(now) && !verified.password_change.is_some_and(|change| change.ends(s)))
        .map(|session| Listed { current: session.id == current, session })
        .collect())
}

/// Deletes the (newest) sessions a password change ended: they are refused already, so this
/// only tidies the table and the session list. A failure is logged, not the caller's: the
/// change stands.
pub(crate) async fn tidy_after_password_change(app: &App, user: crate::domain::UserId, kept: Option<SessionId>) {
    match app.store.delete_sessions(user, kept).await {
        Ok(revoked) => tracing::info!(user = %user, revoked, "password changed; the other sessions are deleted"),
        Err(err) => {
            tracing::warn!(user = %user, error = %err, "deleting ended sessions failed; they are refused anyway")
        }
    }
}

/// Revokes one of the caller's sessions (their current one included).
pub async fn revoke(app: &App, verified: &Verified, id: Option<SessionId>) -> Result<(), AppError> {
    let id = id.ok_or(AppError::NotFound(Resource::Session))?;
    if app.store.revoke_session(verified.principal.user_id, id).await? {
        Ok(())
    } else {
        Err(AppError::NotFound(Resource::Session))
    }
}
