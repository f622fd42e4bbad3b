//! Money going back: what each unit of an order was paid, what a refund may give back, and
//! what a return may take back.
//!
//! An order's total is subtotal − discount + shipping + tax, and each line's share of it is:
//! - its total, less its share of the discount (shared in proportion to the lines' totals);
//! - plus its share of the tax, which was charged on the discounted lines and the shipping
//!   together, so it is shared among those amounts in proportion;
//!
//! every share by the largest remainder, so that the lines' amounts and the shipping's add up to
//! the total to the cent. The first `k` units refunded of a line paid `p` for `q` units are worth
//! `⌊p × k / q⌋`, so refunding them one at a time or all at once gives back the same, and all
//! `q` give back exactly `p`.

use super::{Money, Order, OrderId, OrderStatus, RefundId, ReturnId, Text, Timestamp, VariantId};
use serde::{Deserialize, Serialize};

/// `amount` shared in proportion to `weights` (non-negative), by the largest remainder (ties
/// to the earlier weight): the shares add up to `amount`. With all weights 0 the first takes it.
pub fn shares(amount: i64, weights: &[i64]) -> Vec<i64> {
    let total: i128 = weights.iter().map(|w| i128::from(*w)).sum();
    if weights.is_empty() {
        return Vec::new();
    }
    if total == 0 {
        let mut out = vec![0; weights.len()];
        out[0] = amount;
        return out;
    }
    let amount = i128::from(amount);
    let mut out: Vec<i128> = weights.iter().map(|w| amount * i128::from(*w) / total).collect();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    // The remainder of each share, largest first.
    order.sort_by_key(|&i| std::cmp::Reverse((amount * i128::from(weights[i])) % total));
    let mut left = amount - out.iter().sum::<i128>();
    for i in order {
        if left <= 0 {
            break;
        }
        out[i] += 1;
        left -= 1;
    }
    out.into_iter().map(|s| s as i64).collect()
}

/// What an order's lines and its shipping were paid, each with its shares of discount and tax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paid {
    /// In the order of the lines.
    pub lines: Vec<Money>,
    pub shipping: Money,
}

impl Order {
    /// What each line (and the shipping) was paid: see the module's documentation.
    pub fn paid(&self) -> Paid {
        let totals: Vec<i64> = self.items.iter().map(|l| l.line_total_cents.cents()).collect();
        let discounts = shares(self.totals.discount_cents.cents(), &totals);
        let mut taxed: Vec<i64> = totals.iter().zip(&discounts).map(|(t, d)| t - d).collect();
        taxed.push(self.totals.shipping_cents.cents());
        let taxes = shares(self.totals.tax_cents.cents(), &taxed);
        let amounts: Vec<Money> = taxed.iter().zip(&taxes).map(|(a, t)| Money::from_cents(a + t)).collect();
        let (shipping, lines) = amounts.split_last().map_or((Money::ZERO, &[][..]), |(s, l)| (*s, l));
        Paid { lines: lines.to_vec(), shipping }
    }

    /// What was captured: the payment's amount (orders paid before it was kept: the total).
    pub fn captured(&self) -> Money {
        let paid_before_capture_was_kept = self.captured_cents == Money::ZERO
            && self.payment_id.is_some()
            && !matches!(self.status, OrderStatus::PendingPayment);
        if paid_before_capture_was_kept { self.totals.total_cents } else { self.captured_cents }
    }

    /// What may still be refunded.
    pub fn refundable(&self) -> Money {
        Money::from_cents((self.captured().cents() - self.refunded_cents.cents()).max(0))
    }

    /// Where the order's money is.
    pub fn payment_status(&self) -> PaymentStatus {
        PaymentStatus::of(self.captured(), self.refunded_cents)
    }
}

/// `unpaid`, `paid`, `partially_refunded` or `refunded`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    #[default]
    Unpaid,
    Paid,
    PartiallyRefunded,
    Refunded,
}

impl PaymentStatus {
    pub fn of(captured: Money, refunded: Money) -> Self {
        match (captured.cents(), refunded.cents()) {
            (0, _) => Self::Unpaid,
            (_, 0) => Self::Paid,
            (c, r) if r < c => Self::PartiallyRefunded,
            _ => Self::Refunded,
        }
    }
}

