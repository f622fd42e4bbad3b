//! Users, their credentials, and login attempts.
//!
//! | item          | pk                 | sk            |
//! |---------------|--------------------|---------------|
//! | user profile  | `USER#<id>`        | `PROFILE`     |
//! | credentials   | `EMAIL#<email>`    | `CREDENTIALS` |
//! | login window  | `LOGIN#<client>`   | `EMAIL#<email>` (one email), `ATTEMPTS` (all) |

use super::item::{decode, encode, n, number, refused, s};
use super::tx::{Transaction, Write};
use super::{Store, StoreError, keys};
use crate::domain::{
    AddressBook, AddressEntry, Email, Event, PasswordChange, PersonName, Role, Session, Timestamp, TokenPurpose, User,
    UserId,
};
use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserRecord {
    #[serde(flatten)]
    user: User,
    updated_at: Timestamp,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CredentialsRecord {
    user_id: UserId,
    password_hash: String,
}

/// The account's last password change, as its profile item records it.
pub(crate) fn password_change(item: &super::item::Item) -> Option<PasswordChange> {
    let at = Timestamp::from_unix_millis(number(item, "passwordChangedAt")?);
    let kept = super::item::text(item, "sessionKept").and_then(crate::domain::SessionId::parse);
    Some(PasswordChange { at, kept })
}

/// The user as an update of the profile (returning the new item) left it; `None` if its
/// condition failed.
fn user_after(
    result: Result<
        aws_sdk_dynamodb::operation::update_item::UpdateItemOutput,
        aws_sdk_dynamodb::error::SdkError<aws_sdk_dynamodb::operation::update_item::UpdateItemError>,
    >,
) -> Result<Option<User>, StoreError> {
    match result {
        Ok(out) => out.attributes.map(decode_user).transpose(),
        Err(err) if refused(&err).is_some() => Ok(None),
        Err(err) => Err(StoreError::backend("UpdateItem", err)),
    }
}

/// The user a profile item holds.
pub(crate) fn decode_user(item: super::item::Item) -> Result<User, StoreError> {
    decode::<UserRecord>(item).map(|r| r.user)
}

/// What login needs to check a password: whose it is and its hash.
pub struct Credentials {
    pub user_id: UserId,
    pub password_hash: String,
}

/// The outcome of counting an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// Go ahead; the attempt was counted in the window that started at `window_start` (epoch s).
    Allowed { window_start: i64 },
    /// Too many in this window: try again in `retry_after` seconds.
    Blocked { retry_after: i64 },
}

impl Store {
    /// Creates a user and claims their email in one transaction, beginning `session` (with the
    /// refresh token hashed as given) when there is one. `Ok(false)` when the email is already
    /// taken (and nothing was written).
    pub async fn insert_user(
        &self,
        user: &User,
        password_hash: &str,
        events: &[Event],
        session: Option<(&Session, &str)>,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        #[derive(Debug, PartialEq)]
        enum Name {
            Profile,
            Email,
            Session,
            Outbox,
        }
        let profile = UserRecord { user: user.clone(), updated_at: now };
        let credentials = CredentialsRecord { user_id: user.id, password_hash: password_hash.to_owned() };
        let mut tx = Transaction::new();
        let new = "attribute_not_exists(pk)";
        tx.add(Name::Profile, Write::put(encode(&profile, keys::user(user.id), "user")?).when(new));
        tx.add(Name::Email, Write::put(encode(&credentials, keys::credentials(&user.email), "credentials")?).when(new));
        if let Some((session, hash)) = session {
            for write in super::sessions::begin_writes(session, hash)? {
                tx.add(Name::Session, write);
            }
        }
        tx.publish(Name::Outbox, events)?;
        match tx.commit(self, None).await? {
            Ok(()) => Ok(true),
            Err(refused) if refused.by(&Name::Email) => Ok(false),
            Err(refused) => Err(StoreError::Backend {
                operation: "TransactWriteItems",
                detail: format!("user id collision {} ({:?})", user.id, refused.names().collect::<Vec<_>>()),
            }),
        }
    }

    pub async fn credentials(&self, email: &Email) -> Result<Option<Credentials>, StoreError> {
        match self.get_consistent(keys::credentials(email)).await? {
            None => Ok(None),
            Some(item) => {
                let r: CredentialsRecord = decode(item)?;
                Ok(Some(Credentials { user_id: r.user_id, password_hash: r.password_hash }))
            }
        }
    }

