//! The catalog: browse, search and manage products and their variants; category counts; stock.

use super::{App, AppError, FieldError, Resource, Shortage, cursor};
use crate::config::ImageSettings;
use crate::domain::{AltText, Image, ImageId};
use crate::domain::{
    CategorySlug, ChangeRefused, Choice, Currency, Description, Event, EventType, Inventory, ItemId, Listing, LowStock,
    Money, Options, PriceRange, Product, ProductChange, ProductId, ProductName, SearchQuery, Sku, Sort, Stock,
    StockDelta, Timestamp, Unresolved, Variant, VariantChange, VariantId, VariantRule,
};
use crate::store::{Listed, Page, ShelfChange, StockOutcome, Stocked, WriteOutcome};
use serde::Serialize;

pub const DEFAULT_PAGE: usize = 20;
pub const MAX_PAGE: usize = 100;

/// At most this many variants come with a new product (one transaction writes them all);
/// more are added one by one, up to [`crate::domain::MAX_VARIANTS`].
pub const MAX_NEW_VARIANTS: usize = 30;

/// What a shopper asks of `GET /products`.
#[derive(Debug, Clone, Default)]
pub struct Browse {
    pub category: Option<CategorySlug>,
    pub search: Option<SearchQuery>,
    pub sort: Sort,
    /// Only products with an active variant that has units available.
    pub in_stock: bool,
    pub limit: usize,
    pub cursor: Option<String>,
}

/// Who a product is shown to: shoppers see variants on sale and what is available; admins
/// see every variant with its shelf and reserved counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Shopper,
    Admin,
}

/// A variant as shown.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VariantView {
    pub id: VariantId,
    pub sku: Sku,
    pub options: Choice,
    pub price_cents: Money,
    /// Units a shopper can buy now (never below zero); absent in listings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stock: Option<i64>,
    pub in_stock: bool,
    pub active: bool,
    /// Admins: the units on the shelf, promised to open orders, and the difference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_hand: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reserved: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub available: Option<i64>,
    /// The product image that shows this variant, if one does.
    pub image_id: Option<ImageId>,
}

/// An image as shown: where the CDN serves it, and what it is.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageView {
    pub id: ImageId,
    pub url: String,
    pub alt: AltText,
    pub width: u32,
    pub height: u32,
}

impl ImageView {
    pub fn of(product: ProductId, image: &Image, settings: &ImageSettings) -> Self {
        Self {
            id: image.id,
            url: settings.url(&crate::store::image_path(product, image)),
            alt: image.alt.clone(),
            width: image.width,
            height: image.height,
        }
    }
}

/// The URL of the picture that shows a variant: its own image, else the product's first.
pub fn picture(product: &Product, variant: &Variant, settings: &ImageSettings) -> Option<String> {
    let image =
        variant.image_id.and_then(|id| product.images.iter().find(|i| i.id == id)).or(product.images.first())?;
    Some(settings.url(&crate::store::image_path(product.id, image)))
}

/// A product as shown. `sku`, `priceCents` and `stock` describe the one variant of a product
/// without options; for one with options they are null, the lowest active price and the
/// total available.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductView {
    pub id: ProductId,
    pub sku: Option<Sku>,
    pub name: ProductName,
    pub description: Description,
    pub price_cents: Option<Money>,
    pub currency: Currency,
    pub category: CategorySlug,
    /// Absent in listings (which never carry counts, so that selling does not rewrite them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stock: Option<i64>,
    pub in_stock: bool,
    pub active: bool,
    pub options: Options,
    pub variants: Vec<VariantView>,
    pub images: Vec<ImageView>,
    pub price_range: Option<PriceRange>,
    /// Admins only: where a variant counts as running low.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub low_stock_threshold: Option<i64>,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A product page: the view and its entity tag (which changes with the stock too).
#[derive(Debug, Clone)]
pub struct Shown {
    pub view: ProductView,
    pub etag: String,
}