/// What a refund asks for: some units of lines (what they were paid), or a goodwill amount, or
/// both (an amount for those units, at most what they were paid); `restock` puts the units back.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RefundAsk {
    pub amount: Option<Money>,
    pub lines: Vec<(VariantId, i64)>,
    pub restock: bool,
}

/// One line of a refund or a return: units of a variant, and (refunds) what they give back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnitsBack {
    pub variant_id: VariantId,
    pub quantity: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_cents: Option<Money>,
}

/// A refund decided: how much, for which units, and which units go back on the shelf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundPlan {
    pub amount: Money,
    pub lines: Vec<UnitsBack>,
    /// `(variant, units)` to put back: released from the reservation while the order has not
    /// shipped, back on the shelf once it has (a cancelled order's units are back already).
    pub restock: Vec<(VariantId, i64)>,
}

/// Why a refund cannot be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundRefused {
    /// It would give back more than was captured and not yet refunded (`refundable`), or more
    /// units of a line than were bought and not yet refunded.
    ExceedsPayment { refundable: Money },
    /// A line names a variant the order does not have (index in `lines`).
    NotALine(usize),
    /// The same variant twice (index of the second).
    Repeated(usize),
    /// Neither an amount nor lines, or an amount of 0.
    Nothing,
}

impl Order {
    /// Decides a refund against the order as it is now.
    pub fn plan_refund(&self, ask: &RefundAsk) -> Result<RefundPlan, RefundRefused> {
        let refundable = self.refundable();
        let exceeds = || RefundRefused::ExceedsPayment { refundable };
        if ask.lines.is_empty() && ask.amount.is_none_or(|a| a.cents() <= 0) {
            return Err(RefundRefused::Nothing);
        }
        let paid = self.paid();
        let mut lines = Vec::new();
        let mut restock = Vec::new();
        let mut worth = 0i64;
        for (i, (variant, units)) in ask.lines.iter().enumerate() {
            if ask.lines[..i].iter().any(|(v, _)| v == variant) {
                return Err(RefundRefused::Repeated(i));
            }
            let index = self.items.iter().position(|l| l.variant_id == *variant).ok_or(RefundRefused::NotALine(i))?;
            let line = &self.items[index];
            let bought = line.quantity.units();
            if *units < 1 || line.refunded_quantity + units > bought {
                return Err(exceeds());
            }
            let value = units_value(paid.lines[index], bought, line.refunded_quantity, *units);
            worth += value.cents();
            lines.push(UnitsBack { variant_id: *variant, quantity: *units, amount_cents: Some(value) });
            let back = self.restockable(*variant, *units);
            if ask.restock && back > 0 {
                restock.push((*variant, back));
            }
        }
        let amount = match ask.amount {
            Some(amount) if amount.cents() <= 0 => return Err(RefundRefused::Nothing),
            // An amount for the units: at most what they were paid.
            Some(amount) if !lines.is_empty() && amount.cents() > worth => return Err(exceeds()),
            Some(amount) => amount,
            None => Money::from_cents(worth),
        };
        if amount > refundable || amount.cents() <= 0 {
            return Err(exceeds());
        }
        Ok(RefundPlan { amount, lines, restock })
    }

    /// The order with a refund counted: its amount refunded, its units refunded and restocked.
    pub fn refunded(&self, plan: &RefundPlan) -> Order {
        let mut next = self.clone();
        next.refunded_cents = next.refunded_cents + plan.amount;
        for back in &plan.lines {
            if let Some(line) = next.items.iter_mut().find(|l| l.variant_id == back.variant_id) {
                line.refunded_quantity += back.quantity;
            }
        }
        let mut next = next.restocked(&plan.restock);
        next.settlement_version += 1;
        next
    }

    /// The order with a refund that failed given back: its amount and units may be refunded
    /// again (units put back stay back: they are on the shelf).
    pub fn refund_failed(&self, amount: Money, lines: &[UnitsBack]) -> Order {
        let mut next = self.clone();
        next.refunded_cents = Money::from_cents((next.refunded_cents.cents() - amount.cents()).max(0));
        for back in lines {
            if let Some(line) = next.items.iter_mut().find(|l| l.variant_id == back.variant_id) {
                line.refunded_quantity = (line.refunded_quantity - back.quantity).max(0);
            }
        }
        next.settlement_version += 1;
        next
    }

