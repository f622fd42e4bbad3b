//! The single table's shape. `template.yaml` declares the same; a test proves they agree.

/// One secondary index: name and key attributes (all are strings, projection ALL).
#[derive(Debug, Clone, PartialEq, Eq)]
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
}

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const TTL: &str = "expiresAt";
pub const GSI1: &str = "gsi1";
pub const GSI2: &str = "gsi2";
pub const GSI3: &str = "gsi3";

/// The table: string keys `pk`/`sk`, three overloaded GSIs, TTL on `expiresAt`.
/// docs/data-model.md lists what lives where.
pub fn table_spec() -> TableSpec {
    TableSpec {
        partition_key: PK,
        sort_key: SK,
        indexes: vec![
            IndexSpec { name: GSI1, partition_key: "gsi1pk", sort_key: "gsi1sk" },
            IndexSpec { name: GSI2, partition_key: "gsi2pk", sort_key: "gsi2sk" },
            IndexSpec { name: GSI3, partition_key: "gsi3pk", sort_key: "gsi3sk" },
        ],
        ttl_attribute: TTL,
    }
}
