//! The catalog endpoints: public browsing and the admin API.

use crate::app::catalog::{self, Browse, DEFAULT_PAGE, MAX_PAGE, NewProduct, ProductPage};
use crate::app::{App, AppError};
use crate::domain::{
    CategorySlug, Description, Product, ProductChange, ProductId, ProductName, SearchQuery, Sku, Stock, StockDelta,
    parse_price,
};
use crate::http::{self, ApiError, Body, JsonBody, Query, Request, Response};
use serde::Serialize;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProductList<'a> {
    items: &'a [Product],
    next_cursor: Option<&'a str>,
}

fn list_body(page: &ProductPage) -> ProductList<'_> {
    ProductList { items: &page.items, next_cursor: page.next_cursor.as_deref() }
}

/// The `{id}` of the path; anything that is not a product id is simply not found.
fn product_id(req: &Request) -> Result<ProductId, ApiError> {
    http::path_param(req, "id")
        .and_then(ProductId::parse)
        .ok_or_else(|| AppError::NotFound(crate::app::Resource::Product).into())
}

/// `GET /products?category=&q=&limit=&cursor=`: active products, newest first.
pub async fn list_products(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let mut query = Query::new(&req);
    let category = query.parse("category", CategorySlug::parse);
    let search = query.parse("q", SearchQuery::parse).flatten();
    let limit = query.limit(DEFAULT_PAGE, MAX_PAGE);
    let cursor = query.raw("cursor").map(str::to_owned);
    query.finish()?;
    let page = catalog::browse(app, Browse { category, search, limit, cursor }).await?;
    http::cacheable_json(&req, &list_body(&page), None)
}

/// `GET /products/{id}`: an active product.
pub async fn get_product(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let product = catalog::product(app, product_id(&req)?).await?;
    http::cacheable_json(&req, &product, Some(product.etag()))
}

/// `GET /categories`: categories with active products, and how many.
pub async fn list_categories(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    #[derive(Serialize)]
    struct Categories {
        items: Vec<catalog::Category>,
    }
    let items = catalog::categories(app).await?;
    http::cacheable_json(&req, &Categories { items }, None)
}

/// `POST /products` (admin) → 201 product.
pub async fn create_product(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    http::require_admin(app, &req).await?;
    let mut body = JsonBody::parse(&req)?;
    let sku = body.string("sku", Sku::parse);
    let name = body.string("name", ProductName::parse);
    let description = body.optional_string("description", Description::parse).unwrap_or_default();
    let price = body.integer("priceCents", parse_price);
    let category = body.string("category", CategorySlug::parse);
    let stock = body.integer("stock", Stock::parse);
    let active = body.optional_bool("active").unwrap_or(true);
    let (sku, name, price_cents, category, stock) = body.finish((sku, name, price, category, stock))?;
    let product =
        catalog::create(app, NewProduct { sku, name, description, price_cents, category, stock, active }).await?;
    http::json_with(201, &product, Some(&product.etag()))
}

/// `PATCH /products/{id}` (admin), optionally `If-Match: <etag>` → 200 product.
pub async fn update_product(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    http::require_admin(app, &req).await?;
    let id = product_id(&req)?;
    let if_match = req.headers().get("if-match").map(|v| v.to_str().unwrap_or("\"\"").to_owned());
    let mut body = JsonBody::parse(&req)?;
    let change = ProductChange {
        sku: body.optional_string("sku", Sku::parse),
        name: body.optional_string("name", ProductName::parse),
        description: body.optional_string("description", Description::parse),
        price_cents: body.optional_integer("priceCents", parse_price),
        category: body.optional_string("category", CategorySlug::parse),
        stock: body.optional_integer("stock", Stock::parse),
        active: body.optional_bool("active"),
    };
    body.finish(())?;
    let product = catalog::update(app, id, change, if_match.as_deref()).await?;
    http::json_with(200, &product, Some(&product.etag()))
}

/// `DELETE /products/{id}` (admin) → 204: archives it.
pub async fn archive_product(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    http::require_admin(app, &req).await?;
    catalog::archive(app, product_id(&req)?).await?;
    http::no_content()
}

/// `POST /products/{id}/stock` `{delta}` (admin) → 200 product.
pub async fn adjust_stock(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    http::require_admin(app, &req).await?;
    let id = product_id(&req)?;
    let mut body = JsonBody::parse(&req)?;
    let delta = body.integer("delta", StockDelta::parse);
    let (delta,) = body.finish((delta,))?;
    let product = catalog::adjust_stock(app, id, delta).await?;
    http::json_with(200, &product, Some(&product.etag()))
}

/// `GET /admin/products/{id}` (admin): any product, archived too.
pub async fn admin_get_product(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    http::require_admin(app, &req).await?;
    let product = catalog::any_product(app, product_id(&req)?).await?;
    http::json_with(200, &product, Some(&product.etag()))
}

/// `GET /admin/products?limit=&cursor=` (admin): every product, newest first.
pub async fn admin_list_products(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    http::require_admin(app, &req).await?;
    let mut query = Query::new(&req);
    let limit = query.limit(DEFAULT_PAGE, MAX_PAGE);
    let cursor = query.raw("cursor").map(str::to_owned);
    query.finish()?;
    let page = catalog::list_all(app, limit, cursor).await?;
    http::json(200, &list_body(&page))
}
