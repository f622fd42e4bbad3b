//! The catalog endpoints: public browsing and the admin API.

use crate::app::catalog::{
    self, Browse, DEFAULT_PAGE, MAX_NEW_VARIANTS, MAX_PAGE, NewProduct, NewVariant, ProductPage, ProductPatch, Shown,
    VariantPatch,
};
use crate::app::{App, AppError, Resource};
use crate::domain::{
    CategorySlug, Choice, DEFAULT_LOW_STOCK_THRESHOLD, Description, ImageId, Invalid, ItemId, MAX_OPTIONS, OptionName,
    OptionValue, Options, ProductId, ProductName, ProductOption, SearchQuery, Sku, Sort, Stock, StockDelta,
    VariantChange, VariantId, parse_low_stock_threshold, parse_price,
};
use crate::http::{self, ApiError, Body, JsonBody, Query, Request, Response};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProductList<'a> {
    items: &'a [catalog::ProductView],
    next_cursor: Option<&'a str>,
}

fn list_body(page: &ProductPage) -> ProductList<'_> {
    ProductList { items: &page.items, next_cursor: page.next_cursor.as_deref() }
}

/// The `{id}` of the path; anything that is not a product id is simply not found.
pub(super) fn product_id(req: &Request) -> Result<ProductId, ApiError> {
    http::path_param(req, "id").and_then(ProductId::parse).ok_or_else(|| AppError::NotFound(Resource::Product).into())
}

/// The `{variantId}` of the path, which must be a variant of the `{id}` product.
fn variant_id(req: &Request) -> Result<VariantId, ApiError> {
    let product = product_id(req)?;
    http::path_param(req, "variantId")
        .and_then(VariantId::parse)
        .filter(|v| v.product() == product)
        .ok_or_else(|| AppError::NotFound(Resource::Variant).into())
}

pub(super) fn if_match(req: &Request) -> Option<String> {
    req.headers().get("if-match").map(|v| v.to_str().unwrap_or("\"\"").to_owned())
}

pub(super) fn shown(status: u16, shown: &Shown) -> Result<Response<Body>, ApiError> {
    http::json_with(status, &shown.view, Some(&shown.etag))
}

/// `[{name, values}]`: a product's options.
fn parse_options(value: Value) -> Result<Options, Invalid> {
    let shape = || Invalid::new(format!("must be an array of at most {MAX_OPTIONS} {{name, values}} objects"));
    let Value::Array(items) = value else { return Err(shape()) };
    let mut options = Vec::with_capacity(items.len());
    for item in items {
        let Value::Object(mut fields) = item else { return Err(shape()) };
        let name = match fields.remove("name") {
            Some(Value::String(name)) => OptionName::parse(&name).map_err(|e| Invalid::new(format!("name {}", e.0)))?,
            _ => return Err(Invalid::new("each option needs a name (a string)")),
        };
        let values = match fields.remove("values") {
            Some(Value::Array(values)) => values
                .iter()
                .map(|v| match v {
                    Value::String(v) => {
                        OptionValue::parse(v).map_err(|e| Invalid::new(format!("a value of {name} {}", e.0)))
                    }
                    _ => Err(Invalid::new(format!("the values of {name} must be strings"))),
                })
                .collect::<Result<Vec<_>, _>>()?,
            _ => return Err(Invalid::new(format!("option {name} needs values (an array of strings)"))),
        };
        if let Some(extra) = fields.keys().next() {
            return Err(Invalid::new(format!("{extra} is not a field of an option")));
        }
        options.push(ProductOption { name, values });
    }
    Options::parse(options)
}

/// `{"Size": "M", "Colour": "Red"}`: the option values of a variant.
fn parse_choice(value: Value) -> Result<Choice, Invalid> {
    let Value::Object(fields) = value else {
        return Err(Invalid::new("must be an object of option name to value, such as {\"Size\": \"M\"}"));
    };
    let mut choice = BTreeMap::new();
    for (name, value) in fields {
        let name = OptionName::parse(&name)?;
        let Value::String(value) = value else {
            return Err(Invalid::new(format!("the value of {name} must be a string")));
        };
        choice.insert(name, OptionValue::parse(&value)?);
    }
    Ok(Choice::new(choice))
}

