//! Payments with the provider: an order's payment, and the refunds that give its money back.

use super::{App, AppError, MAX_DECISIONS};
use crate::auth::Principal;
use crate::config::Config;
use crate::domain::{
    Event, IdempotencyKey, Money, Order, OrderId, ProviderName, Refund, RefundAsk, RefundId, RefundRefused,
    RefundSource, RefundStatus, Text,
};
use crate::domain::{Payment, PaymentState};
use crate::store::{Recorded, Refunding};

/// The payment a new order starts with: pending with the configured provider (a provider's
/// own payment object is created once the order is placed).
pub fn pending(config: &Config) -> Payment {
    Payment { provider: config.payment_provider, status: PaymentState::Pending, id: None, client_secret: None }
}

/// A refund recorded with a change of the order (not yet made with the provider: see
/// [`settle`]): `amount` of the payment `payment_id`, for `source`.
pub fn automatic_refund(app: &App, order: &Order, amount: Money, payment_id: Option<&str>, reason: &str) -> Refund {
    let now = app.clock.now();
    Refund {
        id: RefundId::new(),
        order_id: order.id,
        amount_cents: amount,
        currency: order.totals.currency.clone(),
        lines: Vec::new(),
        restocked: false,
        status: RefundStatus::Pending,
        reason: Text::parse(reason, 1, 500).ok(),
        source: RefundSource::Automatic,
        return_id: None,
        payment_id: payment_id.map(str::to_owned),
        provider_refund_id: None,
        failure: None,
        created_at: now,
        updated_at: now,
    }
}

/// What the provider made of a refund (`Pending` and `Failed`: only a provider with an API
/// answers them; the manual provider's refunds are made when recorded).
#[allow(dead_code)]
enum Made {
    Succeeded { provider_refund_id: Option<String> },
    Pending { provider_refund_id: Option<String> },
    Failed { reason: String },
}

/// Asks the provider to make a refund, idempotently on its id. `Err`: the provider could not
/// be reached or answered with an error of its own (try again later).
async fn make(app: &App, refund: &Refund) -> Result<Made, AppError> {
    match app.config.payment_provider {
        // The shop returns the money itself (bank transfer, the terminal it took it with):
        // storefront records the refund as made.
        ProviderName::Manual => Ok(Made::Succeeded { provider_refund_id: None }),
        ProviderName::Stripe => {
            let _ = refund;
            Err(AppError::Unavailable("the Stripe adapter is not configured".into()))
        }
    }
}

/// Makes a pending refund with the provider and records the outcome: made (and
/// `order.refunded`), still pending with the provider, or failed (its amount and units given
/// back to the order). A provider that cannot be reached leaves it pending, for the settling
/// job to try again; the refund as it is now is returned either way.
pub async fn settle(app: &App, refund: Refund) -> Result<Refund, AppError> {
    if refund.status != RefundStatus::Pending {
        return Ok(refund);
    }
    let made = match make(app, &refund).await {
        Ok(made) => made,
        Err(err) => {
            tracing::warn!(refund_id = %refund.id, order_id = %refund.order_id, error = %err, "a refund stays pending");
            return Ok(refund);
        }
    };
    for _ in 0..MAX_DECISIONS {
        let order = app.store.order(refund.order_id).await?.ok_or(AppError::NotFound(super::Resource::Order))?;
        let mut settled = refund.clone();
        settled.updated_at = app.clock.now();
        let mut orders = None;
        let after;
        let mut events = Vec::new();
        match &made {
            Made::Pending { provider_refund_id } => {
                if provider_refund_id.is_none() || refund.provider_refund_id == *provider_refund_id {
                    return Ok(refund);
                }
                settled.provider_refund_id = provider_refund_id.clone();
                // Still pending: only its provider id is kept (the index entry stays).
                settled.status = RefundStatus::Pending;
            }
            Made::Succeeded { provider_refund_id } => {
                settled.status = RefundStatus::Succeeded;
                settled.provider_refund_id = provider_refund_id.clone();
                events.push(Event::order_refunded(&settled, &order, app.clock.now()));
            }
            Made::Failed { reason } => {
                settled.status = RefundStatus::Failed;
                settled.failure = Some(reason.clone());
                if counts(&refund, &order) {
                    after = order.refund_failed(refund.amount_cents, &refund.lines);
                    orders = Some((&order, &after));
                }
            }
        }
        if settled.status == RefundStatus::Pending {
            return Ok(refund);
        }
        if app.store.settle_refund(&settled, orders, &events, app.clock.now()).await? {
            return Ok(settled);
        }
        match app.store.refund(refund.order_id, refund.id).await? {
            // Settled by another attempt (the job, a webhook) meanwhile.
            Some(now) if now.status != RefundStatus::Pending => return Ok(now),
            _ => continue,
        }
    }
    Err(AppError::Unavailable(format!("order {} kept changing while its refund was settled", refund.order_id)))
}

