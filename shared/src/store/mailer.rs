//! How customer emails leave: Amazon SES v2 (`SendEmail` of the raw RFC 5322 message) in the
//! cloud; locally, where SES has no server, each message is written as an `.eml` file, exactly
//! the bytes SES would have sent. A notification marker in the table makes each event send at
//! most one email.
//!
//! | item         | pk                        | sk             | notes   |
//! |--------------|---------------------------|----------------|---------|
//! | notification | `NOTIFICATION#<event id>` | `NOTIFICATION` | TTL 30 d |

use super::item::{n, s};
use super::keys;
use super::tx::Write;
use super::{Store, StoreError};
use crate::domain::{EventId, Timestamp};
use std::path::PathBuf;

const NOTIFICATION_TTL_SECONDS: i64 = 30 * 24 * 3600;

/// Where emails go.
#[derive(Debug, Clone)]
pub enum Mailer {
    Ses(aws_sdk_sesv2::Client),
    /// A directory of `.eml` files (the local stack, tests).
    Files(PathBuf),
}

impl Mailer {
    /// Sends one RFC 5322 message, named by the event it is for.
    pub async fn send(&self, event: EventId, raw: Vec<u8>) -> Result<(), StoreError> {
        match self {
            Mailer::Ses(client) => {
                use aws_sdk_sesv2::types::{EmailContent, RawMessage};
                let built = |e: aws_sdk_sesv2::error::BuildError| StoreError::Backend {
                    operation: "SendEmail",
                    detail: e.to_string(),
                };
                let raw =
                    RawMessage::builder().data(aws_sdk_sesv2::primitives::Blob::new(raw)).build().map_err(built)?;
                client.send_email().content(EmailContent::builder().raw(raw).build()).send().await.map_err(|e| {
                    StoreError::Unavailable {
                        operation: "SendEmail",
                        detail: aws_sdk_sesv2::error::DisplayErrorContext(e).to_string(),
                    }
                })?;
                Ok(())
            }
            Mailer::Files(dir) => {
                let io = |e: std::io::Error| StoreError::Unavailable { operation: "WriteEmail", detail: e.to_string() };
                std::fs::create_dir_all(dir).map_err(io)?;
                // Whole or not at all: a reader never sees half a message.
                let partial = dir.join(format!(".{event}.eml.partial"));
                std::fs::write(&partial, raw).map_err(io)?;
                std::fs::rename(&partial, dir.join(format!("{event}.eml"))).map_err(io)
            }
        }
    }
}

impl Store {
    /// Claims the email of `event`: `false` when it was claimed before (sent, or being sent).
    pub async fn claim_notification(&self, event: EventId, now: Timestamp) -> Result<bool, StoreError> {
        let mut item = keys::notification(event);
        item.insert("entity".into(), s("notification"));
        item.insert("claimedAt".into(), s(now.to_string()));
        item.insert(super::schema::TTL.into(), n(now.unix_seconds() + NOTIFICATION_TTL_SECONDS));
        let claim = Write::put(item).when("attribute_not_exists(pk)");
        Ok(super::tx::Transaction::<()>::single(claim).commit(self, None).await?.is_ok())
    }

    /// Gives the claim of `event`'s email back (it could not be sent; a retry may).
    pub async fn release_notification(&self, event: EventId) -> Result<(), StoreError> {
        let release = Write::delete(keys::notification(event));
        super::tx::Transaction::<()>::single(release).commit(self, None).await?.map_err(|_| StoreError::Backend {
            operation: "DeleteItem",
            detail: "an unconditional delete was refused".into(),
        })
    }
}
