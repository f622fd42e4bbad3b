//! The catalog, through the handlers, against dynoxide through the real SDK.

use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use storefront::api::catalog::*;
use storefront_tests::{Shop, id, request, routed};

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_creates_a_product_and_shoppers_read_it() {
    let shop = Shop::open().await;
    let answer = shop
        .create_product(json!({"sku": "WM-100", "name": "Wireless Mouse", "description": "Quiet.", "priceCents": 2499, "category": "electronics", "stock": 25}))
        .await;
    assert_eq!(answer.status, 201, "{:#}", answer.body);
    let p = &answer.body;
    assert_eq!(
        (p["version"].as_i64(), p["currency"].as_str(), p["active"].as_bool()),
        (Some(1), Some("USD"), Some(true))
    );
    assert_eq!(
        answer.header("etag"),
        Some(format!("\"{}-v1-s1\"", id(p)).as_str()),
        "the product's version and its stock's"
    );
    assert_eq!(
        (&p["variants"][0]["onHand"], &p["variants"][0]["reserved"], &p["variants"][0]["available"]),
        (&json!(25), &json!(0), &json!(25)),
        "admins see the shelf and what is promised"
    );
    let read = shop.get_product(&id(p)).await;
    assert_eq!(read.status, 200);
    let mut shown = p.clone();
    for field in ["onHand", "reserved", "available"] {
        shown["variants"][0].as_object_mut().unwrap().remove(field);
    }
    assert_eq!(shown.as_object_mut().unwrap().remove("lowStockThreshold"), Some(json!(5)), "admins see the threshold");
    assert_eq!(read.body, shown, "shoppers see the same, without the shelf counts or the threshold");
    assert_eq!(read.header("cache-control"), Some("public, max-age=60"));
}

