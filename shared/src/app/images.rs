//! Product images: declare an upload, complete it once the bytes are in the bucket, arrange
//! the images and delete them. The bytes never pass through a function: the client sends them
//! to a presigned URL, and the bucket serves them through the CDN.

use super::catalog::{Shown, any_product, edit};
use super::{App, AppError, FieldError, Resource};
use crate::domain::{
    AltText, Image, ImageEdit, ImageFormat, ImageId, MAX_IMAGE_BYTES, MAX_IMAGES, ProductChange, ProductId, Rejected,
    Timestamp, UPLOAD_SECONDS, Upload, arrange, inspect,
};
use crate::store::{Arrived, Presigned};

/// A declared upload: where to send the bytes, and until when.
#[derive(Debug)]
pub struct Ticket {
    pub image_id: ImageId,
    pub upload: Presigned,
    pub expires_at: Timestamp,
}

/// `POST /products/{id}/images`: a presigned upload of `length` bytes of `format`.
pub async fn begin(
    app: &App,
    product: ProductId,
    format: ImageFormat,
    length: i64,
    alt: AltText,
) -> Result<Ticket, AppError> {
    let current = app.store.product(product).await?.ok_or(AppError::NotFound(Resource::Product))?;
    if current.images.len() >= MAX_IMAGES {
        return Err(AppError::TooManyImages);
    }
    let objects = app.objects()?;
    let image_id = ImageId::new();
    let now = app.clock.now();
    let valid = std::time::Duration::from_secs(UPLOAD_SECONDS as u64);
    let upload = objects.presign_upload(product, image_id, format, length, valid).await?;
    let expires_at = now.plus_seconds(UPLOAD_SECONDS);
    let record =
        Upload { image_id, product_id: product, format, content_length: length, alt, url_expires_at: expires_at };
    app.store.put_upload(&record, now).await?;
    Ok(Ticket { image_id, upload, expires_at })
}

/// `POST /products/{id}/images/{imageId}/complete`: checks the uploaded bytes and attaches the
/// image, or deletes them and says why not. Completing an attached image again answers the
/// product as it is.
pub async fn complete(app: &App, product: ProductId, image_id: ImageId) -> Result<Shown, AppError> {
    let current = app.store.product(product).await?.ok_or(AppError::NotFound(Resource::Product))?;
    if current.images.iter().any(|i| i.id == image_id) {
        return any_product(app, product).await;
    }
    let upload = app
        .store
        .upload(image_id)
        .await?
        .filter(|u| u.product_id == product)
        .ok_or(AppError::NotFound(Resource::Image))?;
    let objects = app.objects()?;
    let inspected = match objects.read_upload(product, image_id, MAX_IMAGE_BYTES).await? {
        Arrived::Missing => return Err(AppError::ImageNotUploaded),
        Arrived::TooLarge(bytes) => Err(Rejected::TooLarge { bytes }),
        Arrived::Bytes(bytes) => inspect(&bytes, upload.format),
    };
    let (format, width, height) = match inspected {
        Ok(found) => found,
        Err(rejected) => {
            objects.delete_upload(product, image_id).await?;
            app.store.delete_upload(image_id).await?;
            return Err(AppError::InvalidImage(rejected));
        }
    };
    let image = Image { id: image_id, format, alt: upload.alt, width, height };
    objects.publish(product, &image).await?;
    let attached = edit(app, product, None, |current| {
        if current.images.iter().any(|i| i.id == image_id) {
            return Ok((ProductChange::default(), None));
        }
        if current.images.len() >= MAX_IMAGES {
            return Err(AppError::TooManyImages);
        }
        let mut images = current.images.clone();
        images.push(image.clone());
        Ok((ProductChange { images: Some(images), ..Default::default() }, None))
    })
    .await;
    if let Err(err) = attached {
        // Not attached: nothing may serve it. The upload stays, to complete again.
        if !matches!(err, AppError::Unavailable(_)) {
            let _ = objects.delete_image(product, &image).await;
        }
        return Err(err);
    }
    app.store.delete_upload(image_id).await?;
    if let Err(err) = objects.delete_upload(product, image_id).await {
        // The bucket's lifecycle rule removes it within a day.
        tracing::warn!(%product, %image_id, error = %err, "an uploaded original was left in incoming/");
    }
    any_product(app, product).await
}

/// `PATCH /products/{id}/images`: the images in a new order, alt texts edited.
pub async fn arrange_images(
    app: &App,
    product: ProductId,
    edits: Vec<ImageEdit>,
    if_match: Option<&str>,
) -> Result<Shown, AppError> {
    edit(app, product, if_match, |current| {
        let images = arrange(&current.images, &edits)
            .map_err(|invalid| AppError::Validation(vec![FieldError::new("images", invalid.0)]))?;
        Ok((ProductChange { images: Some(images), ..Default::default() }, None))
    })
    .await?;
    any_product(app, product).await
}

/// `DELETE /products/{id}/images/{imageId}`: detaches the image (variants showing it show
/// none) and deletes its object.
pub async fn delete(app: &App, product: ProductId, image_id: ImageId, if_match: Option<&str>) -> Result<(), AppError> {
    let current = app.store.product(product).await?.ok_or(AppError::NotFound(Resource::Product))?;
    let image = current.images.iter().find(|i| i.id == image_id).cloned().ok_or(AppError::NotFound(Resource::Image))?;
    edit(app, product, if_match, |current| {
        if !current.images.iter().any(|i| i.id == image_id) {
            return Err(AppError::NotFound(Resource::Image));
        }
        let images = current.images.iter().filter(|i| i.id != image_id).cloned().collect();
        Ok((ProductChange { images: Some(images), ..Default::default() }, None))
    })
    .await?;
    app.objects()?.delete_image(product, &image).await?;
    Ok(())
}
