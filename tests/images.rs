//! Product images through the handlers, with the bytes going where an admin's client sends
//! them: a presigned PUT to the S3-compatible server, then completion, which reads the object
//! back through aws-sdk-s3. Against dynoxide (and DynamoDB Local) for the table.

use serde_json::{Value, json};
use storefront_tests::{IMAGES_BUCKET, Shop, checkout, http_send, id};

/// A `width` × `height` PNG, each picture its own colour.
fn png(width: u32, height: u32, shade: u8) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let pixels = vec![shade; (width * height * 3) as usize];
    encoder.write_header().unwrap().write_image_data(&pixels).unwrap();
    out
}

fn image_of(product: &Value, n: usize) -> String {
    product["images"][n]["id"].as_str().unwrap_or_else(|| panic!("no image {n} in {product:#}")).to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upload_goes_straight_to_the_bucket_and_is_attached_once_its_bytes_are_an_image() {
    let shop = Shop::open().await;
    let tee = shop.tee("TEE", &["M"], &["Red"], 3).await;
    let bytes = png(40, 30, 200);
    let created = shop
        .create_image_upload(&tee, json!({"contentType": "image/png", "contentLength": bytes.len(), "alt": "Red tee"}))
        .await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    let image = created.body["imageId"].as_str().unwrap().to_owned();
    let upload = &created.body["upload"];
    assert_eq!(upload["method"], "PUT");
    let url = upload["url"].as_str().unwrap();
    assert!(url.contains("X-Amz-Signature=") && url.contains("X-Amz-Expires=900"), "{url}");
    assert!(url.contains(&format!("/{IMAGES_BUCKET}/incoming/{tee}/{image}")), "{url}");
    assert_eq!(upload["headers"]["content-type"], "image/png");
    let expires = storefront::domain::Timestamp::parse(created.body["expiresAt"].as_str().unwrap()).unwrap();
    let ahead = expires.unix_seconds() - shop.env.app.clock.now().unix_seconds();
    assert!((899..=900).contains(&ahead), "valid 15 minutes: {ahead}");

    shop.complete_image_upload(&tee, &image).await.problem(409, "image_not_uploaded");
    // The URL is good for what it was signed for only.
    let (tampered, _) = http_send("PUT", &url.replace(&image, "01HZZZZZZZZZZZZZZZZZZZZZZZ"), &[], bytes.clone()).await;
    assert_eq!(tampered, 403, "another key");
    let gif = vec![("content-type".to_owned(), "image/gif".to_owned())];
    assert_eq!(http_send("PUT", url, &gif, bytes.clone()).await.0, 403, "another content type");
    assert_eq!(shop.send_upload(&created, &bytes).await, 200);
    let (peek, _) = http_send("GET", url.split('?').next().unwrap(), &[], Vec::new()).await;
    assert_eq!(peek, 403, "an unfinished upload is not readable from outside");

    let done = shop.complete_image_upload(&tee, &image).await;
    assert_eq!(done.status, 200, "{:#}", done.body);
    let shown = &done.body["images"][0];
    let served = format!("{}/{IMAGES_BUCKET}/images/{tee}/{image}.png", shop.env.s3.endpoint);
    assert_eq!(shown, &json!({"id": image, "url": served, "alt": "Red tee", "width": 40, "height": 30}));
    let (status, body) = http_send("GET", &served, &[], Vec::new()).await;
    assert_eq!((status, body == bytes), (200, true), "anyone may read a published image, as the CDN serves it");
    assert_eq!(shop.env.s3.keys(), vec![format!("images/{tee}/{image}.png")], "the upload itself is gone");
    assert_eq!(shop.get_product(&tee).await.body["images"][0], *shown, "shoppers see it too");

    let again = shop.complete_image_upload(&tee, &image).await;
    assert_eq!((again.status, again.body["images"].as_array().map(Vec::len)), (200, Some(1)), "completing twice");
    let stranger = storefront::domain::ImageId::new().to_string();
    shop.complete_image_upload(&tee, &stranger).await.problem(404, "image_not_found");
    let other = shop.product("MUG").create().await;
    shop.complete_image_upload(&other, &image).await.problem(404, "image_not_found");
}

#[tokio::test(flavor = "multi_thread")]
async fn bytes_that_are_not_the_declared_image_are_refused_and_deleted() {
    let shop = Shop::open().await;
    let mug = shop.product("MUG").create().await;
    let text = b"<html><script>alert(1)</script></html>".to_vec();
    let refused = shop.upload_image(&mug, "image/png", &text, "").await;
    refused.problem(422, "invalid_image");
    assert_eq!(refused.body["reason"], "not_an_image");
    assert!(shop.env.s3.keys().is_empty(), "the refused bytes are deleted: {:?}", shop.env.s3.keys());

    let mismatch = shop.upload_image(&mug, "image/jpeg", &png(2, 2, 9), "").await;
    mismatch.problem(422, "invalid_image");
    assert_eq!(mismatch.body["reason"], "type_mismatch");
    assert!(shop.env.s3.keys().is_empty());

    // More than 5 MB, put there some other way than the presigned URL (which fixes the length).
    let big = vec![0u8; 5 * 1024 * 1024 + 1];
    let created = shop.create_image_upload(&mug, json!({"contentType": "image/png", "contentLength": 1})).await;
    let image = created.body["imageId"].as_str().unwrap().to_owned();
    std::fs::create_dir_all(shop.env.s3.dir.join(IMAGES_BUCKET).join(format!("incoming/{mug}"))).unwrap();
    std::fs::write(shop.env.s3.dir.join(IMAGES_BUCKET).join(format!("incoming/{mug}/{image}")), &big).unwrap();
    let too_large = shop.complete_image_upload(&mug, &image).await;
    too_large.problem(422, "invalid_image");
    assert_eq!(too_large.body["reason"], "too_large");
    assert!(shop.env.s3.keys().is_empty());
    shop.complete_image_upload(&mug, &image).await.problem(404, "image_not_found");
    assert_eq!(shop.get_product(&mug).await.body["images"], json!([]));

    for (body, field) in [
        (json!({"contentType": "image/gif", "contentLength": 10}), "contentType"),
        (json!({"contentType": "image/svg+xml", "contentLength": 10}), "contentType"),
        (json!({"contentType": "image/png", "contentLength": 5 * 1024 * 1024 + 1}), "contentLength"),
        (json!({"contentType": "image/png", "contentLength": 0}), "contentLength"),
        (json!({"contentType": "image/png", "contentLength": 10, "alt": "a\u{7}b"}), "alt"),
        (json!({"contentType": "image/png"}), "contentLength"),
    ] {
        let answer = shop.create_image_upload(&mug, body).await;
        answer.problem(422, "validation_failed");
        assert_eq!(answer.body["errors"][0]["field"], field, "{:#}", answer.body);
    }
    let nobody = storefront::domain::ProductId::new().to_string();
    shop.create_image_upload(&nobody, json!({"contentType": "image/png", "contentLength": 10}))
        .await
        .problem(404, "product_not_found");
}

#[tokio::test(flavor = "multi_thread")]
async fn images_are_arranged_shown_on_variants_in_carts_and_orders_and_deleted() {
    let shop = Shop::open().await;
    let tee = shop.tee("TEE", &["M"], &["Red", "Blue"], 5).await;
    let first = shop.upload_image(&tee, "image/png", &png(8, 8, 10), "Front").await;
    let second = shop.upload_image(&tee, "image/png", &png(8, 4, 20), "Back").await;
    assert_eq!(second.status, 200, "{:#}", second.body);
    let (front, back) = (image_of(&first.body, 0), image_of(&second.body, 1));
    let etag = second.header("etag").unwrap().to_owned();

    let arranged =
        shop.update_images(&tee, json!({"images": [{"id": back, "alt": "Back of the tee"}, {"id": front}]})).await;
    assert_eq!(arranged.status, 200, "{:#}", arranged.body);
    assert_eq!((image_of(&arranged.body, 0), image_of(&arranged.body, 1)), (back.clone(), front.clone()));
    assert_eq!(arranged.body["images"][0]["alt"], "Back of the tee");
    assert_eq!(arranged.body["images"][1]["alt"], "Front");
    for body in [json!({"images": [{"id": back}]}), json!({"images": [{"id": back}, {"id": back}]}), json!({})] {
        shop.update_images(&tee, body).await.problem(422, "validation_failed");
    }
    let req = storefront_tests::request(
        "PATCH",
        &format!("/products/{tee}/images"),
        Some(&json!({"images": [{"id": front}, {"id": back}]})),
        Some(&shop.admin),
    );
    let mut req = storefront_tests::routed(req, &[("id", &tee)], &[]);
    req.headers_mut().insert("if-match", etag.parse().unwrap());
    shop.env.call(storefront::api::images::update_images, req).await.problem(412, "version_mismatch");

    // A variant shows one of its product's images; the others show the product's first.
    let (red, blue) = (format!("{tee}-1"), format!("{tee}-2"));
    let shown = shop.update_variant(&blue, json!({"imageId": front})).await;
    assert_eq!(shown.status, 200, "{:#}", shown.body);
    assert_eq!(shown.body["variants"][1]["imageId"], front.as_str());
    assert_eq!(shown.body["variants"][0]["imageId"], Value::Null);
    let stranger = storefront::domain::ImageId::new().to_string();
    let refused = shop.update_variant(&red, json!({"imageId": stranger})).await;
    refused.problem(422, "validation_failed");
    assert_eq!(refused.body["errors"][0]["field"], "imageId");
    shop.update_variant(&red, json!({"imageId": "not-an-id"})).await.problem(422, "validation_failed");

    let url = |image: &str, body: &Value| {
        body["images"].as_array().unwrap().iter().find(|i| i["id"] == image).unwrap()["url"].clone()
    };
    let c = shop.customer(1).await;
    shop.put_cart_item(&c, &red, 1).await;
    let cart = shop.put_cart_item(&c, &blue, 1).await;
    assert_eq!(cart.body["items"][0]["image"], url(&back, &shown.body), "the product's first image");
    assert_eq!(cart.body["items"][1]["image"], url(&front, &shown.body), "the variant's own");
    let key = "images-order";
    let order = shop.place_order(&c, Some(key), &checkout("US", "standard", None)).await;
    assert_eq!(order.status, 201, "{:#}", order.body);
    assert_eq!(order.body["items"][1]["image"], url(&front, &shown.body), "the order keeps what was sold");
    let order_id = id(&order.body);

    assert_eq!(shop.delete_image(&tee, &front).await.status, 204);
    let after = shop.admin_get_product(&tee).await.body;
    assert_eq!(after["images"].as_array().map(Vec::len), Some(1));
    assert_eq!(after["variants"][1]["imageId"], Value::Null, "the variant shows none now");
    assert_eq!(shop.env.s3.keys(), vec![format!("images/{tee}/{back}.png")]);
    shop.delete_image(&tee, &front).await.problem(404, "image_not_found");
    let kept = shop.get_order(&c, &order_id).await;
    assert_eq!(kept.body["items"][1]["image"], url(&front, &shown.body), "the order's snapshot stays as it was");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_product_has_at_most_twenty_images() {
    let shop = Shop::open().await;
    let mug = shop.product("MUG").create().await;
    for n in 0..20u8 {
        let done = shop.upload_image(&mug, "image/png", &png(1, 1, n), "").await;
        assert_eq!(done.status, 200, "{:#}", done.body);
    }
    shop.create_image_upload(&mug, json!({"contentType": "image/png", "contentLength": 10}))
        .await
        .problem(409, "too_many_images");
}
