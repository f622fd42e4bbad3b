//! Product images: what an upload may be, and what a stored object must turn out to be.
//!
//! An admin declares an upload (type, size, alt text); the client sends the bytes straight to
//! object storage; then the bytes themselves are inspected. Only what passes is attached.

use super::{ImageId, Invalid, Text};
use serde::{Deserialize, Serialize};

/// The most bytes an image may have.
pub const MAX_IMAGE_BYTES: i64 = 5 * 1024 * 1024;
/// How long a presigned upload stays valid, in seconds.
pub const UPLOAD_SECONDS: i64 = 15 * 60;
/// The most images a product has.
pub const MAX_IMAGES: usize = 20;

/// The image formats a shop may show, as their bytes reveal them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageFormat {
    Jpeg,
    Png,
    Webp,
    Avif,
}

impl ImageFormat {
    pub const ALL: [ImageFormat; 4] = [Self::Jpeg, Self::Png, Self::Webp, Self::Avif];

    /// A declared media type (`image/png`; parameters and case are ignored).
    pub fn from_content_type(raw: &str) -> Result<Self, Invalid> {
        let essence = raw.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|f| f.content_type() == essence)
            .ok_or_else(|| Invalid::new("must be image/jpeg, image/png, image/webp or image/avif"))
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
            Self::Avif => "image/avif",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::Webp => "webp",
            Self::Avif => "avif",
        }
    }
}

/// An image's alternative text: up to 300 characters, no control characters (may be empty,
/// for a purely decorative image).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AltText(String);
string_newtype!(AltText);

impl AltText {
    pub const MAX_CHARS: usize = 300;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        if raw.trim().is_empty() {
            return Ok(Self::default());
        }
        Text::parse(raw, 1, Self::MAX_CHARS)
            .map(|t| Self(t.into()))
            .map_err(|e| Invalid::new(format!("{e} (or empty)")))
    }
}

/// The size an upload declares: 1 byte to [`MAX_IMAGE_BYTES`].
pub fn parse_content_length(bytes: i64) -> Result<i64, Invalid> {
    if (1..=MAX_IMAGE_BYTES).contains(&bytes) {
        Ok(bytes)
    } else {
        Err(Invalid::new(format!("must be 1 to {MAX_IMAGE_BYTES} bytes (5 MB)")))
    }
}

/// An image of a product, as attached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Image {
    pub id: ImageId,
    pub format: ImageFormat,
    pub alt: AltText,
    pub width: u32,
    pub height: u32,
}

/// An upload an admin declared and has not completed yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Upload {
    pub image_id: ImageId,
    pub product_id: super::ProductId,
    pub format: ImageFormat,
    pub content_length: i64,
    pub alt: AltText,
    /// When its presigned URL stops working.
    pub url_expires_at: super::Timestamp,
}

/// Why stored bytes are not an image the shop accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejected {
    TooLarge {
        bytes: i64,
    },
    Empty,
    /// Not a JPEG, PNG, WebP or AVIF, or too damaged to read its dimensions.
    NotAnImage,
    /// A real image, of another format than the upload declared.
    NotDeclared {
        declared: ImageFormat,
        found: ImageFormat,
    },
}

impl Rejected {
    /// The stable reason a client sees.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "too_large",
            Self::Empty => "empty",
            Self::NotAnImage => "not_an_image",
            Self::NotDeclared { .. } => "type_mismatch",
        }
    }

    pub fn message(&self) -> String {
        match self {
            Self::TooLarge { bytes } => format!("the upload is {bytes} bytes; at most {MAX_IMAGE_BYTES} are allowed"),
            Self::Empty => "the upload is empty".into(),
            Self::NotAnImage => "the upload is not a JPEG, PNG, WebP or AVIF image".into(),
            Self::NotDeclared { declared, found } => {
                format!("the upload was declared {} but is {}", declared.content_type(), found.content_type())
            }
        }
    }
}

/// What the bytes of an upload are: their format (by their signature, not their name) and
/// dimensions, if they are an image the upload declared.
pub fn inspect(bytes: &[u8], declared: ImageFormat) -> Result<(ImageFormat, u32, u32), Rejected> {
    let len = bytes.len() as i64;
    if len > MAX_IMAGE_BYTES {
        return Err(Rejected::TooLarge { bytes: len });
    }
    if bytes.is_empty() {
        return Err(Rejected::Empty);
    }
    let found = match imagesize::image_type(bytes).map_err(|_| Rejected::NotAnImage)? {
        imagesize::ImageType::Jpeg => ImageFormat::Jpeg,
        imagesize::ImageType::Png => ImageFormat::Png,
        imagesize::ImageType::Webp => ImageFormat::Webp,
        imagesize::ImageType::Heif(imagesize::Compression::Av1) => ImageFormat::Avif,
        _ => return Err(Rejected::NotAnImage),
    };
    let size = imagesize::blob_size(bytes).map_err(|_| Rejected::NotAnImage)?;
    let (width, height) = (u32::try_from(size.width), u32::try_from(size.height));
    let (Ok(width), Ok(height)) = (width, height) else { return Err(Rejected::NotAnImage) };
    if width == 0 || height == 0 {
        return Err(Rejected::NotAnImage);
    }
    if found != declared {
        return Err(Rejected::NotDeclared { declared, found });
    }
    Ok((found, width, height))
}

