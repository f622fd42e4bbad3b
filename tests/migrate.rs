//! `storefront-admin migrate` on a table written by the version before products had variants:
//! tests/fixtures/pre-variants.json holds every item such a table held (made through that
//! version's own API by tests/fixtures/pre-variants.sh).

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use storefront_tests::{Shop, TestEnv, id};

/// An item of DynamoDB's JSON (`{"S": "…"}`, `{"N": "…"}`, …) as the SDK's type.
fn attribute(value: &Value) -> AttributeValue {
    let (kind, inner) = value.as_object().and_then(|o| o.iter().next()).expect("a typed value");
    match kind.as_str() {
        "S" => AttributeValue::S(inner.as_str().unwrap().to_owned()),
        "N" => AttributeValue::N(inner.as_str().unwrap().to_owned()),
        "BOOL" => AttributeValue::Bool(inner.as_bool().unwrap()),
        "NULL" => AttributeValue::Null(true),
        "SS" => AttributeValue::Ss(inner.as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_owned()).collect()),
        "L" => AttributeValue::L(inner.as_array().unwrap().iter().map(attribute).collect()),
        "M" => AttributeValue::M(inner.as_object().unwrap().iter().map(|(k, v)| (k.clone(), attribute(v))).collect()),
        other => panic!("an attribute of type {other} in the fixture"),
    }
}

/// When pre-variants.sh wrote the fixture (epoch s: its login windows' start).
const FIXTURE_WRITTEN_AT: i64 = 1_796_243_488;

/// The fixture's items. Its epoch-second instants (`expiresAt`, `windowStart`) move by the time
/// since it was written, so that the table reads as if written just now: otherwise its
/// idempotency records (kept a day) would have expired a day after it was made.
fn fixture() -> Vec<HashMap<String, AttributeValue>> {
    let text = std::fs::read_to_string(storefront_tests::root().join("tests/fixtures/pre-variants.json")).unwrap();
    let items: Vec<Value> = serde_json::from_str(&text).unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let shift = now - FIXTURE_WRITTEN_AT;
    let moved = |name: &str, value: AttributeValue| match (name, &value) {
        ("expiresAt" | "windowStart", AttributeValue::N(n)) => {
            AttributeValue::N((n.parse::<i64>().expect("an epoch second") + shift).to_string())
        }
        _ => value,
    };
    items
        .iter()
        .map(|i| i.as_object().unwrap().iter().map(|(k, v)| (k.clone(), moved(k, attribute(v)))).collect())
        .collect()
}

fn text<'a>(item: &'a HashMap<String, AttributeValue>, name: &str) -> &'a str {
    item.get(name).and_then(|v| v.as_s().ok()).map_or("", String::as_str)
}

fn number(item: &HashMap<String, AttributeValue>, name: &str) -> i64 {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok()).unwrap_or(0)
}

/// The old table, loaded into a fresh one; and per old product: its stock and the units its
/// open orders (awaiting payment or paid) hold.
async fn old_table(env: &TestEnv) -> BTreeMap<String, (i64, i64)> {
    let items = fixture();
    let mut products = BTreeMap::new();
    for item in &items {
        if text(item, "entity") == "product" {
            products.insert(text(item, "id").to_owned(), (number(item, "stock"), 0));
        }
    }
    for item in &items {
        let open = ["pending_payment", "paid"].contains(&text(item, "status"));
        if text(item, "entity") == "order" && open {
            for line in item["items"].as_l().unwrap() {
                let line = line.as_m().unwrap();
                products.get_mut(text(line, "productId")).unwrap().1 += number(line, "quantity");
            }
        }
    }
    let client = env.app.store.client();
    for item in items {
        client.put_item().table_name(env.app.store.table()).set_item(Some(item)).send().await.unwrap();
    }
    products
}

