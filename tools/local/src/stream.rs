//! The local event source mapping: reads the table's stream from dynoxide (the DynamoDB
//! Streams API, through the real aws-sdk-dynamodbstreams client), keeps the records that pass
//! the filter template.yaml gives the mapping (`storefront::api::events::STREAM_FILTER`), and
//! invokes `publish-events` with them as Lambda's poller would: in order, a batch at a time,
//! resuming from the record a partial batch failure names, and never past a record it has
//! not published. Where it got to is kept in a checkpoint file, so a restart goes on from there.

use aws_sdk_dynamodbstreams::types::{AttributeValue, Record, ShardIteratorType};
use base64::Engine;
use serde_json::{Map, Value, json};
use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

/// The most records handed to one invocation (the mapping's `BatchSize`).
const BATCH_SIZE: i32 = 100;

/// A record's attribute value as DynamoDB JSON (what Lambda's stream events carry).
fn attribute(value: &AttributeValue) -> Value {
    let b64 =
        |b: &aws_sdk_dynamodbstreams::primitives::Blob| base64::engine::general_purpose::STANDARD.encode(b.as_ref());
    match value {
        AttributeValue::S(s) => json!({"S": s}),
        AttributeValue::N(n) => json!({"N": n}),
        AttributeValue::B(b) => json!({"B": b64(b)}),
        AttributeValue::Bool(b) => json!({"BOOL": b}),
        AttributeValue::Null(_) => json!({"NULL": true}),
        AttributeValue::Ss(v) => json!({"SS": v}),
        AttributeValue::Ns(v) => json!({"NS": v}),
        AttributeValue::Bs(v) => json!({"BS": v.iter().map(b64).collect::<Vec<_>>()}),
        AttributeValue::L(items) => json!({"L": items.iter().map(attribute).collect::<Vec<_>>()}),
        AttributeValue::M(map) => json!({"M": image(map)}),
        _ => json!({"NULL": true}),
    }
}

fn image(map: &std::collections::HashMap<String, AttributeValue>) -> Value {
    Value::Object(map.iter().map(|(k, v)| (k.clone(), attribute(v))).collect::<Map<_, _>>())
}

/// A stream record as Lambda hands it to a function.
pub fn lambda_record(record: &Record, stream_arn: &str) -> Value {
    let change = record.dynamodb();
    let mut dynamodb = Map::new();
    if let Some(change) = change {
        if let Some(at) = change.approximate_creation_date_time() {
            dynamodb.insert("ApproximateCreationDateTime".into(), json!(at.secs()));
        }
        if let Some(keys) = change.keys() {
            dynamodb.insert("Keys".into(), image(keys));
        }
        if let Some(new) = change.new_image() {
            dynamodb.insert("NewImage".into(), image(new));
        }
        if let Some(old) = change.old_image() {
            dynamodb.insert("OldImage".into(), image(old));
        }
        dynamodb.insert("SequenceNumber".into(), json!(change.sequence_number()));
        dynamodb.insert("SizeBytes".into(), json!(change.size_bytes().unwrap_or(0)));
        dynamodb.insert("StreamViewType".into(), json!(change.stream_view_type().map(|v| v.as_str())));
    }
    json!({
        "eventID": record.event_id(),
        "eventName": record.event_name().map(|e| e.as_str()),
        "eventVersion": record.event_version(),
        "eventSource": "aws:dynamodb",
        "awsRegion": crate::bus::REGION,
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    })
}

/// Whether `value` matches an event pattern (the subset the template's filters use: objects
/// match field by field, a list matches any of its values).
pub fn matches(pattern: &Value, value: &Value) -> bool {
    match pattern {
        Value::Object(fields) => fields.iter().all(|(name, p)| value.get(name).is_some_and(|v| matches(p, v))),
        Value::Array(any) => any.iter().any(|p| p == value),
        other => other == value,
    }
}

/// What to invoke `publish-events` with, and what it answers (`Err` when it failed).
pub trait Invoke: Fn(Vec<u8>) -> Self::Answer {
    type Answer: Future<Output = Result<Vec<u8>, String>>;
}
impl<F, A> Invoke for F
where
    F: Fn(Vec<u8>) -> A,
    A: Future<Output = Result<Vec<u8>, String>>,
{
    type Answer = A;
}

/// The local mapping of one table's stream to `publish-events`.
pub struct Mapping {
    pub streams: aws_sdk_dynamodbstreams::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub table: String,
    /// Where the last sequence number handed over and published is kept.
    pub checkpoint: PathBuf,
}

impl Mapping {
    fn saved(&self) -> Option<String> {
        std::fs::read_to_string(&self.checkpoint).ok().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
    }

    fn save(&self, sequence: &str) {
        if let Err(err) = std::fs::write(&self.checkpoint, sequence) {
            eprintln!("cannot write {}: {err}", self.checkpoint.display());
        }
    }

