//! The catalog, through the handlers, against dynoxide through the real SDK.

use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use storefront::api::catalog::*;
use storefront::domain::Role;
use storefront_tests::{Answer, TestEnv, request, routed};

struct Shop {
    env: TestEnv,
    admin: String,
}

impl Shop {
    async fn open() -> Self {
        let env = TestEnv::start().await;
        let admin = env.admin_token().await;
        Self { env, admin }
    }

    async fn create(&self, body: Value) -> Answer {
        self.env.call(create_product, request("POST", "/products", Some(&body), Some(&self.admin))).await
    }

    async fn product(&self, sku: &str, name: &str, category: &str, stock: i64) -> Value {
        let answer = self
            .create(json!({"sku": sku, "name": name, "priceCents": 1000, "category": category, "stock": stock}))
            .await;
        assert_eq!(answer.status, 201, "{:#}", answer.body);
        answer.body
    }

    async fn patch(&self, id: &str, body: Value, if_match: Option<&str>) -> Answer {
        let mut req = request("PATCH", &format!("/products/{id}"), Some(&body), Some(&self.admin));
        if let Some(etag) = if_match {
            req.headers_mut().insert("if-match", etag.parse().unwrap());
        }
        self.env.call(update_product, routed(req, &[("id", id)], &[])).await
    }

    async fn archive(&self, id: &str) -> Answer {
        let req = request("DELETE", &format!("/products/{id}"), None, Some(&self.admin));
        self.env.call(archive_product, routed(req, &[("id", id)], &[])).await
    }

    async fn adjust(&self, id: &str, delta: i64) -> Answer {
        let req = request("POST", &format!("/products/{id}/stock"), Some(&json!({"delta": delta})), Some(&self.admin));
        self.env.call(adjust_stock, routed(req, &[("id", id)], &[])).await
    }

    async fn get(&self, id: &str) -> Answer {
        self.env
            .call(get_product, routed(request("GET", &format!("/products/{id}"), None, None), &[("id", id)], &[]))
            .await
    }

    async fn list(&self, query: &[(&str, &str)]) -> Answer {
        self.env.call(list_products, routed(request("GET", "/products", None, None), &[], query)).await
    }

    /// Every page of a listing: the names, in order.
    async fn walk(&self, query: &[(&str, &str)]) -> Vec<String> {
        let mut names = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut q = query.to_vec();
            if let Some(c) = &cursor {
                q.push(("cursor", c));
            }
            let page = self.list(&q).await;
            assert_eq!(page.status, 200, "{:#}", page.body);
            names.extend(page.body["items"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_owned()));
            match page.body["nextCursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return names,
            }
        }
    }

    async fn search(&self, q: &str) -> Vec<String> {
        self.walk(&[("q", q)]).await
    }

    async fn categories(&self) -> BTreeMap<String, i64> {
        let answer = self.env.call(list_categories, request("GET", "/categories", None, None)).await;
        assert_eq!(answer.status, 200);
        answer.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["slug"].as_str().unwrap().to_owned(), c["productCount"].as_i64().unwrap()))
            .collect()
    }
}

