//! Carts, orders and idempotency keys.

use super::pricing::{ShippingMethod, Totals};
use super::{
    Address, Choice, DiscountCode, Email, GuestId, Invalid, Money, OrderId, ProductId, Sku, Timestamp, UserId,
    VariantId,
};
use serde::{Deserialize, Serialize};

/// How many of one product a cart line (and so an order line) may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Quantity(i64);

impl Quantity {
    pub const MAX: i64 = 99;

    pub fn parse(units: i64) -> Result<Self, Invalid> {
        if (1..=Self::MAX).contains(&units) {
            Ok(Self(units))
        } else {
            Err(Invalid::new(format!("must be an integer from 1 to {}", Self::MAX)))
        }
    }

    pub fn units(self) -> i64 {
        self.0
    }
}

/// One line of a cart: a variant and how many. Prices are never stored in a cart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", from = "StoredLine")]
pub struct CartLine {
    pub product_id: ProductId,
    pub variant_id: VariantId,
    pub quantity: Quantity,
}

/// A cart line as stored; lines written before products had variants name only the product,
/// which stands for its one variant (number 1).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredLine {
    product_id: ProductId,
    variant_id: Option<VariantId>,
    quantity: Quantity,
}

impl From<StoredLine> for CartLine {
    fn from(line: StoredLine) -> Self {
        let variant_id = line.variant_id.unwrap_or(VariantId::new(line.product_id, 1));
        Self { product_id: line.product_id, variant_id, quantity: line.quantity }
    }
}

/// A customer's cart. `version` guards every change against a concurrent one.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cart {
    pub lines: Vec<CartLine>,
    pub version: i64,
    pub updated_at: Option<Timestamp>,
}

/// The cart already has [`Cart::MAX_LINES`] different variants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartFull;

impl Cart {
    /// 31, so that an order selling out every line (a stock write per line, two listing
    /// writes per product) and a cancellation restocking them stay within DynamoDB's 100 items
    /// per transaction: 31 + 62 + discount, buyer's limits, order, cart and outbox.
    pub const MAX_LINES: usize = 31;

    /// Sets a variant's quantity, adding the line if it is new (lines keep the order they were added in).
    pub fn set(&mut self, variant_id: VariantId, quantity: Quantity) -> Result<(), CartFull> {
        let full = self.lines.len() >= Self::MAX_LINES;
        match self.lines.iter_mut().find(|l| l.variant_id == variant_id) {
            Some(line) => line.quantity = quantity,
            None if full => return Err(CartFull),
            None => self.lines.push(CartLine { product_id: variant_id.product(), variant_id, quantity }),
        }
        Ok(())
    }

    /// Removes a variant's line; true if there was one.
    pub fn remove(&mut self, variant_id: VariantId) -> bool {
        let before = self.lines.len();
        self.lines.retain(|l| l.variant_id != variant_id);
        self.lines.len() != before
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
}

/// Whose cart and checkout a request is: a signed-in customer's, or a guest's (by the cart's
/// `X-Cart-Token`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shopper {
    Customer(UserId),
    Guest(GuestId),
}

impl Shopper {
    /// The account, for a customer.
    pub fn user(self) -> Option<UserId> {
        match self {
            Shopper::Customer(user) => Some(user),
            Shopper::Guest(_) => None,
        }
    }
}

/// A line a merge could not take whole: what the two carts asked for together, and what the
/// merged cart holds (0: the line was left out, the cart being full or the variant off sale).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Capped {
    pub product_id: ProductId,
    pub variant_id: VariantId,
    pub requested: i64,
    pub quantity: i64,
}

impl Cart {
    /// `guest`'s lines added to this cart: quantities of the same variant add up, each capped
    /// at [`Quantity::MAX`] and at `available(variant)` units (what can be bought now), and new
    /// lines come after this cart's own while there is room. The lines that could not be taken
    /// whole are reported; a line of this cart is never made smaller than it was.
    pub fn merged(&self, guest: &Cart, available: impl Fn(VariantId) -> i64) -> (Cart, Vec<Capped>) {
        let mut merged = self.clone();
        let mut capped = Vec::new();
        for line in &guest.lines {
            let existing = merged.lines.iter().position(|l| l.variant_id == line.variant_id);
            let own = existing.map_or(0, |i| merged.lines[i].quantity.units());
            let requested = own + line.quantity.units();
            let room = if existing.is_none() && merged.lines.len() >= Self::MAX_LINES { 0 } else { Quantity::MAX };
            let kept = requested.min(room).min(available(line.variant_id).max(0)).max(own);
            if kept < requested {
                capped.push(Capped {
                    product_id: line.product_id,
                    variant_id: line.variant_id,
                    requested,
                    quantity: kept,
                });
            }
            match (existing, Quantity::parse(kept)) {
                (Some(i), Ok(quantity)) => merged.lines[i].quantity = quantity,
                (None, Ok(quantity)) => {
                    merged.lines.push(CartLine { product_id: line.product_id, variant_id: line.variant_id, quantity })
                }
                (_, Err(_)) => {} // nothing of it can be taken
            }
        }
        (merged, capped)
    }
}

