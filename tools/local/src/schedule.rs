//! The scheduled functions, run locally as EventBridge Scheduler runs them in the cloud: each
//! every so many minutes, by Cargo.toml's `[workspace.metadata.storefront.schedules]`, which a
//! test proves are template.yaml's `Schedule` events.

use std::collections::BTreeMap;
use std::time::Duration;

/// Each scheduled function and the minutes between its runs.
pub fn schedules(manifest: &str) -> Result<BTreeMap<String, u64>, String> {
    crate::storefront_metadata(manifest, "schedules")?
        .iter()
        .map(|(function, minutes)| {
            let minutes = minutes
                .as_integer()
                .and_then(|m| u64::try_from(m).ok())
                .filter(|m| *m > 0)
                .ok_or_else(|| format!("the schedule of {function} is not a number of minutes"))?;
            Ok((function.clone(), minutes))
        })
        .collect()
}

/// The schedule expression template.yaml writes for a run every `minutes`.
pub fn rate(minutes: u64) -> String {
    if minutes == 1 { "rate(1 minute)".to_owned() } else { format!("rate({minutes} minutes)") }
}

/// The event a schedule hands its function (as events/expire-orders.json shows one).
pub fn event(function: &str, now: &str) -> serde_json::Value {
    serde_json::json!({
        "version": "0",
        "id": ulid::Ulid::new().to_string(),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": now,
        "region": "us-east-1",
        "resources": [format!("arn:aws:events:us-east-1:000000000000:rule/local-{function}")],
        "detail": {}
    })
}

/// The wait before each run: the first a whole period after start, as a new rule's.
pub fn period(minutes: u64) -> Duration {
    Duration::from_secs(minutes * 60)
}
