//! Sign-in sessions and their refresh tokens.
//!
//! | item          | pk                  | sk                 |
//! |---------------|---------------------|--------------------|
//! | session       | `USER#<id>`         | `SESSION#<sid>`    |
//! | refresh token | `REFRESH#<sha256>`  | `TOKEN`            |
//!
//! A session item exists while the session may be used: revoking deletes it. Its refresh
//! tokens stay (by TTL, until the session could have ended anyway), so that an old token that
//! comes back is recognised as one, and its session revoked.

use super::item::{decode, encode, n, refused, s};
use super::tx::{Transaction, Write};
use super::{Store, StoreError, keys};
use crate::domain::{
    Email, PasswordChange, RefreshRecord, SESSION_MAX_SECONDS, Session, SessionId, Timestamp, User, UserId,
};
use serde::{Deserialize, Serialize};

/// How long an ended session's item stays readable, so that its tokens are answered
/// `session_expired` rather than `session_revoked` until DynamoDB's TTL removes it.
const KEEP_ENDED_SECONDS: i64 = 7 * 24 * 3600;
/// At most this many sessions are listed (the newest).
pub const MAX_LISTED_SESSIONS: i32 = 100;

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TokenRecord {
    session_id: SessionId,
    user_id: UserId,
    generation: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rotated_at: Option<Timestamp>,
    /// The next token, sealed under this one (see `auth::OpaqueToken::seal`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    successor: Option<String>,
}

/// A refresh token as stored, and the successor it sealed when it was rotated.
pub struct StoredRefresh {
    pub record: RefreshRecord,
    pub successor: Option<String>,
}

fn session_ttl(session: &Session) -> i64 {
    session.expires_at().unix_seconds() + KEEP_ENDED_SECONDS
}

fn session_item(session: &Session) -> Result<super::item::Item, StoreError> {
    let mut item = encode(session, keys::session(session.user_id, session.id), "session")?;
    item.insert("expiresAt".into(), n(session_ttl(session)));
    Ok(item)
}

fn token_item(session: &Session, hash: &str) -> Result<super::item::Item, StoreError> {
    let record = TokenRecord {
        session_id: session.id,
        user_id: session.user_id,
        generation: session.generation,
        rotated_at: None,
        successor: None,
    };
    let mut item = encode(&record, keys::refresh_token(hash), "refresh-token")?;
    let ttl = session.created_at.unix_seconds() + SESSION_MAX_SECONDS + KEEP_ENDED_SECONDS;
    item.insert("expiresAt".into(), n(ttl));
    Ok(item)
}

/// The writes that begin `session` with the refresh token hashed `hash` (for a transaction of
/// the caller's, e.g. the one that creates the user).
pub(crate) fn begin_writes(session: &Session, hash: &str) -> Result<[Write; 2], StoreError> {
    let new = "attribute_not_exists(pk)";
    Ok([Write::put(session_item(session)?).when(new), Write::put(token_item(session, hash)?).when(new)])
}

impl Store {
    /// Begins `session` for a sign-in that checked `password_hash`, unless the password has
    /// changed since (`Ok(false)`): a sign-in with the old password that races a change does
    /// not outlive it.
    pub async fn begin_session(
        &self,
        session: &Session,
        hash: &str,
        email: &Email,
        password_hash: &str,
    ) -> Result<bool, StoreError> {
        #[derive(Debug, PartialEq)]
        enum Name {
            Session,
            Token,
            Password,
        }
        let [session_write, token_write] = begin_writes(session, hash)?;
        let mut tx = Transaction::new();
        tx.add(Name::Session, session_write);
        tx.add(Name::Token, token_write);
        tx.add(
            Name::Password,
            Write::check(keys::credentials(email)).when("passwordHash = :hash").value(":hash", s(password_hash)),
        );
        match tx.commit(self, None).await? {
            Ok(()) => Ok(true),
            Err(refused) if refused.by(&Name::Password) => Ok(false),
            Err(refused) => Err(StoreError::Backend {
                operation: "TransactWriteItems",
                detail: format!("session id collision {} ({:?})", session.id, refused.names().collect::<Vec<_>>()),
            }),
        }
    }

    /// Begins `session` with no password check (see `accounts::open_session`).
    pub async fn insert_session(&self, session: &Session, hash: &str) -> Result<(), StoreError> {
        let mut tx = Transaction::new();
        for write in begin_writes(session, hash)? {
            tx.add((), write);
        }
        match tx.commit(self, None).await? {
            Ok(()) => Ok(()),
            Err(_) => {
                Err(StoreError::Backend { operation: "TransactWriteItems", detail: "session id collision".into() })
            }
        }
    }

    /// The refresh token hashed `hash`, if it is one of ours.
    pub async fn refresh_token(&self, hash: &str) -> Result<Option<StoredRefresh>, StoreError> {
        let Some(item) = self.get_consistent(keys::refresh_token(hash)).await? else { return Ok(None) };
        let r: TokenRecord = decode(item)?;
        Ok(Some(StoredRefresh {
            record: RefreshRecord {
                session_id: r.session_id,
                user_id: r.user_id,
                generation: r.generation,
                rotated_at: r.rotated_at,
            },
            successor: r.successor,
        }))
    }