    pub async fn user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        self.get_consistent(keys::user(id)).await?.map(decode_user).transpose()
    }

    /// Renames an existing user; `Ok(None)` if there is no such user.
    pub async fn rename(&self, id: UserId, name: &PersonName, now: Timestamp) -> Result<Option<User>, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keys::user(id)))
            .update_expression("SET #name = :name, updatedAt = :now")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#name", "name")
            .expression_attribute_values(":name", s(name.as_str()))
            .expression_attribute_values(":now", s(now.to_string()))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        user_after(result)
    }

    /// Counts an attempt (a sign-in before its password is checked, an account email before it
    /// is sent) in `counter`, unless `max` were already counted in the current window of
    /// `window` seconds. Counting first means that a burst of parallel attempts cannot slip
    /// past the limit.
    pub async fn count_attempt(
        &self,
        counter: keys::Counter<'_>,
        now: Timestamp,
        max: i64,
        window: i64,
    ) -> Result<Attempt, StoreError> {
        let counter = keys::counter(counter);
        let now_s = now.unix_seconds();
        let cutoff = now_s - window;
        for _ in 0..=super::MAX_RETRIES {
            // Within a live window: count one more if there is room.
            let counted = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(counter.clone()))
                .update_expression("ADD attempts :one")
                .condition_expression("windowStart > :cutoff AND attempts < :max")
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":cutoff", n(cutoff))
                .expression_attribute_values(":max", n(max))
                .return_values(ReturnValue::AllNew)
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                .send()
                .await;
            let old = match counted {
                Ok(out) => {
                    let start = out.attributes.as_ref().and_then(|a| number(a, "windowStart")).unwrap_or(now_s);
                    return Ok(Attempt::Allowed { window_start: start });
                }
                Err(err) => match refused(&err) {
                    Some(old) => old,
                    None => return Err(StoreError::backend("UpdateItem", err)),
                },
            };
            if let Some(start) = old.as_ref().and_then(|o| number(o, "windowStart")).filter(|s| *s > cutoff) {
                return Ok(Attempt::Blocked { retry_after: (start + window - now_s).max(1) });
            }
            // No live window: start one with this attempt.
            let started = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(counter.clone()))
                .update_expression("SET attempts = :one, windowStart = :now, expiresAt = :expires, entity = :entity")
                .condition_expression("attribute_not_exists(pk) OR windowStart <= :cutoff")
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":now", n(now_s))
                .expression_attribute_values(":cutoff", n(cutoff))
                .expression_attribute_values(":expires", n(now_s + window))
                .expression_attribute_values(":entity", s("attempts"))
                .send()
                .await;
            match started {
                Ok(_) => return Ok(Attempt::Allowed { window_start: now_s }),
                Err(err) if refused(&err).is_some() => continue, // a parallel attempt started it: count again
                Err(err) => return Err(StoreError::backend("UpdateItem", err)),
            }
        }
        Err(StoreError::Unavailable { operation: "UpdateItem", detail: "login window kept changing".into() })
    }

    /// Uncounts an attempt (a sign-in whose password was right), so that only failures use up
    /// the window.
    pub async fn uncount_attempt(&self, counter: keys::Counter<'_>, window_start: i64) -> Result<(), StoreError> {
        let counter = keys::counter(counter);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(counter.clone()))
            .update_expression("ADD attempts :minus")
            .condition_expression("windowStart = :start AND attempts > :zero")
            .expression_attribute_values(":minus", n(-1))
            .expression_attribute_values(":start", n(window_start))
            .expression_attribute_values(":zero", n(0))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) if refused(&err).is_some() => Ok(()), // the window has moved on: nothing to undo
            Err(err) => Err(StoreError::backend("UpdateItem", err)),
        }
    }

    /// Sets a user's role (ops commands only). `Ok(false)` if there is no such user.
    pub async fn set_role(&self, id: UserId, role: Role, now: Timestamp) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keys::user(id)))
            .update_expression("SET #role = :role, updatedAt = :now")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#role", "role")
            .expression_attribute_values(":role", s(role.as_str()))
            .expression_attribute_values(":now", s(now.to_string()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(err) if refused(&err).is_some() => Ok(false),
            Err(err) => Err(StoreError::backend("UpdateItem", err)),
        }
    }
}