fn show(
    product: &Product,
    settings: &ImageSettings,
    audience: Audience,
    stock: impl Fn(&Variant) -> Option<Inventory>,
    in_stock: impl Fn(&Variant) -> bool,
) -> ProductView {
    let admin = audience == Audience::Admin;
    let variants: Vec<VariantView> = product
        .variants
        .iter()
        .filter(|v| admin || v.active)
        .map(|v| {
            let inventory = stock(v);
            VariantView {
                id: v.id,
                sku: v.sku.clone(),
                options: v.options.clone(),
                price_cents: v.price_cents,
                stock: inventory.map(|i| if v.active { i.shown() } else { 0 }),
                in_stock: v.active && in_stock(v),
                active: v.active,
                on_hand: inventory.filter(|_| admin).map(|i| i.on_hand),
                reserved: inventory.filter(|_| admin).map(|i| i.reserved),
                available: inventory.filter(|_| admin).map(|i| i.available()),
                image_id: v.image_id,
            }
        })
        .collect();
    let single = product.single();
    let price_range = product.price_range();
    let on_sale = || variants.iter().filter(|v| v.active);
    let total = on_sale().map(|v| v.stock).sum::<Option<i64>>();
    ProductView {
        id: product.id,
        sku: single.map(|v| v.sku.clone()),
        name: product.name.clone(),
        description: product.description.clone(),
        price_cents: single.map(|v| v.price_cents).or(price_range.map(|r| r.min_cents)),
        currency: product.currency.clone(),
        category: product.category.clone(),
        stock: total,
        in_stock: on_sale().any(|v| v.in_stock),
        active: product.active,
        options: product.options.clone(),
        variants,
        images: product.images.iter().map(|i| ImageView::of(product.id, i, settings)).collect(),
        price_range,
        low_stock_threshold: admin.then_some(product.low_stock_threshold),
        version: product.version,
        created_at: product.created_at,
        updated_at: product.updated_at,
    }
}

/// A product with its stock, for `audience`.
pub fn shown(stocked: &Stocked, settings: &ImageSettings, audience: Audience) -> Shown {
    let (stock, in_stock) =
        (|v: &Variant| Some(stocked.inventory(v.id)), |v: &Variant| stocked.inventory(v.id).in_stock());
    let view = show(&stocked.product, settings, audience, stock, in_stock);
    Shown { view, etag: stocked.etag() }
}

/// A product as a listing shows it.
pub fn summary(listed: &Listed, settings: &ImageSettings, audience: Audience) -> ProductView {
    show(&listed.product, settings, audience, |_| None, |v| listed.in_stock.contains(&v.id))
}

/// The event of a product change: the product as admins' listings show it (no counts, which
/// sales change without an event of the product's own).
fn product_event(app: &App, kind: EventType, listed: &Listed) -> Event {
    let view = summary(listed, &app.config.images, Audience::Admin);
    Event::product(kind, listed.product.id, view, listed.product.updated_at)
}

/// A page of products and the cursor of the next one.
#[derive(Debug)]
pub struct ProductPage {
    pub items: Vec<ProductView>,
    pub next_cursor: Option<String>,
}

/// A category with active products.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Category {
    pub slug: CategorySlug,
    pub name: String,
    pub product_count: i64,
}

/// A variant as an admin describes it.
#[derive(Debug, Clone)]
pub struct NewVariant {
    pub sku: Sku,
    pub options: Choice,
    pub price_cents: Money,
    /// Units on the shelf to begin with.
    pub stock: Stock,
    pub active: bool,
    /// One of the product's images (a new product has none yet).
    pub image_id: Option<crate::domain::ImageId>,
}

/// A new product, as an admin describes it: options and 1 to [`MAX_NEW_VARIANTS`] variants
/// (a product without options has exactly one).
#[derive(Debug)]
pub struct NewProduct {
    pub name: ProductName,
    pub description: Description,
    pub category: CategorySlug,
    pub active: bool,
    pub options: Options,
    pub variants: Vec<NewVariant>,
    pub low_stock_threshold: i64,
}

fn not_found() -> AppError {
    AppError::NotFound(Resource::Product)
}

/// The error a broken variant rule answers; `field` names where in the request it lies.
fn refused(rule: VariantRule, field: &str) -> AppError {
    match rule {
        VariantRule::Mismatch(invalid) => AppError::Validation(vec![FieldError::new(field, invalid.0)]),
        VariantRule::Exists(variant_id) => AppError::VariantExists { variant_id },
        VariantRule::SkuTwice => AppError::SkuTaken,
        VariantRule::TooMany => AppError::Validation(vec![FieldError::new(
            "variants",
            format!("a product has at most {} variants", crate::domain::MAX_VARIANTS),
        )]),
    }
}

