//! Creating the table from [`schema::table_spec`] (local stack and tests; the cloud uses template.yaml).

use super::schema::{TableSpec, table_spec};
use super::{Store, StoreError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, StreamSpecification, StreamViewType, TimeToLiveSpecification,
};

fn build_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend { operation: "CreateTable", detail: e.to_string() }
}

fn key(name: &str, kind: KeyType) -> Result<KeySchemaElement, StoreError> {
    KeySchemaElement::builder().attribute_name(name).key_type(kind).build().map_err(build_err)
}

fn string_attribute(name: &str) -> Result<AttributeDefinition, StoreError> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .map_err(build_err)
}

impl Store {
    /// Creates the table and turns on TTL, unless it exists. Returns whether it created it.
    /// An existing table that lacks an index of the spec (made by an older version) is an
    /// error that says so, rather than a table that fails at the first query.
    pub async fn ensure_table(&self) -> Result<bool, StoreError> {
        let exists = self.client.describe_table().table_name(&self.table).send().await;
        match exists {
            Ok(out) => {
                let streaming =
                    out.table.as_ref().and_then(|t| t.stream_specification.as_ref()).is_some_and(|s| s.stream_enabled);
                let have: Vec<String> = out
                    .table
                    .map(|t| t.global_secondary_indexes.unwrap_or_default())
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|i| i.index_name)
                    .collect();
                let missing: Vec<&str> =
                    table_spec().indexes.iter().map(|i| i.name).filter(|n| !have.iter().any(|h| h == n)).collect();
                if !missing.is_empty() {
                    return Err(StoreError::Backend {
                        operation: "DescribeTable",
                        detail: format!(
                            "table {} predates index {}; wipe local data (make reset) to recreate it",
                            self.table,
                            missing.join(", ")
                        ),
                    });
                }
                if !streaming {
                    // A table of a version before events: its stream is what publishes them.
                    self.client
                        .update_table()
                        .table_name(&self.table)
                        .stream_specification(stream_specification()?)
                        .send()
                        .await
                        .map_err(|e| StoreError::backend("UpdateTable", e))?;
                }
                return Ok(false);
            }
            Err(err) if err.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => {}
            Err(err) => return Err(StoreError::backend("DescribeTable", err)),
        }
        let spec: TableSpec = table_spec();
        let mut request = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(key(spec.partition_key, KeyType::Hash)?)
            .key_schema(key(spec.sort_key, KeyType::Range)?)
            .attribute_definitions(string_attribute(spec.partition_key)?)
            .attribute_definitions(string_attribute(spec.sort_key)?);
        for index in &spec.indexes {
            request = request
                .attribute_definitions(string_attribute(index.partition_key)?)
                .attribute_definitions(string_attribute(index.sort_key)?)
                .global_secondary_indexes(
                    GlobalSecondaryIndex::builder()
                        .index_name(index.name)
                        .key_schema(key(index.partition_key, KeyType::Hash)?)
                        .key_schema(key(index.sort_key, KeyType::Range)?)
                        .projection(Projection::builder().projection_type(ProjectionType::All).build())
                        .build()
                        .map_err(build_err)?,
                );
        }
        request = request.stream_specification(stream_specification()?);
        request.send().await.map_err(|e| StoreError::backend("CreateTable", e))?;
        self.client
            .update_time_to_live()
            .table_name(&self.table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .enabled(true)
                    .attribute_name(spec.ttl_attribute)
                    .build()
                    .map_err(build_err)?,
            )
            .send()
            .await
            .map_err(|e| StoreError::backend("UpdateTimeToLive", e))?;
        Ok(true)
    }
}

fn stream_specification() -> Result<StreamSpecification, StoreError> {
    StreamSpecification::builder()
        .stream_enabled(true)
        .stream_view_type(StreamViewType::from(table_spec().stream_view_type))
        .build()
        .map_err(build_err)
}
