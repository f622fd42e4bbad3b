//! Accounts: sign up, sign in, read and edit one's own profile.

use super::FieldError;
use super::sessions::Verified;
use super::{App, AppError};
use crate::auth::{self, IssuedToken, OpaqueToken};
use crate::domain::ProfileChange;
use crate::domain::{ClientKey, Email, Event, EventType, Password, PersonName, Role, Session, User, UserAgent, UserId};
use crate::store::Attempt;
use crate::store::{Counter, Credentials};

/// Failed sign-ins allowed for one email from one client within a window…
pub const MAX_FAILED_LOGINS: i64 = 5;
/// …and from one client for all emails together (guessing across many accounts).
pub const MAX_FAILED_LOGINS_PER_CLIENT: i64 = 30;
/// The window, in seconds, that failed logins are counted in.
pub const LOGIN_WINDOW_SECONDS: i64 = 15 * 60;

/// Who is calling, as far as sign-in cares: the client (for limits) and its `User-Agent` (shown
/// in the session list).
#[derive(Debug, Clone)]
pub struct Caller {
    pub client: ClientKey,
    pub user_agent: Option<UserAgent>,
}

/// A signed-in user: an access token and the refresh token of their session.
#[derive(Debug)]
pub struct SignedIn {
    pub user: User,
    pub token: IssuedToken,
    pub refresh_token: OpaqueToken,
    /// Seconds until the session ends unless refreshed.
    pub refresh_expires_in: i64,
}

/// The tokens of a session that just began or was refreshed.
pub(super) async fn signed_in(
    app: &App,
    user: User,
    session: &Session,
    refresh_token: OpaqueToken,
) -> Result<SignedIn, AppError> {
    let now = app.clock.now();
    let token = app.tokens().await?.issue(&user, session.id, now)?;
    Ok(SignedIn { user, token, refresh_token, refresh_expires_in: session.seconds_left(now) })
}

pub async fn register(
    app: &App,
    email: Email,
    password: Password,
    name: PersonName,
    caller: &Caller,
) -> Result<SignedIn, AppError> {
    app.tokens().await?;
    let (mut user, hash) = new_user(app, email, &password, name, Role::Customer)?;
    user.email_verified = false;
    let session = Session::start(user.id, caller.user_agent.clone(), app.clock.now());
    let refresh = OpaqueToken::generate()?;
    insert(app, &user, &hash, Some((&session, &refresh.hash()))).await?;
    signed_in(app, user, &session, refresh).await
}

/// Creates an account with a role (no session), its email taken as verified: for the shop's own
/// tools (the local seed, the tests), which vouch for the address. The API registers through
/// [`register`].
pub async fn create_user(
    app: &App,
    email: Email,
    password: &Password,
    name: PersonName,
    role: Role,
) -> Result<User, AppError> {
    let (user, hash) = new_user(app, email, password, name, role)?;
    insert(app, &user, &hash, None).await?;
    Ok(user)
}

fn new_user(
    app: &App,
    email: Email,
    password: &Password,
    name: PersonName,
    role: Role,
) -> Result<(User, String), AppError> {
    let hash = auth::hash_password(password).map_err(|e| AppError::Internal(e.to_string()))?;
    let user = User {
        id: UserId::new(),
        email,
        name,
        role,
        created_at: app.clock.now(),
        email_verified: true,
        default_shipping_address: None,
    };
    Ok((user, hash))
}

async fn insert(app: &App, user: &User, hash: &str, session: Option<(&Session, &str)>) -> Result<(), AppError> {
    let now = app.clock.now();
    // Other systems hear of customers signing up (admins are made by the shop's own tools); an
    // unverified address is sent its verification email.
    let mut events: Vec<Event> =
        (user.role == Role::Customer).then(|| Event::customer_registered(user.id, user, now)).into_iter().collect();
    if !user.email_verified {
        events.push(Event::account_email(EventType::VerificationRequested, user.id, user, now));
    }
    if app.store.insert_user(user, hash, &events, session, now).await? { Ok(()) } else { Err(AppError::EmailTaken) }
}

/// Checks `password` for `email` under the sign-in limits (see [`login`]): the credentials if
/// it is right.
async fn check_password(
    app: &App,
    email: &Email,
    password: &Password,
    client: &ClientKey,
) -> Result<Credentials, AppError> {
    let now = app.clock.now();
    let (pair, all) = (Counter::SignIn(client, email), Counter::SignInsFrom(client));
    let (counted_pair, counted_all) = tokio::join!(
        app.store.count_attempt(pair, now, MAX_FAILED_LOGINS, LOGIN_WINDOW_SECONDS),
        app.store.count_attempt(all, now, MAX_FAILED_LOGINS_PER_CLIENT, LOGIN_WINDOW_SECONDS),
    );
    let (pair_start, all_start) = match (counted_pair?, counted_all?) {
        (Attempt::Allowed { window_start: a }, Attempt::Allowed { window_start: b }) => (a, b),
        (counted_pair, counted_all) => {
            // A blocked attempt is not one: give back what the other counter counted.
            let mut retry_after = 1;
            for (counter, outcome) in [(pair, counted_pair), (all, counted_all)] {
                match outcome {
                    Attempt::Allowed { window_start } => app.store.uncount_attempt(counter, window_start).await?,
                    Attempt::Blocked { retry_after: r } => retry_after = retry_after.max(r),
                }
            }
            return Err(AppError::TooManyAttempts { retry_after });
        }
    };
    // Unknown emails cost one hash verification too, so timing does not reveal which exist.
    let credentials = match app.store.credentials(email).await? {
        Some(credentials) if auth::verify_password(password, &credentials.password_hash) => credentials,
        Some(_) => return Err(AppError::InvalidCredentials),
        None => {
            auth::verify_against_nothing(password);
            return Err(AppError::InvalidCredentials);
        }
    };
    let (uncounted_pair, uncounted_all) =
        tokio::join!(app.store.uncount_attempt(pair, pair_start), app.store.uncount_attempt(all, all_start));
    uncounted_pair?;
    uncounted_all?;
    Ok(credentials)
}

