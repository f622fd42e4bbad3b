//! Order status changes. Each is one transaction, conditional on the status it was decided
//! from, so two racing changes cannot both win; a cancellation puts every line back in stock
//! and gives back the discount redemption in that same transaction, so it happens once.
//!
//! | item           | pk                       | sk      | notes                         |
//! |----------------|--------------------------|---------|-------------------------------|
//! | payment event  | `PAYMENT_EVENT#<id>`     | `EVENT` | exactly-once marker, TTL 90 d |

use super::page::{Page, Position};
use super::schema::GSI2;
use super::{Item, Store, StoreError, key, n, s};
use crate::domain::{Effects, HistoryEntry, Order, OrderStatus, Timestamp};
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};

const EVENT_TTL_SECONDS: i64 = 90 * 24 * 3600;

fn build_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend { operation: "TransactWriteItems", detail: e.to_string() }
}

/// A change to an order, decided from `order` as it was read.
#[derive(Debug)]
pub struct OrderChange<'a> {
    pub order: &'a Order,
    /// The new status; the same as the current one for a change that is not a transition
    /// (a payment arriving for a cancelled order marks the refund only).
    pub to: OrderStatus,
    pub effects: Effects,
    pub by: String,
    pub payment_id: Option<&'a str>,
    pub tracking_number: Option<&'a str>,
    /// A webhook event id to record as processed, in the same transaction.
    pub event_id: Option<&'a str>,
}

/// What became of a change.
#[derive(Debug)]
pub enum Changed {
    Done(Box<Order>),
    /// The order is no longer in the status the change was decided from.
    Stale,
    /// The webhook event was processed before.
    EventSeen,
}