/// The fields of a new variant, from `body`.
fn new_variant(body: &mut JsonBody) -> Option<NewVariant> {
    let sku = body.string("sku", Sku::parse);
    let options = body.optional_value("options", parse_choice).unwrap_or_default();
    let price_cents = body.integer("priceCents", parse_price);
    let stock = body.optional_integer("stock", Stock::parse).or(Stock::parse(0).ok());
    let active = body.optional_bool("active").unwrap_or(true);
    let image_id = body.optional_value("imageId", parse_image_ref).flatten();
    Some(NewVariant { sku: sku?, options, price_cents: price_cents?, stock: stock?, active, image_id })
}

/// A variant's `imageId`: one of the product's images, or `null` for none.
fn parse_image_ref(value: Value) -> Result<Option<ImageId>, Invalid> {
    match value {
        Value::Null => Ok(None),
        Value::String(raw) => ImageId::parse(&raw).map(Some).ok_or_else(|| Invalid::new("is not an image id")),
        _ => Err(Invalid::new("must be an image id or null")),
    }
}

/// `true` or `false`.
fn parse_flag(raw: &str) -> Result<bool, Invalid> {
    match raw {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(Invalid::new("must be true or false")),
    }
}

/// `GET /products?category=&q=&sort=&inStock=&limit=&cursor=`: active products, newest first
/// or by price.
pub async fn list_products(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let mut query = Query::new(&req);
    let category = query.parse("category", CategorySlug::parse);
    let search = query.parse("q", SearchQuery::parse).flatten();
    let sort = query.parse("sort", Sort::parse).unwrap_or_default();
    let in_stock = query.parse("inStock", parse_flag).unwrap_or(false);
    let limit = query.limit(DEFAULT_PAGE, MAX_PAGE);
    let cursor = query.raw("cursor").map(str::to_owned);
    query.finish()?;
    let page = catalog::browse(app, Browse { category, search, sort, in_stock, limit, cursor }).await?;
    http::cacheable_json(&req, &list_body(&page), None)
}