fn id(product: &Value) -> String {
    product["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_creates_a_product_and_shoppers_read_it() {
    let shop = Shop::open().await;
    let answer = shop
        .create(json!({"sku": "WM-100", "name": "Wireless Mouse", "description": "Quiet.", "priceCents": 2499, "category": "electronics", "stock": 25}))
        .await;
    assert_eq!(answer.status, 201, "{:#}", answer.body);
    let p = &answer.body;
    assert_eq!(
        (p["version"].as_i64(), p["currency"].as_str(), p["active"].as_bool()),
        (Some(1), Some("USD"), Some(true))
    );
    assert_eq!(answer.header("etag"), Some(format!("\"{}-v1\"", id(p)).as_str()));
    let read = shop.get(&id(p)).await;
    assert_eq!(read.status, 200);
    assert_eq!(&read.body, p);
    assert_eq!(read.header("cache-control"), Some("public, max-age=60"));
}

#[tokio::test(flavor = "multi_thread")]
async fn public_reads_answer_304_to_a_matching_if_none_match() {
    let shop = Shop::open().await;
    let p = shop.product("A-1", "Desk Lamp", "home-office", 3).await;
    let first = shop.get(&id(&p)).await;
    let etag = first.header("etag").unwrap().to_owned();
    let mut req = routed(request("GET", "/products/x", None, None), &[("id", &id(&p))], &[]);
    req.headers_mut().insert("if-none-match", etag.parse().unwrap());
    let again = shop.env.call(get_product, req).await;
    assert_eq!(again.status, 304);
    assert_eq!(again.header("etag"), Some(etag.as_str()));

    let list = shop.list(&[]).await;
    let mut req = request("GET", "/products", None, None);
    req.headers_mut().insert("if-none-match", list.header("etag").unwrap().parse().unwrap());
    assert_eq!(shop.env.call(list_products, req).await.status, 304);
    shop.adjust(&id(&p), 1).await;
    let mut req = request("GET", "/products", None, None);
    req.headers_mut().insert("if-none-match", list.header("etag").unwrap().parse().unwrap());
    assert_eq!(shop.env.call(list_products, req).await.status, 200, "a change makes a new ETag");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_admin_api_refuses_customers_with_403_and_strangers_with_401() {
    let shop = Shop::open().await;
    let customer = shop.env.user_token("cust@example.com", Role::Customer).await;
    let body = json!({"sku": "X", "name": "X", "priceCents": 1, "category": "x", "stock": 1});
    shop.env
        .call(create_product, request("POST", "/products", Some(&body), Some(&customer)))
        .await
        .problem(403, "forbidden");
    shop.env
        .call(create_product, request("POST", "/products", Some(&body), None))
        .await
        .problem(401, "unauthenticated");
    let req = routed(request("GET", "/admin/products", None, Some(&customer)), &[], &[]);
    shop.env.call(admin_list_products, req).await.problem(403, "forbidden");
}

#[tokio::test(flavor = "multi_thread")]
async fn product_fields_are_validated_each_by_name_and_unknown_ones_refused() {
    let shop = Shop::open().await;
    let answer = shop
        .create(json!({"sku": "has space", "name": "", "description": "x".repeat(5001), "priceCents": 100_000_001,
            "category": "Not A Slug", "stock": -1, "active": "yes", "version": 7}))
        .await;
    answer.problem(422, "validation_failed");
    assert_eq!(
        answer.error_fields(),
        ["sku", "name", "description", "priceCents", "category", "stock", "active", "version"]
    );
    let float = shop.create(json!({"sku": "F", "name": "F", "priceCents": 10.5, "category": "f", "stock": 1})).await;
    assert_eq!(float.error_fields(), ["priceCents"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn skus_are_unique_ignoring_case_even_when_created_at_once() {
    let shop = Arc::new(Shop::open().await);
    shop.product("WM-100", "Wireless Mouse", "electronics", 1).await;
    shop.create(json!({"sku": "wm-100", "name": "Other", "priceCents": 1, "category": "x", "stock": 1}))
        .await
        .problem(409, "sku_taken");
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let shop = shop.clone();
            tokio::spawn(async move {
                shop.create(json!({"sku": "RACE-1", "name": format!("Racer {i}"), "priceCents": 1, "category": "race", "stock": 1}))
                    .await
                    .status
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert_eq!(shop.categories().await.get("race"), Some(&1), "the losers left no count behind");
}

#[tokio::test(flavor = "multi_thread")]
async fn changing_the_sku_moves_the_claim() {
    let shop = Shop::open().await;
    let a = shop.product("A-1", "Alpha", "x", 1).await;
    shop.product("B-1", "Beta", "x", 1).await;
    shop.patch(&id(&a), json!({"sku": "B-1"}), None).await.problem(409, "sku_taken");
    assert_eq!(shop.patch(&id(&a), json!({"sku": "A-2"}), None).await.status, 200);
    assert_eq!(
        shop.create(json!({"sku": "A-1", "name": "Again", "priceCents": 1, "category": "x", "stock": 1})).await.status,
        201
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn paging_returns_every_product_exactly_once_while_products_are_added() {
    let shop = Arc::new(Shop::open().await);
    for i in 0..23 {
        shop.product(&format!("P-{i}"), &format!("Product {i}"), "x", 1).await;
    }
    let adder = {
        let shop = shop.clone();
        tokio::spawn(async move {
            for i in 0..15 {
                shop.product(&format!("N-{i}"), &format!("New {i}"), "x", 1).await;
            }
        })
    };
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut q = vec![("limit", "4")];
        if let Some(c) = &cursor {
            q.push(("cursor", c));
        }
        let page = shop.list(&q).await;
        assert!(page.body["items"].as_array().unwrap().len() <= 4);
        seen.extend(page.body["items"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_owned()));
        match page.body["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
        tokio::task::yield_now().await;
    }
    adder.await.unwrap();
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "a product appeared twice: {seen:?}");
    for i in 0..23 {
        assert!(seen.contains(&format!("Product {i}")), "Product {i} was skipped");
    }
    let all = shop.walk(&[("limit", "100")]).await;
    assert_eq!(all.len(), 38);
    assert_eq!(all.first().map(String::as_str), Some("New 14"), "newest first");
    assert_eq!(all.last().map(String::as_str), Some("Product 0"), "oldest last");
}

#[tokio::test(flavor = "multi_thread")]
async fn limit_must_be_1_to_100_and_cursors_must_be_this_querys() {
    let shop = Shop::open().await;
    for i in 0..3 {
        shop.product(&format!("P-{i}"), &format!("Product {i}"), "x", 1).await;
    }
    for bad in ["0", "101", "ten", "-1", "1.5"] {
        let answer = shop.list(&[("limit", bad)]).await;
        answer.problem(422, "validation_failed");
        assert_eq!(answer.error_fields(), ["limit"]);
    }
    let first = shop.list(&[("limit", "1")]).await;
    let cursor = first.body["nextCursor"].as_str().unwrap().to_owned();
    assert_eq!(shop.list(&[("limit", "1"), ("cursor", &cursor)]).await.status, 200);
    shop.list(&[("category", "x"), ("cursor", &cursor)]).await.problem(400, "invalid_cursor");
    shop.list(&[("q", "product"), ("cursor", &cursor)]).await.problem(400, "invalid_cursor");
    let mut altered = cursor.clone().into_bytes();
    let at = altered.len() - 5;
    altered[at] = if altered[at] == b'x' { b'y' } else { b'x' };
    shop.list(&[("cursor", &String::from_utf8(altered).unwrap())]).await.problem(400, "invalid_cursor");
    shop.list(&[("cursor", "not-a-cursor")]).await.problem(400, "invalid_cursor");
    let admin = routed(request("GET", "/admin/products", None, Some(&shop.admin)), &[], &[("cursor", &cursor)]);
    shop.env.call(admin_list_products, admin).await.problem(400, "invalid_cursor");
}

#[tokio::test(flavor = "multi_thread")]
async fn search_matches_word_prefixes_and_follows_renames_and_archives() {
    let shop = Shop::open().await;
    let mouse = shop.product("WM-1", "Wireless Mouse", "electronics", 5).await;
    shop.product("WK-1", "Wireless Keyboard", "electronics", 5).await;
    shop.product("MP-1", "Mouse Pad", "home-office", 5).await;
    shop.product("TV-1", "TV Stand", "home-office", 5).await;
    shop.product("HW-1", "Haywire Cable", "electronics", 5).await;

    assert_eq!(shop.search("wire mou").await, ["Wireless Mouse"]);
    assert_eq!(shop.search("WIRE").await, ["Wireless Keyboard", "Wireless Mouse"]);
    assert_eq!(shop.search("mouse").await, ["Mouse Pad", "Wireless Mouse"]);
    assert_eq!(shop.walk(&[("q", "mou"), ("category", "home-office")]).await, ["Mouse Pad"]);
    assert_eq!(shop.search("tv").await, ["TV Stand"], "short words are searched too");
    assert_eq!(shop.search("m").await, ["Mouse Pad", "Wireless Mouse"]);
    assert!(shop.search("ire").await.is_empty(), "only word starts match");

    assert_eq!(shop.patch(&id(&mouse), json!({"name": "Cordless Rodent"}), None).await.status, 200);
    assert!(shop.search("wire mou").await.is_empty(), "the old name is no longer found");
    assert_eq!(shop.search("cord rod").await, ["Cordless Rodent"]);

    assert_eq!(shop.archive(&id(&mouse)).await.status, 204);
    assert!(shop.search("cord").await.is_empty(), "archived products are not found");
    assert_eq!(shop.patch(&id(&mouse), json!({"active": true}), None).await.status, 200);
    assert_eq!(shop.search("cord").await, ["Cordless Rodent"], "reactivated products are found again");
}

#[tokio::test(flavor = "multi_thread")]
async fn archived_products_are_hidden_from_shoppers_but_not_from_admins() {
    let shop = Shop::open().await;
    let p = shop.product("A-1", "Alpha", "x", 1).await;
    assert_eq!(shop.archive(&id(&p)).await.status, 204);
    assert_eq!(shop.archive(&id(&p)).await.status, 204, "archiving is idempotent");
    shop.get(&id(&p)).await.problem(404, "product_not_found");
    assert!(shop.walk(&[]).await.is_empty());
    let req = routed(request("GET", "/admin/products/x", None, Some(&shop.admin)), &[("id", &id(&p))], &[]);
    let admin = shop.env.call(admin_get_product, req).await;
    assert_eq!((admin.status, admin.body["active"].as_bool()), (200, Some(false)));
    let req = routed(request("GET", "/admin/products", None, Some(&shop.admin)), &[], &[]);
    assert_eq!(shop.env.call(admin_list_products, req).await.body["items"].as_array().unwrap().len(), 1);
    shop.get("not-an-id").await.problem(404, "product_not_found");
    shop.archive("01ARZ3NDEKTSV4RRFFQ69G5FAV").await.problem(404, "product_not_found");
}

#[tokio::test(flavor = "multi_thread")]
async fn category_counts_follow_creates_archives_and_category_changes() {
    let shop = Shop::open().await;
    let a = shop.product("A", "A", "kitchen", 1).await;
    let b = shop.product("B", "B", "kitchen", 1).await;
    shop.product("C", "C", "books", 1).await;
    let hidden = shop
        .create(json!({"sku": "D", "name": "D", "priceCents": 1, "category": "books", "stock": 1, "active": false}))
        .await;
    assert_eq!(hidden.status, 201);
    assert_eq!(shop.categories().await, BTreeMap::from([("books".into(), 1), ("kitchen".into(), 2)]));
    shop.patch(&id(&a), json!({"category": "books"}), None).await;
    assert_eq!(shop.categories().await, BTreeMap::from([("books".into(), 2), ("kitchen".into(), 1)]));
    shop.archive(&id(&b)).await;
    assert_eq!(shop.categories().await, BTreeMap::from([("books".into(), 2)]), "empty categories are not listed");
    shop.patch(&id(&hidden.body), json!({"active": true, "category": "garden"}), None).await;
    assert_eq!(shop.categories().await, BTreeMap::from([("books".into(), 2), ("garden".into(), 1)]));
    let answer = shop.env.call(list_categories, request("GET", "/categories", None, None)).await;
    assert_eq!(answer.body["items"][0], json!({"slug": "books", "name": "Books", "productCount": 2}));
}

#[tokio::test(flavor = "multi_thread")]
async fn category_counts_stay_exact_under_concurrent_edits() {
    let shop = Arc::new(Shop::open().await);
    let mut ids = Vec::new();
    for i in 0..4 {
        ids.push(id(&shop.product(&format!("S-{i}"), &format!("Item {i}"), "red", 1).await));
    }
    let tasks: Vec<_> = (0..24)
        .map(|i| {
            let shop = shop.clone();
            let target = ids[i % ids.len()].clone();
            tokio::spawn(async move {
                let change = match i % 3 {
                    0 => json!({"category": "blue"}),
                    1 => json!({"category": "red"}),
                    _ => json!({"active": i % 2 == 0}),
                };
                shop.patch(&target, change, None).await.status
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    // The counts must equal what the products themselves say.
    let mut expected: BTreeMap<String, i64> = BTreeMap::new();
    for product_id in &ids {
        let req = routed(request("GET", "/admin/products/x", None, Some(&shop.admin)), &[("id", product_id)], &[]);
        let p = shop.env.call(admin_get_product, req).await.body;
        if p["active"].as_bool() == Some(true) {
            *expected.entry(p["category"].as_str().unwrap().to_owned()).or_default() += 1;
        }
    }
    assert_eq!(shop.categories().await, expected);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stale_if_match_is_refused_with_412_and_changes_nothing() {
    let shop = Shop::open().await;
    let p = shop.product("A", "Alpha", "x", 1).await;
    let v1 = format!("\"{}-v1\"", id(&p));
    let ok = shop.patch(&id(&p), json!({"priceCents": 500}), Some(&v1)).await;
    assert_eq!((ok.status, ok.body["version"].as_i64()), (200, Some(2)));
    shop.patch(&id(&p), json!({"priceCents": 1}), Some(&v1)).await.problem(412, "version_mismatch");
    shop.patch(&id(&p), json!({"priceCents": 1}), Some("\"garbage\"")).await.problem(412, "version_mismatch");
    assert_eq!(shop.get(&id(&p)).await.body["priceCents"], 500);
    let v2 = ok.header("etag").unwrap().to_owned();
    assert_eq!(shop.patch(&id(&p), json!({"priceCents": 1}), Some(&v2)).await.status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn twenty_concurrent_stock_adjustments_of_one_add_exactly_twenty() {
    let shop = Arc::new(Shop::open().await);
    let p = shop.product("A", "Alpha", "x", 5).await;
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let shop = shop.clone();
            let pid = id(&p);
            tokio::spawn(async move { shop.adjust(&pid, 1).await.status })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    let after = shop.get(&id(&p)).await.body;
    assert_eq!(after["stock"], 25);
    assert_eq!(after["version"], 21);
}

#[tokio::test(flavor = "multi_thread")]
async fn stock_never_goes_below_zero() {
    let shop = Shop::open().await;
    let p = shop.product("A", "Alpha", "x", 2).await;
    let refused = shop.adjust(&id(&p), -3).await;
    refused.problem(409, "insufficient_stock");
    assert_eq!(shop.get(&id(&p)).await.body["stock"], 2);
    assert_eq!(shop.adjust(&id(&p), -2).await.body["stock"], 0);
    shop.adjust(&id(&p), 0).await.problem(422, "validation_failed");
    shop.adjust(&id(&p), 1_000_001).await.problem(422, "validation_failed");
    shop.adjust("01ARZ3NDEKTSV4RRFFQ69G5FAV", 1).await.problem(404, "product_not_found");
}

#[tokio::test(flavor = "multi_thread")]
async fn search_results_page_like_listings_each_match_once() {
    let shop = Shop::open().await;
    for i in 0..7 {
        shop.product(&format!("L-{i}"), &format!("Lamp {i}"), if i % 2 == 0 { "even" } else { "odd" }, 1).await;
        shop.product(&format!("C-{i}"), &format!("Chair {i}"), "even", 1).await;
    }
    let lamps = shop.walk(&[("q", "lamp"), ("limit", "2")]).await;
    assert_eq!(lamps, (0..7).rev().map(|i| format!("Lamp {i}")).collect::<Vec<_>>());
    let even_lamps = shop.walk(&[("q", "lam"), ("category", "even"), ("limit", "1")]).await;
    assert_eq!(even_lamps, ["Lamp 6", "Lamp 4", "Lamp 2", "Lamp 0"]);
    let short = shop.walk(&[("q", "la"), ("limit", "3")]).await;
    assert_eq!(short.len(), 7, "short-word search pages through the listing: {short:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_query_parameters_are_refused_not_ignored() {
    let shop = Shop::open().await;
    let answer = shop.list(&[("categry", "books"), ("limit", "5")]).await;
    answer.problem(422, "validation_failed");
    assert_eq!(answer.error_fields(), ["categry"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn if_match_accepts_a_star_and_lists_of_tags() {
    let shop = Shop::open().await;
    let p = shop.product("A", "Alpha", "x", 1).await;
    let star = shop.patch(&id(&p), json!({"priceCents": 7}), Some("*")).await;
    assert_eq!((star.status, star.body["version"].as_i64()), (200, Some(2)));
    let list = format!("\"stale\", \"{}-v2\"", id(&p));
    let listed = shop.patch(&id(&p), json!({"priceCents": 8}), Some(&list)).await;
    assert_eq!(listed.status, 200, "{list}: {:#}", listed.body);
    shop.patch(&id(&p), json!({"priceCents": 9}), Some(&format!("W/\"{}-v3\"", id(&p))))
        .await
        .problem(412, "version_mismatch");
}
