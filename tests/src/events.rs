//! The events a test's changes wrote: every outbox item of its table, each envelope checked
//! against its type's schema in asyncapi.yaml (which refers to openapi.yaml's), as the
//! end-to-end test checks responses against openapi.yaml.

use serde_json::Value;
use std::collections::HashMap;
use std::sync::OnceLock;
use yaml_rust2::{Yaml, YamlLoader};

const ASYNCAPI_URI: &str = "https://storefront.invalid/asyncapi.yaml";
const OPENAPI_URI: &str = "https://storefront.invalid/openapi.yaml";

/// A YAML document as JSON (the specs are JSON Schema written in YAML).
pub fn yaml_to_json(yaml: &Yaml) -> Value {
    match yaml {
        Yaml::Real(text) => text.parse::<f64>().map(Value::from).unwrap_or(Value::Null),
        Yaml::Integer(i) => Value::from(*i),
        Yaml::String(s) => Value::from(s.as_str()),
        Yaml::Boolean(b) => Value::from(*b),
        Yaml::Array(items) => Value::Array(items.iter().map(yaml_to_json).collect()),
        Yaml::Hash(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let key = match k {
                        Yaml::String(s) => s.clone(),
                        Yaml::Integer(i) => i.to_string(),
                        Yaml::Boolean(b) => b.to_string(),
                        other => panic!("a YAML key that is not a scalar: {other:?}"),
                    };
                    (key, yaml_to_json(v))
                })
                .collect(),
        ),
        Yaml::Null => Value::Null,
        Yaml::Alias(_) | Yaml::BadValue => panic!("the specs use no YAML aliases"),
    }
}

fn spec(file: &str) -> Value {
    let raw = std::fs::read_to_string(crate::root().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    let docs = YamlLoader::load_from_str(&raw).unwrap_or_else(|e| panic!("{file} is YAML: {e}"));
    yaml_to_json(&docs[0])
}

/// asyncapi.yaml as JSON.
pub fn asyncapi() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| spec("asyncapi.yaml"))
}

/// One validator per event type, built from the message of that name.
fn validators() -> &'static HashMap<String, jsonschema::Validator> {
    static VALIDATORS: OnceLock<HashMap<String, jsonschema::Validator>> = OnceLock::new();
    VALIDATORS.get_or_init(|| {
        let doc = asyncapi();
        assert_eq!(doc["asyncapi"].as_str().map(|v| v.starts_with("3.")), Some(true), "AsyncAPI 3");
        let registry = jsonschema::Registry::new()
            .add(ASYNCAPI_URI, doc.clone())
            .and_then(|r| r.add(OPENAPI_URI, spec("openapi.yaml")))
            .and_then(|r| r.prepare())
            .expect("the specs form a registry");
        let registry: &'static jsonschema::Registry<'static> = Box::leak(Box::new(registry));
        let messages = doc["components"]["messages"].as_object().expect("components.messages");
        messages
            .values()
            .map(|message| {
                let name = message["name"].as_str().expect("every message has a name").to_owned();
                let payload = message["payload"]["$ref"].as_str().expect("a payload $ref");
                let schema = serde_json::json!({ "$ref": format!("{ASYNCAPI_URI}{payload}") });
                let validator = jsonschema::options()
                    .with_draft(jsonschema::Draft::Draft202012)
                    .should_validate_formats(true)
                    .with_registry(registry)
                    .build(&schema)
                    .unwrap_or_else(|e| panic!("the schema of {name}: {e}"));
                (name, validator)
            })
            .collect()
    })
}

/// The event types asyncapi.yaml documents.
pub fn documented_types() -> Vec<String> {
    let mut types: Vec<String> = validators().keys().cloned().collect();
    types.sort();
    types
}

/// Panics unless `event` is an envelope of a documented type that conforms to its schema.
pub fn check(event: &Value) {
    let kind = event["type"].as_str().unwrap_or_else(|| panic!("an event without a type: {event}"));
    let validator = validators().get(kind).unwrap_or_else(|| panic!("asyncapi.yaml does not document {kind}"));
    let errors: Vec<String> =
        validator.iter_errors(event).take(5).map(|e| format!("{}: {e}", e.instance_path())).collect();
    assert!(errors.is_empty(), "a {kind} event does not conform to asyncapi.yaml: {errors:#?}\n{event:#}");
}

/// Every event in the table, oldest first, each checked against asyncapi.yaml.
pub async fn in_table(client: &aws_sdk_dynamodb::Client, table: &str) -> Vec<Value> {
    let mut events = Vec::new();
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .filter_expression("entity = :event")
            .expression_attribute_values(
                ":event",
                aws_sdk_dynamodb::types::AttributeValue::S(storefront::store::outbox::OUTBOX_ENTITY.into()),
            )
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("a scan of the outbox");
        for item in page.items() {
            for envelope in storefront::store::outbox::envelopes(item).expect("an outbox item") {
                let event: Value = serde_json::from_str(&envelope).expect("an envelope is JSON");
                check(&event);
                events.push(event);
            }
        }
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            break;
        }
    }
    events.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    events
}
