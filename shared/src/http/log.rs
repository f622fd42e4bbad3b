//! The JSON log line: one object per event with its time, level, message and fields, and the
//! fields of storefront's own enclosing spans (`requestId`, `traceId`) beside them, so every
//! line a request or an invocation writes can be found by either id.

use serde_json::{Map, Value};
use std::fmt;
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// Formats each event as one JSON line (fields as [`JsonFields`] records them).
pub struct JsonLines;

/// The fields `JsonFields` wrote, as an object (empty when there were none).
fn object(text: &str) -> Map<String, Value> {
    match serde_json::from_str(text) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

impl<S> FormatEvent<S, JsonFields> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, JsonFields>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut line = Map::new();
        let now = time::OffsetDateTime::now_utc();
        let timestamp = now.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
        line.insert("timestamp".into(), timestamp.into());
        line.insert("level".into(), event.metadata().level().as_str().into());
        let mut fields = String::new();
        ctx.field_format().format_fields(Writer::new(&mut fields), event)?;
        line.extend(object(&fields));
        // Outermost first, so an inner span's value wins; others' spans (the Lambda
        // runtime's, the SDK's) are left out.
        for span in ctx.event_scope().into_iter().flat_map(|scope| scope.from_root()) {
            if !span.metadata().target().starts_with("storefront") {
                continue;
            }
            if let Some(recorded) = span.extensions().get::<FormattedFields<JsonFields>>() {
                for (key, value) in object(recorded) {
                    line.entry(key).or_insert(value);
                }
            }
        }
        writeln!(writer, "{}", Value::Object(line))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::{Arc, Mutex};
    use tracing_subscriber::fmt::MakeWriter;

    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl Write for Lines {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().map_err(|_| std::io::Error::other("poisoned"))?.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Lines {
        type Writer = Lines;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    #[test]
    fn every_line_in_a_request_carries_its_request_and_trace_ids_beside_its_own_fields() {
        let out = Lines::default();
        let subscriber = tracing_subscriber::fmt()
            .fmt_fields(JsonFields::new())
            .event_format(JsonLines)
            .with_writer(out.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!("before");
            let span = tracing::info_span!("request", requestId = "r-1", traceId = "1-5f-abc");
            let _inside = span.enter();
            let deeper = tracing::info_span!(target: "aws_smithy", "send", requestId = "not ours");
            let _deeper = deeper.enter();
            tracing::warn!(orderId = "o-1", count = 3, "could not release");
        });
        let text = String::from_utf8(out.0.lock().map(|b| b.clone()).unwrap_or_default()).unwrap_or_default();
        let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).expect("JSON")).collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["message"], "before");
        assert!(lines[0].get("requestId").is_none());
        let line = &lines[1];
        assert_eq!((line["level"].as_str(), line["message"].as_str()), (Some("WARN"), Some("could not release")));
        assert_eq!((line["orderId"].as_str(), line["count"].as_i64()), (Some("o-1"), Some(3)));
        assert_eq!((line["requestId"].as_str(), line["traceId"].as_str()), (Some("r-1"), Some("1-5f-abc")));
        assert!(line["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')), "{line}");
    }
}
