//! Orders after they are placed: payment, cancellation, fulfilment and expiry.

use super::checkout::OrderReader;
use super::{App, AppError, MAX_DECISIONS, cursor};
use crate::auth::Principal;
use crate::domain::{
    Actor, Currency, Effects, Money, Order, OrderChange, OrderId, OrderStatus, PaymentChange, PaymentIssue,
    PaymentState,
};
use crate::store::Changed;

fn not_found() -> AppError {
    AppError::NotFound(crate::app::Resource::Order)
}

/// How many pages of overdue orders one expiry run handles (a run must end within the
/// function's timeout; the next run goes on).
const MAX_EXPIRY_PAGES: usize = 400;

/// Moves an order to `to` for `actor`, deciding from the order as it is now; if another change
/// got in first, decides again from the new status (which may now refuse).
async fn transition(
    app: &App,
    id: OrderId,
    to: OrderStatus,
    actor: Actor,
    tracking_number: Option<&str>,
    visible_to: Option<&OrderReader>,
) -> Result<Order, AppError> {
    for _ in 0..MAX_DECISIONS {
        let order = app.store.order(id).await?.ok_or_else(not_found)?;
        if let Some(who) = visible_to
            && !who.may_read(&order)
        {
            return Err(not_found());
        }
        let effects =
            order.status.transition(to, &actor).map_err(|_| AppError::InvalidTransition { from: order.status, to })?;
        // A paid order cancelled: what is left of its payment goes back.
        let rest = (effects.refund_due && order.refundable() > Money::ZERO).then(|| {
            let reason = "The order was cancelled after it was paid.";
            super::payments::automatic_refund(app, &order, order.refundable(), order.payment_id.as_deref(), reason)
        });
        let change = OrderChange {
            order: &order,
            to,
            effects,
            by: actor.clone(),
            payment: PaymentChange { refund: rest.as_ref(), ..PaymentChange::default() },
            tracking_number,
            event_id: None,
        };
        match app.store.change_order(change, app.clock.now()).await? {
            Changed::Done(next) => {
                if let Some(refund) = rest {
                    super::payments::settle(app, refund).await?;
                    return app.store.order(id).await?.ok_or_else(not_found);
                }
                return Ok(*next);
            }
            Changed::Stale | Changed::EventSeen => continue,
            Changed::Short(lines) => {
                let items = lines.into_iter().map(super::Shortage::of).collect();
                return Err(AppError::InsufficientStock { items });
            }
        }
    }
    Err(AppError::Unavailable(format!("order {id} kept changing")))
}

/// `POST /orders/{id}/cancel`: a customer (or a guest, by the order's token) their own unpaid
/// order; an admin unpaid or paid ones.
pub async fn cancel(app: &App, who: &OrderReader, id: OrderId) -> Result<Order, AppError> {
    let actor = match who {
        OrderReader::User(who) if who.is_admin() => Actor::Admin(who.user_id),
        OrderReader::User(who) => Actor::Customer(who.user_id),
        OrderReader::Guest(_) => Actor::Guest,
    };
    transition(app, id, OrderStatus::Cancelled, actor, None, Some(who)).await
}

/// `PATCH /admin/orders/{id}`: ship, deliver or cancel.
pub async fn admin_update(
    app: &App,
    admin: &Principal,
    id: OrderId,
    to: OrderStatus,
    tracking_number: Option<&str>,
) -> Result<Order, AppError> {
    transition(app, id, to, Actor::Admin(admin.user_id), tracking_number, None).await
}

/// Orders in one status, newest first (admins).
pub async fn in_status(
    app: &App,
    status: OrderStatus,
    limit: usize,
    cursor_text: Option<&str>,
) -> Result<(Vec<Order>, Option<String>), AppError> {
    let fingerprint = format!("admin-orders;{}", status.as_str());
    let after = cursor_text.map(|c| cursor::decode(&app.config.cursor_secret, &fingerprint, c)).transpose()?;
    let page = app.store.orders_in(status, limit, after.as_ref()).await?.ok_or(AppError::InvalidCursor)?;
    let next = page.next.map(|p| cursor::encode(&app.config.cursor_secret, &fingerprint, &p)).transpose()?;
    Ok((page.items, next))
}

