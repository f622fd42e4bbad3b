//! The single table's shape. `template.yaml` declares the same; a test proves they agree.

/// One secondary index: name and key attributes (all are strings, projection ALL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexSpec {
    pub name: &'static str,
    pub partition_key: &'static str,
    pub sort_key: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSpec {
    pub partition_key: &'static str,
    pub sort_key: &'static str,
    pub indexes: Vec<IndexSpec>,
    pub ttl_attribute: &'static str,
    /// What the table's stream carries of each change (`publish-events` reads new outbox items).
    pub stream_view_type: &'static str,
}

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const TTL: &str = "expiresAt";
/// Products by creation (all of them), discounts by code, a customer's orders.
pub const GSI1: IndexSpec = IndexSpec { name: "gsi1", partition_key: "gsi1pk", sort_key: "gsi1sk" };
/// Active products by creation, orders by status.
pub const GSI2: IndexSpec = IndexSpec { name: "gsi2", partition_key: "gsi2pk", sort_key: "gsi2sk" };
/// Active products of one category by creation.
pub const GSI3: IndexSpec = IndexSpec { name: "gsi3", partition_key: "gsi3pk", sort_key: "gsi3sk" };

/// The table: string keys `pk`/`sk`, three overloaded GSIs, TTL on `expiresAt`, a stream of new images.
/// docs/data-model.md lists what lives where; `keys` builds every key.
pub fn table_spec() -> TableSpec {
    TableSpec {
        partition_key: PK,
        sort_key: SK,
        indexes: vec![GSI1, GSI2, GSI3],
        ttl_attribute: TTL,
        stream_view_type: "NEW_IMAGE",
    }
}
