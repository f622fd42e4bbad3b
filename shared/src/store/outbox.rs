//! The outbox: the events of one change, written as one item in the change's own transaction,
//! so that they exist if and only if it happened (and a transaction grows by one item however
//! many events it reports). The table's stream carries each new outbox item once; the
//! `publish-events` function puts its events on the event bus.
//!
//! | item   | pk                   | sk      | notes                                          |
//! |--------|----------------------|---------|------------------------------------------------|
//! | outbox | `EVENT#<first id>`   | `EVENT` | `events`: envelopes as JSON text; TTL 7 days   |

use super::StoreError;
use super::item::{Item, n, s, text};
use super::keys;
use super::tx::{Transaction, Write};
use crate::domain::Event;
use aws_sdk_dynamodb::types::AttributeValue;

/// How long an outbox item stays after it is written (the stream keeps records for 24 hours;
/// the item stays longer to be read when something went wrong).
const OUTBOX_TTL_SECONDS: i64 = 7 * 24 * 3600;

/// The entity of outbox items: what the stream's filter passes to `publish-events`.
pub const OUTBOX_ENTITY: &str = "event";

/// The attribute that holds the envelopes.
const EVENTS: &str = "events";

fn outbox_item(events: &[Event]) -> Result<Option<Item>, StoreError> {
    let Some(first) = events.first() else { return Ok(None) };
    let envelopes = events
        .iter()
        .map(|e| serde_json::to_string(e).map(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| StoreError::Corrupt { key: format!("new event {}", first.id), detail: e.to_string() })?;
    let mut item: Item = keys::outbox(first.id);
    item.insert("entity".into(), s(OUTBOX_ENTITY));
    item.insert(EVENTS.into(), AttributeValue::L(envelopes));
    item.insert("occurredAt".into(), s(first.occurred_at.to_string()));
    item.insert(super::schema::TTL.into(), n(first.occurred_at.unix_seconds() + OUTBOX_TTL_SECONDS));
    Ok(Some(item))
}

impl<N: PartialEq> Transaction<N> {
    /// Adds the outbox item of `events` (none if there are none) under `name`.
    pub(crate) fn publish(&mut self, name: N, events: &[Event]) -> Result<(), StoreError> {
        if let Some(item) = outbox_item(events)? {
            self.add(name, Write::put(item).when("attribute_not_exists(pk)"));
        }
        Ok(())
    }
}

/// The envelopes (JSON text) an outbox item holds, as the stream or a read of the table gives
/// it; `None` if the item is not an outbox item.
pub fn envelopes(item: &Item) -> Option<Vec<String>> {
    if text(item, "entity") != Some(OUTBOX_ENTITY) {
        return None;
    }
    let list = item.get(EVENTS)?.as_l().ok()?;
    Some(list.iter().filter_map(|v| v.as_s().ok().cloned()).collect())
}

/// The envelopes of an outbox item as a stream record's new image carries it.
pub fn envelopes_in_image(image: serde_dynamo::Item) -> Option<Vec<String>> {
    let item: Item = image.into();
    envelopes(&item)
}

impl super::Store {
    /// A write as costly as [`Store::publish_events`]'s that writes nothing (its condition never
    /// holds): so that a request that has nothing to publish takes the same time as one that does.
    pub async fn publish_nothing(&self) -> Result<(), StoreError> {
        let mut item = keys::outbox(crate::domain::EventId::new());
        item.insert("entity".into(), s("nothing"));
        let write = Write::put(item).when("attribute_exists(pk)");
        let _refused = Transaction::<()>::single(write).commit(self, None).await?;
        Ok(())
    }

    /// Writes events that report no change of their own (a request for an account email).
    pub async fn publish_events(&self, events: &[Event]) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        let mut tx = Transaction::new();
        tx.publish((), events)?;
        match tx.commit(self, None).await? {
            Ok(()) => Ok(()),
            Err(_) => Err(StoreError::Backend { operation: "PutItem", detail: "event id collision".into() }),
        }
    }
}
