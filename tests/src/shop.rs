//! One shop for every integration test: a fresh [`TestEnv`] with an admin signed in, and one
//! helper for each thing a test does with it, each building its request as API Gateway hands
//! it over (path parameters and query through [`routed`], headers such as `If-Match` and
//! `Idempotency-Key` set as the API expects them).
//!
//! Two kinds of helper. Those named after a handler (`create_product`, `place_order`, …) make
//! that one call and return its [`Answer`] untouched, for tests that look at the answer.
//! Those named after a thing (`customer`, `product`, `order`, `stock`, `categories`, …) make
//! or read what a test starts from, assert that it worked, and return it.

use crate::{Answer, TestEnv, request, routed};
use lambda_http::Request;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use storefront::api::cart::{get_cart, put_cart_item};
use storefront::api::catalog::{
    adjust_stock, adjust_variant_stock, admin_get_product, admin_list_products, archive_product, archive_variant,
    create_product, create_variant, get_product, list_categories, list_products, update_product, update_variant,
};
use storefront::api::checkout::{place_order, quote};
use storefront::api::discounts::{create_discount, list_discounts};
use storefront::api::images::{complete_image_upload, create_image_upload, delete_image, update_images};
use storefront::api::orders::{admin_list_orders, admin_update_order, cancel_order, get_order, list_orders};
use storefront::api::payments::payment_webhook;
use storefront::domain::Role;

/// A fresh table with an admin: the shop every integration test starts from.
pub struct Shop {
    pub env: TestEnv,
    /// The admin's access token.
    pub admin: String,
}

/// The `id` of a product or order as the API shows it.
pub fn id(value: &Value) -> String {
    value["id"].as_str().expect("an id").to_owned()
}

/// A checkout body (for a quote or an order) shipping to Ada Lovelace's London address, with
/// `country` swapped in, by `method`, with a discount `code` if given.
pub fn checkout(country: &str, method: &str, code: Option<&str>) -> Value {
    let mut body = json!({
        "shippingAddress": {"name": "Ada Lovelace", "line1": "12 St James's Square", "city": "London",
            "postalCode": "SW1Y 4JH", "country": country},
        "shippingMethod": method,
    });
    if let Some(code) = code {
        body["discountCode"] = json!(code);
    }
    body
}

/// A payment webhook event for `order` (its id, total and currency): `payment.succeeded`, or
/// `payment.failed` unless `succeeded`.
pub fn payment_event(order: &Value, event_id: &str, succeeded: bool) -> Value {
    json!({"id": event_id, "type": if succeeded { "payment.succeeded" } else { "payment.failed" },
        "data": {"orderId": order["id"], "amountCents": order["totalCents"], "currency": order["currency"],
            "paymentId": format!("pay-{event_id}")}})
}

/// A product to create through the admin API: see [`Shop::product`].
#[must_use = "a product is created only by `create`"]
pub struct NewProduct<'a> {
    shop: &'a Shop,
    body: Value,
}

impl NewProduct<'_> {
    pub fn name(mut self, name: &str) -> Self {
        self.body["name"] = json!(name);
        self
    }

    pub fn price(mut self, cents: i64) -> Self {
        self.body["priceCents"] = json!(cents);
        self
    }

    pub fn category(mut self, slug: &str) -> Self {
        self.body["category"] = json!(slug);
        self
    }

    pub fn stock(mut self, units: i64) -> Self {
        self.body["stock"] = json!(units);
        self
    }

    /// Creates the product (asserting the 201) and returns its id.
    pub async fn create(self) -> String {
        let answer = self.shop.create_product(self.body).await;
        assert_eq!(answer.status, 201, "{:#}", answer.body);
        id(&answer.body)
    }
}

impl Shop {
    pub async fn open() -> Self {
        Self::open_configured(|_| {}).await
    }

    /// A shop whose configuration `configure` changes (see [`TestEnv::start_configured`]).
    pub async fn open_configured(configure: impl FnOnce(&mut storefront::config::Config)) -> Self {
        let env = TestEnv::start_configured(configure).await;
        let admin = env.admin_token().await;
        Self { env, admin }
    }

    /// Customer number `n` (customer{n}@example.com), signed in: their access token.
    pub async fn customer(&self, n: usize) -> String {
        self.env.user_token(&format!("customer{n}@example.com"), Role::Customer).await
    }

