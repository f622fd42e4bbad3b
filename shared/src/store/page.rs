//! Pagination positions: where a query stopped, as plain strings, so that layers above can
//! carry it in a cursor without knowing DynamoDB types.

use super::keys::Partition;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The key of the last item a page returned (table and index key attributes, all strings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position(pub Vec<(String, String)>);

impl Position {
    pub(crate) fn from_item(item: &HashMap<String, AttributeValue>, names: &[&str]) -> Option<Self> {
        names
            .iter()
            .map(|n| item.get(*n).and_then(|v| v.as_s().ok()).map(|v| ((*n).to_owned(), v.clone())))
            .collect::<Option<Vec<_>>>()
            .map(Self)
    }

    /// The position as an `ExclusiveStartKey`, if it has exactly the expected attributes and
    /// its partition is `partition` (so a position can never move a query into another one).
    pub(crate) fn start_key(&self, names: &[&str], partition: (&str, &str)) -> Option<HashMap<String, AttributeValue>> {
        if self.0.len() != names.len() || !self.0.iter().all(|(n, _)| names.contains(&n.as_str())) {
            return None;
        }
        if !self.0.iter().any(|(n, v)| n == partition.0 && v == partition.1) {
            return None;
        }
        Some(self.0.iter().map(|(n, v)| (n.clone(), AttributeValue::S(v.clone()))).collect())
    }
}

/// One page of a listing and where the next one starts (`None`: this was the last).
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Position>,
}

/// How many items a filtered query reads at once. DynamoDB applies `Limit` before the filter,
/// so reading only `limit + 1` would fill a page of rare matches in many round trips.
pub(crate) const FILTERED_READ: usize = 200;

/// How many queries one page may take before it is returned short (with a position to go on).
const MAX_QUERIES: usize = 10;

impl super::Store {
    /// One page of a partition, in its order (see [`Partition::forward`]): `limit` items
    /// (reading on, within bounds, when a filter leaves a page short) and the position of the
    /// last one if more follow. `decode` may leave an item out (`None`), as a filter would.
    /// `Ok(None)` when `after` is not a position in this partition.
    pub(crate) async fn query_page<T>(
        &self,
        partition: Partition<'_>,
        filter: Option<(String, Vec<(String, AttributeValue)>)>,
        limit: usize,
        after: Option<&Position>,
        decode: impl Fn(HashMap<String, AttributeValue>) -> Result<Option<T>, super::StoreError>,
    ) -> Result<Option<Page<T>>, super::StoreError> {
        let located = partition.locate();
        let names = partition.position_keys();
        let mut start = match after {
            Some(position) => match position.start_key(&names, (located.partition_key, &located.value)) {
                Some(key) => Some(key),
                None => return Ok(None),
            },
            None => None,
        };
        let read = if filter.is_some() { FILTERED_READ.max(limit + 1) } else { limit + 1 };
        let mut items = Vec::new();
        let mut last_key = None;
        for _ in 0..MAX_QUERIES {
            let mut query = self
                .query(&located)
                .scan_index_forward(partition.forward())
                .limit(i32::try_from(read).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take());
            if let Some((expression, values)) = &filter {
                query = query.filter_expression(expression.clone());
                for (name, value) in values {
                    query = query.expression_attribute_values(name.clone(), value.clone());
                }
            }
            let out = query.send().await.map_err(|e| super::StoreError::backend("Query", e))?;
            for item in out.items.unwrap_or_default() {
                let position = Position::from_item(&item, &names);
                // `None`: an item the caller's own filter leaves out (as the query's filter would).
                let Some(value) = decode(item)? else { continue };
                if items.len() == limit {
                    // There is at least one more: the page ends at the last one kept.
                    return Ok(Some(Page { next: last_key, items }));
                }
                last_key = position;
                items.push(value);
            }
            match out.last_evaluated_key {
                Some(key) if items.len() < limit => start = Some(key),
                Some(key) => return Ok(Some(Page { next: Position::from_item(&key, &names).or(last_key), items })),
                None => return Ok(Some(Page { items, next: None })),
            }
        }
        let next = start.and_then(|key| Position::from_item(&key, &names));
        Ok(Some(Page { items, next }))
    }
}