    /// The order after `refund`, one of its refunds, failed: one of its own payment gives its
    /// amount and units back ([`Order::refund_failed`]); any flags the order `paymentIssue:
    /// refund_failed`, since the money is still owed to the customer.
    pub fn lost_refund(&self, refund: &Refund) -> Order {
        let mut next = if refund.payment_id == self.payment_id {
            self.refund_failed(refund.amount_cents, &refund.lines)
        } else {
            let mut next = self.clone();
            next.settlement_version += 1;
            next
        };
        next.payment_issue = Some(super::PaymentIssue::RefundFailed);
        next
    }
}

/// What units `already + 1 ..= already + units` of a line paid `paid` for `bought` units are
/// worth: `⌊paid × (already + units) / bought⌋ − ⌊paid × already / bought⌋`.
pub fn units_value(paid: Money, bought: i64, already: i64, units: i64) -> Money {
    let upto = |k: i64| (i128::from(paid.cents()) * i128::from(k) / i128::from(bought.max(1))) as i64;
    Money::from_cents(upto(already + units) - upto(already))
}

/// Why a return cannot be requested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReturnRefused {
    /// The order has not been delivered.
    NotDelivered,
    /// The return window closed at this time.
    WindowClosed(Timestamp),
    /// A line names a variant the order does not have (index in `lines`).
    NotALine(usize),
    /// The same variant twice (index of the second).
    Repeated(usize),
    /// More units than were delivered and not yet returned (index, and how many may be).
    TooMany(usize, i64),
    Nothing,
}

impl Order {
    /// When the order was delivered, if it was.
    pub fn delivered_at(&self) -> Option<Timestamp> {
        self.history.iter().rev().find(|h| h.status == OrderStatus::Delivered).map(|h| h.at)
    }

    /// Checks a return of `lines` requested at `now`, within `window_days` of delivery.
    pub fn plan_return(
        &self,
        lines: &[(VariantId, i64)],
        now: Timestamp,
        window_days: i64,
    ) -> Result<Vec<UnitsBack>, ReturnRefused> {
        let delivered = match (self.status, self.delivered_at()) {
            (OrderStatus::Delivered, Some(at)) => at,
            _ => return Err(ReturnRefused::NotDelivered),
        };
        let closes = delivered.plus_seconds(window_days * 24 * 3600);
        if now >= closes {
            return Err(ReturnRefused::WindowClosed(closes));
        }
        if lines.is_empty() {
            return Err(ReturnRefused::Nothing);
        }
        let mut out = Vec::new();
        for (i, (variant, units)) in lines.iter().enumerate() {
            if lines[..i].iter().any(|(v, _)| v == variant) {
                return Err(ReturnRefused::Repeated(i));
            }
            let line = self.items.iter().find(|l| l.variant_id == *variant).ok_or(ReturnRefused::NotALine(i))?;
            let returnable = line.quantity.units() - line.returned_quantity;
            if *units < 1 || *units > returnable {
                return Err(ReturnRefused::TooMany(i, returnable));
            }
            out.push(UnitsBack { variant_id: *variant, quantity: *units, amount_cents: None });
        }
        Ok(out)
    }

    /// The order with `lines` counted as returned (`sign` 1), or a rejected return's units
    /// given back (`sign` −1).
    pub fn returning(&self, lines: &[UnitsBack], sign: i64) -> Order {
        let mut next = self.clone();
        for back in lines {
            if let Some(line) = next.items.iter_mut().find(|l| l.variant_id == back.variant_id) {
                line.returned_quantity = (line.returned_quantity + sign * back.quantity).max(0);
            }
        }
        next.settlement_version += 1;
        next
    }

    /// What a received return refunds: its units not refunded already (what they were paid),
    /// and the units it puts back on the shelf (all of them, less any back already). `None`
    /// when every unit was refunded before.
    pub fn return_refund(&self, lines: &[UnitsBack]) -> (Option<RefundAsk>, Vec<(VariantId, i64)>) {
        let mut refund = Vec::new();
        let mut restock = Vec::new();
        for back in lines {
            let Some(line) = self.items.iter().find(|l| l.variant_id == back.variant_id) else { continue };
            let unrefunded = (line.quantity.units() - line.refunded_quantity).max(0);
            if back.quantity.min(unrefunded) > 0 {
                refund.push((back.variant_id, back.quantity.min(unrefunded)));
            }
            let shelf = self.restockable(back.variant_id, back.quantity);
            if shelf > 0 {
                restock.push((back.variant_id, shelf));
            }
        }
        let ask = (!refund.is_empty()).then_some(RefundAsk { amount: None, lines: refund, restock: false });
        (ask, restock)
    }

