//! The cart: product ids and quantities only; prices are always the catalog's current ones.

use super::{App, AppError, Shortage};
use crate::auth::Principal;
use crate::domain::{Cart, Money, Product, ProductId, Quantity, Sku, Timestamp};
use serde::Serialize;
use std::collections::HashMap;

/// A cart line as shown: the product as it is now.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CartLineView {
    pub product_id: ProductId,
    pub sku: Sku,
    pub name: String,
    pub unit_price_cents: Money,
    pub quantity: Quantity,
    pub line_total_cents: Money,
    /// False when the product was archived, or has less stock than this line, since it was added.
    pub available: bool,
}

/// The cart as shown. `subtotalCents` counts the available lines.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CartView {
    pub items: Vec<CartLineView>,
    pub subtotal_cents: Money,
    pub currency: crate::domain::Currency,
    pub updated_at: Option<Timestamp>,
}

/// The cart's lines with their products (as read now, consistently), in cart order.
pub(crate) async fn with_products(app: &App, cart: &Cart) -> Result<Vec<(Quantity, Product)>, AppError> {
    let ids: Vec<ProductId> = cart.lines.iter().map(|l| l.product_id).collect();
    let products: HashMap<ProductId, Product> =
        app.store.products(&ids, true).await?.into_iter().map(|p| (p.id, p)).collect();
    Ok(cart.lines.iter().filter_map(|l| products.get(&l.product_id).map(|p| (l.quantity, p.clone()))).collect())
}

async fn view(app: &App, cart: &Cart) -> Result<CartView, AppError> {
    let items: Vec<CartLineView> = with_products(app, cart)
        .await?
        .into_iter()
        .map(|(quantity, p)| CartLineView {
            product_id: p.id,
            sku: p.sku.clone(),
            name: p.name.as_str().to_owned(),
            unit_price_cents: p.price_cents,
            quantity,
            line_total_cents: p.price_cents.times(quantity.units()),
            available: p.active && p.stock.units() >= quantity.units(),
        })
        .collect();
    let subtotal = items.iter().filter(|l| l.available).map(|l| l.line_total_cents).sum();
    Ok(CartView { items, subtotal_cents: subtotal, currency: app.config.currency.clone(), updated_at: cart.updated_at })
}

pub async fn get(app: &App, who: &Principal) -> Result<CartView, AppError> {
    let cart = app.store.cart(who.user_id).await?;
    view(app, &cart).await
}

/// Changes the cart with `change` (which says whether it changed anything), re-reading and
/// retrying if another change got in first. Nothing is written when nothing changes.
async fn change(
    app: &App,
    who: &Principal,
    change: impl Fn(&mut Cart) -> Result<bool, AppError>,
) -> Result<CartView, AppError> {
    for _ in 0..super::MAX_DECISIONS {
        let mut cart = app.store.cart(who.user_id).await?;
        if !change(&mut cart)? {
            return view(app, &cart).await;
        }
        cart.version += 1;
        cart.updated_at = Some(app.clock.now());
        if app.store.save_cart(who.user_id, &cart, app.clock.now()).await? {
            return view(app, &cart).await;
        }
    }
    Err(AppError::Unavailable("the cart kept changing".into()))
}

/// Sets a product's quantity: the product must be on sale and have the stock.
pub async fn put(app: &App, who: &Principal, product_id: ProductId, quantity: Quantity) -> Result<CartView, AppError> {
    let product = super::catalog::product(app, product_id).await?;
    if product.stock.units() < quantity.units() {
        return Err(AppError::InsufficientStock {
            items: vec![Shortage { product_id, requested: quantity.units(), available: product.stock.units() }],
        });
    }
    change(app, who, |cart| cart.set(product_id, quantity).map(|()| true).map_err(|_| AppError::CartFull)).await
}

pub async fn remove(app: &App, who: &Principal, product_id: ProductId) -> Result<CartView, AppError> {
    change(app, who, |cart| Ok(cart.remove(product_id))).await
}

pub async fn clear(app: &App, who: &Principal) -> Result<(), AppError> {
    Ok(app.store.delete_cart(who.user_id).await?)
}
