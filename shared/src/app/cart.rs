//! The cart: variant ids and quantities only; prices are always the catalog's current ones.

use super::{App, AppError, Shortage};
use crate::domain::{
    Capped, Cart, CartLine, Choice, GuestId, Inventory, ItemId, Money, Product, ProductId, Quantity, Shopper, Sku,
    Timestamp, UserId, Variant, VariantId,
};
use serde::Serialize;

/// A cart line as shown: the variant as it is now.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CartLineView {
    pub product_id: ProductId,
    pub variant_id: VariantId,
    pub sku: Sku,
    pub name: String,
    pub options: Choice,
    /// The URL of the variant's picture (its own image, else its product's first), if any.
    pub image: Option<String>,
    pub unit_price_cents: Money,
    pub quantity: Quantity,
    pub line_total_cents: Money,
    /// False when the variant or its product was archived, or has fewer units available
    /// than this line, since it was added.
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

/// A cart line with its variant and that variant's units, as read now.
#[derive(Debug, Clone)]
pub(crate) struct Stocked {
    pub quantity: Quantity,
    pub product: Product,
    pub variant: Variant,
    pub inventory: Inventory,
}

impl Stocked {
    pub fn on_sale(&self) -> bool {
        self.product.sells(&self.variant)
    }

    /// The units a shopper can have now (0 when off sale).
    pub fn available(&self) -> i64 {
        if self.on_sale() { self.inventory.shown() } else { 0 }
    }

    pub fn covered(&self) -> bool {
        self.available() >= self.quantity.units()
    }

    pub fn shortage(&self) -> Shortage {
        Shortage {
            product_id: self.product.id,
            variant_id: self.variant.id,
            requested: self.quantity.units(),
            available: self.available(),
        }
    }
}

/// The cart's lines with their variants and stock (read now, consistently, in one call), in
/// cart order; lines whose variant no longer exists are left out.
pub(crate) async fn stocked(app: &App, cart: &Cart) -> Result<Vec<Stocked>, AppError> {
    let ids: Vec<VariantId> = cart.lines.iter().map(|l| l.variant_id).collect();
    let shelf = app.store.shelf(&ids).await?;
    Ok(cart
        .lines
        .iter()
        .filter_map(|l: &CartLine| {
            let product = shelf.products.get(&l.product_id)?;
            let variant = product.variant(l.variant_id)?;
            let inventory = shelf.stock.get(&l.variant_id).map(|s| s.inventory).unwrap_or_default();
            Some(Stocked { quantity: l.quantity, product: product.clone(), variant: variant.clone(), inventory })
        })
        .collect())
}

async fn view(app: &App, cart: &Cart) -> Result<CartView, AppError> {
    let items: Vec<CartLineView> = stocked(app, cart)
        .await?
        .into_iter()
        .map(|line| CartLineView {
            available: line.covered(),
            product_id: line.product.id,
            variant_id: line.variant.id,
            sku: line.variant.sku.clone(),
            name: line.product.name.as_str().to_owned(),
            options: line.variant.options.clone(),
            image: super::catalog::picture(&line.product, &line.variant, &app.config.images),
            unit_price_cents: line.variant.price_cents,
            quantity: line.quantity,
            line_total_cents: line.variant.price_cents.times(line.quantity.units()),
        })
        .collect();
    let subtotal = items.iter().filter(|l| l.available).map(|l| l.line_total_cents).sum();
    Ok(CartView { items, subtotal_cents: subtotal, currency: app.config.currency.clone(), updated_at: cart.updated_at })
}

pub async fn get(app: &App, who: Shopper) -> Result<CartView, AppError> {
    let cart = app.store.cart(who).await?;
    view(app, &cart).await
}

/// Changes the cart with `change` (which says whether it changed anything), re-reading and
/// retrying if another change got in first. Nothing is written when nothing changes.
async fn change(
    app: &App,
    who: Shopper,
    change: impl Fn(&mut Cart) -> Result<bool, AppError>,
) -> Result<CartView, AppError> {
    for _ in 0..super::MAX_DECISIONS {
        let mut cart = app.store.cart(who).await?;
        if !change(&mut cart)? {
            return view(app, &cart).await;
        }
        cart.version += 1;
        cart.updated_at = Some(app.clock.now());
        if app.store.save_cart(who, &cart, app.clock.now()).await? {
            return view(app, &cart).await;
        }
    }
    Err(AppError::Unavailable("the cart kept changing".into()))
}

/// Sets a variant's quantity: it must be on sale and have the units available.
pub async fn put(app: &App, who: Shopper, item: ItemId, quantity: Quantity) -> Result<CartView, AppError> {
    let (product, variant_id) = super::catalog::resolve(app, item).await?;
    if !product.active {
        return Err(AppError::NotFound(super::Resource::Product));
    }
    let variant = product
        .variant(variant_id)
        .filter(|v| v.active)
        .cloned()
        .ok_or(AppError::NotFound(super::Resource::Variant))?;
    let shelf = app.store.shelf(&[variant_id]).await?;
    let inventory = shelf.stock.get(&variant_id).map(|s| s.inventory).unwrap_or_default();
    let line = Stocked { quantity, product, variant, inventory };
    if !line.covered() {
        return Err(AppError::InsufficientStock { items: vec![line.shortage()] });
    }
    change(app, who, |cart| cart.set(variant_id, quantity).map(|()| true).map_err(|_| AppError::CartFull)).await
}

pub async fn remove(app: &App, who: Shopper, item: ItemId) -> Result<CartView, AppError> {
    let variant = match item {
        ItemId::Variant(id) => id,
        ItemId::Product(_) => super::catalog::resolve(app, item).await?.1,
    };
    change(app, who, |cart| Ok(cart.remove(variant))).await
}

pub async fn clear(app: &App, who: Shopper) -> Result<(), AppError> {
    Ok(app.store.delete_cart(who).await?)
}

/// What signing in with a guest cart did to the customer's cart.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Merged {
    /// How many of the guest cart's lines were taken in (whole or in part).
    pub lines: usize,
    /// The lines the merged cart could not take whole (capped at 99, at the units available,
    /// or left out of a full cart).
    pub capped: Vec<Capped>,
}

/// Moves a guest's cart into the customer's: quantities of the same variant add up, capped by
/// the cart's limits and by stock, and the guest cart is then gone, in one transaction. Merging
/// again (a retried sign-in) finds the guest cart gone and changes nothing.
pub async fn merge(app: &App, guest: GuestId, customer: UserId) -> Result<Merged, AppError> {
    for _ in 0..super::MAX_DECISIONS {
        let (theirs, mine) =
            tokio::join!(app.store.cart(Shopper::Guest(guest)), app.store.cart(Shopper::Customer(customer)));
        let (theirs, mine) = (theirs?, mine?);
        if theirs.is_empty() {
            return Ok(Merged { lines: 0, capped: Vec::new() });
        }
        let available: std::collections::HashMap<VariantId, i64> =
            stocked(app, &theirs).await?.iter().map(|l| (l.variant.id, l.available())).collect();
        let (mut merged, capped) = mine.merged(&theirs, |v| available.get(&v).copied().unwrap_or(0));
        let now = app.clock.now();
        merged.version = mine.version + 1;
        merged.updated_at = Some(now);
        let left_out = capped.iter().filter(|c| c.quantity == 0).count();
        if app.store.merge_carts(customer, &merged, guest, theirs.version, now).await? {
            return Ok(Merged { lines: theirs.lines.len() - left_out, capped });
        }
    }
    Err(AppError::Unavailable("the carts kept changing".into()))
}