/// An `Idempotency-Key` header: 1–255 printable ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdempotencyKey(String);
string_newtype!(IdempotencyKey);

impl IdempotencyKey {
    pub const MAX_LEN: usize = 255;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let ok = (1..=Self::MAX_LEN).contains(&raw.len()) && raw.bytes().all(|b| (0x20..=0x7e).contains(&b));
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(Invalid::new(format!("must be 1 to {} printable ASCII characters", Self::MAX_LEN)))
        }
    }
}

/// Where an order is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    PendingPayment,
    Paid,
    Shipped,
    Delivered,
    Cancelled,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PendingPayment => "pending_payment",
            Self::Paid => "paid",
            Self::Shipped => "shipped",
            Self::Delivered => "delivered",
            Self::Cancelled => "cancelled",
        }
    }
}

/// A line of an order: a snapshot of the variant as it was sold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", from = "StoredOrderLine")]
pub struct OrderLine {
    pub product_id: ProductId,
    pub variant_id: VariantId,
    pub sku: Sku,
    pub name: String,
    pub options: Choice,
    /// The URL of the variant's picture when it was sold, if it had one.
    pub image: Option<String>,
    pub unit_price_cents: Money,
    pub quantity: Quantity,
    pub line_total_cents: Money,
    /// Units refunded (each once), returned (requested and not rejected), and put back on the
    /// shelf or released (each once), after the order was placed.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub refunded_quantity: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub returned_quantity: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub restocked_quantity: i64,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// An order line as stored; lines of orders placed before products had variants name only
/// the product (its one variant, number 1, with no options).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredOrderLine {
    product_id: ProductId,
    variant_id: Option<VariantId>,
    sku: Sku,
    name: String,
    #[serde(default)]
    options: Choice,
    #[serde(default)]
    image: Option<String>,
    unit_price_cents: Money,
    quantity: Quantity,
    line_total_cents: Money,
    #[serde(default)]
    refunded_quantity: i64,
    #[serde(default)]
    returned_quantity: i64,
    #[serde(default)]
    restocked_quantity: i64,
}

impl From<StoredOrderLine> for OrderLine {
    fn from(l: StoredOrderLine) -> Self {
        Self {
            product_id: l.product_id,
            variant_id: l.variant_id.unwrap_or(VariantId::new(l.product_id, 1)),
            sku: l.sku,
            name: l.name,
            options: l.options,
            image: l.image,
            unit_price_cents: l.unit_price_cents,
            quantity: l.quantity,
            line_total_cents: l.line_total_cents,
            refunded_quantity: l.refunded_quantity,
            returned_quantity: l.returned_quantity,
            restocked_quantity: l.restocked_quantity,
        }
    }
}

/// Which payment provider takes an order's payment (`PAYMENT_PROVIDER`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ProviderName {
    /// Payments reported by the signed webhook at `/webhooks/payments`; refunds are made by
    /// the shop outside storefront and recorded as made.
    #[default]
    Manual,
    Stripe,
}

/// Where the payment of an order is with its provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentState {
    /// Awaiting the customer (a failed attempt may be tried again within the payment window).
    Pending,
    /// The latest attempt failed; the customer may try again.
    Failed,
    Succeeded,
}

/// An order's payment with its provider: what a shop front needs to complete it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    pub provider: ProviderName,
    pub status: PaymentState,
    /// The provider's id (Stripe: the PaymentIntent's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// What the provider's client library completes the payment with (Stripe's
    /// `client_secret`): shown to the order's readers only, never in events or logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

/// Something about an order's money that a person must look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentIssue {
    /// A payment succeeded with another amount or currency than the order's total.
    AmountMismatch,
    /// The customer disputed the charge with their bank.
    Disputed,
    /// A refund failed (or the provider reversed one it had made): money the shop meant to
    /// give back is still the customer's, and may be refunded again.
    RefundFailed,
}

impl PaymentIssue {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AmountMismatch => "amount_mismatch",
            Self::Disputed => "disputed",
            Self::RefundFailed => "refund_failed",
        }
    }
}