/// What a verified payment webhook says.
#[derive(Debug, Clone)]
pub struct PaymentEvent {
    pub id: String,
    pub succeeded: bool,
    pub order_id: OrderId,
    pub amount: Money,
    pub currency: Currency,
    pub payment_id: String,
}

/// Applies a payment event, exactly once per event id (the id is recorded in the same
/// transaction as its effect; a replay finds it and changes nothing). Every outcome is
/// acknowledged, so the provider stops sending it: a payment of the order's total pays it; of
/// another amount or currency it is kept and the order flagged `amount_mismatch` (a person
/// looks at it); for an order that can no longer take it (cancelled, expired, or paid already
/// by another payment) it is refunded through the provider; a failure leaves the order
/// awaiting payment, so the customer can try again within the payment window.
pub async fn payment(app: &App, event: &PaymentEvent) -> Result<(), AppError> {
    if app.store.payment_event_seen(&event.id).await? {
        return Ok(());
    }
    let by = Actor::Payment(event.id.clone());
    let reported = serde_json::json!({
        "paymentId": event.payment_id, "amountCents": event.amount.cents(), "currency": event.currency.as_str()
    });
    for _ in 0..MAX_DECISIONS {
        let order = app.store.order(event.order_id).await?.ok_or_else(not_found)?;
        let matches = event.amount == order.totals.total_cents && event.currency == order.totals.currency;
        let pid = Some(event.payment_id.as_str());
        let mut payment = PaymentChange { reported: Some(&reported), ..PaymentChange::default() };
        let mut to = order.status;
        let mut effects = Effects::NONE;
        let refund;
        match (event.succeeded, order.status) {
            (true, OrderStatus::PendingPayment) if matches => {
                effects = OrderStatus::PendingPayment
                    .transition(OrderStatus::Paid, &by)
                    .map_err(|_| AppError::InvalidTransition { from: order.status, to: OrderStatus::Paid })?;
                to = OrderStatus::Paid;
                payment.id = pid;
                payment.captured = Some(event.amount);
                payment.state = Some(PaymentState::Succeeded);
            }
            (true, OrderStatus::PendingPayment) => payment.issue = Some(PaymentIssue::AmountMismatch),
            // The same payment announced again under another event id: nothing to do.
            (true, _) if order.payment_id.as_deref() == pid => return Ok(()),
            // Paid for an order that was cancelled (or expired) meanwhile: it stays cancelled;
            // the money goes back.
            (true, OrderStatus::Cancelled) if order.payment_id.is_none() => {
                let reason = "The payment arrived after the order was cancelled.";
                refund = super::payments::automatic_refund(app, &order, event.amount, pid, reason);
                payment.id = pid;
                payment.captured = Some(event.amount);
                payment.state = Some(PaymentState::Succeeded);
                payment.refund = Some(&refund);
            }
            // A second, different payment for an order that has one: give it back.
            (true, _) => {
                let reason = "A second payment for an order already paid.";
                refund = super::payments::automatic_refund(app, &order, event.amount, pid, reason);
                payment.refund = Some(&refund);
            }
            (false, OrderStatus::PendingPayment) => payment.state = Some(PaymentState::Failed),
            // A failed attempt after the order moved on changes nothing.
            (false, _) => return Ok(()),
        }
        let automatic = payment.refund.cloned();
        let change = OrderChange {
            order: &order,
            to,
            effects,
            by: by.clone(),
            payment,
            tracking_number: None,
            event_id: Some(&event.id),
        };
        match app.store.change_order(change, app.clock.now()).await? {
            Changed::Done(_) => {
                if let Some(refund) = automatic {
                    super::payments::settle(app, refund).await?;
                }
                return Ok(());
            }
            Changed::EventSeen => return Ok(()),
            Changed::Stale | Changed::Short(_) => continue,
        }
    }
    Err(AppError::Unavailable(format!("order {} kept changing under a payment event", event.order_id)))
}