fn page_result(
    app: &App,
    fingerprint: &str,
    page: Option<Page<Listed>>,
    audience: Audience,
) -> Result<ProductPage, AppError> {
    let page = page.ok_or(AppError::InvalidCursor)?;
    let next_cursor = page.next.map(|p| cursor::encode(&app.config.cursor_secret, fingerprint, &p)).transpose()?;
    Ok(ProductPage {
        items: page.items.iter().map(|l| summary(l, &app.config.images, audience)).collect(),
        next_cursor,
    })
}

/// Active products, newest first or by price, by category, in stock and/or word-prefix search.
/// A search sorted by price filters the price listing (the word index is by creation).
pub async fn browse(app: &App, browse: Browse) -> Result<ProductPage, AppError> {
    let fingerprint = format!(
        "products;category={};q={};sort={};inStock={}",
        browse.category.as_ref().map_or("", |c| c.as_str()),
        browse.search.as_ref().map(SearchQuery::canonical).unwrap_or_default(),
        browse.sort.as_str(),
        browse.in_stock,
    );
    let after =
        browse.cursor.as_deref().map(|c| cursor::decode(&app.config.cursor_secret, &fingerprint, c)).transpose()?;
    let index_key = browse.search.as_ref().and_then(SearchQuery::index_key).filter(|_| !browse.sort.by_price());
    let page = match (&browse.search, index_key) {
        (Some(search), Some(key)) => {
            let category = browse.category.as_ref();
            app.store.search_products(search, &key, category, browse.in_stock, browse.limit, after.as_ref()).await?
        }
        (search, _) => {
            let listing = browse.category.clone().map_or(Listing::Active, Listing::Category);
            let (sort, in_stock) = (browse.sort, browse.in_stock);
            app.store.list_products(&listing, sort, in_stock, search.as_ref(), browse.limit, after.as_ref()).await?
        }
    };
    page_result(app, &fingerprint, page, Audience::Shopper)
}

/// Every product, archived too, newest first (admins).
pub async fn list_all(app: &App, limit: usize, cursor: Option<String>) -> Result<ProductPage, AppError> {
    let fingerprint = "admin-products";
    let after = cursor.as_deref().map(|c| cursor::decode(&app.config.cursor_secret, fingerprint, c)).transpose()?;
    let page = app.store.list_products(&Listing::All, Sort::Newest, false, None, limit, after.as_ref()).await?;
    page_result(app, fingerprint, page, Audience::Admin)
}

/// An active product with its stock; archived ones are not found.
pub async fn product(app: &App, id: ProductId) -> Result<Shown, AppError> {
    let stocked = app.store.stocked(id).await?.filter(|s| s.product.active).ok_or_else(not_found)?;
    Ok(shown(&stocked, &app.config.images, Audience::Shopper))
}

/// Any product, archived too, with its shelf counts (admins).
pub async fn any_product(app: &App, id: ProductId) -> Result<Shown, AppError> {
    let stocked = app.store.stocked(id).await?.ok_or_else(not_found)?;
    Ok(shown(&stocked, &app.config.images, Audience::Admin))
}

pub async fn categories(app: &App) -> Result<Vec<Category>, AppError> {
    Ok(app
        .store
        .categories()
        .await?
        .into_iter()
        .map(|c| Category { name: c.slug.display_name(), slug: c.slug, product_count: c.product_count })
        .collect())
}