/// Whether a refund counts in its order's refunds (it refunds the order's own payment).
fn counts(refund: &Refund, order: &Order) -> bool {
    refund.payment_id == order.payment_id
}

/// What an admin asks a refund for.
#[derive(Debug, Clone)]
pub struct RefundRequest {
    pub ask: RefundAsk,
    pub reason: Option<Text>,
}

/// `POST /admin/orders/{id}/refunds`: a refund of units (what they were paid) or of an amount,
/// once per `Idempotency-Key` (`request`: the body's canonical form); restocked units go back
/// once. Never more than was captured, also under concurrent refunds: each is recorded on the
/// order's refunds as read.
pub async fn refund(
    app: &App,
    admin: &Principal,
    id: OrderId,
    key: &IdempotencyKey,
    request: &str,
    asked: &RefundRequest,
) -> Result<Refund, AppError> {
    let _ = admin;
    for _ in 0..MAX_DECISIONS {
        if let Some((refund_id, first)) = app.store.refund_by_key(id, key.as_str()).await? {
            if first != request {
                return Err(AppError::IdempotencyKeyReused);
            }
            let refund = app.store.refund(id, refund_id).await?.ok_or(AppError::RequestInProgress)?;
            return settle(app, refund).await;
        }
        let order = app.store.order(id).await?.ok_or(AppError::NotFound(super::Resource::Order))?;
        let plan = order.plan_refund(&asked.ask).map_err(refused)?;
        let now = app.clock.now();
        let refund = Refund {
            id: RefundId::new(),
            order_id: id,
            amount_cents: plan.amount,
            currency: order.totals.currency.clone(),
            lines: plan.lines.clone(),
            restocked: !plan.restock.is_empty(),
            status: RefundStatus::Pending,
            reason: asked.reason.clone(),
            source: RefundSource::Admin,
            return_id: None,
            payment_id: order.payment_id.clone(),
            provider_refund_id: None,
            failure: None,
            created_at: now,
            updated_at: now,
        };
        let next = order.refunded(&plan);
        let refunding = Refunding {
            seen: &order,
            next: &next,
            refund: Some(&refund),
            received: None,
            events: &[],
            restock: &plan.restock,
            key: Some((key.as_str(), request)),
        };
        match app.store.record_refund(refunding, now).await? {
            Recorded::Done => return settle(app, refund).await,
            Recorded::Stale | Recorded::KeyUsed | Recorded::Decided => continue,
        }
    }
    Err(AppError::Unavailable(format!("order {id} kept changing under a refund")))
}

/// Why a refund was refused, as the API says it.
fn refused(why: RefundRefused) -> AppError {
    match why {
        RefundRefused::ExceedsPayment { refundable } => AppError::RefundExceedsPayment { refundable },
        RefundRefused::NotALine(i) => AppError::Validation(vec![super::FieldError::new(
            format!("lines[{i}].variantId"),
            "is not a line of this order",
        )]),
        RefundRefused::Repeated(i) => {
            AppError::Validation(vec![super::FieldError::new(format!("lines[{i}].variantId"), "is named twice")])
        }
        RefundRefused::Nothing => {
            AppError::Validation(vec![super::FieldError::new("amountCents", "give amountCents or lines")])
        }
    }
}

/// `GET /admin/orders/{id}/refunds`: the order's refunds, oldest first.
pub async fn refunds(app: &App, id: OrderId) -> Result<Vec<Refund>, AppError> {
    if app.store.order(id).await?.is_none() {
        return Err(AppError::NotFound(super::Resource::Order));
    }
    Ok(app.store.refunds_of(id).await?)
}

/// What a settling run did.
#[derive(Debug, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SettleReport {
    pub settled: usize,
    pub pending: usize,
}

/// How long a refund stays pending before the settling job tries it again.
pub const SETTLE_AFTER_SECONDS: i64 = 60;

/// The scheduled settling of refunds left pending (the provider was out of reach, or the
/// request that recorded one stopped before making it): each is made again, idempotently.
pub async fn settle_pending(app: &App) -> Result<SettleReport, AppError> {
    let before = app.clock.now().plus_seconds(-SETTLE_AFTER_SECONDS);
    let mut report = SettleReport::default();
    for refund in app.store.pending_refunds(before, 100).await? {
        match settle(app, refund).await?.status {
            RefundStatus::Pending => report.pending += 1,
            _ => report.settled += 1,
        }
    }
    Ok(report)
}