/// Changes the caller's password (`POST /me/password`): the current one is checked under the
/// sign-in limits, and every other session of the account is revoked.
pub async fn change_password(
    app: &App,
    verified: &Verified,
    current: Password,
    new: Password,
    caller: &Caller,
) -> Result<(), AppError> {
    let email = &verified.user.email;
    let credentials = match check_password(app, email, &current, &caller.client).await {
        Err(AppError::InvalidCredentials) => {
            return Err(AppError::Validation(vec![FieldError::new("currentPassword", "is not your password")]));
        }
        other => other?,
    };
    let hash = auth::hash_password(&new).map_err(|e| AppError::Internal(e.to_string()))?;
    let (id, kept) = (verified.principal.user_id, verified.principal.session_id);
    if !app.store.change_password(email, id, &credentials.password_hash, &hash, kept, app.clock.now()).await? {
        // Changed meanwhile (another change, a reset): this one was decided on the old password.
        return Err(AppError::Validation(vec![FieldError::new("currentPassword", "is not your password")]));
    }
    super::sessions::tidy_after_password_change(app, id, Some(kept)).await;
    Ok(())
}

/// Begins a session for `user` without a password: for the shop's own tools (the benchmark, the
/// tests), never reached from the API.
pub async fn open_session(app: &App, user: User, caller: &Caller) -> Result<SignedIn, AppError> {
    let session = Session::start(user.id, caller.user_agent.clone(), app.clock.now());
    let refresh = OpaqueToken::generate()?;
    app.store.insert_session(&session, &refresh.hash()).await?;
    signed_in(app, user, &session, refresh).await
}

/// Signs in with a password, beginning a new session. Failures are limited per (email,
/// client) and per client, counted before the password is checked: a guesser cannot lock the
/// owner out from another client, nor try many emails from one.
pub async fn login(app: &App, email: Email, password: Password, caller: &Caller) -> Result<SignedIn, AppError> {
    app.tokens().await?;
    let now = app.clock.now();
    let credentials = check_password(app, &email, &password, &caller.client).await?;
    let user = app
        .store
        .user(credentials.user_id)
        .await?
        .ok_or_else(|| AppError::Internal(format!("credentials without a user: {}", credentials.user_id)))?;
    let session = Session::start(user.id, caller.user_agent.clone(), now);
    let refresh = OpaqueToken::generate()?;
    if !app.store.begin_session(&session, &refresh.hash(), &email, &credentials.password_hash).await? {
        // The password changed while this one was being checked.
        return Err(AppError::InvalidCredentials);
    }
    signed_in(app, user, &session, refresh).await
}

/// `PATCH /me`: the name, and the default shipping address (the address book's default entry).
pub async fn update_me(app: &App, verified: Verified, change: ProfileChange) -> Result<User, AppError> {
    match change.default_shipping_address {
        _ if change.is_empty() => Ok(verified.user),
        Some(address) => super::addresses::set_default(app, &verified, address, change.name.as_ref()).await,
        None => {
            let id = verified.principal.user_id;
            let name = change.name.as_ref().ok_or_else(|| AppError::Internal("an empty change".into()))?;
            app.store.rename(id, name, app.clock.now()).await?.ok_or(AppError::Unauthenticated)
        }
    }
}

/// Makes an existing account an admin (the `grant-admin` ops command and the local seed).
/// `Ok(None)` if no account has that email. An account whose email is not verified is refused
/// (`AppError::EmailNotVerified`): otherwise whoever registered an address first would become
/// admin when the operator names it.
pub async fn grant_admin(app: &App, email: &Email) -> Result<Option<User>, AppError> {
    let Some(credentials) = app.store.credentials(email).await? else { return Ok(None) };
    let Some(user) = app.store.user(credentials.user_id).await? else { return Ok(None) };
    if !user.email_verified {
        return Err(AppError::EmailNotVerified);
    }
    if !app.store.set_role(credentials.user_id, Role::Admin, app.clock.now()).await? {
        return Ok(None);
    }
    Ok(app.store.user(credentials.user_id).await?)
}

/// Marks the email of the account at `email` verified, for the shop's own tools that vouch for
/// the address (the local seed's admin). `Ok(false)` if there is no such account.
pub async fn vouch_for_email(app: &App, email: &Email) -> Result<bool, AppError> {
    let Some(credentials) = app.store.credentials(email).await? else { return Ok(false) };
    Ok(app.store.set_email_verified(credentials.user_id, app.clock.now()).await?)
}