impl Store {
    pub async fn change_order(&self, change: OrderChange<'_>, now: Timestamp) -> Result<Changed, StoreError> {
        let order = change.order;
        let mut next = order.clone();
        let transition = change.to != order.status;
        next.status = change.to;
        next.updated_at = now;
        next.refund_due |= change.effects.refund_due;
        if let Some(p) = change.payment_id {
            next.payment_id = Some(p.to_owned());
        }
        if let Some(t) = change.tracking_number {
            next.tracking_number = Some(t.to_owned());
        }
        let entry = HistoryEntry { status: change.to, at: now, by: change.by.clone() };
        if transition {
            next.history.push(entry.clone());
        }

        let mut sets = vec!["updatedAt = :now"];
        let mut values: Vec<(&str, AttributeValue)> =
            vec![(":from", s(order.status.as_str())), (":now", s(now.to_string()))];
        if transition {
            sets.extend([
                "#status = :to",
                "gsi2pk = :gsi2pk",
                "history = list_append(if_not_exists(history, :empty), :entry)",
            ]);
            values.push((":to", s(change.to.as_str())));
            values.push((":gsi2pk", s(format!("ORDERS#{}", change.to.as_str()))));
            values.push((":empty", AttributeValue::L(vec![])));
            let entry = serde_dynamo::to_attribute_value(&entry)
                .map_err(|e| StoreError::Corrupt { key: "history".into(), detail: e.to_string() })?;
            values.push((":entry", AttributeValue::L(vec![entry])));
        }
        if change.effects.refund_due {
            sets.push("refundDue = :true");
            values.push((":true", AttributeValue::Bool(true)));
        }
        if let Some(p) = change.payment_id {
            sets.push("paymentId = :payment");
            values.push((":payment", s(p)));
        }
        if let Some(t) = change.tracking_number {
            sets.push("trackingNumber = :tracking");
            values.push((":tracking", s(t)));
        }
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(format!("ORDER#{}", order.id), "ORDER")))
            .update_expression(format!("SET {}", sets.join(", ")))
            .condition_expression("#status = :from")
            .expression_attribute_names("#status", "status");
        for (name, value) in values {
            update = update.expression_attribute_values(name, value);
        }
        let mut items = vec![TransactWriteItem::builder().update(update.build().map_err(build_err)?).build()];

        if change.effects.restock {
            for line in &order.items {
                let restock = Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(super::catalog::product_key(line.product_id)))
                    .update_expression("SET stock = stock + :q, version = version + :one, updatedAt = :now")
                    .condition_expression("attribute_exists(pk)")
                    .expression_attribute_values(":q", n(line.quantity.units()))
                    .expression_attribute_values(":one", n(1))
                    .expression_attribute_values(":now", s(now.to_string()))
                    .build()
                    .map_err(build_err)?;
                items.push(TransactWriteItem::builder().update(restock).build());
            }
            if let Some(code) = &order.discount_code {
                let give_back = Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(key(format!("DISCOUNT#{code}"), "DISCOUNT")))
                    .update_expression("ADD redemptions :minus")
                    .condition_expression("attribute_exists(pk) AND redemptions > :zero")
                    .expression_attribute_values(":minus", n(-1))
                    .expression_attribute_values(":zero", n(0))
                    .build()
                    .map_err(build_err)?;
                items.push(TransactWriteItem::builder().update(give_back).build());
            }
        }
        let event_at = items.len();
        if let Some(event) = change.event_id {
            let mut item: Item = key(format!("PAYMENT_EVENT#{event}"), "EVENT");
            item.insert("entity".into(), s("payment-event"));
            item.insert("orderId".into(), s(order.id.to_string()));
            item.insert("expiresAt".into(), n(now.unix_seconds() + EVENT_TTL_SECONDS));
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map_err(build_err)?;
            items.push(TransactWriteItem::builder().put(put).build());
        }

        // A token, so that an SDK retry of a change that did commit is recognised, not refused.
        let token = ulid::Ulid::new().to_string();
        match super::transact_with_retry(&self.client, items, Some(&token)).await {
            Ok(_) => Ok(Changed::Done(Box::new(next))),
            Err(err) => {
                let failed = super::failed_conditions(err)?;
                if change.event_id.is_some() && failed.get(event_at) == Some(&true) {
                    Ok(Changed::EventSeen)
                } else if failed.first() == Some(&true) {
                    Ok(Changed::Stale)
                } else {
                    Err(StoreError::Backend {
                        operation: "TransactWriteItems",
                        detail: format!("unexpected conditions {failed:?}"),
                    })
                }
            }
        }
    }

    /// Whether a webhook event id was processed.
    pub async fn payment_event_seen(&self, event: &str) -> Result<bool, StoreError> {
        Ok(self.get_consistent(key(format!("PAYMENT_EVENT#{event}"), "EVENT")).await?.is_some())
    }

    /// Orders in one status, newest first (admins).
    pub async fn orders_in(
        &self,
        status: OrderStatus,
        limit: usize,
        after: Option<&Position>,
    ) -> Result<Option<Page<Order>>, StoreError> {
        self.query_page(
            GSI2,
            ("gsi2pk", "gsi2sk"),
            &format!("ORDERS#{}", status.as_str()),
            None,
            limit,
            after,
            |item| {
                serde_dynamo::from_item(item)
                    .map_err(|e| StoreError::Corrupt { key: "ORDER".into(), detail: e.to_string() })
            },
        )
        .await
    }

    /// One page (oldest first) of orders still awaiting payment that were placed before
    /// `cutoff`, and where the next page starts.
    pub async fn overdue_orders(
        &self,
        cutoff: Timestamp,
        after: Option<std::collections::HashMap<String, AttributeValue>>,
    ) -> Result<(Vec<Order>, Option<std::collections::HashMap<String, AttributeValue>>), StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(GSI2)
            .key_condition_expression("gsi2pk = :pk AND gsi2sk < :cutoff")
            .expression_attribute_values(":pk", s("ORDERS#pending_payment"))
            .expression_attribute_values(":cutoff", s(cutoff.to_string()))
            .limit(25)
            .set_exclusive_start_key(after)
            .send()
            .await
            .map_err(|e| StoreError::backend("Query", e))?;
        let orders = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|item| {
                serde_dynamo::from_item(item)
                    .map_err(|e| StoreError::Corrupt { key: "ORDER".into(), detail: e.to_string() })
            })
            .collect::<Result<Vec<Order>, _>>()?;
        Ok((orders, out.last_evaluated_key))
    }
}