/// `GET /products/{id}`: an active product.
pub async fn get_product(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let product = catalog::product(app, product_id(&req)?).await?;
    http::cacheable_json(&req, &product.view, Some(product.etag))
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

/// `POST /products` (admin) → 201 product. Either `sku`, `priceCents` and `stock` (a product
/// sold one way) or `options` and `variants`.
pub async fn create_product(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    http::require_admin(app, &req).await?;
    let mut body = JsonBody::parse(&req)?;
    let one_way = !body.has("variants");
    // Read in the order of the fields of a product sold one way, so its errors come in that order.
    let sku = one_way.then(|| body.string("sku", Sku::parse)).flatten();
    let name = body.string("name", ProductName::parse);
    let description = body.optional_string("description", Description::parse).unwrap_or_default();
    let price_cents = one_way.then(|| body.integer("priceCents", parse_price)).flatten();
    let category = body.string("category", CategorySlug::parse);
    let stock = one_way.then(|| body.integer("stock", Stock::parse)).flatten();
    let active = body.optional_bool("active").unwrap_or(true);
    let options = body.optional_value("options", parse_options).unwrap_or_default();
    let low_stock_threshold = body.optional_integer("lowStockThreshold", parse_low_stock_threshold);
    let variants = if one_way {
        if !options.is_empty() {
            body.invalid("variants", Invalid::new("a product with options needs its variants"));
        }
        match (sku, price_cents, stock) {
            (Some(sku), Some(price_cents), Some(stock)) => Some(vec![NewVariant {
                sku,
                options: Choice::default(),
                price_cents,
                stock,
                active: true,
                image_id: None,
            }]),
            _ => None,
        }
    } else {
        for field in ["sku", "priceCents", "stock"] {
            if body.take(field).is_some() {
                body.invalid(field, Invalid::new("give it on each variant when the body has variants"));
            }
        }
        body.optional_objects("variants", MAX_NEW_VARIANTS, new_variant)
    };
    let (name, category, variants) = body.finish((name, category, variants))?;
    let low_stock_threshold = low_stock_threshold.unwrap_or(DEFAULT_LOW_STOCK_THRESHOLD);
    let new = NewProduct { name, description, category, active, options, variants, low_stock_threshold };
    shown(201, &catalog::create(app, new).await?)
}

/// `PATCH /products/{id}` (admin), optionally `If-Match: <etag>` → 200 product.
pub async fn update_product(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    http::require_admin(app, &req).await?;
    let id = product_id(&req)?;
    let mut body = JsonBody::parse(&req)?;
    let patch = ProductPatch {
        name: body.optional_string("name", ProductName::parse),
        description: body.optional_string("description", Description::parse),
        category: body.optional_string("category", CategorySlug::parse),
        active: body.optional_bool("active"),
        options: body.optional_value("options", parse_options),
        sku: body.optional_string("sku", Sku::parse),
        price_cents: body.optional_integer("priceCents", parse_price),
        stock: body.optional_integer("stock", Stock::parse),
        low_stock_threshold: body.optional_integer("lowStockThreshold", parse_low_stock_threshold),
    };
    body.finish(())?;
    shown(200, &catalog::update(app, id, patch, if_match(&req).as_deref()).await?)
}

/// `DELETE /products/{id}` (admin) → 204: archives it.
pub async fn archive_product(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    http::require_admin(app, &req).await?;
    catalog::archive(app, product_id(&req)?).await?;
    http::no_content()
}

/// `POST /products/{id}/stock` `{delta}` (admin) → 200 product: a product sold one way.
pub async fn adjust_stock(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    http::require_admin(app, &req).await?;
    let id = product_id(&req)?;
    stock_delta(app, req, ItemId::Product(id)).await
}

async fn stock_delta(app: &App, req: Request, item: ItemId) -> Result<Response<Body>, ApiError> {
    let mut body = JsonBody::parse(&req)?;
    let delta = body.integer("delta", StockDelta::parse);
    let (delta,) = body.finish((delta,))?;
    shown(200, &catalog::adjust_stock(app, item, delta).await?)
}

/// `POST /products/{id}/variants` (admin), optionally `If-Match` → 201 product.
pub async fn create_variant(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    http::require_admin(app, &req).await?;
    let id = product_id(&req)?;
    let mut body = JsonBody::parse(&req)?;
    let new = new_variant(&mut body);
    let (new,) = body.finish((new,))?;
    shown(201, &catalog::add_variant(app, id, new, if_match(&req).as_deref()).await?)
}

/// `PATCH /products/{id}/variants/{variantId}` (admin), optionally `If-Match` → 200 product.
pub async fn update_variant(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    http::require_admin(app, &req).await?;
    let variant = variant_id(&req)?;
    let mut body = JsonBody::parse(&req)?;
    let change = VariantChange {
        sku: body.optional_string("sku", Sku::parse),
        options: body.optional_value("options", parse_choice),
        price_cents: body.optional_integer("priceCents", parse_price),
        active: body.optional_bool("active"),
        image_id: body.optional_value("imageId", parse_image_ref),
    };
    let on_hand = body.optional_integer("onHand", Stock::parse);
    body.finish(())?;
    shown(
        200,
        &catalog::update_variant(app, variant, VariantPatch { change, on_hand }, if_match(&req).as_deref()).await?,
    )
}

/// `DELETE /products/{id}/variants/{variantId}` (admin), optionally `If-Match` → 204: archives it.
pub async fn archive_variant(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    http::require_admin(app, &req).await?;
    let variant = variant_id(&req)?;
    catalog::archive_variant(app, variant, if_match(&req).as_deref()).await?;
    http::no_content()
}

/// `POST /products/{id}/variants/{variantId}/stock` `{delta}` (admin) → 200 product.
pub async fn adjust_variant_stock(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    http::require_admin(app, &req).await?;
    let variant = variant_id(&req)?;
    stock_delta(app, req, ItemId::Variant(variant)).await
}

/// `GET /admin/products/{id}` (admin): any product, archived too.
pub async fn admin_get_product(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    http::require_admin(app, &req).await?;
    shown(200, &catalog::any_product(app, product_id(&req)?).await?)
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
