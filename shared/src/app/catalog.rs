//! The catalog: browse, search and manage products; category counts; stock.

use super::{App, AppError, FieldError, cursor};
use crate::domain::Listing;
use crate::domain::{
    CategorySlug, Description, Money, Product, ProductChange, ProductId, ProductName, SearchQuery, Sku, Stock,
    StockDelta,
};
use crate::store::{Page, StockOutcome, WriteOutcome};

pub const DEFAULT_PAGE: usize = 20;
pub const MAX_PAGE: usize = 100;

/// What a shopper asks of `GET /products`.
#[derive(Debug, Clone, Default)]
pub struct Browse {
    pub category: Option<CategorySlug>,
    pub search: Option<SearchQuery>,
    pub limit: usize,
    pub cursor: Option<String>,
}

/// A page of products and the cursor of the next one.
#[derive(Debug)]
pub struct ProductPage {
    pub items: Vec<Product>,
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

/// A new product, as an admin describes it.
#[derive(Debug)]
pub struct NewProduct {
    pub sku: Sku,
    pub name: ProductName,
    pub description: Description,
    pub price_cents: Money,
    pub category: CategorySlug,
    pub stock: Stock,
    pub active: bool,
}

fn not_found() -> AppError {
    AppError::NotFound(crate::app::Resource::Product)
}

fn page_result(app: &App, fingerprint: &str, page: Option<Page<Product>>) -> Result<ProductPage, AppError> {
    let page = page.ok_or(AppError::InvalidCursor)?;
    let next_cursor = page.next.map(|p| cursor::encode(&app.config.cursor_secret, fingerprint, &p)).transpose()?;
    Ok(ProductPage { items: page.items, next_cursor })
}

/// Active products, newest first, by category and/or word-prefix search.
pub async fn browse(app: &App, browse: Browse) -> Result<ProductPage, AppError> {
    let fingerprint = format!(
        "products;category={};q={}",
        browse.category.as_ref().map_or("", |c| c.as_str()),
        browse.search.as_ref().map(SearchQuery::canonical).unwrap_or_default()
    );
    let after =
        browse.cursor.as_deref().map(|c| cursor::decode(&app.config.cursor_secret, &fingerprint, c)).transpose()?;
    let page = match (&browse.search, browse.search.as_ref().and_then(SearchQuery::index_key)) {
        (Some(search), Some(key)) => {
            app.store.search_products(search, &key, browse.category.as_ref(), browse.limit, after.as_ref()).await?
        }
        (search, _) => {
            let listing = browse.category.clone().map_or(Listing::Active, Listing::Category);
            app.store.list_products(&listing, search.as_ref(), browse.limit, after.as_ref()).await?
        }
    };
    page_result(app, &fingerprint, page)
}

/// Every product, archived too, newest first (admins).
pub async fn list_all(app: &App, limit: usize, cursor: Option<String>) -> Result<ProductPage, AppError> {
    let fingerprint = "admin-products";
    let after = cursor.as_deref().map(|c| cursor::decode(&app.config.cursor_secret, fingerprint, c)).transpose()?;
    let page = app.store.list_products(&Listing::All, None, limit, after.as_ref()).await?;
    page_result(app, fingerprint, page)
}

/// An active product; archived ones are not found.
pub async fn product(app: &App, id: ProductId) -> Result<Product, AppError> {
    app.store.product(id).await?.filter(|p| p.active).ok_or_else(not_found)
}

/// Any product, archived too (admins).
pub async fn any_product(app: &App, id: ProductId) -> Result<Product, AppError> {
    app.store.product(id).await?.ok_or_else(not_found)
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

pub async fn create(app: &App, new: NewProduct) -> Result<Product, AppError> {
    let now = app.clock.now();
    let product = Product {
        id: ProductId::new(),
        sku: new.sku,
        name: new.name,
        description: new.description,
        price_cents: new.price_cents,
        currency: app.config.currency.clone(),
        category: new.category,
        stock: new.stock,
        active: new.active,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    match app.store.insert_product(&product).await? {
        WriteOutcome::Written => Ok(product),
        WriteOutcome::SkuTaken => Err(AppError::SkuTaken),
        WriteOutcome::Stale => Err(AppError::Internal(format!("product id collision: {}", product.id))),
    }
}

/// Applies a change. With `if_match` naming versions (ETags), only to one of them: otherwise
/// 412. Without it (or with `*`), the change is re-applied to the latest version if another
/// write got in between.
pub async fn update(
    app: &App,
    id: ProductId,
    change: ProductChange,
    if_match: Option<&str>,
) -> Result<Product, AppError> {
    let pinned = if_match.filter(|h| h.trim() != "*");
    for _ in 0..super::MAX_DECISIONS {
        let current = any_product(app, id).await?;
        if let Some(header) = pinned
            && !current.matches_if_match(header)
        {
            return Err(AppError::VersionMismatch);
        }
        let Some(next) = change.apply(&current, app.clock.now()) else { return Ok(current) };
        match app.store.replace_product(&current, &next).await? {
            WriteOutcome::Written => return Ok(next),
            WriteOutcome::SkuTaken => return Err(AppError::SkuTaken),
            WriteOutcome::Stale if pinned.is_some() => return Err(AppError::VersionMismatch),
            WriteOutcome::Stale => continue,
        }
    }
    Err(AppError::Unavailable(format!("product {id} kept changing during an update")))
}

/// Archives a product: hidden from shoppers, kept for admins and orders. Archiving an archived
/// product changes nothing.
pub async fn archive(app: &App, id: ProductId) -> Result<(), AppError> {
    update(app, id, ProductChange { active: Some(false), ..Default::default() }, None).await.map(|_| ())
}

pub async fn adjust_stock(app: &App, id: ProductId, delta: StockDelta) -> Result<Product, AppError> {
    match app.store.adjust_stock(id, delta, Stock::MAX, app.clock.now()).await? {
        StockOutcome::Adjusted(product) => Ok(product),
        StockOutcome::NotFound => Err(not_found()),
        StockOutcome::Insufficient { available } => Err(AppError::InsufficientStock {
            items: vec![super::Shortage { product_id: id, requested: -delta.units(), available }],
        }),
        StockOutcome::TooMuch { available } => Err(AppError::Validation(vec![FieldError::new(
            "delta",
            format!("would take stock from {available} above {}", Stock::MAX),
        )])),
    }
}