pub async fn create(app: &App, new: NewProduct) -> Result<Shown, AppError> {
    if new.variants.is_empty() || new.variants.len() > MAX_NEW_VARIANTS {
        return Err(AppError::Validation(vec![FieldError::new(
            "variants",
            format!("a new product has 1 to {MAX_NEW_VARIANTS} variants; add more with POST /products/{{id}}/variants"),
        )]));
    }
    if new.options.is_empty() && new.variants.len() > 1 {
        return Err(AppError::Validation(vec![FieldError::new(
            "variants",
            "a product without options has exactly one variant",
        )]));
    }
    if let Some(i) = new.variants.iter().position(|v| v.image_id.is_some()) {
        return Err(AppError::Validation(vec![FieldError::new(
            format!("variants[{i}].imageId"),
            "a new product has no images yet: attach them, then name one on the variant",
        )]));
    }
    let now = app.clock.now();
    let id = ProductId::new();
    let variants: Vec<Variant> = new
        .variants
        .iter()
        .enumerate()
        .map(|(i, v)| Variant {
            id: VariantId::new(id, i as u32 + 1),
            sku: v.sku.clone(),
            options: v.options.clone(),
            price_cents: v.price_cents,
            active: v.active,
            image_id: None,
        })
        .collect();
    for (i, variant) in variants.iter().enumerate() {
        new.options
            .admit(&variant.options)
            .map_err(|e| refused(VariantRule::Mismatch(e), &format!("variants[{i}].options")))?;
    }
    crate::domain::check_variants(&new.options, &variants).map_err(|rule| refused(rule, "variants"))?;
    let product = Product {
        id,
        name: new.name,
        description: new.description,
        currency: app.config.currency.clone(),
        category: new.category,
        active: new.active,
        options: new.options,
        variants,
        images: Vec::new(),
        low_stock_threshold: new.low_stock_threshold,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let on_hand: Vec<i64> = new.variants.iter().map(|v| v.stock.units()).collect();
    let in_stock = product.variants.iter().zip(&on_hand).filter(|(_, units)| **units > 0).map(|(v, _)| v.id).collect();
    let listed = Listed { product, in_stock };
    let created = product_event(app, EventType::ProductCreated, &listed);
    let product = listed.product;
    match app.store.insert_product(&product, &on_hand, &[created]).await? {
        WriteOutcome::Written => any_product(app, id).await,
        WriteOutcome::SkuTaken => Err(AppError::SkuTaken),
        WriteOutcome::Stale => Err(AppError::Internal(format!("product id collision: {id}"))),
    }
}

/// A change to a product as an admin asks for it. `sku`, `price_cents` and `stock` apply to
/// the one variant of a product without options (422 for a product with options).
#[derive(Debug, Clone, Default)]
pub struct ProductPatch {
    pub name: Option<ProductName>,
    pub description: Option<Description>,
    pub category: Option<CategorySlug>,
    pub active: Option<bool>,
    pub options: Option<Options>,
    pub sku: Option<Sku>,
    pub price_cents: Option<Money>,
    /// A shelf count: the units on hand.
    pub stock: Option<Stock>,
    pub low_stock_threshold: Option<i64>,
}

/// A change to a variant as an admin asks for it; `on_hand` is a shelf count.
#[derive(Debug, Clone, Default)]
pub struct VariantPatch {
    pub change: VariantChange,
    pub on_hand: Option<Stock>,
}

/// Applies a change decided from the product as it is (`decide`), one version on. With
/// `if_match` naming versions (ETags), only to one of them: otherwise 412. Without it (or
/// with `*`), the change is decided again from the latest version if another write got in
/// between. `added` is the units on hand of a variant the change adds.
pub(super) async fn edit(
    app: &App,
    id: ProductId,
    if_match: Option<&str>,
    decide: impl Fn(&Product) -> Result<(ProductChange, Option<i64>), AppError>,
) -> Result<Product, AppError> {
    let pinned = if_match.filter(|h| h.trim() != "*");
    for _ in 0..super::MAX_DECISIONS {
        let Listed { product: current, in_stock } = app.store.listed_product(id).await?.ok_or_else(not_found)?;
        if let Some(header) = pinned
            && !current.matches_if_match(header)
        {
            return Err(AppError::VersionMismatch);
        }
        let (change, added) = decide(&current)?;
        let next = match change.apply(&current, app.clock.now()) {
            Ok(Some(next)) => next,
            Ok(None) => {
                // Nothing to change; a repeated archive (or unarchive) still mends stock items
                // that an interrupted one left behind.
                if change.active.is_some() {
                    app.store.sync_sellable(&current).await?;
                }
                return Ok(current);
            }
            Err(ChangeRefused::NoSuchVariant) => return Err(AppError::NotFound(Resource::Variant)),
            Err(ChangeRefused::NoSuchImage(id)) => {
                return Err(AppError::Validation(vec![FieldError::new(
                    "imageId",
                    format!("{id} is not an image of this product"),
                )]));
            }
            Err(ChangeRefused::TooManyImages) => return Err(AppError::TooManyImages),
            // Each request that can break a rule names the options it brings `options`.
            Err(ChangeRefused::Rule(rule)) => return Err(refused(rule, "options")),
        };
        // Off sale before the product says so, on sale only after (see `sync_sellable`).
        let archiving = current.active && !next.active;
        if archiving {
            app.store.sync_sellable(&next).await?;
        }
        let kind = if archiving { EventType::ProductArchived } else { EventType::ProductUpdated };
        let mut listed = Listed { product: next, in_stock };
        if let (Some(units), Some(new)) = (added, listed.product.variants.last())
            && units > 0
            && current.variant(new.id).is_none()
        {
            listed.in_stock.insert(new.id);
        }
        let event = product_event(app, kind, &listed);
        let next = listed.product;
        match app.store.replace_product(&current, &next, added, &[event]).await? {
            WriteOutcome::Written => {
                if next.active && !current.active {
                    app.store.sync_sellable(&next).await?;
                }
                return Ok(next);
            }
            WriteOutcome::SkuTaken => return Err(AppError::SkuTaken),
            WriteOutcome::Stale if pinned.is_some() => {
                // The archive asked for will not happen: the stock items say what the product
                // says again. (Any other failure leaves them off sale, never on; repeating the
                // archive, or an unarchive, mends them.)
                if archiving && let Some(fresh) = app.store.product(id).await? {
                    app.store.sync_sellable(&fresh).await?;
                }
                return Err(AppError::VersionMismatch);
            }
            WriteOutcome::Stale => continue,
        }
    }
    Err(AppError::Unavailable(format!("product {id} kept changing during an update")))
}

fn single_only(field: &str) -> AppError {
    AppError::Validation(vec![FieldError::new(
        field,
        "this product is sold in options; change its variants with /products/{id}/variants/{variantId}",
    )])
}

/// `PATCH /products/{id}`.
pub async fn update(app: &App, id: ProductId, patch: ProductPatch, if_match: Option<&str>) -> Result<Shown, AppError> {
    let product = edit(app, id, if_match, |current| {
        let single = current.single().map(|v| v.id);
        let touches_variant = patch.sku.is_some() || patch.price_cents.is_some();
        let variant = match (touches_variant, single) {
            (false, _) => None,
            (true, Some(only)) => Some((
                only,
                VariantChange { sku: patch.sku.clone(), price_cents: patch.price_cents, ..Default::default() },
            )),
            (true, None) => return Err(single_only(if patch.sku.is_some() { "sku" } else { "priceCents" })),
        };
        if patch.stock.is_some() && single.is_none() {
            return Err(single_only("stock"));
        }
        let change = ProductChange {
            name: patch.name.clone(),
            description: patch.description.clone(),
            category: patch.category.clone(),
            active: patch.active,
            options: patch.options.clone(),
            variant,
            add: None,
            images: None,
            low_stock_threshold: patch.low_stock_threshold,
        };
        Ok((change, None))
    })
    .await?;
    if let (Some(stock), Some(only)) = (patch.stock, product.single()) {
        count(app, &product, only.id, stock).await?;
    }
    any_product(app, id).await
}

/// Archives a product: hidden from shoppers, kept for admins and orders. Archiving an archived
/// product changes nothing.
pub async fn archive(app: &App, id: ProductId) -> Result<(), AppError> {
    edit(app, id, None, |_| Ok((ProductChange { active: Some(false), ..Default::default() }, None))).await.map(|_| ())
}

/// `POST /products/{id}/variants`: a new variant, numbered after the last.
pub async fn add_variant(app: &App, id: ProductId, new: NewVariant, if_match: Option<&str>) -> Result<Shown, AppError> {
    edit(app, id, if_match, |current| {
        if current.options.is_empty() {
            return Err(AppError::Validation(vec![FieldError::new(
                "options",
                "a product sold without options has exactly one variant; sell it in options as a new product with options and variants",
            )]));
        }
        let variant_id = current.next_variant_id().map_err(|rule| refused(rule, "options"))?;
        let variant = Variant {
            id: variant_id,
            sku: new.sku.clone(),
            options: new.options.clone(),
            price_cents: new.price_cents,
            active: new.active,
            image_id: new.image_id,
        };
        Ok((ProductChange { add: Some(variant), ..Default::default() }, Some(new.stock.units())))
    })
    .await?;
    any_product(app, id).await
}

/// `PATCH /products/{id}/variants/{variantId}`.
pub async fn update_variant(
    app: &App,
    variant: VariantId,
    patch: VariantPatch,
    if_match: Option<&str>,
) -> Result<Shown, AppError> {
    let id = variant.product();
    let product = edit(app, id, if_match, |current| {
        current.variant(variant).ok_or(AppError::NotFound(Resource::Variant))?;
        Ok((ProductChange { variant: Some((variant, patch.change.clone())), ..Default::default() }, None))
    })
    .await?;
    if let Some(stock) = patch.on_hand {
        count(app, &product, variant, stock).await?;
    }
    any_product(app, id).await
}

/// `DELETE /products/{id}/variants/{variantId}`: archives it (hidden from shoppers, kept for
/// orders). The last variant on sale of a product cannot be archived this way: archive the product.
pub async fn archive_variant(app: &App, variant: VariantId, if_match: Option<&str>) -> Result<(), AppError> {
    edit(app, variant.product(), if_match, |current| {
        let target = current.variant(variant).ok_or(AppError::NotFound(Resource::Variant))?;
        if target.active && current.variants.iter().filter(|v| v.active).count() == 1 {
            return Err(AppError::Validation(vec![FieldError::new(
                "variantId",
                "this is the product's last variant on sale; archive the product instead",
            )]));
        }
        let change = VariantChange { active: Some(false), ..Default::default() };
        Ok((ProductChange { variant: Some((variant, change)), ..Default::default() }, None))
    })
    .await
    .map(|_| ())
}

/// The variant a cart or stock route names (a product id stands for a product's one variant).
pub async fn resolve(app: &App, item: ItemId) -> Result<(Product, VariantId), AppError> {
    let product = app.store.product(item.product()).await?.ok_or_else(not_found)?;
    let variant = match product.resolve(item) {
        Ok(variant) => variant.id,
        Err(Unresolved::NoSuchVariant) => return Err(AppError::NotFound(Resource::Variant)),
        Err(Unresolved::VariantRequired) => return Err(AppError::VariantRequired),
    };
    Ok((product, variant))
}

async fn shelve(app: &App, product: &Product, variant: VariantId, change: ShelfChange) -> Result<(), AppError> {
    let sku = product.variant(variant).ok_or(AppError::NotFound(Resource::Variant))?.sku.to_string();
    let low = LowStock {
        product_id: product.id,
        variant_id: variant,
        sku,
        name: product.name.as_str().to_owned(),
        threshold: product.low_stock_threshold,
    };
    match app.store.adjust_stock(&low, change, Stock::MAX, app.clock.now()).await? {
        StockOutcome::Adjusted(_) => Ok(()),
        StockOutcome::NotFound => Err(AppError::NotFound(Resource::Variant)),
        StockOutcome::Insufficient { on_hand } => Err(AppError::InsufficientStock {
            items: vec![Shortage {
                product_id: variant.product(),
                variant_id: variant,
                requested: match change {
                    ShelfChange::By(d) => -d,
                    ShelfChange::To(n) => on_hand - n,
                },
                available: on_hand,
            }],
        }),
        StockOutcome::TooMuch { on_hand } => Err(AppError::Validation(vec![FieldError::new(
            "delta",
            format!("would take the units on hand from {on_hand} above {}", Stock::MAX),
        )])),
    }
}

/// Sets a variant's units on hand to a shelf count.
async fn count(app: &App, product: &Product, variant: VariantId, stock: Stock) -> Result<(), AppError> {
    shelve(app, product, variant, ShelfChange::To(stock.units())).await
}

/// `POST /products/{id}/stock` and `POST /products/{id}/variants/{variantId}/stock`: adds
/// `delta` to the units on hand, atomically.
pub async fn adjust_stock(app: &App, item: ItemId, delta: StockDelta) -> Result<Shown, AppError> {
    let (product, variant) = resolve(app, item).await?;
    shelve(app, &product, variant, ShelfChange::By(delta.units())).await?;
    any_product(app, product.id).await
}
