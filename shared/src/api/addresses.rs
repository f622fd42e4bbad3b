//! `GET /me/addresses`, `POST /me/addresses`, `PATCH /me/addresses/{id}`,
//! `DELETE /me/addresses/{id}`: the caller's address book.

use crate::api::accounts::parse_address;
use crate::app::{App, AppError, Resource, addresses};
use crate::domain::{ADDRESS_FIELDS, AddressEntry, AddressId, Invalid};
use crate::http::{self, ApiError, Body, JsonBody, Request, Response};
use serde::Serialize;

#[derive(Serialize)]
struct AddressList<'a> {
    items: &'a [AddressEntry],
}

fn address_id(req: &Request) -> Result<AddressId, ApiError> {
    http::path_param(req, "id").and_then(AddressId::parse).ok_or_else(|| AppError::NotFound(Resource::Address).into())
}

/// `GET /me/addresses` → 200 `{items}`, in the order they were added.
pub async fn list_addresses(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let verified = http::require_session(app, &req).await?;
    http::json(200, &AddressList { items: &addresses::list(app, &verified).await? })
}

/// `POST /me/addresses` `{…address, defaultShipping?}` → 201 the saved address (at most 20).
pub async fn create_address(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let verified = http::require_session(app, &req).await?;
    let mut body = JsonBody::parse(&req)?;
    let default = body.optional_bool("defaultShipping").unwrap_or(false);
    let address = parse_address(&mut body);
    let (address,) = body.finish((address,))?;
    http::json(201, &addresses::add(app, &verified, address, default).await?)
}

/// `PATCH /me/addresses/{id}` `{…any address fields, defaultShipping?}` → 200 the address.
pub async fn update_address(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let verified = http::require_session(app, &req).await?;
    let id = address_id(&req)?;
    let mut body = JsonBody::parse(&req)?;
    let default = body.optional_bool("defaultShipping");
    let mut fields = std::collections::HashMap::new();
    for (field, _, _) in ADDRESS_FIELDS {
        match body.take(field) {
            None => {}
            Some(serde_json::Value::String(text)) => {
                fields.insert(field, text);
            }
            Some(_) => body.invalid(field, Invalid::new("must be a string")),
        }
    }
    body.finish(())?;
    http::json(200, &addresses::edit(app, &verified, id, &fields, default).await?)
}

/// `DELETE /me/addresses/{id}` → 204.
pub async fn delete_address(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let verified = http::require_session(app, &req).await?;
    let id = address_id(&req)?;
    addresses::remove(app, &verified, id).await?;
    http::no_content()
}
