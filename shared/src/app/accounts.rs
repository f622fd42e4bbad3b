//! Accounts: sign up, sign in, read and edit one's own profile.

use super::{App, AppError};
use crate::auth::{self, IssuedToken, Principal};
use crate::domain::ProfileChange;
use crate::domain::{Email, Event, Password, PersonName, Role, User, UserId};
use crate::store::LoginAttempt;

/// Failed logins allowed per email within one window.
pub const MAX_FAILED_LOGINS: i64 = 5;
/// The window, in seconds, that failed logins are counted in.
pub const LOGIN_WINDOW_SECONDS: i64 = 15 * 60;

/// A signed-in user and their access token.
#[derive(Debug)]
pub struct Session {
    pub user: User,
    pub token: IssuedToken,
}

pub async fn register(app: &App, email: Email, password: Password, name: PersonName) -> Result<Session, AppError> {
    let tokens = app.tokens().await?;
    let user = create_user(app, email, &password, name, Role::Customer).await?;
    let token = tokens.issue(&user, app.clock.now())?;
    Ok(Session { user, token })
}

/// Creates an account with a role; the API only ever asks for customers.
pub async fn create_user(
    app: &App,
    email: Email,
    password: &Password,
    name: PersonName,
    role: Role,
) -> Result<User, AppError> {
    let hash = auth::hash_password(password).map_err(|e| AppError::Internal(e.to_string()))?;
    let now = app.clock.now();
    let user = User { id: UserId::new(), email, name, role, created_at: now, default_shipping_address: None };
    // Other systems hear of customers signing up (admins are made by the shop's own tools).
    let events: Vec<Event> =
        (role == Role::Customer).then(|| Event::customer_registered(user.id, &user, now)).into_iter().collect();
    if app.store.insert_user(&user, &hash, &events, now).await? { Ok(user) } else { Err(AppError::EmailTaken) }
}

pub async fn login(app: &App, email: Email, password: Password) -> Result<Session, AppError> {
    let tokens = app.tokens().await?;
    let now = app.clock.now();
    let window_start = match app.store.begin_login_attempt(&email, now, MAX_FAILED_LOGINS, LOGIN_WINDOW_SECONDS).await?
    {
        LoginAttempt::Blocked { retry_after } => return Err(AppError::TooManyAttempts { retry_after }),
        LoginAttempt::Allowed { window_start } => window_start,
    };
    // Unknown emails cost one hash verification too, so timing does not reveal which exist.
    let user_id = match app.store.credentials(&email).await? {
        Some(credentials) if auth::verify_password(&password, &credentials.password_hash) => credentials.user_id,
        Some(_) => return Err(AppError::InvalidCredentials),
        None => {
            auth::verify_against_nothing(&password);
            return Err(AppError::InvalidCredentials);
        }
    };
    app.store.forget_login_attempt(&email, window_start).await?;
    let user = app
        .store
        .user(user_id)
        .await?
        .ok_or_else(|| AppError::Internal(format!("credentials without a user: {user_id}")))?;
    let token = tokens.issue(&user, now)?;
    Ok(Session { user, token })
}

/// The caller's own profile. A valid token for a user that no longer exists is not accepted.
pub async fn me(app: &App, principal: &Principal) -> Result<User, AppError> {
    app.store.user(principal.user_id).await?.ok_or(AppError::Unauthenticated)
}

pub async fn update_me(app: &App, principal: &Principal, change: ProfileChange) -> Result<User, AppError> {
    if change.is_empty() {
        return me(app, principal).await;
    }
    app.store.update_profile(principal.user_id, &change, app.clock.now()).await?.ok_or(AppError::Unauthenticated)
}

/// Makes an existing account an admin (the `grant-admin` ops command and the local seed).
/// `Ok(None)` if no account has that email.
pub async fn grant_admin(app: &App, email: &Email) -> Result<Option<User>, AppError> {
    let Some(credentials) = app.store.credentials(email).await? else { return Ok(None) };
    if !app.store.set_role(credentials.user_id, Role::Admin, app.clock.now()).await? {
        return Ok(None);
    }
    Ok(app.store.user(credentials.user_id).await?)
}