    /// How many of `units` of a line may go back on the shelf: those not back already (a
    /// cancelled order's units all are).
    pub fn restockable(&self, variant: VariantId, units: i64) -> i64 {
        match self.items.iter().find(|l| l.variant_id == variant) {
            Some(line) if self.status != OrderStatus::Cancelled => {
                units.min(line.quantity.units() - line.restocked_quantity).max(0)
            }
            _ => 0,
        }
    }

    /// The order with `units` counted as back on the shelf.
    pub fn restocked(&self, units: &[(VariantId, i64)]) -> Order {
        let mut next = self.clone();
        for (variant, n) in units {
            if let Some(line) = next.items.iter_mut().find(|l| l.variant_id == *variant) {
                line.restocked_quantity += n;
            }
        }
        next
    }
}

/// Where a refund is with the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundStatus {
    Pending,
    Succeeded,
    Failed,
}

impl RefundStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }
}

/// What made a refund.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundSource {
    /// `POST /admin/orders/{id}/refunds`.
    Admin,
    /// A received return.
    Return,
    /// storefront itself: a payment that arrived for a cancelled order, a second payment, or
    /// the rest of a paid order that was cancelled.
    Automatic,
    /// Made in the provider's dashboard, and reported by its webhook.
    Provider,
}

/// A refund: money given back for an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Refund {
    pub id: RefundId,
    pub order_id: OrderId,
    pub amount_cents: Money,
    pub currency: super::Currency,
    pub lines: Vec<UnitsBack>,
    pub restocked: bool,
    pub status: RefundStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Text>,
    pub source: RefundSource,
    /// The return it refunds, if a return's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_id: Option<ReturnId>,
    /// The provider's id of the payment it refunds, and of the refund once made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_refund_id: Option<String>,
    /// Why the provider refused it, when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A refund's reason: 1–500 characters.