    async fn iterator(&self, stream: &str, shard: &str) -> Result<Option<String>, String> {
        let request = self.streams.get_shard_iterator().stream_arn(stream).shard_id(shard);
        let request = match self.saved() {
            Some(after) => request.shard_iterator_type(ShardIteratorType::AfterSequenceNumber).sequence_number(after),
            None => request.shard_iterator_type(ShardIteratorType::TrimHorizon),
        };
        let out =
            request.send().await.map_err(|e| aws_sdk_dynamodbstreams::error::DisplayErrorContext(e).to_string())?;
        Ok(out.shard_iterator().map(str::to_owned))
    }

    /// Hands the stream to `publish` until `stop` completes.
    pub async fn run(self, publish: impl Invoke, stop: impl Future<Output = ()>) {
        tokio::pin!(stop);
        let mut position = None;
        loop {
            match self.step(&mut position, &publish).await {
                Ok(read) if read > 0 => continue,
                Ok(_) => {}
                Err(err) => {
                    eprintln!("the event pipeline: {err}; trying again");
                    position = None;
                }
            }
            tokio::select! {
                () = &mut stop => return,
                () = tokio::time::sleep(Duration::from_millis(200)) => {}
            }
        }
    }

    /// Hands everything the stream holds to `publish`, until it has no more (tests, the
    /// benchmark): how many records it read.
    pub async fn drain(&self, publish: impl Invoke) -> Result<usize, String> {
        let mut position = None;
        let mut total = 0;
        loop {
            match self.step(&mut position, &publish).await? {
                0 => return Ok(total),
                read => total += read,
            }
        }
    }

    /// One GetRecords from `position` (located from the checkpoint when `None`): the records
    /// that pass the filter go to `publish`; the checkpoint moves past what was published.
    /// How many records were read (0: none new). On an error, `position` is forgotten (the
    /// next step starts after the checkpoint again).
    async fn step(&self, position: &mut Option<(String, String)>, publish: &impl Invoke) -> Result<usize, String> {
        let filter: Value = serde_json::from_str(storefront::api::events::STREAM_FILTER).unwrap_or(Value::Null);
        if position.is_none() {
            *position = self.locate().await?;
        }
        let Some((stream, iterator)) = position.clone() else { return Ok(0) };
        let out = match self.streams.get_records().shard_iterator(&iterator).limit(BATCH_SIZE).send().await {
            Ok(out) => out,
            Err(err) => {
                *position = None;
                return Err(format!("GetRecords: {}", aws_sdk_dynamodbstreams::error::DisplayErrorContext(err)));
            }
        };
        let records = out.records();
        let batch: Vec<Value> =
            records.iter().map(|r| lambda_record(r, &stream)).filter(|r| matches(&filter, r)).collect();
        let last = records.last().and_then(|r| r.dynamodb()).and_then(|c| c.sequence_number()).map(str::to_owned);
        if !batch.is_empty() {
            let event = json!({"Records": batch}).to_string().into_bytes();
            let answer = publish(event).await.map_err(|err| {
                *position = None;
                format!("publish-events failed ({err})")
            })?;
            let answer: Value = serde_json::from_slice(&answer).unwrap_or(Value::Null);
            if let Some(failed) = answer["batchItemFailures"][0]["itemIdentifier"].as_str() {
                // Published up to the record before the one that failed: resume at it.
                let sequence = |r: &Value| r["dynamodb"]["SequenceNumber"].as_str().unwrap_or_default().to_owned();
                if let Some(done) = batch.iter().map(sequence).take_while(|s| s != failed).last() {
                    self.save(&done);
                }
                *position = None;
                return Err(format!("publish-events could not publish {failed}"));
            }
        }
        if let Some(last) = &last {
            self.save(last);
        }
        *position = out.next_shard_iterator().map(|next| (stream, next.to_owned()));
        Ok(records.len())
    }

    /// The table's stream, its (one) shard and an iterator after the checkpoint.
    async fn locate(&self) -> Result<Option<(String, String)>, String> {
        let table = self
            .dynamodb
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
            .map_err(|e| aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string())?;
        let Some(stream) = table.table().and_then(|t| t.latest_stream_arn()).map(str::to_owned) else {
            return Err(format!("table {} has no stream", self.table));
        };
        let described = self
            .streams
            .describe_stream()
            .stream_arn(&stream)
            .send()
            .await
            .map_err(|e| aws_sdk_dynamodbstreams::error::DisplayErrorContext(e).to_string())?;
        let shards = described.stream_description().map(|d| d.shards()).unwrap_or_default();
        let Some(shard) = shards.last().and_then(|s| s.shard_id()).map(str::to_owned) else { return Ok(None) };
        Ok(self.iterator(&stream, &shard).await?.map(|it| (stream, it)))
    }
}