/// An emailed account token as stored (by its hash): whose, for which address, until when.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountToken {
    pub user_id: UserId,
    pub email: Email,
    /// Epoch milliseconds: a reset code made before the account's last password change is void.
    #[serde(default)]
    pub issued_at: i64,
    /// Epoch seconds; also the TTL.
    pub expires_at: i64,
}

impl Store {
    /// Keeps the hash of a token just made for an email (verification, reset).
    pub async fn put_account_token(
        &self,
        purpose: TokenPurpose,
        hash: &str,
        token: &AccountToken,
    ) -> Result<(), StoreError> {
        let item = encode(token, keys::account_token(purpose, hash), "account-token")?;
        match Transaction::<()>::single(Write::put(item).when("attribute_not_exists(pk)")).commit(self, None).await? {
            Ok(()) => Ok(()),
            Err(_) => Err(StoreError::Backend { operation: "PutItem", detail: "account token collision".into() }),
        }
    }

    /// The token hashed `hash`, if there is one (used or not, it may have expired).
    pub async fn account_token(&self, purpose: TokenPurpose, hash: &str) -> Result<Option<AccountToken>, StoreError> {
        self.get_consistent(keys::account_token(purpose, hash)).await?.map(decode).transpose()
    }

    /// Uses up a verification token and marks its account's email verified, in one transaction.
    /// `Ok(false)` if the token was used meanwhile, has expired, or its account's email changed.
    pub async fn use_verification(&self, hash: &str, token: &AccountToken, now: Timestamp) -> Result<bool, StoreError> {
        #[derive(Debug, PartialEq)]
        enum Name {
            Token,
            Profile,
        }
        let mut tx = Transaction::new();
        tx.add(Name::Token, use_token(TokenPurpose::Verify, hash, now));
        tx.add(Name::Profile, verify_profile(token, now));
        Ok(tx.commit(self, None).await?.is_ok())
    }

    /// Uses up a reset token: sets the new password hash and marks the email verified (the reset
    /// proved the mailbox), in one transaction. `Ok(false)` if the token was used meanwhile or
    /// has expired.
    pub async fn use_reset(
        &self,
        hash: &str,
        token: &AccountToken,
        password_hash: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        #[derive(Debug, PartialEq)]
        enum Name {
            Token,
            Credentials,
            Profile,
        }
        let mut tx = Transaction::new();
        tx.add(Name::Token, use_token(TokenPurpose::Reset, hash, now));
        tx.add(
            Name::Credentials,
            Write::update(keys::credentials(&token.email), "SET passwordHash = :hash")
                .when("userId = :user")
                .value(":hash", s(password_hash))
                .value(":user", s(token.user_id.to_string())),
        );
        let changed = Write::update(
            keys::user(token.user_id),
            "SET emailVerified = :yes, updatedAt = :now, passwordChangedAt = :ms REMOVE sessionKept",
        )
        .when("email = :email AND (attribute_not_exists(passwordChangedAt) OR passwordChangedAt < :issued)")
        .value(":yes", super::item::b(true))
        .value(":now", s(now.to_string()))
        .value(":ms", n(now.unix_millis()))
        .value(":email", s(token.email.as_str()))
        .value(":issued", n(token.issued_at));
        tx.add(Name::Profile, changed);
        Ok(tx.commit(self, None).await?.is_ok())
    }

    /// Replaces a password hash, if it is still `old` (a change racing another fails), and
    /// records the change on the profile: it ends every session but `kept` and voids the reset
    /// codes sent before it.
    pub async fn change_password(
        &self,
        email: &Email,
        user: UserId,
        old: &str,
        new: &str,
        kept: crate::domain::SessionId,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        #[derive(Debug, PartialEq)]
        enum Name {
            Credentials,
            Profile,
        }
        let mut tx = Transaction::new();
        tx.add(
            Name::Credentials,
            Write::update(keys::credentials(email), "SET passwordHash = :new")
                .when("passwordHash = :old")
                .value(":new", s(new))
                .value(":old", s(old)),
        );
        tx.add(
            Name::Profile,
            Write::update(keys::user(user), "SET passwordChangedAt = :ms, sessionKept = :kept, updatedAt = :now")
                .when("attribute_exists(pk)")
                .value(":ms", n(now.unix_millis()))
                .value(":kept", s(kept.to_string()))
                .value(":now", s(now.to_string())),
        );
        Ok(tx.commit(self, None).await?.is_ok())
    }

