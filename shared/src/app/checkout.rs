//! Quotes, placing orders (exactly once per idempotency key), and reading orders.

use super::cart::Stocked;
use super::{App, AppError, Shortage, cursor};
use crate::auth::Principal;
use crate::domain::pricing::PricingError;
use crate::domain::{
    Address, Buyer, DiscountCode, DiscountRejection, Email, IdempotencyKey, Money, Order, OrderId, OrderLine,
    OrderStatus, ShippingMethod, Shopper, Totals,
};
use crate::store::{Begun, BuyerLimits, LineCheck, Placing};

/// How many times placing an order prices the cart again because it (or the units of one of
/// its variants) changed in between.
const MAX_CHECKOUT_ROUNDS: usize = 5;

/// What a quote and an order are priced from.
#[derive(Debug, Clone)]
pub struct Checkout {
    /// Where a guest's order emails go (a guest must give one; a customer's go to the account).
    pub email: Option<Email>,
    pub shipping_address: Address,
    pub shipping_method: ShippingMethod,
    pub discount_code: Option<DiscountCode>,
}

/// Everything an order is made of, read and priced.
struct Priced {
    lines: Vec<Stocked>,
    totals: Totals,
    cart_version: i64,
    /// With a code: how many orders of one buyer may use it.
    per_customer_limit: Option<i64>,
}

/// Reads the cart, its products and the discount, checks them, and prices them.
async fn price(app: &App, who: Shopper, checkout: &Checkout) -> Result<Priced, AppError> {
    let cart = app.store.cart(who).await?;
    if cart.is_empty() {
        return Err(AppError::CartEmpty);
    }
    // A cart filled when carts held more: remove some lines first (its order could not commit).
    if cart.lines.len() > crate::domain::Cart::MAX_LINES {
        return Err(AppError::CartFull);
    }
    let lines = super::cart::stocked(app, &cart).await?;
    let short: Vec<Shortage> = lines.iter().filter(|l| !l.covered()).map(Stocked::shortage).collect();
    if !short.is_empty() {
        return Err(AppError::InsufficientStock { items: short });
    }
    let discount = match &checkout.discount_code {
        Some(code) => {
            let discount =
                app.store.discount(code).await?.ok_or(AppError::InvalidDiscount(DiscountRejection::Unknown))?;
            let used = match buyer(who, checkout) {
                Some(buyer) => app.store.discount_uses(buyer, code).await?,
                None => 0,
            };
            Some(discount.terms(used))
        }
        None => None,
    };
    let priced: Vec<(Money, i64)> = lines.iter().map(|l| (l.variant.price_cents, l.quantity.units())).collect();
    let totals = app
        .config
        .pricing
        .price(
            &priced,
            discount.as_ref(),
            checkout.shipping_method,
            &checkout.shipping_address.country,
            &app.config.currency,
            app.clock.now(),
        )
        .map_err(|e| match e {
            PricingError::Discount(reason) => AppError::InvalidDiscount(reason),
            PricingError::UnsupportedCountry => AppError::UnsupportedCountry,
        })?;
    let per_customer_limit = discount.as_ref().map(|d| d.per_customer_limit);
    Ok(Priced { lines, totals, cart_version: cart.version, per_customer_limit })
}

/// Whose limits the checkout counts against: the customer's, or the email a guest gives.
fn buyer(who: Shopper, checkout: &Checkout) -> Option<Buyer<'_>> {
    match (who, &checkout.email) {
        (Shopper::Customer(user), _) => Some(Buyer::Customer(user)),
        (Shopper::Guest(_), Some(email)) => Some(Buyer::Guest(email)),
        (Shopper::Guest(_), None) => None,
    }
}

/// The totals an order placed now would have.
pub async fn quote(app: &App, who: Shopper, checkout: &Checkout) -> Result<Totals, AppError> {
    Ok(price(app, who, checkout).await?.totals)
}

/// What placing an order answered: a new order, the order an earlier request with the same
/// key and body placed (shown as it was placed), or the stored answer of such a request
/// (records of older versions).
pub enum Placed {
    New(Box<Order>),
    Again(Box<Order>),
    Replay { body: String },
}

/// How long a request holds its idempotency key before another may take over.
const LOCK_SECONDS: i64 = 30;

