//! The cart: a customer's own or a guest's (`X-Cart-Token`), priced at the catalog's current
//! prices; `POST /carts` makes a guest cart.

use crate::app::{App, AppError, cart};
use crate::domain::{ItemId, Quantity};
use crate::http::{self, ApiError, Body, JsonBody, Request, Response};

/// The `{itemId}` of the path: a variant id, or a product id standing for its one variant.
fn item_id(req: &Request) -> Result<ItemId, ApiError> {
    http::path_param(req, "itemId")
        .and_then(ItemId::parse)
        .ok_or_else(|| AppError::NotFound(crate::app::Resource::Product).into())
}

/// `GET /cart`.
pub async fn get_cart(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let who = http::require_shopper(app, &req, false).await?;
    http::json(200, &cart::get(app, who).await?)
}

/// `PUT /cart/items/{itemId}` `{quantity}`.
pub async fn put_cart_item(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let who = http::require_shopper(app, &req, false).await?;
    let id = item_id(&req)?;
    let mut body = JsonBody::parse(&req)?;
    let quantity = body.integer("quantity", Quantity::parse);
    let (quantity,) = body.finish((quantity,))?;
    http::json(200, &cart::put(app, who, id, quantity).await?)
}

/// `DELETE /cart/items/{itemId}`.
pub async fn delete_cart_item(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let who = http::require_shopper(app, &req, false).await?;
    let id = item_id(&req)?;
    http::json(200, &cart::remove(app, who, id).await?)
}

/// `DELETE /cart` → 204.
pub async fn clear_cart(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let who = http::require_shopper(app, &req, false).await?;
    cart::clear(app, who).await?;
    http::no_content()
}

/// `POST /carts` (no token) → 201 `{cartId, cartToken}`: a guest cart, named by its token in
/// `X-Cart-Token`. Nothing is stored until a line is added.
pub async fn create_cart(app: &App, _req: Request) -> Result<Response<Body>, ApiError> {
    let cart = crate::domain::GuestId::new();
    http::json(201, &serde_json::json!({ "cartId": cart, "cartToken": app.guest_tokens().cart_token(cart) }))
}
