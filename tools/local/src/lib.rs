//! The local stack's parts, shared by `storefront-local` (`make run`, `make db`) and the
//! benchmark (and the tests' image bucket): a Lambda Runtime API, an API Gateway front, the
//! functions run behind it, an S3-compatible server, an event bus and the table stream's
//! mapping to `publish-events`.

pub mod bus;
pub mod functions;
pub mod gateway;
pub mod runtime;
pub mod s3;
pub mod schedule;
pub mod stream;

/// A table of Cargo.toml's `[workspace.metadata.storefront]` (`rules`, `schedules`): what the
/// local stack wires as template.yaml does.
pub fn storefront_metadata(manifest: &str, name: &str) -> Result<toml::Table, String> {
    let manifest: toml::Table = manifest.parse().map_err(|e| format!("Cargo.toml: {e}"))?;
    manifest
        .get("workspace")
        .and_then(|w| w.get("metadata"))
        .and_then(|m| m.get("storefront"))
        .and_then(|s| s.get(name))
        .and_then(|r| r.as_table())
        .cloned()
        .ok_or_else(|| format!("Cargo.toml has no [workspace.metadata.storefront.{name}]"))
}
