//! What DynamoDB (here dynoxide) costs by itself: the calls a listing page and a single-item
//! read make, sent by a bare SDK client from the harness (no storefront code, no Lambda) and
//! timed many times. No function can answer faster than the call it makes, so the report
//! prints these beside the budgets.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};
use std::time::Instant;
use storefront::domain::{Listing, ProductId};
use storefront::store::keys::{self, Partition};

pub const RUNS: usize = 1000;

pub struct Floor {
    pub what: &'static str,
    pub p50: f64,
    pub p99: f64,
}

impl Floor {
    pub fn json(&self) -> Value {
        json!({"call": self.what, "p50Ms": self.p50, "p99Ms": self.p99, "runs": RUNS})
    }
}

/// Times a `GetItem` of one product and the active-products query of a page of 20 and of 50
/// (reading one more, as storefront does, to know whether another page follows).
pub async fn measure(client: &Client, table: &str, product: ProductId) -> Vec<Floor> {
    let active = &Partition::Products(&Listing::Active).locate();
    let get = || async {
        client
            .get_item()
            .table_name(table)
            .set_key(Some(keys::product(product)))
            .send()
            .await
            .map(|out| usize::from(out.item.is_some()))
            .unwrap_or(0)
    };
    let page = |limit: i32| async move {
        client
            .query()
            .table_name(table)
            .set_index_name(active.index.map(str::to_owned))
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", active.partition_key)
            .expression_attribute_values(":pk", AttributeValue::S(active.value.clone()))
            .scan_index_forward(false)
            .limit(limit)
            .send()
            .await
            .map(|out| out.items.map_or(0, |items| items.len()))
            .unwrap_or(0)
    };
    let mut floors = Vec::new();
    floors.push(time("GetItem of one product", get).await);
    floors.push(time("Query of 21 products (a page of 20)", || page(21)).await);
    floors.push(time("Query of 51 products (a page of 50)", || page(51)).await);
    floors
}

async fn time<F, Fut>(what: &'static str, call: F) -> Floor
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = usize>,
{
    let mut ms = Vec::with_capacity(RUNS);
    let mut found = 0;
    call().await; // a warm-up: the connection and the first request
    for _ in 0..RUNS {
        let started = Instant::now();
        found += call().await;
        ms.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    assert!(found > 0, "the floor probe found nothing: {what}");
    ms.sort_by(f64::total_cmp);
    Floor { what, p50: crate::percentile(&ms, 0.5), p99: crate::percentile(&ms, 0.99) }
}
