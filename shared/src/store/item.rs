//! Items and their fields: the one way to build attribute values, read a field, turn an item
//! into a record and back, and tell a failed condition from any other failure.

use super::StoreError;
use super::schema::{PK, SK};
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;

/// An item as the SDK sees it.
pub(crate) type Item = HashMap<String, AttributeValue>;

/// A string attribute.
pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// A number attribute.
pub(crate) fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// A boolean attribute.
pub(crate) fn b(v: bool) -> AttributeValue {
    AttributeValue::Bool(v)
}

/// A string field.
pub(crate) fn text<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str)
}

/// A number field that fits an `i64`.
pub(crate) fn number(item: &Item, name: &str) -> Option<i64> {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok())
}

/// A boolean field.
pub(crate) fn flag(item: &Item, name: &str) -> Option<bool> {
    item.get(name).and_then(|v| v.as_bool().ok()).copied()
}

/// The record an item holds. An item of another shape is [`StoreError::Corrupt`], named by its key.
pub(crate) fn decode<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    let key = format!("{}/{}", text(&item, PK).unwrap_or("?"), text(&item, SK).unwrap_or("?"));
    serde_dynamo::from_item(item).map_err(|e| StoreError::Corrupt { key, detail: e.to_string() })
}

/// The item holding `record` under `key`, marked with its `entity` (for people reading the table).
pub(crate) fn encode<T: Serialize>(record: &T, key: Item, entity: &str) -> Result<Item, StoreError> {
    let mut item: Item = serde_dynamo::to_item(record)
        .map_err(|e| StoreError::Corrupt { key: format!("new {entity}"), detail: e.to_string() })?;
    item.extend(key);
    item.insert("entity".into(), s(entity));
    Ok(item)
}

/// A value as an attribute (nested records such as an address or a history entry).
pub(crate) fn attribute<T: Serialize>(value: &T, what: &str) -> Result<AttributeValue, StoreError> {
    serde_dynamo::to_attribute_value(value).map_err(|e| StoreError::Corrupt { key: what.into(), detail: e.to_string() })
}

/// The errors of single-item writes that can say "your condition failed".
pub(crate) trait ConditionalError {
    /// `Some(old item, when the write asked for it)` if the condition failed.
    fn refused(&self) -> Option<Option<&Item>>;
}

macro_rules! conditional_error {
    ($($error:ty),*) => {$(
        impl ConditionalError for $error {
            fn refused(&self) -> Option<Option<&Item>> {
                match self {
                    Self::ConditionalCheckFailedException(failed) => Some(failed.item.as_ref()),
                    _ => None,
                }
            }
        }
    )*};
}
conditional_error!(PutItemError, UpdateItemError, DeleteItemError);

/// For a single-item write that failed: `Some(old item, if asked for)` when its condition was
/// not met, `None` for any other failure.
pub(crate) fn refused<E: ConditionalError, R>(err: &SdkError<E, R>) -> Option<Option<Item>> {
    err.as_service_error().and_then(ConditionalError::refused).map(|old| old.cloned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_read_back_what_was_written_and_nothing_else() {
        let item: Item = HashMap::from([
            ("name".into(), s("Mug")),
            ("stock".into(), n(-3)),
            ("active".into(), b(true)),
            ("huge".into(), AttributeValue::N("1e40".into())),
        ]);
        assert_eq!(text(&item, "name"), Some("Mug"));
        assert_eq!(number(&item, "stock"), Some(-3));
        assert_eq!(flag(&item, "active"), Some(true));
        assert_eq!((text(&item, "stock"), number(&item, "name"), flag(&item, "name")), (None, None, None));
        assert_eq!(number(&item, "huge"), None, "a number that is not an i64 is not read as one");
        assert_eq!(text(&item, "missing"), None);
    }

    #[test]
    fn a_record_of_another_shape_is_corrupt_and_named_by_its_key() {
        #[derive(serde::Deserialize, Debug)]
        struct Record {
            #[allow(dead_code)]
            stock: i64,
        }
        let item: Item = HashMap::from([("pk".into(), s("P#1")), ("sk".into(), s("P")), ("stock".into(), s("x"))]);
        match decode::<Record>(item) {
            Err(StoreError::Corrupt { key, .. }) => assert_eq!(key, "P#1/P"),
            other => panic!("{other:?}"),
        }
    }
}
