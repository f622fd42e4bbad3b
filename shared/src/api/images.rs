//! The product image endpoints (admin): uploads straight to the bucket, then attach, arrange
//! and delete.

use super::catalog::{if_match, product_id, shown};
use crate::app::images;
use crate::app::{App, AppError, Resource};
use crate::domain::{AltText, ImageEdit, ImageFormat, ImageId, MAX_IMAGES, parse_content_length};
use crate::http::{self, ApiError, Body, JsonBody, Request, Response};
use serde::Serialize;
use std::collections::BTreeMap;

fn image_id(req: &Request) -> Result<ImageId, ApiError> {
    http::path_param(req, "imageId").and_then(ImageId::parse).ok_or_else(|| AppError::NotFound(Resource::Image).into())
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Upload<'a> {
    url: &'a str,
    method: &'a str,
    headers: BTreeMap<&'a str, &'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Ticket<'a> {
    image_id: ImageId,
    upload: Upload<'a>,
    expires_at: crate::domain::Timestamp,
}

/// `POST /products/{id}/images` `{contentType, contentLength, alt}` (admin) → 201 a presigned
/// upload, valid 15 minutes.
pub async fn create_image_upload(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    http::require_admin(app, &req).await?;
    let id = product_id(&req)?;
    let mut body = JsonBody::parse(&req)?;
    let format = body.string("contentType", ImageFormat::from_content_type);
    let length = body.integer("contentLength", parse_content_length);
    let alt = body.optional_string("alt", AltText::parse).unwrap_or_default();
    let (format, length) = body.finish((format, length))?;
    let ticket = images::begin(app, id, format, length, alt).await?;
    let headers = ticket.upload.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let upload = Upload { url: &ticket.upload.url, method: &ticket.upload.method, headers };
    http::json(201, &Ticket { image_id: ticket.image_id, upload, expires_at: ticket.expires_at })
}

/// `POST /products/{id}/images/{imageId}/complete` (admin) → 200 product with the image, or
/// 422 `invalid_image` (and the upload is deleted).
pub async fn complete_image_upload(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    http::require_admin(app, &req).await?;
    let (id, image) = (product_id(&req)?, image_id(&req)?);
    shown(200, &images::complete(app, id, image).await?)
}

/// `PATCH /products/{id}/images` `{images: [{id, alt?}]}` (admin), optionally `If-Match` → 200
/// product: every image, in the new order.
pub async fn update_images(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    http::require_admin(app, &req).await?;
    let id = product_id(&req)?;
    let mut body = JsonBody::parse(&req)?;
    let edits = body.optional_objects("images", MAX_IMAGES, |image| {
        let id = image
            .string("id", |raw| ImageId::parse(raw).ok_or_else(|| crate::domain::Invalid::new("is not an image id")));
        let alt = image.optional_string("alt", AltText::parse);
        Some(ImageEdit { id: id?, alt })
    });
    if !body.has_errors_for("images") && edits.is_none() {
        body.invalid("images", crate::domain::Invalid::new("is required"));
    }
    let (edits,) = body.finish((edits,))?;
    shown(200, &images::arrange_images(app, id, edits, if_match(&req).as_deref()).await?)
}

/// `DELETE /products/{id}/images/{imageId}` (admin), optionally `If-Match` → 204.
pub async fn delete_image(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    http::require_admin(app, &req).await?;
    let (id, image) = (product_id(&req)?, image_id(&req)?);
    images::delete(app, id, image, if_match(&req).as_deref()).await?;
    http::no_content()
}