pub fn parse_refund_reason(raw: &str) -> Result<Text, super::Invalid> {
    Text::parse(raw, 1, 500)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// An order of lines `(unit price, quantity)` with the given discount, shipping and tax,
    /// paid in full (`status`).
    fn order(lines: &[(i64, i64)], discount: i64, shipping: i64, tax: i64, status: &str) -> Order {
        let items: Vec<serde_json::Value> = lines
            .iter()
            .enumerate()
            .map(|(i, (price, q))| {
                serde_json::json!({"productId": super::super::ProductId::new(), "sku": format!("S-{i}"),
                    "name": "Thing", "unitPriceCents": price, "quantity": q, "lineTotalCents": price * q})
            })
            .collect();
        let subtotal: i64 = lines.iter().map(|(p, q)| p * q).sum();
        let total = subtotal - discount + shipping + tax;
        let mut order: Order = serde_json::from_value(serde_json::json!({
            "id": OrderId::new(), "userId": "01HZX5V9Y5J0A0000000000000", "status": status, "items": items,
            "subtotalCents": subtotal, "discountCents": discount, "shippingCents": shipping, "taxCents": tax,
            "totalCents": total, "currency": "USD", "shippingMethod": "standard",
            "shippingAddress": {"name": "A", "line1": "1 St", "city": "C", "postalCode": "1", "country": "US"},
            "createdAt": "2026-01-01T00:00:00.000Z", "updatedAt": "2026-01-01T00:00:00.000Z", "history": []
        }))
        .expect("an order");
        if status != "pending_payment" {
            order.captured_cents = Money::from_cents(total);
            order.payment_id = Some("pay_1".into());
        }
        order
    }

    fn variant(order: &Order, i: usize) -> VariantId {
        order.items[i].variant_id
    }

    #[test]
    fn shares_add_up_and_follow_the_weights() {
        assert_eq!(shares(100, &[1, 1, 1]), vec![34, 33, 33]);
        assert_eq!(shares(10, &[3, 0, 7]), vec![3, 0, 7]);
        assert_eq!(shares(5, &[0, 0]), vec![5, 0]);
        assert_eq!(shares(0, &[4, 5]), vec![0, 0]);
        assert!(shares(7, &[]).is_empty());
    }

    #[test]
    fn a_worked_example_of_what_lines_were_paid() {
        // 2 × 25.00 + 1 × 10.50 = 60.50, 10% off (6.05), shipping 5.00, tax 20% of 59.45 = 11.89.
        let o = order(&[(2500, 2), (1050, 1)], 605, 500, 1189, "paid");
        let paid = o.paid();
        // Discount 605 by 5000 : 1050 → 500 + 105; tax 1189 by 4500 : 945 : 500 → 900 + 189 + 100.
        assert_eq!(paid.lines, vec![Money::from_cents(5400), Money::from_cents(1134)]);
        assert_eq!(paid.shipping, Money::from_cents(600));
        assert_eq!(o.totals.total_cents.cents(), 5400 + 1134 + 600);
        // One unit of the first line is half of it; the second unit the rest.
        assert_eq!(units_value(paid.lines[0], 2, 0, 1), Money::from_cents(2700));
        assert_eq!(units_value(paid.lines[0], 2, 1, 1), Money::from_cents(2700));
    }

    #[test]
    fn a_line_refund_gives_back_what_its_units_were_paid_and_restocks_them_once() {
        let o = order(&[(2500, 2), (1050, 1)], 605, 500, 1189, "delivered");
        let ask = RefundAsk { amount: None, lines: vec![(variant(&o, 0), 1)], restock: true };
        let plan = o.plan_refund(&ask).expect("a refund");
        assert_eq!(plan.amount, Money::from_cents(2700));
        assert_eq!(plan.restock, vec![(variant(&o, 0), 1)]);
        let after = o.refunded(&plan);
        assert_eq!((after.refunded_cents.cents(), after.payment_status()), (2700, PaymentStatus::PartiallyRefunded));
        assert_eq!((after.items[0].refunded_quantity, after.items[0].restocked_quantity), (1, 1));
        let again = after.plan_refund(&ask).expect("the second unit");
        assert_eq!(again.amount, Money::from_cents(2700));
        let both = after.refunded(&again);
        let third = both.plan_refund(&ask);
        assert_eq!(third, Err(RefundRefused::ExceedsPayment { refundable: Money::from_cents(1734) }));
        let goodwill = RefundAsk { amount: Some(Money::from_cents(1735)), ..RefundAsk::default() };
        assert!(matches!(both.plan_refund(&goodwill), Err(RefundRefused::ExceedsPayment { .. })));
        let rest = RefundAsk { amount: Some(Money::from_cents(1734)), ..RefundAsk::default() };
        let all = both.refunded(&both.plan_refund(&rest).expect("the rest"));
        assert_eq!((all.refundable(), all.payment_status()), (Money::ZERO, PaymentStatus::Refunded));
    }

    #[test]
    fn refunds_are_refused_when_nothing_was_captured_and_for_lines_the_order_lacks() {
        let unpaid = order(&[(1000, 1)], 0, 0, 0, "pending_payment");
        let ask = RefundAsk { amount: Some(Money::from_cents(1)), ..RefundAsk::default() };
        assert_eq!(unpaid.plan_refund(&ask), Err(RefundRefused::ExceedsPayment { refundable: Money::ZERO }));
        let paid = order(&[(1000, 1)], 0, 0, 0, "paid");
        let other = VariantId::new(super::super::ProductId::new(), 1);
        let stranger = RefundAsk { lines: vec![(other, 1)], ..RefundAsk::default() };
        assert_eq!(paid.plan_refund(&stranger), Err(RefundRefused::NotALine(0)));
        let twice = RefundAsk { lines: vec![(variant(&paid, 0), 1), (variant(&paid, 0), 1)], ..RefundAsk::default() };
        assert_eq!(paid.plan_refund(&twice), Err(RefundRefused::Repeated(1)));
        assert_eq!(paid.plan_refund(&RefundAsk::default()), Err(RefundRefused::Nothing));
        let above = RefundAsk { amount: Some(Money::from_cents(1001)), lines: vec![(variant(&paid, 0), 1)], ..ask };
        assert!(matches!(paid.plan_refund(&above), Err(RefundRefused::ExceedsPayment { .. })), "more than the units");
    }

    #[test]
    fn a_cancelled_orders_units_are_back_already_and_a_failed_refund_can_be_made_again() {
        let o = order(&[(1000, 2)], 0, 0, 0, "cancelled");
        let ask = RefundAsk { amount: None, lines: vec![(variant(&o, 0), 2)], restock: true };
        let plan = o.plan_refund(&ask).expect("a refund");
        assert!(plan.restock.is_empty(), "a cancellation released them");
        let failed = o.refunded(&plan).refund_failed(plan.amount, &plan.lines);
        assert_eq!((failed.refunded_cents, failed.items[0].refunded_quantity), (Money::ZERO, 0));
        assert_eq!(failed.plan_refund(&ask).map(|p| p.amount), Ok(Money::from_cents(2000)));
    }

    #[test]
    fn a_lost_refund_flags_the_order_and_gives_back_only_what_its_own_payment_counted() {
        let mut o = order(&[(1000, 2)], 0, 0, 0, "paid");
        o.payment_id = Some("pi_first".into());
        let ask = RefundAsk { amount: None, lines: vec![(variant(&o, 0), 1)], restock: false };
        let plan = o.plan_refund(&ask).expect("a refund");
        let refunded = o.refunded(&plan);
        let now = Timestamp::parse("2026-01-10T00:00:00Z").expect("a time");
        let refund = Refund {
            id: RefundId::new(),
            order_id: o.id,
            amount_cents: plan.amount,
            currency: o.totals.currency.clone(),
            lines: plan.lines.clone(),
            restocked: false,
            status: RefundStatus::Succeeded,
            reason: None,
            source: RefundSource::Admin,
            return_id: None,
            payment_id: Some("pi_first".into()),
            provider_refund_id: None,
            failure: None,
            created_at: now,
            updated_at: now,
        };
        let lost = refunded.lost_refund(&refund);
        assert_eq!((lost.refunded_cents, lost.items[0].refunded_quantity), (Money::ZERO, 0));
        assert_eq!(lost.payment_issue, Some(super::super::PaymentIssue::RefundFailed));
        assert!(lost.settlement_version > refunded.settlement_version, "written on the version it was decided from");
        // A refund of a second payment never counted in the order's money: only the flag.
        let second = Refund { payment_id: Some("pi_second".into()), ..refund };
        let flagged = refunded.lost_refund(&second);
        assert_eq!((flagged.refunded_cents, flagged.items[0].refunded_quantity), (refunded.refunded_cents, 1));
        assert_eq!(flagged.payment_issue, Some(super::super::PaymentIssue::RefundFailed));
    }

    #[test]
    fn returns_need_a_delivery_within_the_window_and_units_not_returned_yet() {
        let mut o = order(&[(1000, 2)], 0, 0, 0, "delivered");
        let at = Timestamp::parse("2026-01-10T00:00:00Z").expect("a time");
        let actor = super::super::Actor::Admin(o.user_id.expect("a customer"));
        o.history.push(super::super::HistoryEntry { status: OrderStatus::Delivered, at, by: actor });
        let v = variant(&o, 0);
        let day = |d: i64| at.plus_seconds(d * 86_400);
        assert_eq!(o.plan_return(&[(v, 3)], day(1), 30), Err(ReturnRefused::TooMany(0, 2)));
        let lines = o.plan_return(&[(v, 1)], day(29), 30).expect("within 30 days");
        assert_eq!(o.plan_return(&[(v, 1)], day(30), 30), Err(ReturnRefused::WindowClosed(day(30))));
        let returned = o.returning(&lines, 1);
        assert_eq!(returned.plan_return(&[(v, 2)], day(1), 30), Err(ReturnRefused::TooMany(0, 1)));
        assert_eq!(returned.returning(&lines, -1).items[0].returned_quantity, 0, "a rejection gives them back");
        let (ask, restock) = returned.return_refund(&lines);
        assert_eq!(ask.map(|a| a.lines), Some(vec![(v, 1)]));
        assert_eq!(restock, vec![(v, 1)]);
        let shipped = order(&[(1000, 2)], 0, 0, 0, "shipped");
        assert_eq!(shipped.plan_return(&[(v, 1)], day(1), 30), Err(ReturnRefused::NotDelivered));
    }

    fn orders() -> impl Strategy<Value = Order> {
        (
            prop::collection::vec((0i64..=50_000, 1i64..=99), 1..6),
            0i64..=100,
            0i64..=2_000,
            0i64..=3_000,
            prop::sample::select(vec!["paid", "shipped", "delivered", "cancelled"]),
        )
            .prop_map(|(lines, percent, shipping, bps, status)| {
                let subtotal: i64 = lines.iter().map(|(p, q)| p * q).sum();
                let discount = subtotal * percent / 100;
                let tax = (subtotal - discount + shipping) * bps / 10_000;
                order(&lines, discount, shipping, tax, status)
            })
    }

    proptest! {
        /// Whatever the order: the lines' amounts and the shipping's add up to the total.
        #[test]
        fn what_the_lines_were_paid_adds_up_to_the_total(o in orders()) {
            let paid = o.paid();
            prop_assert!(paid.lines.iter().all(|m| m.cents() >= 0));
            let sum: i64 = paid.lines.iter().map(|m| m.cents()).sum::<i64>() + paid.shipping.cents();
            prop_assert_eq!(sum, o.totals.total_cents.cents());
        }

        /// For any order and any sequence of partial refunds (of units, goodwill amounts, or
        /// both), some failing: the sum refunded never exceeds what was paid, a line's refunds
        /// never exceed what it was paid (and give back exactly that once all its units are
        /// refunded by their value), and no unit goes back on the shelf twice.
        #[test]
        fn refunds_never_give_back_more_than_was_paid(
            o in orders(),
            asks in prop::collection::vec((0usize..6, 0i64..=100, prop::option::of(0i64..=200_000), any::<bool>(), any::<bool>()), 1..12),
        ) {
            let paid = o.paid();
            let mut now = o.clone();
            let mut by_line = vec![0i64; o.items.len()];
            let mut overridden = vec![false; o.items.len()];
            for (line, units, amount, restock, fails) in asks {
                let lines = if units == 0 { Vec::new() } else { vec![(variant(&o, line % o.items.len()), units)] };
                let ask = RefundAsk { amount: amount.map(Money::from_cents), lines, restock };
                let Ok(plan) = now.plan_refund(&ask) else { continue };
                prop_assert!(plan.amount <= now.refundable());
                if fails {
                    now = now.refunded(&plan).refund_failed(plan.amount, &plan.lines);
                    continue;
                }
                for back in &plan.lines {
                    let i = o.items.iter().position(|l| l.variant_id == back.variant_id).expect("a line");
                    by_line[i] += back.amount_cents.map_or(0, |m| m.cents());
                    overridden[i] |= ask.amount.is_some();
                }
                now = now.refunded(&plan);
            }
            prop_assert!(now.refunded_cents <= now.captured());
            for (i, line) in now.items.iter().enumerate() {
                prop_assert!(by_line[i] <= paid.lines[i].cents());
                prop_assert!(line.refunded_quantity <= line.quantity.units());
                prop_assert!(line.restocked_quantity <= line.quantity.units());
                if line.refunded_quantity == line.quantity.units() && !overridden[i] {
                    prop_assert_eq!(by_line[i], paid.lines[i].cents());
                }
                if o.status == OrderStatus::Cancelled {
                    prop_assert_eq!(line.restocked_quantity, 0);
                }
            }
        }
    }
}

