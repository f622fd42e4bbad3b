//! Pagination positions: where a query stopped, as plain strings, so that layers above can
//! carry it in a cursor without knowing DynamoDB types.

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
