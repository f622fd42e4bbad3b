//! Emails that prove a mailbox: verification (at sign-up, and again on request) and password
//! reset. Asking writes an event (through the events pipeline, like every email); the email's
//! sender makes the token, keeps only its hash, and puts the token in the email, so no token is
//! ever in an event, a log or the bus. A token works once, within its lifetime.

use super::sessions::Verified;
use super::{App, AppError};
use crate::auth::{self, OpaqueToken};
use crate::domain::{
    ACCOUNT_EMAIL_WINDOW_SECONDS, Email, Event, EventType, MAX_ACCOUNT_EMAILS, Password, TokenPurpose, User,
};
use crate::store::{AccountToken, Attempt, Counter};

/// `POST /auth/password-reset`: emails a reset token if an account has `email`, at most
/// [`MAX_ACCOUNT_EMAILS`] an hour. The caller learns nothing either way: the same answer after
/// the same calls (for an unknown email, or one over its limit, a write that writes nothing
/// stands in for the event's).
pub async fn request_reset(app: &App, email: &Email) -> Result<(), AppError> {
    let now = app.clock.now();
    let counter = Counter::AccountEmails(TokenPurpose::Reset, email);
    let (credentials, counted) = tokio::join!(
        app.store.credentials(email),
        app.store.count_attempt(counter, now, MAX_ACCOUNT_EMAILS, ACCOUNT_EMAIL_WINDOW_SECONDS),
    );
    match (credentials?, counted?) {
        (Some(credentials), Attempt::Allowed { .. }) => {
            let view = serde_json::json!({ "id": credentials.user_id, "email": email });
            let event = Event::account_email(EventType::PasswordResetRequested, credentials.user_id, view, now);
            app.store.publish_events(&[event]).await?;
        }
        _ => app.store.publish_nothing().await?,
    }
    Ok(())
}

/// `POST /auth/password-reset/confirm`: sets a new password with a reset token, ending every
/// session of the account and voiding every other reset code sent before (all in the password's
/// transaction). The token is used up; the email counts as verified.
pub async fn confirm_reset(app: &App, token: &str, password: Password) -> Result<(), AppError> {
    let (hash, stored) = live_token(app, TokenPurpose::Reset, token).await?;
    let password_hash = auth::hash_password(&password).map_err(|e| AppError::Internal(e.to_string()))?;
    if !app.store.use_reset(&hash, &stored, &password_hash, app.clock.now()).await? {
        return Err(AppError::InvalidToken);
    }
    super::sessions::tidy_after_password_change(app, stored.user_id, None).await;
    Ok(())
}

/// `POST /auth/verify-email`: marks the email verified with a verification token.
pub async fn verify_email(app: &App, token: &str) -> Result<User, AppError> {
    let (hash, stored) = live_token(app, TokenPurpose::Verify, token).await?;
    if !app.store.use_verification(&hash, &stored, app.clock.now()).await? {
        return Err(AppError::InvalidToken);
    }
    app.store.user(stored.user_id).await?.ok_or(AppError::InvalidToken)
}

/// `POST /me/verification-email`: sends the caller another verification email, at most
/// [`MAX_ACCOUNT_EMAILS`] an hour (429 past it).
pub async fn resend_verification(app: &App, verified: &Verified) -> Result<(), AppError> {
    let user = &verified.user;
    if user.email_verified {
        return Err(AppError::AlreadyVerified);
    }
    let now = app.clock.now();
    let counter = Counter::AccountEmails(TokenPurpose::Verify, &user.email);
    if let Attempt::Blocked { retry_after } =
        app.store.count_attempt(counter, now, MAX_ACCOUNT_EMAILS, ACCOUNT_EMAIL_WINDOW_SECONDS).await?
    {
        return Err(AppError::TooManyAttempts { retry_after });
    }
    app.store.publish_events(&[Event::account_email(EventType::VerificationRequested, user.id, user, now)]).await?;
    Ok(())
}

/// The purpose of an event type's emailed token, if it carries one.
pub fn token_purpose(kind: &str) -> Option<TokenPurpose> {
    match EventType::parse(kind)? {
        EventType::VerificationRequested => Some(TokenPurpose::Verify),
        EventType::PasswordResetRequested => Some(TokenPurpose::Reset),
        _ => None,
    }
}

/// Makes the token an account email carries and keeps its hash (for `send-notifications`).
pub async fn issue_token(app: &App, purpose: TokenPurpose, user: &User) -> Result<OpaqueToken, AppError> {
    let token = OpaqueToken::generate()?;
    let now = app.clock.now();
    let expires_at = now.unix_seconds() + purpose.lifetime_seconds();
    let stored = AccountToken { user_id: user.id, email: user.email.clone(), issued_at: now.unix_millis(), expires_at };
    app.store.put_account_token(purpose, &token.hash(), &stored).await?;
    Ok(token)
}

/// The stored record of a token that can still be used, with its hash.
async fn live_token(app: &App, purpose: TokenPurpose, token: &str) -> Result<(String, AccountToken), AppError> {
    let token = OpaqueToken::parse(token).ok_or(AppError::InvalidToken)?;
    let hash = token.hash();
    match app.store.account_token(purpose, &hash).await? {
        Some(stored) if stored.expires_at > app.clock.now().unix_seconds() => Ok((hash, stored)),
        _ => Err(AppError::InvalidToken),
    }
}