/// What an expiry run did.
#[derive(Debug, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExpiryReport {
    pub cancelled: usize,
    /// Overdue orders that changed (paid, cancelled) before expiry reached them.
    pub skipped: usize,
    /// Overdue orders that could not be cancelled for a reason of their own (logged, each with
    /// its id); the next run tries them again.
    pub failed: usize,
    /// Overdue orders still awaiting payment when the run ended (the next run goes on).
    pub remaining: i64,
}

/// How many overdue orders one expiry run cancels at once.
const EXPIRY_PARALLELISM: usize = 8;

/// What became of one overdue order.
enum Expired {
    Cancelled,
    Skipped,
    Failed,
}

/// Cancels one overdue order (and restocks it), if it still awaits payment.
async fn expire_one(app: &App, order: Order) -> Result<Expired, AppError> {
    let Ok(effects) = order.status.transition(OrderStatus::Cancelled, &Actor::Expiry) else {
        return Ok(Expired::Skipped);
    };
    let change = OrderChange {
        order: &order,
        to: OrderStatus::Cancelled,
        effects,
        by: Actor::Expiry,
        payment: PaymentChange::default(),
        tracking_number: None,
        event_id: None,
    };
    match app.store.change_order(change, app.clock.now()).await {
        Ok(Changed::Done(_)) => Ok(Expired::Cancelled),
        Ok(Changed::Stale | Changed::EventSeen | Changed::Short(_)) => Ok(Expired::Skipped),
        // DynamoDB is busy: the run stops; the next goes on from the oldest.
        Err(err @ crate::store::StoreError::Unavailable { .. }) => Err(err.into()),
        // One order that cannot be cancelled must not hold back the others.
        Err(err) => {
            tracing::error!(order_id = %order.id, error = %err, "expiry could not cancel an overdue order");
            Ok(Expired::Failed)
        }
    }
}

/// Cancels (and restocks) every order that has awaited payment longer than the payment window,
/// [`EXPIRY_PARALLELISM`] at a time, and logs what it did and how many overdue orders remain.
/// Safe to run twice at once: each cancellation is conditional on the order still awaiting payment.
pub async fn expire(app: &App) -> Result<ExpiryReport, AppError> {
    use futures_util::StreamExt;
    let cutoff = app.clock.now().plus_seconds(-60 * app.config.payment_window_minutes);
    let mut report = ExpiryReport::default();
    let mut start = None;
    let mut outcome = Ok(());
    // Bounded per run (a run must end within the function's timeout); the next run goes on.
    'pages: for _ in 0..MAX_EXPIRY_PAGES {
        let (orders, next) = match app.store.overdue_orders(cutoff, start.as_ref()).await {
            Ok(page) => page,
            Err(err) => {
                outcome = Err(err.into());
                break;
            }
        };
        let mut results = futures_util::stream::iter(orders.into_iter().map(|o| expire_one(app, o)))
            .buffer_unordered(EXPIRY_PARALLELISM)
            .collect::<Vec<_>>()
            .await;
        for result in results.drain(..) {
            match result {
                Ok(Expired::Cancelled) => report.cancelled += 1,
                Ok(Expired::Skipped) => report.skipped += 1,
                Ok(Expired::Failed) => report.failed += 1,
                Err(err) => outcome = Err(err),
            }
        }
        if outcome.is_err() {
            break 'pages;
        }
        match next {
            Some(key) => start = Some(key),
            None => break,
        }
    }
    report.remaining = match app.store.count_overdue(cutoff).await {
        Ok(remaining) => {
            app.metrics.record(crate::metrics::Metric::ExpiryBacklog, remaining as f64);
            remaining
        }
        Err(err) => {
            tracing::warn!(error = %err, "expiry could not count the overdue orders left");
            -1
        }
    };
    tracing::info!(
        cancelled = report.cancelled,
        skipped = report.skipped,
        failed = report.failed,
        remaining = report.remaining,
        "expiry run"
    );
    outcome.map(|()| report)
}
