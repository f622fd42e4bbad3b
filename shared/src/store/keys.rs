//! Every key of the table: primary keys, index entries and the partitions queries read are
//! built here and nowhere else. docs/data-model.md describes each item they name. (Public for
//! the tests and the benchmark, which read the table directly; the app layer never does.)

use super::item::s;
use super::schema::{GSI1, GSI2, GSI3, IndexSpec, PK, SK};
use crate::domain::{
    Buyer, CategorySlug, ClientKey, DeliveryStatus, Discount, DiscountCode, Email, EventId, Image, ImageId, Listing,
    Order, OrderId, OrderStatus, Product, ProductId, Refund, RefundId, RefundStatus, Return, ReturnId, ReturnStatus,
    SessionId, Shopper, Sku, TokenPurpose, UserId, VariantId, WebhookDelivery, WebhookEndpoint, WebhookId,
};
use std::collections::HashMap;

/// A primary key: `pk` and `sk`.
pub type Key = HashMap<String, aws_sdk_dynamodb::types::AttributeValue>;

fn key(pk: String, sk: &str) -> Key {
    HashMap::from([(PK.into(), s(pk)), (SK.into(), s(sk))])
}

pub fn user(id: UserId) -> Key {
    key(format!("USER#{id}"), "PROFILE")
}

/// The marker that makes an email one account's (and holds its password hash).
pub fn credentials(email: &Email) -> Key {
    key(format!("EMAIL#{email}"), "CREDENTIALS")
}

