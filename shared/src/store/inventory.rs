//! Stock items: one per variant, beside its product, holding the units on the shelf
//! (`onHand`), the units promised to open orders (`reserved`) and what can still be sold
//! (`available`, kept as its own attribute because conditions cannot do arithmetic), with
//! copies of the variant's price and whether it is on sale, so that an order line is
//! checked and reserved by one write to this small item alone.
//!
//! The product item lists the variants that have units available (`inStock`, a string set
//! that is absent when empty). A stock write changes that set only when a variant crosses
//! zero; whether it does is decided from a read of the units and the write is conditioned on
//! the band of values that cross the same way (`domain::crossing`), so the set is exact.

use super::StoreError;
use super::item::{Item, b, decode, n, s};
use super::keys;
use super::tx::Write;
use crate::domain::{Crossing, Inventory, Money, ProductId, Timestamp, VariantId, crossing, crossing_at};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The stock of one variant as read, and its version (grows with every stock write).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StockLevel {
    pub variant: VariantId,
    pub inventory: Inventory,
    pub version: i64,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StockRecord {
    variant_id: VariantId,
    on_hand: i64,
    reserved: i64,
    version: i64,
}

/// A new variant's stock item (`inventory`: a new variant's units on hand and none reserved,
/// or what a migrated product held).
pub(crate) fn stock_item(
    variant: VariantId,
    inventory: Inventory,
    price: Money,
    sellable: bool,
    now: Timestamp,
) -> Result<Item, StoreError> {
    let record =
        StockRecord { variant_id: variant, on_hand: inventory.on_hand, reserved: inventory.reserved, version: 1 };
    let mut item = super::item::encode(&record, keys::stock(variant), "stock")?;
    item.insert("available".into(), n(inventory.available()));
    item.insert("priceCents".into(), n(price.cents()));
    item.insert("sellable".into(), b(sellable));
    item.insert("updatedAt".into(), s(now.to_string()));
    Ok(item)
}

pub(crate) fn stock_level(item: Item) -> Result<StockLevel, StoreError> {
    let record: StockRecord = decode(item)?;
    Ok(StockLevel {
        variant: record.variant_id,
        inventory: Inventory { on_hand: record.on_hand, reserved: record.reserved },
        version: record.version,
    })
}

/// A change of a variant's counts, decided from what was read of it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Move {
    pub variant: VariantId,
    pub on_hand: i64,
    pub reserved: i64,
    /// The units available when the change was decided.
    pub seen_available: i64,
    /// The product's low-stock threshold, where the change may report a variant running low.
    pub low_at: Option<i64>,
}

impl Move {
    pub(crate) fn crossing(&self) -> Crossing {
        crossing(self.seen_available, self.on_hand - self.reserved).0
    }

    /// Whether the change makes the variant fall to or below its low-stock threshold.
    pub(crate) fn runs_low(&self) -> bool {
        self.low_at
            .is_some_and(|at| crossing_at(at, self.seen_available, self.on_hand - self.reserved).0 == Crossing::Out)
    }

    /// The band of available units (inclusive) that make the same crossings of zero and of the
    /// threshold as the units seen: the intersection of both bands (both hold the units seen).
    fn band(&self) -> (Option<i64>, Option<i64>) {
        let delta = self.on_hand - self.reserved;
        let (_, lo, hi) = crossing(self.seen_available, delta);
        let Some(at) = self.low_at else { return (lo, hi) };
        let (_, low_lo, low_hi) = crossing_at(at, self.seen_available, delta);
        let tighter = |a: Option<i64>, b: Option<i64>, pick: fn(i64, i64) -> i64| match (a, b) {
            (Some(a), Some(b)) => Some(pick(a, b)),
            (a, b) => a.or(b),
        };
        (tighter(lo, low_lo, i64::max), tighter(hi, low_hi, i64::min))
    }