    /// Marks an account's email verified (the shop's own tools, which vouch for the address).
    pub async fn set_email_verified(&self, id: UserId, now: Timestamp) -> Result<bool, StoreError> {
        let write = Write::update(keys::user(id), "SET emailVerified = :yes, updatedAt = :now")
            .when("attribute_exists(pk)")
            .value(":yes", super::item::b(true))
            .value(":now", s(now.to_string()));
        Ok(Transaction::<()>::single(write).commit(self, None).await?.is_ok())
    }
}

/// Deletes a token, on its being there and unexpired: a token works once.
fn use_token(purpose: TokenPurpose, hash: &str, now: Timestamp) -> Write {
    Write::delete(keys::account_token(purpose, hash))
        .when("attribute_exists(pk) AND expiresAt > :now")
        .value(":now", n(now.unix_seconds()))
}

fn verify_profile(token: &AccountToken, now: Timestamp) -> Write {
    Write::update(keys::user(token.user_id), "SET emailVerified = :yes, updatedAt = :now")
        .when("email = :email")
        .value(":yes", super::item::b(true))
        .value(":now", s(now.to_string()))
        .value(":email", s(token.email.as_str()))
}

/// A profile's address book as stored: its entries and the version that guards changes.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BookRecord {
    id: UserId,
    #[serde(default)]
    addresses: Option<Vec<AddressEntry>>,
    #[serde(default)]
    default_shipping_address: Option<crate::domain::Address>,
    #[serde(default)]
    address_version: i64,
}

impl Store {
    /// A customer's address book and its version (0 before its first change); `None` if there is
    /// no such user. A profile of the version before address books shows its default address as
    /// the one entry.
    pub async fn address_book(&self, user: UserId) -> Result<Option<(AddressBook, i64)>, StoreError> {
        let Some(item) = self.get_consistent(keys::user(user)).await? else { return Ok(None) };
        let record: BookRecord = decode(item)?;
        let book = match record.addresses {
            Some(entries) => AddressBook { entries },
            None => AddressBook::from_legacy(record.id, record.default_shipping_address.as_ref()),
        };
        Ok(Some((book, record.address_version)))
    }

    /// Stores `book` (and the profile's `defaultShippingAddress`, its default entry's; and
    /// `name`, if given) if the book is still at `version`. `Ok(None)` when it changed meanwhile
    /// or the user is gone.
    pub async fn save_address_book(
        &self,
        user: UserId,
        book: &AddressBook,
        version: i64,
        name: Option<&crate::domain::PersonName>,
        now: Timestamp,
    ) -> Result<Option<User>, StoreError> {
        let mut sets = vec!["addresses = :book", "addressVersion = :next", "updatedAt = :now"];
        let mut values = HashMap::from([
            (":book".to_string(), super::item::attribute(&book.entries, "address book")?),
            (":next".to_string(), n(version + 1)),
            (":now".to_string(), s(now.to_string())),
        ]);
        let mut names = HashMap::new();
        if let Some(name) = name {
            sets.push("#name = :name");
            names.insert("#name".to_string(), "name".to_string());
            values.insert(":name".into(), s(name.as_str()));
        }
        let expression = match book.default_shipping() {
            Some(address) => {
                values.insert(":default".into(), super::item::attribute(address, "address")?);
                sets.push("defaultShippingAddress = :default");
                format!("SET {}", sets.join(", "))
            }
            None => format!("SET {} REMOVE defaultShippingAddress", sets.join(", ")),
        };
        let condition = if version == 0 {
            "attribute_exists(pk) AND attribute_not_exists(addressVersion)"
        } else {
            values.insert(":version".into(), n(version));
            "attribute_exists(pk) AND addressVersion = :version"
        };
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keys::user(user)))
            .update_expression(expression)
            .condition_expression(condition)
            .set_expression_attribute_names((!names.is_empty()).then_some(names))
            .set_expression_attribute_values(Some(values))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        user_after(result)
    }
}
