//! Webhook endpoints and their deliveries.
//!
//! | item     | pk               | sk                   | index                                  | TTL  |
//! |----------|------------------|----------------------|----------------------------------------|------|
//! | endpoint | `WEBHOOK#<id>`   | `WEBHOOK`            | `gsi1` `WEBHOOKS`                      | –    |
//! | delivery | `WEBHOOK#<id>`   | `DELIVERY#<eventId>` | `gsi2` `DELIVERIES#DUE` while pending  | 30 d |
//!
//! A delivery is put once per (endpoint, event) on `attribute_not_exists(pk)`, so an event that
//! arrives twice is delivered once. Each attempt is claimed first (`attempts` as read, no live
//! lease), so two workers never send the same attempt; its outcome is written on the claim.

use super::item::{Item, b, decode, encode, n, s, text};
use super::keys::{self, Partition};
use super::page::{Page, Position};
use super::tx::{Transaction, Write};
use super::{Store, StoreError};
use crate::domain::{DeliveryStatus, Event, EventId, Timestamp, WebhookDelivery, WebhookEndpoint, WebhookId};

const DELIVERY_TTL_SECONDS: i64 = 30 * 24 * 3600;
/// How long a claimed attempt is its worker's: longer than a delivery can take.
const LEASE_SECONDS: i64 = 30;
/// The envelope a delivery sends, kept with it for the retries.
const BODY: &str = "body";

fn endpoint_item(endpoint: &WebhookEndpoint) -> Result<Item, StoreError> {
    let mut item = encode(endpoint, keys::webhook(endpoint.id), "webhook")?;
    for (attribute, value) in keys::webhook_entries(endpoint) {
        item.insert(attribute.into(), s(value));
    }
    Ok(item)
}

fn delivery_item(delivery: &WebhookDelivery, body: &str) -> Result<Item, StoreError> {
    let mut item = encode(delivery, keys::delivery(delivery.webhook_id, delivery.event_id), "delivery")?;
    for (attribute, value) in keys::due_entries(delivery) {
        item.insert(attribute.into(), s(value));
    }
    item.insert(BODY.into(), s(body));
    item.insert(super::schema::TTL.into(), n(delivery.created_at.unix_seconds() + DELIVERY_TTL_SECONDS));
    Ok(item)
}

/// A delivery and the body it sends.
fn delivery_of(mut item: Item) -> Result<(WebhookDelivery, String), StoreError> {
    let body = text(&item, BODY).unwrap_or_default().to_owned();
    item.remove(BODY);
    item.remove("leaseUntil");
    Ok((decode(item)?, body))
}

impl Store {
    /// A new endpoint; `false` if its id is taken (never, but for a ULID collision).
    pub async fn insert_webhook(&self, endpoint: &WebhookEndpoint) -> Result<bool, StoreError> {
        let put = Write::put(endpoint_item(endpoint)?).when("attribute_not_exists(pk)");
        Ok(Transaction::<()>::single(put).commit(self, None).await?.is_ok())
    }

    pub async fn webhook(&self, id: WebhookId) -> Result<Option<WebhookEndpoint>, StoreError> {
        self.get_consistent(keys::webhook(id)).await?.map(decode).transpose()
    }

    /// One page of endpoints, oldest first. `Ok(None)` if `after` is not a position of this listing.
    pub async fn webhooks(
        &self,
        limit: usize,
        after: Option<&Position>,
    ) -> Result<Option<Page<WebhookEndpoint>>, StoreError> {
        self.query_page(Partition::Webhooks, None, limit, after, |item| decode(item).map(Some)).await
    }

    /// Every endpoint that is enabled (a shop has a handful: one query, paged to the end).
    pub async fn enabled_webhooks(&self) -> Result<Vec<WebhookEndpoint>, StoreError> {
        let items = self.query_all(Partition::Webhooks, Some(("enabled = :on", ":on", b(true))), false).await?;
        items.into_iter().map(decode).collect()
    }

    /// Replaces `old` by `new` if the stored endpoint is still `old`'s version and failing
    /// streak (which deliveries mark without a new version); `false` if not. `events` (a
    /// disabling's) are written with it.
    pub async fn replace_webhook(
        &self,
        old: &WebhookEndpoint,
        new: &WebhookEndpoint,
        events: &[Event],
    ) -> Result<bool, StoreError> {
        #[derive(Debug, PartialEq)]
        enum Name {
            Endpoint,
            Outbox,
        }
        let mut tx = Transaction::new();
        let put = match old.failing_since {
            Some(since) => Write::put(endpoint_item(new)?)
                .when("version = :version AND failingSince = :since")
                .value(":since", s(since.to_string())),
            None => Write::put(endpoint_item(new)?).when("version = :version AND attribute_not_exists(failingSince)"),
        }
        .value(":version", n(old.version));
        tx.add(Name::Endpoint, put);
        tx.publish(Name::Outbox, events)?;
        Ok(tx.commit(self, None).await?.is_ok())
    }

