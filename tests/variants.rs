//! Options, variants and per-variant inventory, through the handlers, against dynoxide (and
//! DynamoDB Local) through the real SDK.

use serde_json::{Value, json};
use std::sync::Arc;
use storefront_tests::{Shop, checkout, id};

fn variant_of(product: &Value, n: usize) -> String {
    product["variants"][n]["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_product_in_sizes_and_colours_has_a_variant_per_combination() {
    let shop = Shop::open().await;
    let tee = shop.tee("TEE", &["S", "M", "L"], &["Red", "Blue"], 4).await;
    let page = shop.get_product(&tee).await;
    assert_eq!(page.status, 200, "{:#}", page.body);
    let p = &page.body;
    assert_eq!(
        p["options"],
        json!([{"name": "Size", "values": ["S", "M", "L"]}, {"name": "Colour", "values": ["Red", "Blue"]}])
    );
    assert_eq!(p["variants"].as_array().unwrap().len(), 6);
    assert_eq!((&p["sku"], &p["priceCents"], &p["stock"]), (&Value::Null, &json!(1000), &json!(24)));
    assert_eq!(p["priceRange"], json!({"minCents": 1000, "maxCents": 1200}));
    assert_eq!(p["variants"][3]["id"], format!("{tee}-4"));
    assert_eq!(p["variants"][3]["options"], json!({"Size": "M", "Colour": "Blue"}));
    assert!(p["variants"][3].get("onHand").is_none(), "shoppers do not see shelf counts");

    let c = shop.customer(1).await;
    shop.put_cart_item(&c, &tee, 1).await.problem(422, "variant_required");
    let cart = shop.put_cart_item(&c, &format!("{tee}-4"), 2).await;
    assert_eq!(cart.status, 200, "{:#}", cart.body);
    assert_eq!(
        cart.body["items"][0],
        json!({"productId": tee, "variantId": format!("{tee}-4"), "sku": "TEE-M-Blue", "name": "Tee TEE",
            "options": {"Size": "M", "Colour": "Blue"}, "image": null, "unitPriceCents": 1100, "quantity": 2, "lineTotalCents": 2200,
            "available": true})
    );
    shop.put_cart_item(&c, &format!("{tee}-7"), 1).await.problem(404, "variant_not_found");
    shop.put_cart_item(&c, &format!("{tee}-4"), 5).await.problem(409, "insufficient_stock");

    // A product sold one way keeps answering as before, with its one variant.
    let mug = shop.product("MUG").stock(3).create().await;
    let one = shop.get_product(&mug).await.body;
    assert_eq!((&one["sku"], &one["priceCents"], &one["stock"]), (&json!("MUG"), &json!(1000), &json!(3)));
    assert_eq!(
        one["variants"],
        json!([{"id": format!("{mug}-1"), "sku": "MUG", "options": {}, "priceCents": 1000,
        "stock": 3, "inStock": true, "active": true, "imageId": null}])
    );
    assert_eq!(shop.put_cart_item(&c, &mug, 1).await.status, 200, "its product id names its one variant");
    let cart = shop.put_cart_item(&c, &format!("{mug}-1"), 2).await;
    assert_eq!(cart.body["items"].as_array().unwrap().len(), 2, "the product id and variant id are one line");
}

#[tokio::test(flavor = "multi_thread")]
async fn variants_are_unique_by_options_and_sku_and_fit_their_products_options() {
    let shop = Shop::open().await;
    let tee = shop.tee("TEE", &["S", "M"], &["Red"], 1).await;
    let twice = json!({"name": "Twice", "category": "x", "options": [{"name": "Size", "values": ["S"]}],
        "variants": [{"sku": "T1", "options": {"Size": "S"}, "priceCents": 1}, {"sku": "T2", "options": {"Size": "S"}, "priceCents": 1}]});
    shop.create_product(twice).await.problem(409, "variant_exists");

    let same = shop
        .add_variant(&tee, json!({"sku": "TEE-M-RED-2", "options": {"Size": "M", "Colour": "Red"}, "priceCents": 5}))
        .await;
    same.problem(409, "variant_exists");
    assert_eq!(same.body["variantId"], format!("{tee}-2"));
    let wrong = shop
        .add_variant(&tee, json!({"sku": "TEE-XL", "options": {"Size": "XL", "Colour": "Red"}, "priceCents": 5}))
        .await;
    wrong.problem(422, "validation_failed");
    assert_eq!(wrong.error_fields(), ["options"]);
    assert!(wrong.body["errors"][0]["message"].as_str().unwrap().contains("XL is not a value of Size"));
    let taken = json!({"sku": "tee-s-red", "name": "Copy", "priceCents": 1, "category": "x", "stock": 1});
    shop.create_product(taken).await.problem(409, "sku_taken");
    let other = shop.product("OTHER").create().await;
    shop.add_variant(&other, json!({"sku": "X1", "priceCents": 5})).await.problem(422, "validation_failed");

    // Options change only while every variant still fits them.
    let fewer = json!({"options": [{"name": "Size", "values": ["S"]}, {"name": "Colour", "values": ["Red"]}]});
    shop.update_product(&tee, fewer, None).await.problem(422, "validation_failed");
    let more =
        json!({"options": [{"name": "Size", "values": ["S", "M", "XL"]}, {"name": "Colour", "values": ["Red"]}]});
    assert_eq!(shop.update_product(&tee, more, None).await.status, 200);
    let xl = shop
        .add_variant(
            &tee,
            json!({"sku": "TEE-XL", "options": {"Size": "XL", "Colour": "Red"}, "priceCents": 1500, "stock": 2}),
        )
        .await;
    assert_eq!(xl.status, 201, "{:#}", xl.body);
    assert_eq!(variant_of(&xl.body, 2), format!("{tee}-3"));
    assert_eq!(xl.body["priceRange"], json!({"minCents": 1000, "maxCents": 1500}));
    shop.update_product(&tee, json!({"priceCents": 1}), None).await.problem(422, "validation_failed");
    shop.update_product(&tee, json!({"stock": 1}), None).await.problem(422, "validation_failed");

    // A SKU is one variant's across the catalog, also under concurrent creates.
    let shop = Arc::new(shop);
    let racers: Vec<_> = (0..8)
        .map(|i| {
            let shop = shop.clone();
            let sku = if i % 2 == 0 { "RACE-1" } else { "race-1" };
            tokio::spawn(async move {
                shop.create_product(json!({"sku": sku, "name": "Race", "priceCents": 1, "category": "x", "stock": 1}))
                    .await
                    .status
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for r in racers {
        statuses.push(r.await.unwrap());
    }
    statuses.sort();
    assert_eq!(statuses, [201, 409, 409, 409, 409, 409, 409, 409]);
}

#[tokio::test(flavor = "multi_thread")]
async fn fifty_buyers_of_a_ten_unit_variant_make_exactly_ten_orders_and_leave_the_others_untouched() {
    let shop = Arc::new(Shop::open().await);
    let tee = shop.tee("TEE", &["S", "M", "L"], &["Red", "Blue"], 10).await;
    let wanted = format!("{tee}-3");
    let mut buyers = Vec::new();
    for n in 0..50 {
        buyers.push(shop.customer_with_cart(n, &wanted, 1).await);
    }
    let tasks: Vec<_> = buyers
        .into_iter()
        .enumerate()
        .map(|(n, token)| {
            let shop = shop.clone();
            tokio::spawn(async move {
                let answer = shop
                    .place_order_until_decided(&token, &format!("buy-{n}"), &checkout("US", "standard", None))
                    .await;
                (answer.status, answer.body)
            })
        })
        .collect();
    let mut placed = 0;
    for t in tasks {
        let (status, body) = t.await.unwrap();
        match status {
            201 => placed += 1,
            409 => assert_eq!(body["code"], "insufficient_stock", "{body:#}"),
            other => panic!("{other}: {body:#}"),
        }
    }
    assert_eq!(placed, 10);
    assert_eq!(shop.counts(&wanted).await, (10, 10, 0));
    assert_eq!(shop.env.events_of("order.placed").await.len(), 10, "one order.placed per order");
    let low = shop.env.events_of("inventory.low").await;
    assert_eq!(low.len(), 1, "the variant fell to its threshold once: {low:#?}");
    assert_eq!(low[0]["data"]["variantId"], wanted.as_str());
    for n in [1, 2, 4, 5, 6] {
        assert_eq!(shop.counts(&format!("{tee}-{n}")).await, (10, 0, 10), "variant {n} is untouched");
    }
    let listed = shop.list_products(&[]).await.body;
    let item = &listed["items"][0];
    assert_eq!((item["id"].as_str(), &item["inStock"]), (Some(tee.as_str()), &json!(true)));
    assert_eq!(item["variants"][2]["inStock"], false, "the sold-out variant is out of stock in the listing");
    assert!(item.get("stock").is_none() && item["variants"][0].get("stock").is_none(), "listings carry no counts");
}

#[tokio::test(flavor = "multi_thread")]
async fn units_are_reserved_by_orders_released_by_cancels_and_consumed_by_shipping() {
    let shop = Shop::open().await;
    let mug = shop.product("MUG").stock(2).create().await;
    let v = format!("{mug}-1");
    let c = shop.customer(1).await;
    let first = shop.order(&c, &mug, 2, None).await;
    assert_eq!(shop.counts(&v).await, (2, 2, 0));
    let listed = shop.list_products(&[]).await.body;
    assert_eq!(listed["items"][0]["inStock"], false, "the last units went: out of stock in listings");
    assert_eq!(shop.get_product(&mug).await.body["stock"], 0);

    // An admin counts the shelf while the units sit in an unpaid order: the count is the
    // shelf, the order keeps its units, and nothing more is sold.
    assert_eq!(shop.update_product(&mug, json!({"stock": 5}), None).await.status, 200);
    assert_eq!(shop.counts(&v).await, (5, 2, 3));
    assert_eq!(shop.list_products(&[]).await.body["items"][0]["inStock"], true);
    assert_eq!(shop.cancel_order(&c, &id(&first)).await.status, 200);
    assert_eq!(shop.counts(&v).await, (5, 0, 5), "released, not added on top");

    // A shelf counted below what was sold: nothing sells, and shipping needs the units.
    let second = shop.order(&c, &mug, 3, None).await;
    assert_eq!(shop.pay(&second, "evt-1").await.status, 200);
    assert_eq!(shop.update_variant(&v, json!({"onHand": 1})).await.status, 200);
    assert_eq!(shop.counts(&v).await, (1, 3, -2));
    assert_eq!(shop.get_product(&mug).await.body["stock"], 0, "shoppers never see less than nothing");
    shop.put_cart_item(&c, &mug, 1).await.problem(409, "insufficient_stock");
    let ship = json!({"status": "shipped", "trackingNumber": "1Z"});
    let short = shop.admin_update_order(&id(&second), ship.clone()).await;
    short.problem(409, "insufficient_stock");
    assert_eq!(short.body["items"][0]["available"], 1, "the shelf holds 1 of the 3");
    assert_eq!(shop.adjust_variant_stock(&v, 4).await.status, 200);
    assert_eq!(shop.admin_update_order(&id(&second), ship).await.status, 200);
    assert_eq!(shop.counts(&v).await, (2, 0, 2), "shipping takes the units off the shelf and out of reserve");
    assert_eq!(shop.admin_get_product(&mug).await.body["version"], 1, "stock never edits the product");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_archived_variant_is_hidden_from_shoppers_unsellable_and_kept_for_orders() {
    let shop = Shop::open().await;
    let tee = shop.tee("TEE", &["S", "M"], &["Red"], 5).await;
    let (small, medium) = (format!("{tee}-1"), format!("{tee}-2"));
    let c = shop.customer(1).await;
    let order = shop.order(&c, &small, 1, None).await;
    assert_eq!(shop.put_cart_item(&c, &small, 2).await.status, 200);
    assert_eq!(shop.archive_variant(&small).await.status, 204);
    let page = shop.get_product(&tee).await.body;
    assert_eq!(page["variants"].as_array().unwrap().len(), 1, "shoppers see the variants on sale");
    assert_eq!(page["priceRange"], json!({"minCents": 1100, "maxCents": 1100}));
    assert_eq!(shop.admin_get_product(&tee).await.body["variants"][0]["active"], false, "admins see it archived");
    assert_eq!(shop.get_cart(&c).await.body["items"][0]["available"], false);
    shop.place_order(&c, Some("k"), &checkout("US", "standard", None)).await.problem(409, "insufficient_stock");
    shop.put_cart_item(&c, &small, 1).await.problem(404, "variant_not_found");
    shop.archive_variant(&medium).await.problem(422, "validation_failed");
    assert_eq!(shop.get_order(&c, &id(&order)).await.body["items"][0]["variantId"], small.as_str());
    assert_eq!(shop.cancel_order(&c, &id(&order)).await.status, 200);
    assert_eq!(shop.counts(&small).await, (5, 0, 5), "its units come back all the same");
    assert_eq!(shop.update_variant(&small, json!({"active": true})).await.status, 200);
    assert_eq!(shop.place_order(&c, Some("k2"), &checkout("US", "standard", None)).await.status, 201);

    // An archived product sells none of its variants.
    assert_eq!(shop.put_cart_item(&c, &medium, 1).await.status, 200);
    assert_eq!(shop.archive_product(&tee).await.status, 204);
    shop.place_order(&c, Some("k3"), &checkout("US", "standard", None)).await.problem(409, "insufficient_stock");
    assert_eq!(shop.update_product(&tee, json!({"active": true}), None).await.status, 200);
    assert_eq!(shop.place_order(&c, Some("k4"), &checkout("US", "standard", None)).await.status, 201);
}

/// A small deterministic generator (no dependency, the same sequence on every run).
struct Dice(u64);

impl Dice {
    fn roll(&mut self, sides: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % sides
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_variants_units_are_conserved_through_any_mix_of_orders_cancels_payments_expiries_shipments_and_counts() {
    let shop = Shop::open().await;
    let tee = shop.tee("TEE", &["S", "M", "L"], &["Red"], 6).await;
    let variants: Vec<String> = (1..=3).map(|n| format!("{tee}-{n}")).collect();
    let mut initial_plus_adjustments = [6i64; 3];
    let mut shipped = [0i64; 3];
    // Open orders: (order, variant, units, paid).
    let mut open: Vec<(Value, usize, i64, bool)> = Vec::new();
    let customers: Vec<String> = {
        let mut tokens = Vec::new();
        for n in 0..4 {
            tokens.push(shop.customer(n).await);
        }
        tokens
    };
    let mut dice = Dice(11);
    for step in 0..80 {
        let v = dice.roll(3) as usize;
        match dice.roll(7) {
            0 | 1 => {
                let units = 1 + dice.roll(3) as i64;
                let c = &customers[dice.roll(4) as usize];
                if shop.put_cart_item(c, &variants[v], units).await.status == 200 {
                    let key = format!("conserve-{step}");
                    let placed = shop.place_order(c, Some(&key), &checkout("US", "standard", None)).await;
                    if placed.status == 201 {
                        open.push((placed.body, v, units, false));
                    }
                }
            }
            2 if !open.is_empty() => {
                let (order, ..) = open.remove(dice.roll(open.len() as u64) as usize);
                let answer = shop.admin_update_order(&id(&order), json!({"status": "cancelled"})).await;
                assert_eq!(answer.status, 200, "{:#}", answer.body);
            }
            3 => {
                if let Some(entry) = open.iter_mut().find(|e| !e.3) {
                    assert_eq!(shop.pay(&entry.0, &format!("evt-{step}")).await.status, 200);
                    entry.3 = true;
                }
            }
            4 => {
                if let Some(at) = open.iter().position(|e| e.3) {
                    let ship = json!({"status": "shipped", "trackingNumber": "1Z"});
                    if shop.admin_update_order(&id(&open[at].0), ship).await.status == 200 {
                        let (_, v, units, _) = open.remove(at);
                        shipped[v] += units;
                    }
                }
            }
            5 => {
                let delta = dice.roll(7) as i64 - 3;
                if delta != 0 && shop.adjust_variant_stock(&variants[v], delta).await.status == 200 {
                    initial_plus_adjustments[v] += delta;
                }
            }
            _ => {
                // An expiry run after the payment window: every unpaid order goes.
                if dice.roll(4) == 0 {
                    shop.env.app.clock.advance(3 * 3600);
                    storefront::app::lifecycle::expire(&shop.env.app).await.unwrap();
                    open.retain(|e| e.3);
                } else {
                    let (on_hand, ..) = shop.counts(&variants[v]).await;
                    let count = dice.roll(8) as i64;
                    assert_eq!(shop.update_variant(&variants[v], json!({"onHand": count})).await.status, 200);
                    initial_plus_adjustments[v] += count - on_hand;
                }
            }
        }
        for (i, variant) in variants.iter().enumerate() {
            let (on_hand, reserved, available) = shop.counts(variant).await;
            let promised: i64 = open.iter().filter(|e| e.1 == i).map(|e| e.2).sum();
            assert_eq!(initial_plus_adjustments[i], on_hand + shipped[i], "step {step}, variant {i}: the shelf");
            assert_eq!(reserved, promised, "step {step}, variant {i}: reserved");
            assert_eq!(available, on_hand - reserved, "step {step}, variant {i}");
        }
        let listed = shop.list_products(&[]).await.body;
        for (i, variant) in variants.iter().enumerate() {
            let (_, _, available) = shop.counts(variant).await;
            assert_eq!(listed["items"][0]["variants"][i]["inStock"], available > 0, "step {step}: listing of {i}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn listings_sort_by_the_lowest_active_price_filter_in_stock_and_page_exactly_once() {
    let shop = Arc::new(Shop::open().await);
    let mut ids = std::collections::BTreeMap::new();
    for (sku, cents, category) in [("A", 700, "x"), ("B", 300, "y"), ("C", 1500, "x"), ("D", 300, "x")] {
        let id = shop.product(sku).name(&format!("Item {sku}")).price(cents).category(category).stock(2).create().await;
        ids.insert(sku, id);
    }
    let tee = shop.tee("TEE", &["S", "M"], &["Red"], 1).await; // 1000 and 1100, category apparel
    let by = |query: Vec<(&'static str, &'static str)>| {
        let shop = shop.clone();
        async move { shop.listing(&[query, vec![("limit", "2")]].concat()).await }
    };
    let asc = ["Item B", "Item D", "Item A", "Tee TEE", "Item C"];
    assert_eq!(by(vec![("sort", "price_asc")]).await, asc, "ties: oldest first");
    assert_eq!(by(vec![("sort", "price_desc")]).await, ["Item C", "Tee TEE", "Item A", "Item D", "Item B"]);
    assert_eq!(by(vec![("sort", "price_asc"), ("category", "x")]).await, ["Item D", "Item A", "Item C"]);
    assert_eq!(by(vec![("sort", "price_asc"), ("q", "item")]).await, ["Item B", "Item D", "Item A", "Item C"]);
    assert_eq!(by(vec![("sort", "newest")]).await, ["Tee TEE", "Item D", "Item C", "Item B", "Item A"]);
    shop.list_products(&[("sort", "cheapest")]).await.problem(422, "validation_failed");
    shop.list_products(&[("inStock", "yes")]).await.problem(422, "validation_failed");

    // The lowest price is of the active variants, and moves with them.
    assert_eq!(shop.update_variant(&format!("{tee}-1"), json!({"priceCents": 100})).await.status, 200);
    assert_eq!(by(vec![("sort", "price_asc")]).await[0], "Tee TEE");
    assert_eq!(shop.archive_variant(&format!("{tee}-1")).await.status, 204);
    assert_eq!(by(vec![("sort", "price_asc")]).await, asc);

    // In stock: an active variant with units available. The tee's one active variant sells
    // out; B's last units go into an order; D is counted to nothing.
    assert_eq!(shop.adjust_variant_stock(&format!("{tee}-2"), -1).await.status, 200);
    let c = shop.customer(1).await;
    let order = shop.order(&c, &ids["B"], 2, None).await;
    assert_eq!(shop.update_product(&ids["D"], json!({"stock": 0}), None).await.status, 200);
    let stocked = vec![("inStock", "true"), ("sort", "price_asc")];
    assert_eq!(by(stocked.clone()).await, ["Item A", "Item C"]);
    assert_eq!(by(vec![("inStock", "true"), ("category", "x")]).await, ["Item C", "Item A"]);
    assert_eq!(by(vec![("inStock", "true"), ("q", "item")]).await, ["Item C", "Item A"]);
    assert_eq!(shop.cancel_order(&c, &id(&order)).await.status, 200);
    assert_eq!(by(stocked.clone()).await, ["Item B", "Item A", "Item C"], "a cancel brings B back");
    assert_eq!(by(vec![("inStock", "false")]).await.len(), 5, "inStock=false filters nothing");

    // Paging by price meets every product exactly once while products are added.
    for i in 0..12 {
        shop.product(&format!("P{i}")).name(&format!("Old {i}")).price(100 * i).create().await;
    }
    let adder = {
        let shop = shop.clone();
        tokio::spawn(async move {
            for i in 0..12 {
                shop.product(&format!("N{i}")).name(&format!("New {i}")).price(50 + 100 * i).create().await;
            }
        })
    };
    let seen = shop.listing(&[("sort", "price_asc"), ("limit", "3")]).await;
    adder.await.unwrap();
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "no product twice: {seen:?}");
    for i in 0..12 {
        assert!(seen.contains(&format!("Old {i}")), "Old {i} was there all along: {seen:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn search_finds_products_by_their_option_values() {
    let shop = Shop::open().await;
    shop.tee("TEE", &["S"], &["Red", "Navy"], 1).await;
    shop.product("MUG").name("Red Mug").create().await;
    assert_eq!(shop.search("red tee").await, ["Tee TEE"]);
    assert_eq!(shop.search("navy").await, ["Tee TEE"]);
    assert_eq!(shop.search("red").await, ["Red Mug", "Tee TEE"]);
}

/// An unarchive puts its variants back on sale after its product write; if the product was
/// archived again in between, that late step must not sell units of an archived product.
#[tokio::test(flavor = "multi_thread")]
async fn a_late_unarchive_does_not_put_an_archived_products_variants_back_on_sale() {
    use storefront::domain::{ProductId, VariantId};
    let shop = Shop::open().await;
    let mug = shop.product("MUG").stock(3).create().await;
    let id = ProductId::parse(&mug).unwrap();
    let on_sale = shop.env.app.store.product(id).await.unwrap().unwrap();
    assert_eq!(shop.archive_product(&mug).await.status, 204);
    shop.env.app.store.sync_sellable(&on_sale).await.unwrap();
    let stock = storefront_tests::dynamodb_client(&shop.env.endpoint)
        .get_item()
        .table_name(&shop.env.app.config.table_name)
        .set_key(Some(storefront::store::keys::stock(VariantId::new(id, 1))))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(stock["sellable"].as_bool(), Ok(&false), "still off sale");
    // The unarchive itself puts it back on sale.
    assert_eq!(shop.update_product(&mug, json!({"active": true}), None).await.status, 200);
    let c = shop.customer(1).await;
    assert_eq!(shop.put_cart_item(&c, &mug, 1).await.status, 200);
}