    /// The write: the counts change on `guards` (a condition over the stock item, whose
    /// placeholders the caller adds) and on the units still crossing zero (and the threshold)
    /// as decided.
    pub(crate) fn write(&self, guards: &str, now: Timestamp) -> Write {
        let delta = self.on_hand - self.reserved;
        let (lo, hi) = self.band();
        let mut condition = format!("attribute_exists(pk) AND ({guards})");
        if lo.is_some() {
            condition.push_str(" AND available >= :lo");
        }
        if hi.is_some() {
            condition.push_str(" AND available <= :hi");
        }
        let mut write = Write::update(
            keys::stock(self.variant),
            "SET onHand = onHand + :dh, reserved = reserved + :dr, available = available + :da, \
             version = version + :one, updatedAt = :now",
        )
        .when(condition)
        .value(":dh", n(self.on_hand))
        .value(":dr", n(self.reserved))
        .value(":da", n(delta))
        .value(":one", n(1))
        .value(":now", s(now.to_string()))
        .old_on_failure();
        if let Some(lo) = lo {
            write = write.value(":lo", n(lo));
        }
        if let Some(hi) = hi {
            write = write.value(":hi", n(hi));
        }
        write
    }
}

/// The change to a product's `inStock` set that a group of moves of its variants makes, if any.
/// (The moves of one write all go one way: orders reserve, cancellations release.)
/// Two writes: the product item's set and its price listing's copy.
pub(crate) fn listing_flags(product: ProductId, moves: &[Move]) -> Result<Vec<Write>, StoreError> {
    let ours = || moves.iter().filter(|m| m.variant.product() == product);
    let came: BTreeSet<String> =
        ours().filter(|m| m.crossing() == Crossing::In).map(|m| m.variant.to_string()).collect();
    let went: BTreeSet<String> =
        ours().filter(|m| m.crossing() == Crossing::Out).map(|m| m.variant.to_string()).collect();
    let (action, set) = match (came.is_empty(), went.is_empty()) {
        (true, true) => return Ok(Vec::new()),
        (false, true) => ("ADD", came),
        (true, false) => ("DELETE", went),
        (false, false) => {
            return Err(StoreError::Backend {
                operation: "TransactWriteItems",
                detail: format!("variants of {product} would come into and go out of stock in one write"),
            });
        }
    };
    let set = aws_sdk_dynamodb::types::AttributeValue::Ss(set.into_iter().collect());
    let write = |key| {
        Write::update(key, format!("{action} inStock :variants"))
            .when("attribute_exists(pk)")
            .value(":variants", set.clone())
    };
    Ok(vec![write(keys::product(product)), write(keys::price_listing(product))])
}

/// The writes that put `units` of variants back: released from an order's reservation
/// (`reserved − q`; `on_shelf` false), or back on the shelf from a parcel that came back
/// (`onHand + q`) — and the listing flags of products whose variants come back into stock.
/// It reads the variants' units first, so each write is on the crossing it decided.
pub(crate) async fn units_back(
    store: &super::Store,
    units: &[(VariantId, i64)],
    on_shelf: bool,
    now: Timestamp,
) -> Result<(Vec<(VariantId, Write)>, Vec<Write>), StoreError> {
    let units: Vec<(VariantId, i64)> = units.iter().copied().filter(|(_, q)| *q > 0).collect();
    let keys = units.iter().map(|(v, _)| keys::stock(*v)).collect();
    let seen: std::collections::HashMap<VariantId, StockLevel> = store
        .batch_get(keys, true)
        .await?
        .into_iter()
        .map(|item| stock_level(item).map(|level| (level.variant, level)))
        .collect::<Result<_, _>>()?;
    let moves: Vec<Move> = units
        .iter()
        .map(|(variant, q)| Move {
            variant: *variant,
            on_hand: if on_shelf { *q } else { 0 },
            reserved: if on_shelf { 0 } else { -q },
            seen_available: seen.get(variant).map_or(0, |s| s.inventory.available()),
            low_at: None,
        })
        .collect();
    let writes = units
        .iter()
        .zip(&moves)
        .map(|((variant, q), back)| {
            let guard = if on_shelf { "onHand >= :zero" } else { "reserved >= :q" };
            (
                *variant,
                back.write(guard, now).value(if on_shelf { ":zero" } else { ":q" }, n(if on_shelf { 0 } else { *q })),
            )
        })
        .collect();
    let products: BTreeSet<ProductId> = moves.iter().map(|m| m.variant.product()).collect();
    let mut flags = Vec::new();
    for product in products {
        flags.extend(listing_flags(product, &moves)?);
    }
    Ok((writes, flags))
}