    /// Marks whether deliveries to an endpoint are failing (since when), without an edit of it.
    pub async fn set_webhook_failing(&self, id: WebhookId, since: Option<Timestamp>) -> Result<(), StoreError> {
        let write = match since {
            Some(at) => Write::update(keys::webhook(id), "SET failingSince = if_not_exists(failingSince, :at)")
                .when("attribute_exists(pk)")
                .value(":at", s(at.to_string())),
            None => Write::update(keys::webhook(id), "REMOVE failingSince").when("attribute_exists(failingSince)"),
        };
        // A missing endpoint, or one that was not failing: nothing to mark.
        Transaction::<()>::single(write).commit(self, None).await?.ok();
        Ok(())
    }

    /// Deletes an endpoint; `false` if there was none. Its deliveries go by TTL.
    pub async fn delete_webhook(&self, id: WebhookId) -> Result<bool, StoreError> {
        let delete = Write::delete(keys::webhook(id)).when("attribute_exists(pk)");
        Ok(Transaction::<()>::single(delete).commit(self, None).await?.is_ok())
    }

    /// A new delivery of `body`; `false` when the event was delivered to the endpoint before.
    pub async fn insert_delivery(&self, delivery: &WebhookDelivery, body: &str) -> Result<bool, StoreError> {
        let put = Write::put(delivery_item(delivery, body)?).when("attribute_not_exists(pk)");
        Ok(Transaction::<()>::single(put).commit(self, None).await?.is_ok())
    }

    pub async fn delivery(
        &self,
        webhook: WebhookId,
        event: EventId,
    ) -> Result<Option<(WebhookDelivery, String)>, StoreError> {
        self.get_consistent(keys::delivery(webhook, event)).await?.map(delivery_of).transpose()
    }

    /// One page of an endpoint's deliveries, newest first, optionally in one status, and
    /// whether the page's query met the endpoint itself (it sorts after its deliveries, so the
    /// first page's query reads it first: one query answers "is there such an endpoint" too).
    pub async fn deliveries(
        &self,
        webhook: WebhookId,
        status: Option<DeliveryStatus>,
        limit: usize,
        after: Option<&Position>,
    ) -> Result<Option<(Page<WebhookDelivery>, bool)>, StoreError> {
        let filter = (
            "entity IN (:delivery, :webhook)".to_owned(),
            vec![(":delivery".to_owned(), s("delivery")), (":webhook".to_owned(), s("webhook"))],
        );
        let endpoint_seen = std::sync::atomic::AtomicBool::new(false);
        // The status is filtered here (as the query's filter would): `status` is a reserved word.
        let keep = |item: Item| {
            if text(&item, "entity") == Some("webhook") {
                endpoint_seen.store(true, std::sync::atomic::Ordering::Relaxed);
                return Ok(None);
            }
            delivery_of(item).map(|(d, _)| status.is_none_or(|wanted| d.status == wanted).then_some(d))
        };
        let page = self.query_page(Partition::Deliveries(webhook), Some(filter), limit, after, keep).await?;
        Ok(page.map(|page| (page, endpoint_seen.load(std::sync::atomic::Ordering::Relaxed))))
    }

    /// Claims the next attempt of `delivery` (as read) for this worker: `false` if another
    /// worker holds it or made it meanwhile.
    pub async fn claim_attempt(&self, delivery: &WebhookDelivery, now: Timestamp) -> Result<bool, StoreError> {
        let claim = Write::update(keys::delivery(delivery.webhook_id, delivery.event_id), "SET leaseUntil = :until")
            .when("attempts = :attempts AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now)")
            .value(":until", n(now.unix_seconds() + LEASE_SECONDS))
            .value(":attempts", n(i64::from(delivery.attempts)))
            .value(":now", n(now.unix_seconds()));
        Ok(Transaction::<()>::single(claim).commit(self, None).await?.is_ok())
    }

    /// Writes the outcome of a claimed attempt (`before` as claimed, `after` as it is now),
    /// filing it by its next attempt or taking it off the due list; releases the claim.
    pub async fn record_attempt(
        &self,
        before: &WebhookDelivery,
        after: &WebhookDelivery,
        body: &str,
    ) -> Result<bool, StoreError> {
        let put = Write::put(delivery_item(after, body)?)
            .when("attempts = :attempts")
            .value(":attempts", n(i64::from(before.attempts)));
        Ok(Transaction::<()>::single(put).commit(self, None).await?.is_ok())
    }

    /// Up to `limit` pending deliveries due at `now`, the longest due first.
    pub async fn due_deliveries(&self, now: Timestamp, limit: i32) -> Result<Vec<WebhookDelivery>, StoreError> {
        let located = Partition::Due.locate();
        let out = self
            .query(&located)
            .key_condition_expression("#pk = :pk AND #sk <= :now")
            .expression_attribute_names("#sk", located.sort_key)
            .expression_attribute_values(":now", s(format!("{now}~")))
            .scan_index_forward(true)
            .limit(limit)
            .send()
            .await
            .map_err(|e| StoreError::backend("Query", e))?;
        out.items.unwrap_or_default().into_iter().map(|item| delivery_of(item).map(|(d, _)| d)).collect()
    }
}