/// Places an order from the caller's cart, once per idempotency key: the same key and
/// `request` (the canonical body) within 24 hours answers with the order the first placed.
/// With Stripe, the order's PaymentIntent is created once it is placed (idempotently on the
/// order's id); if Stripe cannot be reached, the answer is 503 and the same request again
/// answers the order with its payment.
pub async fn place(
    app: &App,
    who: Shopper,
    key: &IdempotencyKey,
    request: &str,
    checkout: &Checkout,
) -> Result<Placed, AppError> {
    Ok(match place_once(app, who, key, request, checkout).await? {
        Placed::New(order) => Placed::New(super::payments::open(app, order).await?),
        Placed::Again(order) => Placed::Again(super::payments::open(app, order).await?),
        replay @ Placed::Replay { .. } => replay,
    })
}

async fn place_once(
    app: &App,
    who: Shopper,
    key: &IdempotencyKey,
    request: &str,
    checkout: &Checkout,
) -> Result<Placed, AppError> {
    let lock = ulid::Ulid::new().to_string();
    let order_id =
        match app.store.begin_idempotent(who, key.as_str(), request, &lock, app.clock.now(), LOCK_SECONDS).await? {
            Begun::Acquired { order_id } => order_id,
            Begun::Placed { request: first, .. }
            | Begun::Answered { request: first, .. }
            | Begun::InProgress { request: first }
                if first != request =>
            {
                return Err(AppError::IdempotencyKeyReused);
            }
            Begun::Placed { order, .. } => return Ok(Placed::Again(Box::new(order.as_placed()))),
            Begun::Answered { body, .. } => return Ok(Placed::Replay { body }),
            Begun::InProgress { .. } => return Err(AppError::RequestInProgress),
        };
    let outcome = place_holding_key(app, who, order_id, checkout).await;
    if outcome.is_err() {
        // The order was not placed: let the client retry with the same key. If even that
        // fails, the lock expires by itself; the client still gets the real reason.
        if let Err(err) = app.store.release_idempotent(who, key.as_str(), &lock).await {
            tracing::warn!(error = %err, "could not release an idempotency key");
        }
    }
    outcome
}