    /// A new guest cart (`POST /carts`): the `x-cart-token` header that names it, as
    /// [`crate::guest`] writes it.
    pub async fn guest_cart(&self) -> String {
        let answer = self.env.call(storefront::api::cart::create_cart, request("POST", "/carts", None, None)).await;
        assert_eq!(answer.status, 201, "{:#}", answer.body);
        assert_eq!(answer.body["cartId"].as_str().map(str::len), Some(26));
        crate::guest(answer.body["cartToken"].as_str().expect("a cart token"))
    }

    /// Customer number `n`, signed in, with `quantity` units of `product` in their cart: their
    /// access token.
    pub async fn customer_with_cart(&self, n: usize, product: &str, quantity: i64) -> String {
        let token = self.customer(n).await;
        let answer = self.put_cart_item(&token, product, quantity).await;
        assert_eq!(answer.status, 200, "{:#}", answer.body);
        token
    }

    // The catalog.

    /// A product with `sku`, named "Product {sku}", at 1000 cents, in category `x`, with 1 unit
    /// in stock unless the builder says otherwise; `.create().await` makes it.
    pub fn product(&self, sku: &str) -> NewProduct<'_> {
        let body =
            json!({"sku": sku, "name": format!("Product {sku}"), "priceCents": 1000, "category": "x", "stock": 1});
        NewProduct { shop: self, body }
    }

    /// `POST /products` as the admin, with any body.
    pub async fn create_product(&self, body: Value) -> Answer {
        self.env.call(create_product, request("POST", "/products", Some(&body), Some(&self.admin))).await
    }

    /// `PATCH /products/{id}` as the admin, with `If-Match: if_match` if given.
    pub async fn update_product(&self, id: &str, body: Value, if_match: Option<&str>) -> Answer {
        let mut req = request("PATCH", &format!("/products/{id}"), Some(&body), Some(&self.admin));
        if let Some(etag) = if_match {
            req.headers_mut().insert("if-match", etag.parse().expect("a header value"));
        }
        self.env.call(update_product, routed(req, &[("id", id)], &[])).await
    }

    /// `DELETE /products/{id}` as the admin.
    pub async fn archive_product(&self, id: &str) -> Answer {
        let req = request("DELETE", &format!("/products/{id}"), None, Some(&self.admin));
        self.env.call(archive_product, routed(req, &[("id", id)], &[])).await
    }

    /// `POST /products/{id}/stock` as the admin: adds `delta` units (or takes them away).
    pub async fn adjust_stock(&self, id: &str, delta: i64) -> Answer {
        let req = request("POST", &format!("/products/{id}/stock"), Some(&json!({"delta": delta})), Some(&self.admin));
        self.env.call(adjust_stock, routed(req, &[("id", id)], &[])).await
    }

    /// `GET /products/{id}`, as a shopper (no token).
    pub async fn get_product(&self, id: &str) -> Answer {
        let req = request("GET", &format!("/products/{id}"), None, None);
        self.env.call(get_product, routed(req, &[("id", id)], &[])).await
    }

    /// `GET /admin/products/{id}` as the admin: archived products too.
    pub async fn admin_get_product(&self, id: &str) -> Answer {
        let req = request("GET", &format!("/admin/products/{id}"), None, Some(&self.admin));
        self.env.call(admin_get_product, routed(req, &[("id", id)], &[])).await
    }

    /// `GET /admin/products` as the admin, with `query`.
    pub async fn admin_list_products(&self, query: &[(&str, &str)]) -> Answer {
        let req = request("GET", "/admin/products", None, Some(&self.admin));
        self.env.call(admin_list_products, routed(req, &[], query)).await
    }

    /// A product sold in `Size` × `Colour` (`sizes` × `colours`), one variant per combination in
    /// that order (SKU `{sku}-{size}-{colour}`, 1000 cents plus 100 per size step), each with
    /// `stock` units: its id.
    pub async fn tee(&self, sku: &str, sizes: &[&str], colours: &[&str], stock: i64) -> String {
        let mut variants = Vec::new();
        for (i, size) in sizes.iter().enumerate() {
            for colour in colours {
                variants
                    .push(json!({"sku": format!("{sku}-{size}-{colour}"), "options": {"Size": size, "Colour": colour},
                    "priceCents": 1000 + 100 * i as i64, "stock": stock}));
            }
        }
        let body = json!({"name": format!("Tee {sku}"), "category": "apparel",
            "options": [{"name": "Size", "values": sizes}, {"name": "Colour", "values": colours}], "variants": variants});
        let answer = self.create_product(body).await;
        assert_eq!(answer.status, 201, "{:#}", answer.body);
        id(&answer.body)
    }

    fn variant_request(&self, method: &str, variant: &str, tail: &str, body: Option<&Value>) -> Request {
        let product = variant.rsplit_once('-').map_or(variant, |(p, _)| p);
        let req = request(method, &format!("/products/{product}/variants/{variant}{tail}"), body, Some(&self.admin));
        routed(req, &[("id", product), ("variantId", variant)], &[])
    }

    /// `POST /products/{id}/variants` as the admin.
    pub async fn add_variant(&self, product: &str, body: Value) -> Answer {
        let req = request("POST", &format!("/products/{product}/variants"), Some(&body), Some(&self.admin));
        self.env.call(create_variant, routed(req, &[("id", product)], &[])).await
    }

    /// `PATCH /products/{id}/variants/{variantId}` as the admin.
    pub async fn update_variant(&self, variant: &str, body: Value) -> Answer {
        self.env.call(update_variant, self.variant_request("PATCH", variant, "", Some(&body))).await
    }

    /// `DELETE /products/{id}/variants/{variantId}` as the admin.
    pub async fn archive_variant(&self, variant: &str) -> Answer {
        self.env.call(archive_variant, self.variant_request("DELETE", variant, "", None)).await
    }

    /// `POST /products/{id}/variants/{variantId}/stock` as the admin.
    pub async fn adjust_variant_stock(&self, variant: &str, delta: i64) -> Answer {
        let body = json!({"delta": delta});
        self.env.call(adjust_variant_stock, self.variant_request("POST", variant, "/stock", Some(&body))).await
    }

    fn image_request(
        &self,
        method: &str,
        product: &str,
        image: Option<&str>,
        tail: &str,
        body: Option<&Value>,
    ) -> Request {
        let path = match image {
            Some(image) => format!("/products/{product}/images/{image}{tail}"),
            None => format!("/products/{product}/images"),
        };
        let req = request(method, &path, body, Some(&self.admin));
        let mut params = vec![("id", product)];
        params.extend(image.map(|i| ("imageId", i)));
        routed(req, &params, &[])
    }

    /// `POST /products/{id}/images` as the admin.
    pub async fn create_image_upload(&self, product: &str, body: Value) -> Answer {
        self.env.call(create_image_upload, self.image_request("POST", product, None, "", Some(&body))).await
    }

    /// `POST /products/{id}/images/{imageId}/complete` as the admin.
    pub async fn complete_image_upload(&self, product: &str, image: &str) -> Answer {
        self.env.call(complete_image_upload, self.image_request("POST", product, Some(image), "/complete", None)).await
    }

    /// `PATCH /products/{id}/images` as the admin.
    pub async fn update_images(&self, product: &str, body: Value) -> Answer {
        self.env.call(update_images, self.image_request("PATCH", product, None, "", Some(&body))).await
    }

    /// `DELETE /products/{id}/images/{imageId}` as the admin.
    pub async fn delete_image(&self, product: &str, image: &str) -> Answer {
        self.env.call(delete_image, self.image_request("DELETE", product, Some(image), "", None)).await
    }

    /// Sends `bytes` to the upload URL of a created upload, as `curl -T` would: the status.
    pub async fn send_upload(&self, created: &Answer, bytes: &[u8]) -> u16 {
        let upload = &created.body["upload"];
        let headers: Vec<(String, String)> = upload["headers"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
            .collect();
        let url = upload["url"].as_str().unwrap_or_else(|| panic!("no upload URL in {:#}", created.body));
        crate::http_send(upload["method"].as_str().unwrap_or("PUT"), url, &headers, bytes.to_vec()).await.0
    }

    /// Uploads `bytes` as an image of `product` (declared `content_type`) and completes it:
    /// the answer of the completion.
    pub async fn upload_image(&self, product: &str, content_type: &str, bytes: &[u8], alt: &str) -> Answer {
        let body = json!({"contentType": content_type, "contentLength": bytes.len(), "alt": alt});
        let created = self.create_image_upload(product, body).await;
        assert_eq!(created.status, 201, "{:#}", created.body);
        assert_eq!(self.send_upload(&created, bytes).await, 200, "the presigned upload is accepted");
        let image = created.body["imageId"].as_str().unwrap().to_owned();
        self.complete_image_upload(product, &image).await
    }

    /// A variant's `(onHand, reserved, available)`, as the admin reads them.
    pub async fn counts(&self, variant: &str) -> (i64, i64, i64) {
        let product = variant.rsplit_once('-').map_or(variant, |(p, _)| p);
        let answer = self.admin_get_product(product).await;
        let v = answer.body["variants"]
            .as_array()
            .and_then(|vs| vs.iter().find(|v| v["id"] == variant))
            .unwrap_or_else(|| panic!("no variant {variant} in {:#}", answer.body));
        let n = |f: &str| v[f].as_i64().unwrap_or_else(|| panic!("no {f} in {v:#}"));
        (n("onHand"), n("reserved"), n("available"))
    }

    /// The units of product `id` in stock, as the admin reads them.
    pub async fn stock(&self, id: &str) -> i64 {
        let answer = self.admin_get_product(id).await;
        answer.body["stock"].as_i64().unwrap_or_else(|| panic!("no stock in {:#}", answer.body))
    }

    /// `GET /products` as a shopper, with `query`: one page.
    pub async fn list_products(&self, query: &[(&str, &str)]) -> Answer {
        self.env.call(list_products, routed(request("GET", "/products", None, None), &[], query)).await
    }

    /// Every page of the listing `query` asks for, followed by its cursors: the names, in order.
    pub async fn listing(&self, query: &[(&str, &str)]) -> Vec<String> {
        let mut names = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut q = query.to_vec();
            if let Some(c) = &cursor {
                q.push(("cursor", c));
            }
            let page = self.list_products(&q).await;
            assert_eq!(page.status, 200, "{:#}", page.body);
            names.extend(page.body["items"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_owned()));
            match page.body["nextCursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return names,
            }
        }
    }

    /// The names of every product a search for `q` finds, in order.
    pub async fn search(&self, q: &str) -> Vec<String> {
        self.listing(&[("q", q)]).await
    }

    /// `GET /categories`: each listed category's slug and product count.
    pub async fn categories(&self) -> BTreeMap<String, i64> {
        let answer = self.env.call(list_categories, request("GET", "/categories", None, None)).await;
        assert_eq!(answer.status, 200);
        answer.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["slug"].as_str().unwrap().to_owned(), c["productCount"].as_i64().unwrap()))
            .collect()
    }

    // The cart, discounts and checkout.

    /// `PUT /cart/items/{itemId}` as `token`, setting the line's `quantity`.
    pub async fn put_cart_item(&self, token: &str, product: &str, quantity: impl Into<Value>) -> Answer {
        let body = json!({"quantity": quantity.into()});
        let req = request("PUT", &format!("/cart/items/{product}"), Some(&body), Some(token));
        self.env.call(put_cart_item, routed(req, &[("itemId", product)], &[])).await
    }

    /// `GET /cart` as `token`.
    pub async fn get_cart(&self, token: &str) -> Answer {
        self.env.call(get_cart, request("GET", "/cart", None, Some(token))).await
    }

    /// `POST /discounts` as the admin.
    pub async fn create_discount(&self, body: Value) -> Answer {
        self.env.call(create_discount, request("POST", "/discounts", Some(&body), Some(&self.admin))).await
    }

    /// `GET /discounts` as `token`.
    pub async fn list_discounts(&self, token: &str) -> Answer {
        self.env.call(list_discounts, request("GET", "/discounts", None, Some(token))).await
    }

    /// `POST /checkout/quote` as `token`.
    pub async fn quote(&self, token: &str, body: &Value) -> Answer {
        self.env.call(quote, request("POST", "/checkout/quote", Some(body), Some(token))).await
    }

    /// `POST /orders` as `token`, with `Idempotency-Key: key` if given.
    pub async fn place_order(&self, token: &str, key: Option<&str>, body: &Value) -> Answer {
        let mut req = request("POST", "/orders", Some(body), Some(token));
        if let Some(key) = key {
            req.headers_mut().insert("idempotency-key", key.parse().expect("a header value"));
        }
        self.env.call(place_order, req).await
    }

    /// `POST /orders` sent the way a 503 with `Retry-After` asks a client to: the same request
    /// under the same key again, until it is decided. Many racers on one item can use up the
    /// store's own retries (DynamoDB Local cancels contended transactions readily).
    pub async fn place_order_until_decided(&self, token: &str, key: &str, body: &Value) -> Answer {
        for _ in 0..20 {
            let answer = self.place_order(token, Some(key), body).await;
            if answer.status != 503 {
                return answer;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("POST /orders was still busy after 20 tries");
    }

    /// An order placed by `customer` for `quantity` units of `product` (put in their cart first),
    /// shipped by standard to the US, with a discount `code` if given, under a key of its own.
    pub async fn order(&self, customer: &str, product: &str, quantity: i64, code: Option<&str>) -> Value {
        assert_eq!(self.put_cart_item(customer, product, quantity).await.status, 200);
        let key = format!("key-{}", storefront::domain::OrderId::new());
        let answer = self.place_order(customer, Some(&key), &checkout("US", "standard", code)).await;
        assert_eq!(answer.status, 201, "{:#}", answer.body);
        answer.body
    }

    // Orders after checkout.

    /// `GET /orders/{id}` as `token`.
    pub async fn get_order(&self, token: &str, id: &str) -> Answer {
        let req = request("GET", &format!("/orders/{id}"), None, Some(token));
        self.env.call(get_order, routed(req, &[("id", id)], &[])).await
    }

    /// `GET /orders` as `token`, with `query`.
    pub async fn list_orders(&self, token: &str, query: &[(&str, &str)]) -> Answer {
        self.env.call(list_orders, routed(request("GET", "/orders", None, Some(token)), &[], query)).await
    }

    /// `GET /admin/orders` as the admin, with `query`.
    pub async fn admin_list_orders(&self, query: &[(&str, &str)]) -> Answer {
        let req = request("GET", "/admin/orders", None, Some(&self.admin));
        self.env.call(admin_list_orders, routed(req, &[], query)).await
    }

    /// `POST /orders/{id}/cancel` as `token`.
    pub async fn cancel_order(&self, token: &str, id: &str) -> Answer {
        let req = request("POST", &format!("/orders/{id}/cancel"), None, Some(token));
        self.env.call(cancel_order, routed(req, &[("id", id)], &[])).await
    }

    /// `PATCH /admin/orders/{id}` as the admin: a status change (and tracking number).
    pub async fn admin_update_order(&self, id: &str, body: Value) -> Answer {
        let req = request("PATCH", &format!("/admin/orders/{id}"), Some(&body), Some(&self.admin));
        self.env.call(admin_update_order, routed(req, &[("id", id)], &[])).await
    }

    // Webhook endpoints (admins).

    /// `POST /admin/webhooks` as the admin.
    pub async fn create_webhook(&self, body: Value) -> Answer {
        let req = request("POST", "/admin/webhooks", Some(&body), Some(&self.admin));
        self.env.call(storefront::api::webhooks::create_webhook, req).await
    }

    /// An endpoint at `url` for `events`, registered by the admin: its answer (with `secret`).
    pub async fn webhook(&self, url: &str, events: &[&str]) -> Value {
        let created = self.create_webhook(serde_json::json!({"url": url, "events": events})).await;
        assert_eq!(created.status, 201, "{:#}", created.body);
        created.body
    }

    /// `GET /admin/webhooks` as the admin, with `query`.
    pub async fn list_webhooks(&self, query: &[(&str, &str)]) -> Answer {
        let req = request("GET", "/admin/webhooks", None, Some(&self.admin));
        self.env.call(storefront::api::webhooks::list_webhooks, routed(req, &[], query)).await
    }

    /// `GET /admin/webhooks/{id}` as the admin.
    pub async fn get_webhook(&self, id: &str) -> Answer {
        let req = request("GET", &format!("/admin/webhooks/{id}"), None, Some(&self.admin));
        self.env.call(storefront::api::webhooks::get_webhook, routed(req, &[("id", id)], &[])).await
    }

    /// `PATCH /admin/webhooks/{id}` as the admin.
    pub async fn update_webhook(&self, id: &str, body: Value) -> Answer {
        let req = request("PATCH", &format!("/admin/webhooks/{id}"), Some(&body), Some(&self.admin));
        self.env.call(storefront::api::webhooks::update_webhook, routed(req, &[("id", id)], &[])).await
    }

    /// `DELETE /admin/webhooks/{id}` as the admin.
    pub async fn delete_webhook(&self, id: &str) -> Answer {
        let req = request("DELETE", &format!("/admin/webhooks/{id}"), None, Some(&self.admin));
        self.env.call(storefront::api::webhooks::delete_webhook, routed(req, &[("id", id)], &[])).await
    }

    /// `GET /admin/webhooks/{id}/deliveries` as the admin, with `query`.
    pub async fn webhook_deliveries(&self, id: &str, query: &[(&str, &str)]) -> Answer {
        let req = request("GET", &format!("/admin/webhooks/{id}/deliveries"), None, Some(&self.admin));
        self.env.call(storefront::api::webhooks::list_webhook_deliveries, routed(req, &[("id", id)], query)).await
    }

    /// `POST /admin/webhooks/{id}/deliveries/{deliveryId}/retry` as the admin.
    pub async fn retry_delivery(&self, id: &str, delivery: &str) -> Answer {
        let path = format!("/admin/webhooks/{id}/deliveries/{delivery}/retry");
        let req = routed(request("POST", &path, None, Some(&self.admin)), &[("id", id), ("deliveryId", delivery)], &[]);
        self.env.call(storefront::api::webhooks::retry_webhook_delivery, req).await
    }

    /// `POST /admin/orders/{id}/refunds` as the admin, with `Idempotency-Key: key` if given.
    pub async fn refund(&self, order: &str, key: Option<&str>, body: Value) -> Answer {
        let mut req = request("POST", &format!("/admin/orders/{order}/refunds"), Some(&body), Some(&self.admin));
        if let Some(key) = key {
            req.headers_mut().insert("idempotency-key", key.parse().expect("a header value"));
        }
        self.env.call(storefront::api::payments::create_refund, routed(req, &[("id", order)], &[])).await
    }

    /// `GET /admin/orders/{id}/refunds` as the admin.
    pub async fn refunds(&self, order: &str) -> Answer {
        let req = request("GET", &format!("/admin/orders/{order}/refunds"), None, Some(&self.admin));
        self.env.call(storefront::api::payments::list_refunds, routed(req, &[("id", order)], &[])).await
    }

    /// `POST /orders/{id}/returns` as `token`.
    pub async fn request_return(&self, token: &str, order: &str, body: Value) -> Answer {
        let req = request("POST", &format!("/orders/{order}/returns"), Some(&body), Some(token));
        self.env.call(storefront::api::returns::create_return, routed(req, &[("id", order)], &[])).await
    }

    /// `GET /admin/returns` as the admin, with `query`.
    pub async fn returns(&self, query: &[(&str, &str)]) -> Answer {
        let req = request("GET", "/admin/returns", None, Some(&self.admin));
        self.env.call(storefront::api::returns::list_returns, routed(req, &[], query)).await
    }

    /// `PATCH /admin/returns/{id}` as the admin.
    pub async fn decide_return(&self, id: &str, status: &str) -> Answer {
        let body = json!({"status": status});
        let req = request("PATCH", &format!("/admin/returns/{id}"), Some(&body), Some(&self.admin));
        self.env.call(storefront::api::returns::update_return, routed(req, &[("id", id)], &[])).await
    }

    /// `POST /webhooks/payments` with `event`, signed now (or with `signature` as given).
    pub async fn payment_webhook(&self, event: &Value, signature: Option<String>) -> Answer {
        self.env.call(payment_webhook, self.env.webhook_request(event.to_string(), signature)).await
    }

    /// Pays `order` in full: a signed `payment.succeeded` webhook with `event_id`.
    pub async fn pay(&self, order: &Value, event_id: &str) -> Answer {
        self.payment_webhook(&payment_event(order, event_id, true), None).await
    }
}