/// A counter of attempts in a window (see `Store::count_attempt`).
#[derive(Debug, Clone, Copy)]
pub enum Counter<'a> {
    /// Failed sign-ins from one client for one email…
    SignIn(&'a ClientKey, &'a Email),
    /// …and for all emails together.
    SignInsFrom(&'a ClientKey),
    /// Account emails (reset, verification) sent to one address.
    AccountEmails(TokenPurpose, &'a Email),
}

pub fn counter(counter: Counter<'_>) -> Key {
    match counter {
        Counter::SignIn(client, email) => key(format!("LOGIN#{}", client.as_str()), &format!("EMAIL#{email}")),
        Counter::SignInsFrom(client) => key(format!("LOGIN#{}", client.as_str()), "ATTEMPTS"),
        Counter::AccountEmails(purpose, email) => {
            key(format!("EMAIL#{email}"), &format!("EMAILS#{}", purpose.as_str()))
        }
    }
}

/// An emailed account token (verification, reset), by the SHA-256 of its text.
pub fn account_token(purpose: TokenPurpose, hash: &str) -> Key {
    key(format!("TOKEN#{hash}"), &purpose.as_str().to_uppercase())
}

/// A sign-in session; it shares its user's partition.
pub fn session(user: UserId, id: SessionId) -> Key {
    key(format!("USER#{user}"), &format!("{SESSION_PREFIX}{id}"))
}

pub const SESSION_PREFIX: &str = "SESSION#";

/// A refresh token, by the SHA-256 of its text (the token itself is never stored).
pub fn refresh_token(hash: &str) -> Key {
    key(format!("REFRESH#{hash}"), "TOKEN")
}

pub fn product(id: ProductId) -> Key {
    key(product_partition(id), PRODUCT_SK)
}

/// The stock of one variant: in its product's partition, so that the product and the stock
/// of all its variants are one Query.
pub fn stock(variant: VariantId) -> Key {
    key(product_partition(variant.product()), &format!("{STOCK_PREFIX}{:03}", variant.number()))
}

fn product_partition(id: ProductId) -> String {
    format!("PRODUCT#{id}")
}

/// The copy of a product that files it by price in the shop's listings (an item of its own:
/// the product item's index keys file it by creation).
pub fn price_listing(id: ProductId) -> Key {
    key(product_partition(id), PRICE_LISTING_SK)
}

pub const PRICE_LISTING_SK: &str = "LISTING#PRICE";

/// The sort key of the product item; stock items' sort keys begin with [`STOCK_PREFIX`].
pub const PRODUCT_SK: &str = "PRODUCT";
pub const STOCK_PREFIX: &str = "PRODUCT#VARIANT#";

/// The marker that makes a SKU one variant's, whatever its case.
pub fn sku_claim(sku: &Sku) -> Key {
    key(format!("SKU#{}", sku.unique_key()), "SKU")
}

/// The counter of a category's active products.
pub fn category_counter(slug: &CategorySlug) -> Key {
    key(CATEGORIES.into(), slug.as_str())
}

const CATEGORIES: &str = "CATEGORIES";

/// A product's entry under one prefix of its name in the search index.
pub fn search_entry(prefix: &str, product: &Product) -> Key {
    key(format!("SEARCH#{prefix}"), &newest_first(product))
}

/// A shopper's cart: in a customer's partition, or a guest cart's own.
pub fn cart(shopper: Shopper) -> Key {
    match shopper {
        Shopper::Customer(user) => key(format!("USER#{user}"), "CART"),
        Shopper::Guest(guest) => key(format!("GUEST#{guest}"), "CART"),
    }
}

/// What a buyer's orders hold against their limits: unpaid orders, and uses of each discount
/// code. A customer's is in their partition; a guest's is their email's.
pub fn buyer_limits(buyer: Buyer<'_>) -> Key {
    match buyer {
        Buyer::Customer(user) => key(format!("USER#{user}"), "LIMITS"),
        Buyer::Guest(email) => key(format!("EMAIL#{email}"), "LIMITS"),
    }
}

/// The attribute of a buyer's limits item that counts their orders using `code`.
pub fn discount_uses(code: &DiscountCode) -> String {
    format!("uses#{code}")
}

pub fn discount(code: &DiscountCode) -> Key {
    key(format!("DISCOUNT#{code}"), "DISCOUNT")
}

pub fn order(id: OrderId) -> Key {
    key(format!("ORDER#{id}"), "ORDER")
}

/// A refund, in its order's partition.
pub fn refund(order: OrderId, id: RefundId) -> Key {
    key(format!("ORDER#{order}"), &format!("{REFUND_PREFIX}{id}"))
}

pub const REFUND_PREFIX: &str = "REFUND#";

/// The marker that an admin's `Idempotency-Key` made a refund of the order.
pub fn refund_key(order: OrderId, idempotency_key: &str) -> Key {
    key(format!("ORDER#{order}"), &format!("REFUND_KEY#{idempotency_key}"))
}

/// A pending refund's index entry (removed once it is made or has failed): the refunds the
/// settling job retries, oldest first.
pub fn refund_entries(refund: &Refund) -> Vec<(&'static str, String)> {
    if refund.status != RefundStatus::Pending {
        return Vec::new();
    }
    entry(GSI2, PENDING_REFUNDS.into(), format!("{}#{}", refund.created_at, refund.id)).to_vec()
}

const PENDING_REFUNDS: &str = "REFUNDS#pending";

/// A return (its own item: admins change it by its id alone).
pub fn return_item(id: ReturnId) -> Key {
    key(format!("RETURN#{id}"), "RETURN")
}

/// A return's index entries: every return, and its status's, newest first.
pub fn return_entries(item: &Return) -> Vec<(&'static str, String)> {
    let sort = format!("{}#{}", item.created_at, item.id);
    let mut entries = entry(GSI1, "RETURNS".into(), sort.clone()).to_vec();
    entries.extend(entry(GSI2, return_status_entry(item.status).1, sort));
    entries
}

/// The index attribute that files a return under its status (rewritten when it changes).
pub fn return_status_entry(status: ReturnStatus) -> (&'static str, String) {
    (GSI2.partition_key, format!("RETURNS#{}", status.as_str()))
}

pub fn idempotency(shopper: Shopper, idempotency_key: &str) -> Key {
    match shopper {
        Shopper::Customer(user) => key(format!("IDEMPOTENCY#{user}#{idempotency_key}"), "IDEMPOTENCY"),
        Shopper::Guest(guest) => key(format!("IDEMPOTENCY#GUEST-{guest}#{idempotency_key}"), "IDEMPOTENCY"),
    }
}

/// An order filed under its payment's id with the provider (Stripe's PaymentIntent), so the
/// provider's events about the payment find the order.
pub fn payment_lookup(payment_id: &str) -> Key {
    key(format!("PAYMENT#{payment_id}"), "PAYMENT")
}

/// The marker that a payment provider's event was applied.
pub fn payment_event(event_id: &str) -> Key {
    key(format!("PAYMENT_EVENT#{event_id}"), "EVENT")
}

/// The outbox item of one change's events, named by the first.
pub fn outbox(first: EventId) -> Key {
    key(format!("EVENT#{first}"), "EVENT")
}

/// The marker that an event's customer email was claimed (sent, or being sent).
pub fn notification(event: EventId) -> Key {
    key(format!("NOTIFICATION#{event}"), "NOTIFICATION")
}

/// A webhook endpoint; its deliveries share its partition (see [`delivery`]).
pub fn webhook(id: WebhookId) -> Key {
    key(webhook_partition(id), WEBHOOK_SK)
}

/// One event's delivery to one endpoint: one item per pair, so an event is delivered to an
/// endpoint once however often it arrives.
pub fn delivery(webhook: WebhookId, event: EventId) -> Key {
    key(webhook_partition(webhook), &format!("{DELIVERY_PREFIX}{event}"))
}

fn webhook_partition(id: WebhookId) -> String {
    format!("WEBHOOK#{id}")
}

pub const WEBHOOK_SK: &str = "WEBHOOK";
pub const DELIVERY_PREFIX: &str = "DELIVERY#";

/// The index entry that lists an endpoint among all, oldest first.
pub fn webhook_entries(endpoint: &WebhookEndpoint) -> Vec<(&'static str, String)> {
    entry(GSI1, "WEBHOOKS".into(), format!("{}#{}", endpoint.created_at, endpoint.id)).to_vec()
}

/// The index entry that files a pending delivery by when it is due (none once it is done).
pub fn due_entries(delivery: &WebhookDelivery) -> Vec<(&'static str, String)> {
    match (delivery.status, delivery.next_attempt_at) {
        (DeliveryStatus::Pending, Some(at)) => {
            entry(GSI2, DUE.into(), format!("{at}#{}#{}", delivery.webhook_id, delivery.event_id)).to_vec()
        }
        _ => Vec::new(),
    }
}

const DUE: &str = "DELIVERIES#DUE";

/// An image upload that was declared and not yet completed.
pub fn upload(image: ImageId) -> Key {
    key(format!("UPLOAD#{image}"), "UPLOAD")
}

/// Where an upload's bytes land in the image bucket: a prefix nobody reads from outside, and
/// that the bucket's lifecycle rule empties of what is never completed.
pub fn incoming_object(product: ProductId, image: ImageId) -> String {
    format!("{INCOMING_PREFIX}{product}/{image}")
}

pub const INCOMING_PREFIX: &str = "incoming/";

/// Where a verified image is served from (the CDN serves this prefix only).
pub fn image_object(product: ProductId, image: &Image) -> String {
    format!("{IMAGES_PREFIX}{product}/{}.{}", image.id, image.format.extension())
}

pub const IMAGES_PREFIX: &str = "images/";

/// The sort key that lists a product among others, oldest first (queries read it backwards).
fn newest_first(product: &Product) -> String {
    format!("{}#{}", product.created_at, product.id)
}

fn order_sort(order: &Order) -> String {
    format!("{}#{}", order.created_at, order.id)
}

/// An index entry: the index's key attributes and their values.
fn entry(index: IndexSpec, partition: String, sort: String) -> [(&'static str, String); 2] {
    [(index.partition_key, partition), (index.sort_key, sort)]
}

/// The index entries of a product: every product in the admin listing, active ones also in the
/// shop's listing and their category's.
pub fn product_entries(product: &Product) -> Vec<(&'static str, String)> {
    let sort = newest_first(product);
    let mut entries = entry(GSI1, "PRODUCT".into(), sort.clone()).to_vec();
    if product.active {
        entries.extend(entry(GSI2, "ACTIVE".into(), sort.clone()));
        entries.extend(entry(GSI3, format!("CATEGORY#{}", product.category), sort));
    }
    entries
}

/// The index entries of a product's price listing: active products with an active variant, in
/// the shop's listing and their category's, by their lowest price (then by creation).
pub fn price_listing_entries(product: &Product) -> Vec<(&'static str, String)> {
    let Some(range) = product.price_range().filter(|_| product.active) else { return Vec::new() };
    let sort = format!("{:09}#{}", range.min_cents.cents(), newest_first(product));
    let mut entries = entry(GSI2, "ACTIVE#PRICE".into(), sort.clone()).to_vec();
    entries.extend(entry(GSI3, format!("CATEGORY#{}#PRICE", product.category), sort));
    entries
}

pub fn discount_entries(discount: &Discount) -> Vec<(&'static str, String)> {
    entry(GSI1, "DISCOUNTS".into(), discount.code.as_str().to_owned()).to_vec()
}

/// The index entries of an order: its customer's list (a guest's order is in none) and its
/// status's list.
pub fn order_entries(order: &Order) -> Vec<(&'static str, String)> {
    let sort = order_sort(order);
    let mut entries = match order.user_id {
        Some(user) => entry(GSI1, format!("ORDERS#{user}"), sort.clone()).to_vec(),
        None => Vec::new(),
    };
    entries.push(order_status_entry(order.status));
    entries.push((GSI2.sort_key, sort));
    entries
}

/// The index attribute that files an order under `status` (rewritten when the status changes).
pub fn order_status_entry(status: OrderStatus) -> (&'static str, String) {
    (GSI2.partition_key, format!("ORDERS#{}", status.as_str()))
}

/// A partition that queries read: on the table, or on an index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Partition<'a> {
    Products(&'a Listing),
    /// The shop's listing or a category's by lowest price; `true`: cheapest first.
    ByPrice(&'a Listing, bool),
    /// A product and the stock of its variants.
    Product(ProductId),
    /// The search entries of one name prefix.
    Search(&'a str),
    Categories,
    Discounts,
    OrdersOf(UserId),
    /// A user's partition (profile, cart, sessions).
    User(UserId),
    OrdersIn(OrderStatus),
    Webhooks,
    /// An endpoint and its deliveries (by event id: newest first).
    Deliveries(WebhookId),
    /// Pending deliveries by when they are due.
    Due,
    /// An order and its refunds.
    Order(OrderId),
    /// Pending refunds, oldest first.
    PendingRefunds,
    /// Returns (in one status, or all), newest first.
    Returns(Option<ReturnStatus>),
}

/// Where a partition lives: the index (`None`: the table), its key attributes, and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub index: Option<&'static str>,
    pub partition_key: &'static str,
    pub sort_key: &'static str,
    pub value: String,
}

impl Partition<'_> {
    pub fn locate(&self) -> Located {
        let on = |index: IndexSpec, value: String| Located {
            index: Some(index.name),
            partition_key: index.partition_key,
            sort_key: index.sort_key,
            value,
        };
        let table = |value: String| Located { index: None, partition_key: PK, sort_key: SK, value };
        match self {
            Partition::Products(Listing::All) => on(GSI1, "PRODUCT".into()),
            Partition::Products(Listing::Active) => on(GSI2, "ACTIVE".into()),
            Partition::Products(Listing::Category(slug)) => on(GSI3, format!("CATEGORY#{slug}")),
            Partition::Product(id) => table(product_partition(*id)),
            Partition::ByPrice(Listing::Category(slug), _) => on(GSI3, format!("CATEGORY#{slug}#PRICE")),
            Partition::ByPrice(_, _) => on(GSI2, "ACTIVE#PRICE".into()),
            Partition::Search(prefix) => table(format!("SEARCH#{prefix}")),
            Partition::Categories => table(CATEGORIES.into()),
            Partition::Discounts => on(GSI1, "DISCOUNTS".into()),
            Partition::OrdersOf(user) => on(GSI1, format!("ORDERS#{user}")),
            Partition::User(user) => table(format!("USER#{user}")),
            Partition::OrdersIn(status) => on(GSI2, order_status_entry(*status).1),
            Partition::Webhooks => on(GSI1, "WEBHOOKS".into()),
            Partition::Deliveries(id) => table(webhook_partition(*id)),
            Partition::Due => on(GSI2, DUE.into()),
            Partition::Order(id) => table(format!("ORDER#{id}")),
            Partition::PendingRefunds => on(GSI2, PENDING_REFUNDS.into()),
            Partition::Returns(None) => on(GSI1, "RETURNS".into()),
            Partition::Returns(Some(status)) => on(GSI2, return_status_entry(*status).1),
        }
    }

    /// Whether a query reads it in key order (most read newest, or dearest, first).
    pub fn forward(&self) -> bool {
        matches!(
            self,
            Partition::ByPrice(_, true)
                | Partition::Webhooks
                | Partition::Due
                | Partition::Order(_)
                | Partition::PendingRefunds
        )
    }

    /// The key attributes a position in this partition is made of.
    pub fn position_keys(&self) -> Vec<&'static str> {
        let located = self.locate();
        if located.index.is_some() { vec![PK, SK, located.partition_key, located.sort_key] } else { vec![PK, SK] }
    }
}