async fn place_holding_key(
    app: &App,
    who: Shopper,
    order_id: OrderId,
    checkout: &Checkout,
) -> Result<Placed, AppError> {
    for round in 0..MAX_CHECKOUT_ROUNDS {
        let priced = price(app, who, checkout).await?;
        let now = app.clock.now();
        let order = Order {
            id: order_id,
            user_id: who.user(),
            email: match who {
                Shopper::Guest(_) => checkout.email.clone(),
                Shopper::Customer(_) => None,
            },
            status: OrderStatus::PendingPayment,
            items: priced
                .lines
                .iter()
                .map(|l| OrderLine {
                    product_id: l.product.id,
                    variant_id: l.variant.id,
                    sku: l.variant.sku.clone(),
                    name: l.product.name.as_str().to_owned(),
                    options: l.variant.options.clone(),
                    image: super::catalog::picture(&l.product, &l.variant, &app.config.images),
                    unit_price_cents: l.variant.price_cents,
                    quantity: l.quantity,
                    line_total_cents: l.variant.price_cents.times(l.quantity.units()),
                    refunded_quantity: 0,
                    returned_quantity: 0,
                    restocked_quantity: 0,
                })
                .collect(),
            totals: priced.totals,
            discount_code: checkout.discount_code.clone(),
            shipping_address: checkout.shipping_address.clone(),
            shipping_method: checkout.shipping_method,
            created_at: now,
            updated_at: now,
            payment_id: None,
            refund_due: false,
            tracking_number: None,
            payment: Some(super::payments::pending(&app.config)),
            payment_issue: None,
            captured_cents: Money::ZERO,
            refunded_cents: Money::ZERO,
            payment_status: crate::domain::PaymentStatus::Unpaid,
            holds_limits: true,
            settlement_version: 0,
            history: vec![crate::domain::HistoryEntry {
                status: OrderStatus::PendingPayment,
                at: now,
                by: match who {
                    Shopper::Customer(user) => crate::domain::Actor::Customer(user),
                    Shopper::Guest(_) => crate::domain::Actor::Guest,
                },
            }],
        };
        let checks: Vec<LineCheck> = priced
            .lines
            .iter()
            .map(|l| LineCheck {
                variant: l.variant.id,
                price: l.variant.price_cents,
                quantity: l.quantity.units(),
                seen_available: l.inventory.available(),
                low_at: l.product.low_stock_threshold,
            })
            .collect();
        let token = format!("{order_id}-{round}");
        // A guest's checkout always has an email (the request is refused without one).
        let buyer = buyer(who, checkout).ok_or_else(|| AppError::Internal("a guest checkout without email".into()))?;
        let limits =
            BuyerLimits { buyer, max_unpaid: app.config.max_unpaid_orders, per_customer: priced.per_customer_limit };
        let placing = Placing {
            order: &order,
            shopper: who,
            lines: &checks,
            discount: checkout.discount_code.as_ref(),
            cart_version: priced.cart_version,
            limits,
            token: &token,
        };
        let placed = app.store.place_order(&placing, now).await?;
        let conflicts = match placed {
            Ok(()) => return Ok(Placed::New(Box::new(order))),
            Err(conflicts) => conflicts,
        };
        if conflicts.already_placed {
            // A request that held this key before placed it (this one took the key over).
            let order = app.store.order(order_id).await?.ok_or(AppError::RequestInProgress)?;
            return Ok(Placed::Again(Box::new(order.as_placed())));
        }
        if !conflicts.insufficient.is_empty() {
            let items = conflicts.insufficient.into_iter().map(Shortage::of).collect();
            return Err(AppError::InsufficientStock { items });
        }
        if conflicts.price_changed {
            return Err(AppError::PriceChanged);
        }
        if conflicts.too_many_unpaid {
            return Err(AppError::TooManyUnpaidOrders { limit: app.config.max_unpaid_orders });
        }
        if conflicts.discount_used {
            return Err(AppError::InvalidDiscount(DiscountRejection::AlreadyUsed));
        }
        if conflicts.discount_refused {
            // Read it again to say why (most often: used up by parallel orders).
            let reason = match &checkout.discount_code {
                Some(code) => match app.store.discount(code).await? {
                    Some(d) => {
                        d.terms(0).amount(priced_subtotal(&order), now).err().unwrap_or(DiscountRejection::Exhausted)
                    }
                    None => DiscountRejection::Unknown,
                },
                None => DiscountRejection::Unknown,
            };
            return Err(AppError::InvalidDiscount(reason));
        }
        // Only the cart, or the units of a variant, changed since it was read: price it again.
    }
    Err(AppError::Unavailable("the cart kept changing during checkout".into()))
}

fn priced_subtotal(order: &Order) -> Money {
    order.totals.subtotal_cents
}

/// The caller's orders, newest first.
pub async fn orders(
    app: &App,
    who: &Principal,
    limit: usize,
    cursor_text: Option<&str>,
) -> Result<(Vec<Order>, Option<String>), AppError> {
    let fingerprint = format!("orders;{}", who.user_id);
    let after = cursor_text.map(|c| cursor::decode(&app.config.cursor_secret, &fingerprint, c)).transpose()?;
    let page = app.store.orders_of(who.user_id, limit, after.as_ref()).await?.ok_or(AppError::InvalidCursor)?;
    let next = page.next.map(|p| cursor::encode(&app.config.cursor_secret, &fingerprint, &p)).transpose()?;
    Ok((page.items, next))
}

/// One order: the caller's own, or any for an admin. Anyone else's is not found (never 403).
pub async fn order(app: &App, who: &OrderReader, id: OrderId) -> Result<Order, AppError> {
    app.store.order(id).await?.filter(|o| who.may_read(o)).ok_or(AppError::NotFound(crate::app::Resource::Order))
}

/// Who reads or cancels an order: a signed-in user, or a guest holding the order's
/// `X-Order-Token` (checked already: it names this order only).
#[derive(Debug, Clone, Copy)]
pub enum OrderReader {
    User(Principal),
    Guest(OrderId),
}

impl OrderReader {
    pub fn may_read(&self, order: &Order) -> bool {
        match self {
            OrderReader::User(who) => who.is_admin() || order.user_id == Some(who.user_id),
            OrderReader::Guest(id) => *id == order.id && order.user_id.is_none(),
        }
    }
}