    /// A session, if it was not revoked.
    pub async fn session(&self, user: UserId, id: SessionId) -> Result<Option<Session>, StoreError> {
        self.get_consistent(keys::session(user, id)).await?.map(decode).transpose()
    }

    /// A session and its user (with the account's last password change), in one round trip
    /// (both strongly consistent).
    pub async fn session_and_user(
        &self,
        user: UserId,
        id: SessionId,
    ) -> Result<(Option<Session>, Option<(User, Option<PasswordChange>)>), StoreError> {
        let items = self.batch_get(vec![keys::session(user, id), keys::user(user)], true).await?;
        let (mut session, mut profile) = (None, None);
        for item in items {
            match super::item::text(&item, super::schema::SK) {
                Some("PROFILE") => {
                    let change = super::users::password_change(&item);
                    profile = Some((super::users::decode_user(item)?, change));
                }
                _ => session = Some(decode::<Session>(item)?),
            }
        }
        Ok((session, profile))
    }

    /// Rotates `session` (as read) to `next`, marking the token hashed `old` rotated with its
    /// `sealed` successor and storing the successor's hash `new`. `Ok(false)` if the session
    /// or the token changed since they were read (a concurrent refresh won), or was revoked.
    pub async fn rotate_session(
        &self,
        session: &Session,
        next: &Session,
        old: &str,
        sealed: &str,
        new: &str,
    ) -> Result<bool, StoreError> {
        #[derive(Debug, PartialEq)]
        enum Name {
            Session,
            Old,
            New,
        }
        let now = s(next.last_used_at.to_string());
        let mut tx = Transaction::new();
        tx.add(
            Name::Session,
            Write::update(
                keys::session(session.user_id, session.id),
                "SET generation = :next, lastUsedAt = :now, expiresAt = :ttl",
            )
            .when("generation = :generation")
            .value(":next", n(next.generation.into()))
            .value(":now", now.clone())
            .value(":ttl", n(session_ttl(next)))
            .value(":generation", n(session.generation.into())),
        );
        tx.add(
            Name::Old,
            Write::update(keys::refresh_token(old), "SET rotatedAt = :now, successor = :sealed")
                .when("attribute_exists(pk) AND attribute_not_exists(rotatedAt)")
                .value(":now", now)
                .value(":sealed", s(sealed)),
        );
        tx.add(Name::New, Write::put(token_item(next, new)?).when("attribute_not_exists(pk)"));
        match tx.commit(self, None).await? {
            Ok(()) => Ok(true),
            Err(refused) if refused.by(&Name::Session) || refused.by(&Name::Old) => Ok(false),
            Err(_) => {
                Err(StoreError::Backend { operation: "TransactWriteItems", detail: "refresh token collision".into() })
            }
        }
    }

    /// Revokes one session. `Ok(false)` if there was none (already revoked, or never).
    pub async fn revoke_session(&self, user: UserId, id: SessionId) -> Result<bool, StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(keys::session(user, id)))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(err) if refused(&err).is_some() => Ok(false),
            Err(err) => Err(StoreError::backend("DeleteItem", err)),
        }
    }

    /// A user's sessions, newest first (at most [`MAX_LISTED_SESSIONS`]), ended ones included:
    /// the caller decides what is live.
    pub async fn sessions(&self, user: UserId) -> Result<Vec<Session>, StoreError> {
        let located = keys::Partition::User(user).locate();
        let out = self
            .query(&located)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
            .expression_attribute_names("#sk", located.sort_key)
            .expression_attribute_values(":prefix", s(keys::SESSION_PREFIX))
            .scan_index_forward(false)
            .limit(MAX_LISTED_SESSIONS)
            .send()
            .await
            .map_err(|e| StoreError::backend("Query", e))?;
        out.items.unwrap_or_default().into_iter().map(decode).collect()
    }

    /// Deletes the newest [`MAX_LISTED_SESSIONS`] sessions of `user` but `keep` (one query,
    /// then one delete each), so a request doing it stays well within its time however many
    /// sessions there are. For sessions already ended by a password change: older ones are
    /// refused all the same and go by TTL. Returns how many were deleted.
    pub async fn delete_sessions(&self, user: UserId, keep: Option<SessionId>) -> Result<usize, StoreError> {
        let located = keys::Partition::User(user).locate();
        let out = self
            .query(&located)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
            .expression_attribute_names("#sk", located.sort_key)
            .expression_attribute_values(":prefix", s(keys::SESSION_PREFIX))
            .projection_expression("#sk")
            .scan_index_forward(false)
            .limit(MAX_LISTED_SESSIONS)
            .send()
            .await
            .map_err(|e| StoreError::backend("Query", e))?;
        let ids: Vec<SessionId> = out
            .items
            .unwrap_or_default()
            .iter()
            .filter_map(|item| super::item::text(item, located.sort_key))
            .filter_map(|sk| sk.strip_prefix(keys::SESSION_PREFIX).and_then(SessionId::parse))
            .filter(|id| Some(*id) != keep)
            .collect();
        let mut deleted = 0;
        for id in ids {
            if self.revoke_session(user, id).await? {
                deleted += 1;
            }
        }
        Ok(deleted)
    }
}