#[tokio::test(flavor = "multi_thread")]
async fn a_table_of_the_version_before_variants_is_migrated_in_place_once_and_keeps_working() {
    let shop = Shop::open().await;
    let env = &shop.env;
    let products = old_table(env).await;
    assert!(products.len() > 30, "the demo catalog and the fixture's own products");
    assert!(products.values().any(|(_, open)| *open > 0), "some units sit in open orders");
    let old_lamp = shop.listing(&[("q", "old lamp")]).await;
    assert_eq!(old_lamp, ["Old Lamp"], "an old product is shown before it is migrated");
    assert!(storefront::app::migrate::needed(&env.app).await.unwrap());
    let categories = shop.categories().await;

    // Two runs at once (or a run after a stopped one): every product is migrated exactly once.
    let lines = std::sync::Mutex::new(Vec::new());
    let (one, two) = tokio::join!(
        storefront::app::migrate::run(&env.app, |l| lines.lock().unwrap().push(l.to_owned())),
        storefront::app::migrate::run(&env.app, |_| {})
    );
    assert_eq!(one.unwrap().migrated + two.unwrap().migrated, products.len());
    assert!(lines.lock().unwrap().iter().any(|l| l.starts_with("migrated ")), "it says how far it got");
    assert!(!storefront::app::migrate::needed(&env.app).await.unwrap());
    assert_eq!(
        storefront::app::migrate::run(&env.app, |_| {}).await.unwrap().migrated,
        0,
        "a second run changes nothing"
    );

    for (product, (stock, open)) in &products {
        let counts = shop.counts(&format!("{product}-1")).await;
        assert_eq!(counts, (stock + open, *open, *stock), "{product}: the shelf is the old stock plus open orders");
    }

    // Its customer signs in with the old password; the cart, orders and keys read as they were.
    let login = env.login("old-customer@example.com", "a password for tests").await;
    let customer = login.access_token();
    let cart = shop.get_cart(&customer).await;
    assert_eq!(cart.body["items"][0]["name"], "Old Chair");
    let chair = cart.body["items"][0]["productId"].as_str().unwrap().to_owned();
    assert_eq!(cart.body["items"][0]["variantId"], format!("{chair}-1"));
    let orders = shop.list_orders(&customer, &[]).await.body;
    let by_status: BTreeMap<String, Value> = orders["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["status"].as_str().unwrap().to_owned(), o.clone()))
        .collect();
    assert_eq!(by_status.len(), 4, "{orders:#}");
    let pending = &by_status["pending_payment"];
    let lamp = pending["items"][0]["productId"].as_str().unwrap().to_owned();
    assert_eq!(pending["items"][0]["variantId"], format!("{lamp}-1"));
    assert_eq!(pending["items"][0]["options"], json!({}));

    // A repeat of an old request answers what it answered then.
    let ship = json!({"shippingAddress": {"name": "Old Customer", "line1": "1 High St", "city": "Leeds",
        "postalCode": "LS1 1AA", "country": "GB"}, "shippingMethod": "standard"});
    let again = shop.place_order(&customer, Some("key-pending"), &ship).await;
    assert_eq!((again.status, again.body["id"].as_str()), (201, pending["id"].as_str()));

    // The lifecycle goes on with the migrated stock: a cancel releases, shipping consumes.
    let (on_hand, reserved, _) = shop.counts(&format!("{lamp}-1")).await;
    assert_eq!(shop.cancel_order(&customer, &id(pending)).await.status, 200);
    assert_eq!(shop.counts(&format!("{lamp}-1")).await, (on_hand, reserved - 2, on_hand - reserved + 2));
    let paid = &by_status["paid"];
    let ship_it = json!({"status": "shipped", "trackingNumber": "1Z"});
    assert_eq!(shop.admin_update_order(&id(paid), ship_it).await.status, 200);
    assert_eq!(shop.counts(&format!("{lamp}-1")).await, (on_hand - 1, reserved - 3, on_hand - reserved + 2));
    let placed = shop.order(&customer, &lamp, 1, None).await;
    let lines: Vec<&str> =
        placed["items"].as_array().unwrap().iter().map(|l| l["variantId"].as_str().unwrap()).collect();
    assert_eq!(lines, [format!("{chair}-1"), format!("{lamp}-1")], "the old cart's line and the new one");
    let renamed = shop.update_product(&lamp, json!({"sku": "OLD-A2"}), None).await;
    assert_eq!(renamed.status, 200, "its SKU claim moves: {:#}", renamed.body);
    assert_eq!(shop.categories().await, categories, "category counts are kept");
}
