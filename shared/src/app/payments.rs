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

/// The order with its payment opened with the provider: with Stripe, a PaymentIntent for its
/// total (idempotent on the order id, so a retry answers the same one), recorded on the order
/// and filed under the intent's id for Stripe's events. An order that has one, is no longer
/// awaiting payment, or is the manual provider's is answered as it is. Stripe refusing the
/// intent (an amount below its minimum) leaves the payment `failed`.
pub async fn open(app: &App, mut order: Box<Order>) -> Result<Box<Order>, AppError> {
    use crate::store::stripe::Answer;
    let opened = order.payment.as_ref().is_some_and(|p| p.id.is_some());
    if opened || order.status != crate::domain::OrderStatus::PendingPayment {
        return Ok(order);
    }
    let Some(Payment { provider: ProviderName::Stripe, .. }) = order.payment else { return Ok(order) };
    let stripe = app.stripe().await?;
    let intent = match stripe.create_payment_intent(order.id, order.totals.total_cents, &order.totals.currency).await? {
        Answer::Done(intent) => intent,
        Answer::Refused { code, message } => {
            tracing::warn!(order_id = %order.id, code, message, "Stripe refused the order's PaymentIntent");
            if let Some(payment) = order.payment.as_mut() {
                payment.status = PaymentState::Failed;
            }
            return Ok(order);
        }
    };
    let payment = Payment {
        provider: ProviderName::Stripe,
        status: PaymentState::Pending,
        id: Some(intent.id),
        client_secret: intent.client_secret,
    };
    if !app.store.open_payment(order.id, &payment).await? {
        // Another request opened it first (the same intent): answer what it recorded.
        let recorded = app.store.order(order.id).await?.and_then(|o| o.payment);
        order.payment = recorded.or(Some(payment));
        return Ok(order);
    }
    order.payment = Some(payment);
    Ok(order)
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

/// What the provider made of a refund (the manual provider's are made when recorded).
enum Made {
    Succeeded { provider_refund_id: Option<String> },
    Pending { provider_refund_id: Option<String> },
    Failed { reason: String },
}

/// Asks the provider to make a refund, idempotently on its id. `Err`: the provider could not
/// be reached or answered with an error of its own (try again later).
async fn make(app: &App, refund: &Refund, provider: ProviderName) -> Result<Made, AppError> {
    match provider {
        // The shop returns the money itself (bank transfer, the terminal it took it with):
        // storefront records the refund as made.
        ProviderName::Manual => Ok(Made::Succeeded { provider_refund_id: None }),
        ProviderName::Stripe => {
            use crate::store::stripe::Answer;
            let stripe = app.stripe().await?;
            let Some(intent) = refund.payment_id.as_deref() else {
                return Ok(Made::Failed { reason: "the order has no payment to refund".into() });
            };
            // Stripe keeps idempotency keys for a day: after that, a refund is looked for before
            // it is asked for again, so it is never made twice.
            let day_old = app.clock.now().unix_seconds() - refund.created_at.unix_seconds() > 23 * 3600;
            let known = match &refund.provider_refund_id {
                Some(id) => Some(stripe.refund(id).await?),
                None if day_old => stripe.refund_named(intent, refund.id).await?.map(Answer::Done),
                None => None,
            };
            let answer = match known {
                Some(answer) => answer,
                None => stripe.create_refund(refund.id, refund.order_id, intent, refund.amount_cents).await?,
            };
            Ok(match answer {
                Answer::Done(made) => match made.status.as_deref() {
                    Some("succeeded") => Made::Succeeded { provider_refund_id: Some(made.id) },
                    Some("failed" | "canceled") => Made::Failed {
                        reason: made.failure_reason.unwrap_or_else(|| "Stripe could not make the refund".into()),
                    },
                    // pending, requires_action: Stripe's webhook or the settling job follows it up.
                    _ => Made::Pending { provider_refund_id: Some(made.id) },
                },
                Answer::Refused { code, message } => Made::Failed { reason: format!("{code}: {message}") },
            })
        }
    }
}

/// Makes a pending refund with the provider of its order's payment and records the outcome:
/// made (and `order.refunded`), still pending with the provider, or failed (see
/// [`lost`]). A provider that cannot be reached leaves it pending, for the settling job to try
/// again; the refund as it is now is returned either way.
pub async fn settle(app: &App, refund: Refund) -> Result<Refund, AppError> {
    if refund.status != RefundStatus::Pending {
        return Ok(refund);
    }
    let order = app.store.order(refund.order_id).await?.ok_or(AppError::NotFound(super::Resource::Order))?;
    // The provider that took the payment, whatever the shop is configured with now.
    let provider = order.payment.as_ref().map_or(app.config.payment_provider, |p| p.provider);
    let made = match make(app, &refund, provider).await {
        Ok(made) => made,
        Err(err) => {
            tracing::warn!(refund_id = %refund.id, order_id = %refund.order_id, error = %err, "a refund stays pending");
            return Ok(refund);
        }
    };
    let mut order = Some(order);
    for _ in 0..MAX_DECISIONS {
        let order = match order.take() {
            Some(order) => order,
            None => app.store.order(refund.order_id).await?.ok_or(AppError::NotFound(super::Resource::Order))?,
        };
        let mut settled = refund.clone();
        settled.updated_at = app.clock.now();
        let done = match &made {
            Made::Pending { provider_refund_id } => {
                // Still pending: only its provider id is kept (the index entry stays).
                if let Some(id) = provider_refund_id
                    && refund.provider_refund_id.as_deref() != Some(id.as_str())
                {
                    app.store.note_provider_refund(&refund, id).await?;
                    settled.provider_refund_id = Some(id.clone());
                }
                return Ok(settled);
            }
            Made::Succeeded { provider_refund_id } => {
                settled.status = RefundStatus::Succeeded;
                settled.provider_refund_id = provider_refund_id.clone();
                let events = [Event::order_refunded(&settled, &order, app.clock.now())];
                app.store.settle_refund(RefundStatus::Pending, &settled, None, &events, app.clock.now()).await?
            }
            Made::Failed { reason } => match lost(app, RefundStatus::Pending, &refund, &order, reason).await? {
                Some(failed) => return Ok(failed),
                None => false,
            },
        };
        if done {
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

/// Records that a refund (still `from`: pending, or made and then reversed by the provider)
/// failed: its amount and units are given back to the order, which is flagged `paymentIssue:
/// refund_failed` with `payment.issue`, since the money is still the customer's. The refund
/// as failed; `None` when it or the order changed meanwhile.
async fn lost(
    app: &App,
    from: RefundStatus,
    refund: &Refund,
    order: &Order,
    reason: &str,
) -> Result<Option<Refund>, AppError> {
    let now = app.clock.now();
    let mut failed = refund.clone();
    failed.status = RefundStatus::Failed;
    failed.failure = Some(reason.to_owned());
    failed.updated_at = now;
    let after = order.lost_refund(refund);
    let reported = serde_json::json!({
        "refundId": refund.id, "amountCents": refund.amount_cents, "currency": refund.currency,
        "paymentId": refund.payment_id, "providerRefundId": refund.provider_refund_id, "failure": reason,
    });
    let events = [Event::payment_issue(crate::domain::PaymentIssue::RefundFailed, reported, &after, now)];
    Ok(app.store.settle_refund(from, &failed, Some((order, &after)), &events, now).await?.then_some(failed))
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
            marker: None,
        };
        match app.store.record_refund(refunding, now).await? {
            Recorded::Done => return settle(app, refund).await,
            Recorded::Stale | Recorded::KeyUsed | Recorded::Decided | Recorded::Seen => continue,
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
        let (id, order) = (refund.id, refund.order_id);
        match settle(app, refund).await {
            Ok(settled) if settled.status == RefundStatus::Pending => report.pending += 1,
            Ok(_) => report.settled += 1,
            // One refund that cannot be settled now must not hold back the others.
            Err(err) => {
                tracing::warn!(refund_id = %id, order_id = %order, error = %err, "a pending refund could not be settled");
                report.pending += 1;
            }
        }
    }
    Ok(report)
}

/// A Stripe webhook event, as `POST /webhooks/stripe` verified it: its id, type and object.
#[derive(Debug, Clone)]
pub struct StripeEvent {
    pub id: String,
    pub kind: String,
    pub object: serde_json::Value,
}

/// What a Stripe event did (for the log).
#[derive(Debug, PartialEq, Eq)]
pub enum Handled {
    Applied,
    /// A type storefront does not handle, or an object it does not know (not one of its
    /// orders): acknowledged, so Stripe stops sending it.
    Ignored,
}

/// Applies a verified Stripe event: `payment_intent.succeeded` and `payment_intent.payment_failed`
/// as payments of the order in `metadata.order_id` (each event id takes effect once);
/// `charge.refunded` and the refund events bring Stripe's refunds of the order into its books
/// ([`take_in`]); `charge.dispute.created` flags the order `paymentIssue: disputed`.
pub async fn stripe_event(app: &App, event: &StripeEvent) -> Result<Handled, AppError> {
    let object = &event.object;
    let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
    match event.kind.as_str() {
        kind @ ("payment_intent.succeeded" | "payment_intent.payment_failed") => {
            let Some(order_id) = object["metadata"]["order_id"].as_str().and_then(OrderId::parse) else {
                return Ok(Handled::Ignored);
            };
            let succeeded = kind == "payment_intent.succeeded";
            let amount = object["amount_received"].as_i64().filter(|a| *a > 0 || !succeeded);
            let amount = Money::from_cents(amount.or_else(|| object["amount"].as_i64()).unwrap_or(0));
            let currency = object["currency"].as_str().map(str::to_ascii_uppercase).unwrap_or_default();
            let Ok(currency) = crate::domain::Currency::parse(&currency) else { return Ok(Handled::Ignored) };
            let Some(payment_id) = text(&object["id"]) else { return Ok(Handled::Ignored) };
            let payment = super::lifecycle::PaymentEvent {
                id: event.id.clone(),
                succeeded,
                order_id,
                amount,
                currency,
                payment_id,
            };
            match super::lifecycle::payment(app, &payment).await {
                Ok(()) => Ok(Handled::Applied),
                // Not one of ours (another system's intent on the same account).
                Err(AppError::NotFound(_)) => Ok(Handled::Ignored),
                Err(err) => Err(err),
            }
        }
        "charge.refunded" => charge_refunded(app, event).await,
        "refund.created" | "refund.updated" | "refund.failed" | "charge.refund.updated" => {
            refund_reported(app, event).await
        }
        "charge.dispute.created" => disputed(app, event).await,
        _ => Ok(Handled::Ignored),
    }
}

/// `charge.refunded`: Stripe's refunds of the charge's PaymentIntent are asked for (its
/// charges list them only in API versions before 2022-11-15) and each taken in.
async fn charge_refunded(app: &App, event: &StripeEvent) -> Result<Handled, AppError> {
    let Some(intent) = event.object["payment_intent"].as_str() else { return Ok(Handled::Ignored) };
    let Some(order_id) = app.store.order_of_payment(intent).await? else { return Ok(Handled::Ignored) };
    let Some(reported) = app.stripe().await?.refunds_of(intent).await? else { return Ok(Handled::Ignored) };
    let known = app.store.refunds_of(order_id).await?;
    // Oldest first, as they were made.
    for refund in reported.iter().rev() {
        take_in(app, order_id, &known, refund).await?;
    }
    Ok(Handled::Applied)
}

/// `refund.created`, `refund.updated`, `refund.failed` and `charge.refund.updated`: the refund
/// is asked for as Stripe has it now (its events may arrive out of order) and taken in.
async fn refund_reported(app: &App, event: &StripeEvent) -> Result<Handled, AppError> {
    use crate::store::stripe::Answer;
    let (Some(id), Some(intent)) = (event.object["id"].as_str(), event.object["payment_intent"].as_str()) else {
        return Ok(Handled::Ignored);
    };
    let Some(order_id) = app.store.order_of_payment(intent).await? else { return Ok(Handled::Ignored) };
    let Answer::Done(refund) = app.stripe().await?.refund(id).await? else { return Ok(Handled::Ignored) };
    let known = app.store.refunds_of(order_id).await?;
    take_in(app, order_id, &known, &refund).await?;
    Ok(Handled::Applied)
}

/// One of Stripe's refunds of an order's payment brought into its books (`known`: the order's
/// refunds): one of storefront's still pending is settled; one that had succeeded and Stripe
/// now reports failed or canceled is [`lost`]; one made in Stripe's dashboard becomes, once it
/// succeeded, a refund of `source: provider`, once.
async fn take_in(
    app: &App,
    order_id: OrderId,
    known: &[Refund],
    reported: &crate::store::stripe::StripeRefund,
) -> Result<(), AppError> {
    let ours = known
        .iter()
        .find(|r| Some(r.id) == reported.refund_id() || r.provider_refund_id.as_deref() == Some(reported.id.as_str()));
    let status = reported.status.as_deref();
    match ours {
        Some(refund) if refund.status == RefundStatus::Pending => {
            settle(app, refund.clone()).await?;
        }
        Some(refund) if refund.status == RefundStatus::Succeeded && matches!(status, Some("failed" | "canceled")) => {
            let reason = reported.failure_reason.as_deref().unwrap_or("Stripe reversed the refund");
            for _ in 0..MAX_DECISIONS {
                let order = app.store.order(order_id).await?.ok_or(AppError::NotFound(super::Resource::Order))?;
                if lost(app, RefundStatus::Succeeded, refund, &order, reason).await?.is_some()
                    || app.store.refund(order_id, refund.id).await?.is_none_or(|r| r.status != RefundStatus::Succeeded)
                {
                    return Ok(());
                }
            }
            return Err(AppError::Unavailable(format!("order {order_id} kept changing under a reversed refund")));
        }
        Some(_) => {}
        None if status == Some("succeeded") => from_dashboard(app, order_id, reported).await?,
        // A dashboard refund not made (yet): taken in when it succeeds.
        None => {}
    }
    Ok(())
}

/// A refund made in Stripe's dashboard recorded as one of `source: provider` (its Stripe id
/// recorded with it, so once). One that storefront cannot count yet (its payment is not
/// applied, or storefront's own refunds still pending hold what it refunds) is a 503, for
/// Stripe to send its event again; one beyond what storefront's books leave is counted up to
/// what they do.
async fn from_dashboard(
    app: &App,
    order_id: OrderId,
    reported: &crate::store::stripe::StripeRefund,
) -> Result<(), AppError> {
    let marker = format!("stripe-refund-{}", reported.id);
    let amount = Money::from_cents(reported.amount);
    let order = app.store.order(order_id).await?.ok_or(AppError::NotFound(super::Resource::Order))?;
    if amount > order.refundable() {
        // storefront's own pending refunds hold what Stripe refunded: they are made (or fail,
        // giving it back) first.
        let mut held = false;
        for refund in app.store.refunds_of(order_id).await? {
            held |=
                refund.status == RefundStatus::Pending && settle(app, refund).await?.status == RefundStatus::Pending;
        }
        if held {
            return Err(AppError::Unavailable(format!("order {order_id}: a Stripe refund its pending refunds hold")));
        }
    }
    for _ in 0..MAX_DECISIONS {
        let order = app.store.order(order_id).await?.ok_or(AppError::NotFound(super::Resource::Order))?;
        let refundable = order.refundable();
        if order.captured() == Money::ZERO {
            // Stripe's events may arrive out of order: until the payment is applied, ask Stripe
            // to send this one again (503) rather than lose the refund.
            return Err(AppError::Unavailable(format!("order {order_id}: a refund reported before its payment")));
        }
        if refundable <= Money::ZERO {
            tracing::warn!(order_id = %order_id, stripe_refund = %reported.id, "a Stripe refund beyond what the order has left");
            return Ok(());
        }
        let amount = amount.min(refundable);
        let ask = RefundAsk { amount: Some(amount), ..RefundAsk::default() };
        let plan = order.plan_refund(&ask).map_err(refused)?;
        let now = app.clock.now();
        let mut refund =
            automatic_refund(app, &order, amount, order.payment_id.as_deref(), "Refunded in Stripe's dashboard.");
        refund.source = RefundSource::Provider;
        refund.status = RefundStatus::Succeeded;
        refund.provider_refund_id = Some(reported.id.clone());
        let next = order.refunded(&plan);
        let events = [Event::order_refunded(&refund, &next, now)];
        let refunding = Refunding {
            seen: &order,
            next: &next,
            refund: Some(&refund),
            received: None,
            events: &events,
            restock: &[],
            key: None,
            marker: Some(&marker),
        };
        match app.store.record_refund(refunding, now).await? {
            Recorded::Done | Recorded::Seen => return Ok(()),
            Recorded::Stale | Recorded::KeyUsed | Recorded::Decided => continue,
        }
    }
    Err(AppError::Unavailable(format!("order {order_id} kept changing under a Stripe refund")))
}

/// `charge.dispute.created`: the order is flagged `paymentIssue: disputed` (with
/// `payment.issue`), once per event.
async fn disputed(app: &App, event: &StripeEvent) -> Result<Handled, AppError> {
    let dispute = &event.object;
    let Some(intent) = dispute["payment_intent"].as_str() else { return Ok(Handled::Ignored) };
    let Some(order_id) = app.store.order_of_payment(intent).await? else { return Ok(Handled::Ignored) };
    let reported = serde_json::json!({
        "disputeId": dispute["id"], "reason": dispute["reason"], "amountCents": dispute["amount"],
        "currency": dispute["currency"].as_str().map(str::to_ascii_uppercase), "paymentId": intent,
    });
    for _ in 0..MAX_DECISIONS {
        let order = app.store.order(order_id).await?.ok_or(AppError::NotFound(super::Resource::Order))?;
        let change = crate::domain::OrderChange {
            order: &order,
            to: order.status,
            effects: crate::domain::Effects::NONE,
            by: crate::domain::Actor::Payment(event.id.clone()),
            payment: crate::domain::PaymentChange {
                issue: Some(crate::domain::PaymentIssue::Disputed),
                reported: Some(&reported),
                ..crate::domain::PaymentChange::default()
            },
            tracking_number: None,
            event_id: Some(&event.id),
        };
        match app.store.change_order(change, app.clock.now()).await? {
            crate::store::Changed::Done(_) | crate::store::Changed::EventSeen => return Ok(Handled::Applied),
            crate::store::Changed::Stale | crate::store::Changed::Short(_) => continue,
        }
    }
    Err(AppError::Unavailable(format!("order {order_id} kept changing under a dispute")))
}