/// Where a return is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnStatus {
    /// The customer asked to send the units back.
    Requested,
    /// The units arrived: they are back in stock, and refunded.
    Received,
    /// An admin refused it: its units may be returned again.
    Rejected,
}

impl ReturnStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Received => "received",
            Self::Rejected => "rejected",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Requested, Self::Received, Self::Rejected].into_iter().find(|s| s.as_str() == raw)
    }

    /// What an admin may set: `received` or `rejected`, from `requested` only.
    pub fn decided(raw: &str) -> Result<Self, super::Invalid> {
        match Self::parse(raw) {
            Some(status @ (Self::Received | Self::Rejected)) => Ok(status),
            _ => Err(super::Invalid::new("must be \"received\" or \"rejected\"")),
        }
    }
}

/// A customer's return of units of a delivered order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Return {
    pub id: ReturnId,
    pub order_id: OrderId,
    pub lines: Vec<UnitsBack>,
    pub reason: Text,
    pub status: ReturnStatus,
    /// The refund its receipt made (absent while requested, when rejected, or when every unit
    /// was refunded before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_id: Option<RefundId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A return's reason: 1–500 characters.
pub fn parse_return_reason(raw: &str) -> Result<Text, super::Invalid> {
    Text::parse(raw, 1, 500)
}