/// An order as stored and shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub id: OrderId,
    /// The customer's account; none for a guest's order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    /// Where a guest's order emails go (the checkout's `email`); none for a customer's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Email>,
    pub status: OrderStatus,
    pub items: Vec<OrderLine>,
    #[serde(flatten)]
    pub totals: Totals,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount_code: Option<DiscountCode>,
    pub shipping_address: Address,
    pub shipping_method: ShippingMethod,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The payment provider's id for the payment, once paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<String>,
    /// Money was taken for an order that is cancelled (or paid twice): it must be given back.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub refund_due: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
    /// The payment with its provider (orders from before providers have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<Payment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_issue: Option<PaymentIssue>,
    /// What the payment captured; what refunds (pending or made) give back of it; and so
    /// where its money is (kept with them).
    #[serde(default)]
    pub captured_cents: Money,
    #[serde(default)]
    pub refunded_cents: Money,
    #[serde(default)]
    pub payment_status: super::PaymentStatus,
    /// Every status the order has had, oldest first.
    #[serde(default)]
    pub history: Vec<super::HistoryEntry>,
    /// The order counts against its buyer's limits (an unpaid-order slot while it awaits
    /// payment; a use of its discount code until it is cancelled). Orders placed before the
    /// limits do not. Stored, never shown.
    #[serde(default, skip_serializing, rename = "holdsLimits")]
    pub holds_limits: bool,
    /// Counts the changes of its refunds, returns and units put back: each is made on the
    /// version it was decided from. Stored, never shown.
    #[serde(default, skip_serializing, rename = "settlementVersion")]
    pub settlement_version: i64,
}

/// Whose limits an order counts against: a customer's account, or the email a guest checks
/// out with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Buyer<'a> {
    Customer(UserId),
    Guest(&'a Email),
}

impl Order {
    /// The buyer whose limits the order counts against.
    pub fn buyer(&self) -> Option<Buyer<'_>> {
        match (self.user_id, &self.email) {
            (Some(user), _) => Some(Buyer::Customer(user)),
            (None, Some(email)) => Some(Buyer::Guest(email)),
            (None, None) => None,
        }
    }
}

impl Order {
    /// The order as it was when placed, which is what a repeat of the request that placed it
    /// answers (whatever happened to it since: the first answer, not the latest state).
    pub fn as_placed(&self) -> Order {
        let mut placed = self.clone();
        placed.history.truncate(1);
        if let Some(first) = placed.history.first() {
            placed.status = first.status;
        }
        placed.updated_at = placed.created_at;
        placed.payment_id = None;
        placed.refund_due = false;
        placed.tracking_number = None;
        if let Some(payment) = placed.payment.as_mut() {
            payment.status = PaymentState::Pending;
        }
        placed.payment_issue = None;
        placed.captured_cents = Money::ZERO;
        placed.refunded_cents = Money::ZERO;
        placed.payment_status = super::PaymentStatus::Unpaid;
        for line in &mut placed.items {
            line.refunded_quantity = 0;
            line.returned_quantity = 0;
            line.restocked_quantity = 0;
        }
        placed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cart_holds_at_most_31_variants_but_any_may_change() {
        let mut cart = Cart::default();
        let ids: Vec<VariantId> = (0..32).map(|_| VariantId::new(ProductId::new(), 1)).collect();
        for id in &ids[..31] {
            cart.set(*id, Quantity::parse(1).unwrap()).unwrap();
        }
        assert_eq!(cart.set(ids[31], Quantity::parse(1).unwrap()), Err(CartFull));
        cart.set(ids[0], Quantity::parse(99).unwrap()).unwrap();
        assert_eq!(cart.lines[0].quantity.units(), 99);
        assert!(cart.remove(ids[0]));
        assert!(!cart.remove(ids[0]));
        cart.set(ids[31], Quantity::parse(1).unwrap()).unwrap();
    }

    #[test]
    fn lines_stored_before_variants_read_as_the_products_one_variant() {
        let product = ProductId::new();
        let line: CartLine = serde_json::from_value(serde_json::json!({"productId": product, "quantity": 2})).unwrap();
        assert_eq!((line.variant_id, line.quantity.units()), (VariantId::new(product, 1), 2));
        let order_line: OrderLine = serde_json::from_value(serde_json::json!({
            "productId": product, "sku": "A-1", "name": "Mug", "unitPriceCents": 500, "quantity": 1,
            "lineTotalCents": 500
        }))
        .unwrap();
        assert_eq!((order_line.variant_id.number(), order_line.options.clone()), (1, Choice::default()));
        let written = serde_json::to_value(&order_line).unwrap();
        assert_eq!(written["variantId"], format!("{product}-1"));
        assert_eq!(serde_json::from_value::<OrderLine>(written).unwrap(), order_line, "reads back what it writes");
    }

    #[test]
    fn quantities_and_keys_have_bounds() {
        assert!(Quantity::parse(0).is_err() && Quantity::parse(100).is_err());
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(256)).is_err());
        assert!(IdempotencyKey::parse("tab\there").is_err());
        assert!(IdempotencyKey::parse("order 2026-11-21 #1").is_ok());
    }
}