/// One image in a new order, with its alt text changed or kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageEdit {
    pub id: ImageId,
    pub alt: Option<AltText>,
}

/// The images in the order `edits` lists them, with their alt texts edited: `edits` names
/// every image exactly once.
pub fn arrange(images: &[Image], edits: &[ImageEdit]) -> Result<Vec<Image>, Invalid> {
    let mut seen = std::collections::BTreeSet::new();
    let mut arranged = Vec::with_capacity(edits.len());
    for edit in edits {
        if !seen.insert(edit.id) {
            return Err(Invalid::new(format!("names image {} twice", edit.id)));
        }
        let mut image = images
            .iter()
            .find(|i| i.id == edit.id)
            .cloned()
            .ok_or_else(|| Invalid::new(format!("image {} is not one of the product's", edit.id)))?;
        if let Some(alt) = &edit.alt {
            image.alt = alt.clone();
        }
        arranged.push(image);
    }
    if arranged.len() != images.len() {
        return Err(Invalid::new("must name every image of the product, in the new order"));
    }
    Ok(arranged)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A valid 1×1 PNG (signature, IHDR, IDAT, IEND).
    pub(crate) const PNG_1X1: &[u8] = &[
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00,
        0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00,
        0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0, 0x1f, 0x00, 0x05, 0x00, 0x01, 0xff,
        0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
    ];

    fn image(alt: &str) -> Image {
        Image { id: ImageId::new(), format: ImageFormat::Png, alt: AltText::parse(alt).unwrap(), width: 1, height: 1 }
    }

    #[test]
    fn reads_a_png_by_its_bytes() {
        assert_eq!(inspect(PNG_1X1, ImageFormat::Png), Ok((ImageFormat::Png, 1, 1)));
    }

    #[test]
    fn refuses_what_is_not_the_declared_image() {
        assert_eq!(inspect(b"", ImageFormat::Png), Err(Rejected::Empty));
        assert_eq!(inspect(b"<svg xmlns='http://www.w3.org/2000/svg'/>", ImageFormat::Png), Err(Rejected::NotAnImage));
        assert_eq!(inspect(&PNG_1X1[..20], ImageFormat::Png), Err(Rejected::NotAnImage), "truncated");
        assert_eq!(
            inspect(PNG_1X1, ImageFormat::Jpeg),
            Err(Rejected::NotDeclared { declared: ImageFormat::Jpeg, found: ImageFormat::Png })
        );
        let gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,";
        assert_eq!(inspect(gif, ImageFormat::Png), Err(Rejected::NotAnImage), "a GIF is an image, not one we take");
        let big = vec![0u8; MAX_IMAGE_BYTES as usize + 1];
        assert_eq!(inspect(&big, ImageFormat::Png).map_err(|r| r.reason()), Err("too_large"));
    }

    #[test]
    fn content_types_and_lengths_parse_strictly() {
        assert_eq!(ImageFormat::from_content_type("Image/PNG; charset=binary"), Ok(ImageFormat::Png));
        assert!(ImageFormat::from_content_type("image/gif").is_err());
        assert!(ImageFormat::from_content_type("image/svg+xml").is_err());
        assert!(parse_content_length(0).is_err());
        assert!(parse_content_length(MAX_IMAGE_BYTES + 1).is_err());
        assert_eq!(parse_content_length(MAX_IMAGE_BYTES), Ok(MAX_IMAGE_BYTES));
        assert_eq!(AltText::parse("  ").unwrap().as_str(), "");
        assert!(AltText::parse("a\u{1b}[31m").is_err());
        assert!(AltText::parse(&"x".repeat(301)).is_err());
    }

    #[test]
    fn arranging_names_every_image_once() {
        let (a, b) = (image("front"), image("back"));
        let both = vec![a.clone(), b.clone()];
        let swapped = arrange(&both, &[ImageEdit { id: b.id, alt: None }, ImageEdit { id: a.id, alt: None }]).unwrap();
        assert_eq!(swapped, vec![b.clone(), a.clone()]);
        let relabelled = arrange(
            &both,
            &[ImageEdit { id: a.id, alt: Some(AltText::parse("Front").unwrap()) }, ImageEdit { id: b.id, alt: None }],
        )
        .unwrap();
        assert_eq!(relabelled[0].alt.as_str(), "Front");
        assert!(arrange(&both, &[ImageEdit { id: a.id, alt: None }]).is_err(), "one left out");
        assert!(arrange(&both, &[ImageEdit { id: a.id, alt: None }, ImageEdit { id: a.id, alt: None }]).is_err());
        let stranger = ImageEdit { id: ImageId::new(), alt: None };
        assert!(arrange(&both, &[ImageEdit { id: a.id, alt: None }, stranger]).is_err());
    }
}
