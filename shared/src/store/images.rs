//! Product images: the record of a declared upload (on the table) and the objects of the image
//! bucket (on S3): presigned uploads, reading what arrived, publishing it, deleting it.

use super::item::{decode, encode, n};
use super::schema::TTL;
use super::{Store, StoreError, keys};
use crate::domain::{Image, ImageFormat, ImageId, ProductId, Timestamp, Upload};
use aws_sdk_s3::presigning::PresigningConfig;
use std::time::Duration;

/// How long the record of an upload is kept: as long as the bucket keeps unfinished uploads.
const UPLOAD_TTL_SECONDS: i64 = 24 * 3600;

/// Cache lifetime of a published image: its key never names other bytes.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

impl Store {
    /// Records a declared upload (1 WRU).
    pub async fn put_upload(&self, upload: &Upload, now: Timestamp) -> Result<(), StoreError> {
        let mut item = encode(upload, keys::upload(upload.image_id), "image-upload")?;
        item.insert(TTL.into(), n(now.unix_seconds() + UPLOAD_TTL_SECONDS));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(|e| StoreError::backend("PutItem", e))?;
        Ok(())
    }

    /// A declared upload, strongly consistent.
    pub async fn upload(&self, image: ImageId) -> Result<Option<Upload>, StoreError> {
        self.get_consistent(keys::upload(image)).await?.map(decode).transpose()
    }

    /// Forgets an upload (completed, or refused).
    pub async fn delete_upload(&self, image: ImageId) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(keys::upload(image)))
            .send()
            .await
            .map_err(|e| StoreError::backend("DeleteItem", e))?;
        Ok(())
    }
}

/// A presigned request the client sends itself.
#[derive(Debug, Clone)]
pub struct Presigned {
    pub url: String,
    pub method: String,
    /// Headers the request must carry exactly (they are signed).
    pub headers: Vec<(String, String)>,
}

/// What an upload's object turned out to be.
#[derive(Debug)]
pub enum Arrived {
    /// Nothing was uploaded (yet).
    Missing,
    /// More bytes than may be read: only the size is known.
    TooLarge(i64),
    Bytes(Vec<u8>),
}

/// The image bucket, through the S3 API.
#[derive(Debug, Clone)]
pub struct Objects {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl Objects {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        Self { client, bucket: bucket.into() }
    }

    /// The PUT that uploads an image's bytes (exactly `length` of them, of `format`), valid for
    /// `valid`. Signing needs no call to S3.
    pub async fn presign_upload(
        &self,
        product: ProductId,
        image: ImageId,
        format: ImageFormat,
        length: i64,
        valid: Duration,
    ) -> Result<Presigned, StoreError> {
        let config = PresigningConfig::expires_in(valid)
            .map_err(|e| StoreError::Backend { operation: "presign PutObject", detail: e.to_string() })?;
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(keys::incoming_object(product, image))
            .content_type(format.content_type())
            .content_length(length)
            .presigned(config)
            .await
            .map_err(|e| StoreError::backend("presign PutObject", e))?;
        // The headers the signature covers (the host is the URL's); the SDK would also send
        // others, such as a trace id, that the client has no need of.
        let url = request.uri().to_owned();
        let signed = url
            .split(['?', '&'])
            .find_map(|pair| pair.strip_prefix("X-Amz-SignedHeaders="))
            .map(|list| list.replace("%3B", ";").to_ascii_lowercase())
            .unwrap_or_default();
        let headers = request
            .headers()
            .filter(|(name, _)| signed.split(';').any(|s| s == name.to_ascii_lowercase()))
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect();
        Ok(Presigned { url, method: request.method().to_owned(), headers })
    }

    /// What was uploaded for an image, if it is at most `max` bytes (a HEAD, then a GET).
    pub async fn read_upload(&self, product: ProductId, image: ImageId, max: i64) -> Result<Arrived, StoreError> {
        let key = keys::incoming_object(product, image);
        let key = key.as_str();
        let head = match self.client.head_object().bucket(&self.bucket).key(key).send().await {
            Ok(head) => head,
            Err(e) if e.as_service_error().is_some_and(|e| e.is_not_found()) => return Ok(Arrived::Missing),
            Err(e) => return Err(StoreError::backend("s3:HeadObject", e)),
        };
        let size = head.content_length().unwrap_or_default();
        if size > max {
            return Ok(Arrived::TooLarge(size));
        }
        if size == 0 {
            return Ok(Arrived::Bytes(Vec::new()));
        }
        let out = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .range(format!("bytes=0-{}", max - 1))
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|e| e.is_no_such_key()) => return Ok(Arrived::Missing),
            Err(e) => return Err(StoreError::backend("s3:GetObject", e)),
        };
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| StoreError::Unavailable { operation: "s3:GetObject", detail: e.to_string() })?;
        Ok(Arrived::Bytes(bytes.into_bytes().to_vec()))
    }

    /// Copies a verified upload to where the CDN serves it, with its true type, cacheable for
    /// ever (S3 copies within the bucket; the bytes do not pass through the function).
    pub async fn publish(&self, product: ProductId, image: &Image) -> Result<(), StoreError> {
        let from = keys::incoming_object(product, image.id);
        self.client
            .copy_object()
            .bucket(&self.bucket)
            .copy_source(format!("{}/{from}", self.bucket))
            .key(keys::image_object(product, image))
            .content_type(image.format.content_type())
            .cache_control(IMMUTABLE)
            .metadata_directive(aws_sdk_s3::types::MetadataDirective::Replace)
            .send()
            .await
            .map_err(|e| StoreError::backend("s3:CopyObject", e))?;
        Ok(())
    }

    /// Deletes what was uploaded for an image.
    pub async fn delete_upload(&self, product: ProductId, image: ImageId) -> Result<(), StoreError> {
        self.delete(&keys::incoming_object(product, image)).await
    }

    /// Deletes a published image.
    pub async fn delete_image(&self, product: ProductId, image: &Image) -> Result<(), StoreError> {
        self.delete(&keys::image_object(product, image)).await
    }

    /// Deletes the object at `key` (deleting what is not there succeeds).
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| StoreError::backend("s3:DeleteObject", e))?;
        Ok(())
    }
}