#[tokio::test(flavor = "multi_thread")]
async fn public_reads_answer_304_to_a_matching_if_none_match() {
    let shop = Shop::open().await;
    let p = shop.product("A-1").name("Desk Lamp").category("home-office").stock(3).create().await;
    let first = shop.get_product(&p).await;
    let etag = first.header("etag").unwrap().to_owned();
    let mut req = routed(request("GET", "/products/x", None, None), &[("id", &p)], &[]);
    req.headers_mut().insert("if-none-match", etag.parse().unwrap());
    let again = shop.env.call(get_product, req).await;
    assert_eq!(again.status, 304);
    assert_eq!(again.header("etag"), Some(etag.as_str()));

    let list = shop.list_products(&[]).await;
    let mut req = request("GET", "/products", None, None);
    req.headers_mut().insert("if-none-match", list.header("etag").unwrap().parse().unwrap());
    assert_eq!(shop.env.call(list_products, req).await.status, 304);
    shop.adjust_stock(&p, 1).await;
    let mut req = request("GET", "/products", None, None);
    req.headers_mut().insert("if-none-match", list.header("etag").unwrap().parse().unwrap());
    assert_eq!(shop.env.call(list_products, req).await.status, 304, "listings carry no counts: stock is not a change");
    let mut req = routed(request("GET", "/products/x", None, None), &[("id", &p)], &[]);
    req.headers_mut().insert("if-none-match", etag.parse().unwrap());
    assert_eq!(shop.env.call(get_product, req).await.status, 200, "a product page shows its stock: a new ETag");
    shop.update_product(&p, json!({"name": "Desk Light"}), None).await;
    let mut req = request("GET", "/products", None, None);
    req.headers_mut().insert("if-none-match", list.header("etag").unwrap().parse().unwrap());
    assert_eq!(shop.env.call(list_products, req).await.status, 200, "a change makes a new ETag");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_admin_api_refuses_customers_with_403_and_strangers_with_401() {
    let shop = Shop::open().await;
    let customer = shop.customer(1).await;
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
        .create_product(
            json!({"sku": "has space", "name": "", "description": "x".repeat(5001), "priceCents": 100_000_001,
            "category": "Not A Slug", "stock": -1, "active": "yes", "version": 7}),
        )
        .await;
    answer.problem(422, "validation_failed");
    assert_eq!(
        answer.error_fields(),
        ["sku", "name", "description", "priceCents", "category", "stock", "active", "version"]
    );
    let float =
        shop.create_product(json!({"sku": "F", "name": "F", "priceCents": 10.5, "category": "f", "stock": 1})).await;
    assert_eq!(float.error_fields(), ["priceCents"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn skus_are_unique_ignoring_case_even_when_created_at_once() {
    let shop = Arc::new(Shop::open().await);
    shop.product("WM-100").name("Wireless Mouse").category("electronics").create().await;
    shop.create_product(json!({"sku": "wm-100", "name": "Other", "priceCents": 1, "category": "x", "stock": 1}))
        .await
        .problem(409, "sku_taken");
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let shop = shop.clone();
            tokio::spawn(async move {
                shop.create_product(json!({"sku": "RACE-1", "name": format!("Racer {i}"), "priceCents": 1, "category": "race", "stock": 1}))
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
    let a = shop.product("A-1").name("Alpha").create().await;
    shop.product("B-1").name("Beta").create().await;
    shop.update_product(&a, json!({"sku": "B-1"}), None).await.problem(409, "sku_taken");
    assert_eq!(shop.update_product(&a, json!({"sku": "A-2"}), None).await.status, 200);
    assert_eq!(
        shop.create_product(json!({"sku": "A-1", "name": "Again", "priceCents": 1, "category": "x", "stock": 1}))
            .await
            .status,
        201
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn paging_returns_every_product_exactly_once_while_products_are_added() {
    let shop = Arc::new(Shop::open().await);
    for i in 0..23 {
        shop.product(&format!("P-{i}")).name(&format!("Product {i}")).create().await;
    }
    let adder = {
        let shop = shop.clone();
        tokio::spawn(async move {
            for i in 0..15 {
                shop.product(&format!("N-{i}")).name(&format!("New {i}")).create().await;
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
        let page = shop.list_products(&q).await;
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
    let all = shop.listing(&[("limit", "100")]).await;
    assert_eq!(all.len(), 38);
    assert_eq!(all.first().map(String::as_str), Some("New 14"), "newest first");
    assert_eq!(all.last().map(String::as_str), Some("Product 0"), "oldest last");
}

/// The same for the listings in stock and by price, alone and together, with a category.
#[tokio::test(flavor = "multi_thread")]
async fn in_stock_and_price_listings_page_exactly_once_while_products_are_added() {
    let shop = Arc::new(Shop::open().await);
    // Prices interleave with those of the products added while paging; every third has none.
    for i in 0..24i64 {
        let stock = if i % 3 == 0 { 0 } else { 2 };
        shop.product(&format!("P-{i}")).name(&format!("Product {i}")).price(100 + 10 * i).stock(stock).create().await;
    }
    for query in [
        vec![("inStock", "true")],
        vec![("inStock", "true"), ("sort", "price_asc")],
        vec![("sort", "price_desc"), ("category", "x")],
        vec![("inStock", "true"), ("sort", "price_desc"), ("category", "x")],
    ] {
        let run = query.iter().map(|(k, v)| format!("{k}{v}")).collect::<String>();
        let adder = {
            let (shop, run) = (shop.clone(), run.clone());
            tokio::spawn(async move {
                for i in 0..12i64 {
                    let sku = format!("N-{run}-{i}");
                    shop.product(&sku).name(&sku).price(95 + 20 * i).stock(i % 2).create().await;
                }
            })
        };
        let mut seen: Vec<(String, i64)> = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut q = query.clone();
            q.push(("limit", "4"));
            if let Some(c) = &cursor {
                q.push(("cursor", c));
            }
            let page = shop.list_products(&q).await;
            assert_eq!(page.status, 200, "{:#}", page.body);
            for p in page.body["items"].as_array().unwrap() {
                seen.push((p["name"].as_str().unwrap().to_owned(), p["priceCents"].as_i64().unwrap()));
            }
            match page.body["nextCursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
            tokio::task::yield_now().await;
        }
        adder.await.unwrap();
        let names: BTreeSet<&String> = seen.iter().map(|(n, _)| n).collect();
        assert_eq!(names.len(), seen.len(), "{query:?}: a product appeared twice: {seen:?}");
        let in_stock_only = query.contains(&("inStock", "true"));
        for i in 0..24 {
            let expected = !in_stock_only || i % 3 != 0;
            assert_eq!(seen.iter().any(|(n, _)| *n == format!("Product {i}")), expected, "{query:?}: Product {i}");
        }
        let prices: Vec<i64> = seen.iter().map(|(_, p)| *p).collect();
        if query.contains(&("sort", "price_asc")) {
            assert!(prices.windows(2).all(|w| w[0] <= w[1]), "{query:?}: cheapest first: {prices:?}");
        }
        if query.contains(&("sort", "price_desc")) {
            assert!(prices.windows(2).all(|w| w[0] >= w[1]), "{query:?}: dearest first: {prices:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn limit_must_be_1_to_100_and_cursors_must_be_this_querys() {
    let shop = Shop::open().await;
    for i in 0..3 {
        shop.product(&format!("P-{i}")).name(&format!("Product {i}")).create().await;
    }
    for bad in ["0", "101", "ten", "-1", "1.5"] {
        let answer = shop.list_products(&[("limit", bad)]).await;
        answer.problem(422, "validation_failed");
        assert_eq!(answer.error_fields(), ["limit"]);
    }
    let first = shop.list_products(&[("limit", "1")]).await;
    let cursor = first.body["nextCursor"].as_str().unwrap().to_owned();
    assert_eq!(shop.list_products(&[("limit", "1"), ("cursor", &cursor)]).await.status, 200);
    shop.list_products(&[("category", "x"), ("cursor", &cursor)]).await.problem(400, "invalid_cursor");
    shop.list_products(&[("q", "product"), ("cursor", &cursor)]).await.problem(400, "invalid_cursor");
    let mut altered = cursor.clone().into_bytes();
    let at = altered.len() - 5;
    altered[at] = if altered[at] == b'x' { b'y' } else { b'x' };
    shop.list_products(&[("cursor", &String::from_utf8(altered).unwrap())]).await.problem(400, "invalid_cursor");
    shop.list_products(&[("cursor", "not-a-cursor")]).await.problem(400, "invalid_cursor");
    shop.admin_list_products(&[("cursor", &cursor)]).await.problem(400, "invalid_cursor");
}

#[tokio::test(flavor = "multi_thread")]
async fn search_matches_word_prefixes_and_follows_renames_and_archives() {
    let shop = Shop::open().await;
    let mouse = shop.product("WM-1").name("Wireless Mouse").category("electronics").stock(5).create().await;
    shop.product("WK-1").name("Wireless Keyboard").category("electronics").stock(5).create().await;
    shop.product("MP-1").name("Mouse Pad").category("home-office").stock(5).create().await;
    shop.product("TV-1").name("TV Stand").category("home-office").stock(5).create().await;
    shop.product("HW-1").name("Haywire Cable").category("electronics").stock(5).create().await;

    assert_eq!(shop.search("wire mou").await, ["Wireless Mouse"]);
    assert_eq!(shop.search("WIRE").await, ["Wireless Keyboard", "Wireless Mouse"]);
    assert_eq!(shop.search("mouse").await, ["Mouse Pad", "Wireless Mouse"]);
    assert_eq!(shop.listing(&[("q", "mou"), ("category", "home-office")]).await, ["Mouse Pad"]);
    assert_eq!(shop.search("tv").await, ["TV Stand"], "short words are searched too");
    assert_eq!(shop.search("m").await, ["Mouse Pad", "Wireless Mouse"]);
    assert!(shop.search("ire").await.is_empty(), "only word starts match");

    assert_eq!(shop.update_product(&mouse, json!({"name": "Cordless Rodent"}), None).await.status, 200);
    assert!(shop.search("wire mou").await.is_empty(), "the old name is no longer found");
    assert_eq!(shop.search("cord rod").await, ["Cordless Rodent"]);

    assert_eq!(shop.archive_product(&mouse).await.status, 204);
    assert!(shop.search("cord").await.is_empty(), "archived products are not found");
    assert_eq!(shop.update_product(&mouse, json!({"active": true}), None).await.status, 200);
    assert_eq!(shop.search("cord").await, ["Cordless Rodent"], "reactivated products are found again");
}

#[tokio::test(flavor = "multi_thread")]
async fn archived_products_are_hidden_from_shoppers_but_not_from_admins() {
    let shop = Shop::open().await;
    let p = shop.product("A-1").name("Alpha").create().await;
    assert_eq!(shop.archive_product(&p).await.status, 204);
    assert_eq!(shop.archive_product(&p).await.status, 204, "archiving is idempotent");
    shop.get_product(&p).await.problem(404, "product_not_found");
    assert!(shop.listing(&[]).await.is_empty());
    let admin = shop.admin_get_product(&p).await;
    assert_eq!((admin.status, admin.body["active"].as_bool()), (200, Some(false)));
    assert_eq!(shop.admin_list_products(&[]).await.body["items"].as_array().unwrap().len(), 1);
    shop.get_product("not-an-id").await.problem(404, "product_not_found");
    shop.archive_product("01ARZ3NDEKTSV4RRFFQ69G5FAV").await.problem(404, "product_not_found");
}

#[tokio::test(flavor = "multi_thread")]
async fn category_counts_follow_creates_archives_and_category_changes() {
    let shop = Shop::open().await;
    let a = shop.product("A").name("A").category("kitchen").create().await;
    let b = shop.product("B").name("B").category("kitchen").create().await;
    shop.product("C").name("C").category("books").create().await;
    let hidden = shop
        .create_product(
            json!({"sku": "D", "name": "D", "priceCents": 1, "category": "books", "stock": 1, "active": false}),
        )
        .await;
    assert_eq!(hidden.status, 201);
    assert_eq!(shop.categories().await, BTreeMap::from([("books".into(), 1), ("kitchen".into(), 2)]));
    shop.update_product(&a, json!({"category": "books"}), None).await;
    assert_eq!(shop.categories().await, BTreeMap::from([("books".into(), 2), ("kitchen".into(), 1)]));
    shop.archive_product(&b).await;
    assert_eq!(shop.categories().await, BTreeMap::from([("books".into(), 2)]), "empty categories are not listed");
    shop.update_product(&id(&hidden.body), json!({"active": true, "category": "garden"}), None).await;
    assert_eq!(shop.categories().await, BTreeMap::from([("books".into(), 2), ("garden".into(), 1)]));
    let answer = shop.env.call(list_categories, request("GET", "/categories", None, None)).await;
    assert_eq!(answer.body["items"][0], json!({"slug": "books", "name": "Books", "productCount": 2}));
}

#[tokio::test(flavor = "multi_thread")]
async fn category_counts_stay_exact_under_concurrent_edits() {
    let shop = Arc::new(Shop::open().await);
    let mut ids = Vec::new();
    for i in 0..4 {
        ids.push(shop.product(&format!("S-{i}")).name(&format!("Item {i}")).category("red").create().await);
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
                shop.update_product(&target, change, None).await.status
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    // The counts must equal what the products themselves say.
    let mut expected: BTreeMap<String, i64> = BTreeMap::new();
    for product_id in &ids {
        let p = shop.admin_get_product(product_id).await.body;
        if p["active"].as_bool() == Some(true) {
            *expected.entry(p["category"].as_str().unwrap().to_owned()).or_default() += 1;
        }
    }
    assert_eq!(shop.categories().await, expected);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stale_if_match_is_refused_with_412_and_changes_nothing() {
    let shop = Shop::open().await;
    let p = shop.product("A").name("Alpha").create().await;
    let v1 = format!("\"{}-v1\"", p);
    let ok = shop.update_product(&p, json!({"priceCents": 500}), Some(&v1)).await;
    assert_eq!((ok.status, ok.body["version"].as_i64()), (200, Some(2)));
    shop.update_product(&p, json!({"priceCents": 1}), Some(&v1)).await.problem(412, "version_mismatch");
    shop.update_product(&p, json!({"priceCents": 1}), Some("\"garbage\"")).await.problem(412, "version_mismatch");
    assert_eq!(shop.get_product(&p).await.body["priceCents"], 500);
    let v2 = ok.header("etag").unwrap().to_owned();
    assert_eq!(shop.update_product(&p, json!({"priceCents": 1}), Some(&v2)).await.status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn twenty_concurrent_stock_adjustments_of_one_add_exactly_twenty() {
    let shop = Arc::new(Shop::open().await);
    let p = shop.product("A").name("Alpha").stock(5).create().await;
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let shop = shop.clone();
            let pid = p.clone();
            tokio::spawn(async move { shop.adjust_stock(&pid, 1).await.status })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    let after = shop.get_product(&p).await;
    assert_eq!(after.body["stock"], 25);
    assert_eq!(after.body["version"], 1, "stock is not an edit of the product");
    assert!(after.header("etag").unwrap().ends_with("-v1-s21\""), "but each adjustment is a new stock version");
}

#[tokio::test(flavor = "multi_thread")]
async fn stock_never_goes_below_zero() {
    let shop = Shop::open().await;
    let p = shop.product("A").name("Alpha").stock(2).create().await;
    let refused = shop.adjust_stock(&p, -3).await;
    refused.problem(409, "insufficient_stock");
    assert_eq!(shop.get_product(&p).await.body["stock"], 2);
    assert_eq!(shop.adjust_stock(&p, -2).await.body["stock"], 0);
    shop.adjust_stock(&p, 0).await.problem(422, "validation_failed");
    shop.adjust_stock(&p, 1_000_001).await.problem(422, "validation_failed");
    shop.adjust_stock("01ARZ3NDEKTSV4RRFFQ69G5FAV", 1).await.problem(404, "product_not_found");
}

#[tokio::test(flavor = "multi_thread")]
async fn search_results_page_like_listings_each_match_once() {
    let shop = Shop::open().await;
    for i in 0..7 {
        shop.product(&format!("L-{i}"))
            .name(&format!("Lamp {i}"))
            .category(if i % 2 == 0 { "even" } else { "odd" })
            .create()
            .await;
        shop.product(&format!("C-{i}")).name(&format!("Chair {i}")).category("even").create().await;
    }
    let lamps = shop.listing(&[("q", "lamp"), ("limit", "2")]).await;
    assert_eq!(lamps, (0..7).rev().map(|i| format!("Lamp {i}")).collect::<Vec<_>>());
    let even_lamps = shop.listing(&[("q", "lam"), ("category", "even"), ("limit", "1")]).await;
    assert_eq!(even_lamps, ["Lamp 6", "Lamp 4", "Lamp 2", "Lamp 0"]);
    let short = shop.listing(&[("q", "la"), ("limit", "3")]).await;
    assert_eq!(short.len(), 7, "short-word search pages through the listing: {short:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_query_parameters_are_refused_not_ignored() {
    let shop = Shop::open().await;
    let answer = shop.list_products(&[("categry", "books"), ("limit", "5")]).await;
    answer.problem(422, "validation_failed");
    assert_eq!(answer.error_fields(), ["categry"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn if_match_accepts_a_star_and_lists_of_tags() {
    let shop = Shop::open().await;
    let p = shop.product("A").name("Alpha").create().await;
    let star = shop.update_product(&p, json!({"priceCents": 7}), Some("*")).await;
    assert_eq!((star.status, star.body["version"].as_i64()), (200, Some(2)));
    let list = format!("\"stale\", \"{}-v2\"", p);
    let listed = shop.update_product(&p, json!({"priceCents": 8}), Some(&list)).await;
    assert_eq!(listed.status, 200, "{list}: {:#}", listed.body);
    shop.update_product(&p, json!({"priceCents": 9}), Some(&format!("W/\"{}-v3\"", p)))
        .await
        .problem(412, "version_mismatch");
}
