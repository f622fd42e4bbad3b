//! Returns: a customer sends units of a delivered order back; an admin receives them (back in
//! stock, refunded as a refund of those lines) or rejects the return.

use super::checkout::OrderReader;
use super::{App, AppError, MAX_DECISIONS, cursor};
use crate::domain::{
    Event, EventType, OrderId, Refund, RefundId, RefundSource, RefundStatus, Return, ReturnId, ReturnRefused,
    ReturnStatus, Text, VariantId,
};
use crate::store::{Recorded, Refunding};

fn not_found() -> AppError {
    AppError::NotFound(super::Resource::Return)
}

/// `POST /orders/{id}/returns`: the order's customer (or guest) asks to return `lines` of a
/// delivered order within the return window, never more than was delivered and not returned.
pub async fn request(
    app: &App,
    who: &OrderReader,
    id: OrderId,
    lines: &[(VariantId, i64)],
    reason: Text,
) -> Result<Return, AppError> {
    for _ in 0..MAX_DECISIONS {
        let order =
            app.store.order(id).await?.filter(|o| who.may_read(o)).ok_or(AppError::NotFound(super::Resource::Order))?;
        let now = app.clock.now();
        let units = order.plan_return(lines, now, app.config.return_window_days).map_err(refused)?;
        let requested = Return {
            id: ReturnId::new(),
            order_id: id,
            lines: units.clone(),
            reason: reason.clone(),
            status: ReturnStatus::Requested,
            refund_id: None,
            created_at: now,
            updated_at: now,
        };
        let next = order.returning(&units, 1);
        let events = [Event::returned(EventType::ReturnRequested, &requested, &next, now)];
        if app.store.request_return(&order, &next, &requested, &events, now).await? {
            return Ok(requested);
        }
    }
    Err(AppError::Unavailable(format!("order {id} kept changing under a return")))
}

fn refused(why: ReturnRefused) -> AppError {
    let line = |i: usize, message: String| {
        AppError::Validation(vec![super::FieldError::new(format!("lines[{i}].quantity"), message)])
    };
    match why {
        ReturnRefused::NotDelivered => AppError::ReturnNotAllowed("Only a delivered order can be returned.".into()),
        ReturnRefused::WindowClosed(at) => {
            AppError::ReturnNotAllowed(format!("The return window of this order closed at {at}."))
        }
        ReturnRefused::NotALine(i) => AppError::Validation(vec![super::FieldError::new(
            format!("lines[{i}].variantId"),
            "is not a line of this order",
        )]),
        ReturnRefused::Repeated(i) => {
            AppError::Validation(vec![super::FieldError::new(format!("lines[{i}].variantId"), "is named twice")])
        }
        ReturnRefused::TooMany(i, left) => line(i, format!("at most {left} of this line can still be returned")),
        ReturnRefused::Nothing => AppError::Validation(vec![super::FieldError::new("lines", "must name a line")]),
    }
}

/// `GET /admin/returns?status=`: returns in a status (or all), newest first.
pub async fn list(
    app: &App,
    status: Option<ReturnStatus>,
    limit: usize,
    cursor_text: Option<&str>,
) -> Result<(Vec<Return>, Option<String>), AppError> {
    let fingerprint = format!("returns;{}", status.map_or("all", ReturnStatus::as_str));
    let after = cursor_text.map(|c| cursor::decode(&app.config.cursor_secret, &fingerprint, c)).transpose()?;
    let page = app.store.returns_in(status, limit, after.as_ref()).await?.ok_or(AppError::InvalidCursor)?;
    let next = page.next.map(|p| cursor::encode(&app.config.cursor_secret, &fingerprint, &p)).transpose()?;
    Ok((page.items, next))
}

/// `PATCH /admin/returns/{id}` `{status}`: `received` puts its units back on the shelf and
/// refunds those not refunded before (a refund of `source: return` whose id is the return's,
/// so it is made once), in one transaction; `rejected` gives its units back to the order, to
/// be returned again. Only a `requested` return changes (409 `invalid_transition` otherwise).
pub async fn decide(app: &App, id: ReturnId, to: ReturnStatus) -> Result<Return, AppError> {
    for _ in 0..MAX_DECISIONS {
        let current = app.store.get_return(id).await?.ok_or_else(not_found)?;
        if current.status != ReturnStatus::Requested {
            return Err(AppError::ReturnDecided { from: current.status });
        }
        let order = app.store.order(current.order_id).await?.ok_or_else(not_found)?;
        let now = app.clock.now();
        let mut decided = current.clone();
        decided.status = to;
        decided.updated_at = now;
        if to == ReturnStatus::Rejected {
            let next = order.returning(&current.lines, -1);
            match app.store.reject_return(&decided, &order, &next, now).await? {
                Some(true) => return Ok(decided),
                Some(false) | None => continue,
            }
        }
        let (ask, restock) = order.return_refund(&current.lines);
        // What the units were paid, but never more than is left to refund (a goodwill refund may
        // have given some back already); nothing left, or units worth nothing: received unrefunded.
        let plan = match &ask {
            Some(ask) => match order.plan_refund(ask) {
                Ok(plan) => Some(plan),
                Err(crate::domain::RefundRefused::ExceedsPayment { refundable }) if refundable.cents() > 0 => {
                    let capped = crate::domain::RefundAsk { amount: Some(refundable), ..ask.clone() };
                    order.plan_refund(&capped).ok()
                }
                Err(_) => None,
            },
            None => None,
        };
        let refund = plan.as_ref().map(|plan| Refund {
            id: RefundId::of_return(id),
            order_id: order.id,
            amount_cents: plan.amount,
            currency: order.totals.currency.clone(),
            lines: plan.lines.clone(),
            restocked: !restock.is_empty(),
            status: RefundStatus::Pending,
            reason: Some(current.reason.clone()),
            source: RefundSource::Return,
            return_id: Some(id),
            payment_id: order.payment_id.clone(),
            provider_refund_id: None,
            failure: None,
            created_at: now,
            updated_at: now,
        });
        decided.refund_id = refund.as_ref().map(|r| r.id);
        let refunded = plan.as_ref().map_or_else(|| order.clone(), |plan| order.refunded(plan));
        let mut next = refunded.restocked(&restock);
        if plan.is_none() {
            next.settlement_version += 1;
        }
        let events = [Event::returned(EventType::ReturnReceived, &decided, &next, now)];
        let refunding = Refunding {
            seen: &order,
            next: &next,
            refund: refund.as_ref(),
            received: Some(&decided),
            events: &events,
            restock: &restock,
            key: None,
            marker: None,
        };
        match app.store.record_refund(refunding, now).await? {
            Recorded::Done => {
                if let Some(refund) = refund {
                    super::payments::settle(app, refund).await?;
                }
                return Ok(decided);
            }
            Recorded::Stale | Recorded::KeyUsed | Recorded::Decided | Recorded::Seen => continue,
        }
    }
    Err(AppError::Unavailable(format!("return {id} kept changing")))
}
