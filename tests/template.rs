//! template.yaml, the code and the local router describe one system: these tests prove they agree.

use std::collections::BTreeSet;
use storefront::store::schema::table_spec;
use storefront_tests::root;
use yaml_rust2::{Yaml, YamlLoader};

fn template() -> Yaml {
    let raw = std::fs::read_to_string(root().join("template.yaml")).expect("template.yaml");
    YamlLoader::load_from_str(&raw).expect("template.yaml is YAML").remove(0)
}

fn strings(yaml: &Yaml) -> Vec<String> {
    yaml.as_vec().map(|v| v.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect()).unwrap_or_default()
}

fn key_schema(yaml: &Yaml) -> (String, String) {
    let mut hash = String::new();
    let mut range = String::new();
    for key in yaml.as_vec().expect("a KeySchema list") {
        let name = key["AttributeName"].as_str().unwrap().to_owned();
        match key["KeyType"].as_str() {
            Some("HASH") => hash = name,
            Some("RANGE") => range = name,
            other => panic!("unexpected KeyType {other:?}"),
        }
    }
    (hash, range)
}

fn functions_in_template(t: &Yaml) -> Vec<(String, &Yaml)> {
    t["Resources"]
        .as_hash()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"].as_str() == Some("AWS::Serverless::Function"))
        .map(|(id, r)| (id.as_str().unwrap().to_owned(), r))
        .collect()
}

/// (METHOD, path, function) for every route of template.yaml's HTTP API.
fn template_routes(t: &Yaml) -> BTreeSet<(String, String, String)> {
    let mut routes = BTreeSet::new();
    for (_, f) in functions_in_template(t) {
        let binary = f["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap().to_owned();
        for (_, event) in f["Properties"]["Events"].as_hash().into_iter().flatten() {
            if event["Type"].as_str() == Some("HttpApi") {
                let p = &event["Properties"];
                routes.insert((
                    p["Method"].as_str().unwrap().to_uppercase(),
                    p["Path"].as_str().unwrap().to_owned(),
                    binary.clone(),
                ));
            }
        }
    }
    routes
}

/// Functions started by a schedule rather than a route.
/// The functions that AWS services other than API Gateway invoke (a schedule, the table's
/// stream, an event bus rule).
fn event_functions(t: &Yaml) -> BTreeSet<String> {
    functions_in_template(t)
        .into_iter()
        .filter(|(_, f)| {
            f["Properties"]["Events"]
                .as_hash()
                .into_iter()
                .flatten()
                .any(|(_, e)| e["Type"].as_str() != Some("HttpApi"))
        })
        .map(|(_, f)| f["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap().to_owned())
        .collect()
}

/// (METHOD, path, function) for every route `cargo lambda watch` serves locally.
fn local_routes() -> BTreeSet<(String, String, String)> {
    let raw = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let manifest: toml::Table = raw.parse().unwrap();
    let router = manifest["workspace"]["metadata"]["lambda"]["watch"]["router"].as_table().unwrap();
    let mut routes = BTreeSet::new();
    for (path, targets) in router {
        for target in targets.as_array().unwrap() {
            routes.insert((
                target["method"].as_str().unwrap().to_owned(),
                path.clone(),
                target["function"].as_str().unwrap().to_owned(),
            ));
        }
    }
    routes
}

#[test]
fn the_table_in_template_yaml_is_the_table_the_code_creates() {
    let t = template();
    let table = &t["Resources"]["Table"];
    assert_eq!(table["Type"].as_str(), Some("AWS::DynamoDB::Table"));
    let props = &table["Properties"];
    let spec = table_spec();
    assert_eq!(key_schema(&props["KeySchema"]), (spec.partition_key.to_owned(), spec.sort_key.to_owned()));

    let indexes: BTreeSet<(String, String, String, String)> = props["GlobalSecondaryIndexes"]
        .as_vec()
        .unwrap()
        .iter()
        .map(|i| {
            let (hash, range) = key_schema(&i["KeySchema"]);
            (
                i["IndexName"].as_str().unwrap().to_owned(),
                hash,
                range,
                i["Projection"]["ProjectionType"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected: BTreeSet<_> = spec
        .indexes
        .iter()
        .map(|i| (i.name.to_owned(), i.partition_key.to_owned(), i.sort_key.to_owned(), "ALL".to_owned()))
        .collect();
    assert_eq!(indexes, expected);

    let attributes: BTreeSet<(String, String)> = props["AttributeDefinitions"]
        .as_vec()
        .unwrap()
        .iter()
        .map(|a| (a["AttributeName"].as_str().unwrap().to_owned(), a["AttributeType"].as_str().unwrap().to_owned()))
        .collect();
    let mut expected =
        BTreeSet::from([(spec.partition_key.to_owned(), "S".to_owned()), (spec.sort_key.to_owned(), "S".to_owned())]);
    for i in &spec.indexes {
        expected.insert((i.partition_key.to_owned(), "S".to_owned()));
        expected.insert((i.sort_key.to_owned(), "S".to_owned()));
    }
    assert_eq!(attributes, expected);

    assert_eq!(props["TimeToLiveSpecification"]["AttributeName"].as_str(), Some(spec.ttl_attribute));
    assert_eq!(props["TimeToLiveSpecification"]["Enabled"].as_bool(), Some(true));
    assert_eq!(props["StreamSpecification"]["StreamViewType"].as_str(), Some(spec.stream_view_type));
}

#[test]
fn the_table_is_on_demand_recoverable_and_retained() {
    let t = template();
    let table = &t["Resources"]["Table"];
    assert_eq!(table["DeletionPolicy"].as_str(), Some("Retain"));
    assert_eq!(table["UpdateReplacePolicy"].as_str(), Some("Retain"));
    assert_eq!(table["Properties"]["BillingMode"].as_str(), Some("PAY_PER_REQUEST"));
    assert_eq!(
        table["Properties"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"].as_bool(),
        Some(true)
    );
}

#[test]
fn every_function_binary_is_one_arm64_rust_lambda_in_the_template_with_a_sample_event() {
    let t = template();
    let globals = &t["Globals"]["Function"];
    assert_eq!(globals["Runtime"].as_str(), Some("provided.al2023"));
    assert_eq!(strings(&globals["Architectures"]), ["arm64"]);
    let mut binaries = BTreeSet::new();
    for (id, f) in functions_in_template(&t) {
        assert_eq!(f["Metadata"]["BuildMethod"].as_str(), Some("rust-cargolambda"), "{id}");
        assert_eq!(f["Properties"]["CodeUri"].as_str(), Some("."), "{id}");
        assert!(f["Properties"]["Runtime"].is_badvalue(), "{id} must not override the runtime");
        assert!(f["Properties"]["Architectures"].is_badvalue(), "{id} must not override the architecture");
        assert!(
            binaries.insert(f["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap().to_owned()),
            "{id} duplicates a binary"
        );
    }
    assert_eq!(binaries, storefront_tests::function_binaries());
    assert_eq!(
        storefront_tests::file_stems("events", "json"),
        storefront_tests::function_binaries(),
        "events/<function>.json for every function, and no other"
    );
}

#[test]
fn the_local_router_serves_exactly_the_routes_api_gateway_serves() {
    let t = template();
    let cloud = template_routes(&t);
    assert_eq!(local_routes(), cloud);
    let routed: BTreeSet<String> = cloud.iter().map(|(_, _, f)| f.clone()).collect();
    let invoked = event_functions(&t);
    let expected_invoked = [
        "deliver-webhooks",
        "expire-orders",
        "publish-events",
        "retry-webhooks",
        "send-notifications",
        "settle-refunds",
    ];
    assert_eq!(invoked, expected_invoked.iter().map(|f| f.to_string()).collect::<BTreeSet<_>>());
    let mut expected = storefront_tests::function_binaries();
    expected.retain(|f| !invoked.contains(f));
    assert_eq!(routed, expected, "every function but those events invoke has a route, and every route a function");
}

#[test]
fn functions_get_only_the_actions_they_need_on_the_table_and_the_image_bucket() {
    let t = template();
    for (id, f) in functions_in_template(&t) {
        // A function with no `Policies` (create-cart: no table, no secret) is granted nothing.
        for policy in f["Properties"]["Policies"].as_vec().into_iter().flatten() {
            assert!(
                policy.as_hash().is_some_and(|p| p.contains_key(&Yaml::String("Statement".into()))),
                "{id}: only inline statements, no managed policy templates"
            );
            for statement in policy["Statement"].as_vec().unwrap() {
                let actions = match &statement["Action"] {
                    Yaml::String(a) => vec![a.clone()],
                    other => strings(other),
                };
                for action in &actions {
                    assert!(!action.contains('*'), "{id}: wildcard action {action}");
                    assert!(
                        !["dynamodb:Scan", "dynamodb:DeleteTable", "dynamodb:CreateTable"].contains(&action.as_str()),
                        "{id}: {action}"
                    );
                }
                let resources = match &statement["Resource"] {
                    Yaml::String(r) => vec![r.clone()],
                    other => strings(other),
                };
                assert!(!resources.is_empty(), "{id}: a statement without resources");
                for resource in &resources {
                    if actions.iter().any(|a| a.starts_with("dynamodb:")) {
                        assert!(
                            resource == "Table.Arn" || resource == "${Table.Arn}/index/*",
                            "{id}: DynamoDB access outside the table and its indexes: {resource}"
                        );
                    } else if actions.iter().any(|a| a.starts_with("s3:")) {
                        assert!(actions.iter().all(|a| a.starts_with("s3:")), "{id}: {actions:?}");
                        assert!(
                            resource == "ImagesBucket.Arn"
                                || resource == "${ImagesBucket.Arn}/incoming/*"
                                || resource == "${ImagesBucket.Arn}/images/*",
                            "{id}: S3 access outside the image bucket's prefixes: {resource}"
                        );
                    } else if actions.iter().any(|a| a.starts_with("events:")) {
                        assert_eq!(actions, ["events:PutEvents"], "{id}");
                        assert_eq!(resource, "EventBus.Arn", "{id}: only the stack's bus");
                    } else if actions.iter().any(|a| a.starts_with("sqs:")) {
                        assert_eq!(actions, ["sqs:SendMessage"], "{id}");
                        assert!(
                            resource.ends_with("DeadLetterQueue.Arn"),
                            "{id}: only a dead-letter queue: {resource}"
                        );
                    } else if actions.iter().any(|a| a.starts_with("ses:")) {
                        assert_eq!(
                            (id.as_str(), actions.as_slice()),
                            ("SendNotificationsFunction", &["ses:SendEmail".to_owned()][..])
                        );
                        assert_eq!(
                            statement["Condition"]["StringEquals"]["ses:FromAddress"].as_str(),
                            Some("EmailSender"),
                            "{id}: emails from the store's sender only"
                        );
                    } else {
                        assert_eq!(actions, ["secretsmanager:GetSecretValue"], "{id}");
                        // Each secret is read by the functions that need it: the payment webhook's by
                        // it alone, Stripe's webhook secret by Stripe's webhook, Stripe's key by those
                        // that open payments or make refunds; the signing key by those with tokens.
                        let allowed: &[&str] = match (id.as_str(), resource.as_str()) {
                            (_, "StripeSecretKey") => &[
                                "PlaceOrderFunction",
                                "CreateRefundFunction",
                                "UpdateReturnFunction",
                                "AdminUpdateOrderFunction",
                                "PaymentWebhookFunction",
                                "SettleRefundsFunction",
                                "StripeWebhookFunction",
                            ],
                            (_, "PaymentWebhookSecret") => &["PaymentWebhookFunction"],
                            (_, "StripeWebhookSecret") => &["StripeWebhookFunction"],
                            (_, "JwtSecret") => &[id.as_str()],
                            _ => &[],
                        };
                        assert!(allowed.contains(&id.as_str()), "{id} may not read {resource}");
                        let webhooks = ["PaymentWebhookFunction", "StripeWebhookFunction"];
                        assert!(
                            resource != "JwtSecret" || !webhooks.contains(&id.as_str()),
                            "{id}: a webhook has no tokens to check"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn the_jwt_key_is_generated_by_the_stack_and_never_written_in_the_template() {
    let t = template();
    let secret = &t["Resources"]["JwtSecret"];
    assert_eq!(secret["Type"].as_str(), Some("AWS::SecretsManager::Secret"));
    assert!(secret["Properties"]["SecretString"].is_badvalue());
    assert_eq!(secret["Properties"]["GenerateSecretString"]["GenerateStringKey"].as_str(), Some("secret"));
    assert!(secret["Properties"]["GenerateSecretString"]["PasswordLength"].as_i64().unwrap() >= 32);
    assert_eq!(t["Globals"]["Function"]["Environment"]["Variables"]["JWT_SECRET_ARN"].as_str(), Some("JwtSecret"));
}

/// (METHOD, path) for every operation in openapi.yaml.
fn openapi_routes() -> BTreeSet<(String, String)> {
    let raw = std::fs::read_to_string(root().join("openapi.yaml")).expect("openapi.yaml");
    let doc = YamlLoader::load_from_str(&raw).expect("openapi.yaml is YAML").remove(0);
    assert_eq!(doc["openapi"].as_str().map(|v| v.starts_with("3.1")), Some(true), "OpenAPI 3.1");
    let mut routes = BTreeSet::new();
    for (path, item) in doc["paths"].as_hash().expect("paths") {
        for (method, _) in item.as_hash().expect("a path item") {
            let method = method.as_str().unwrap();
            if ["get", "put", "post", "patch", "delete", "head", "options"].contains(&method) {
                routes.insert((method.to_uppercase(), path.as_str().unwrap().to_owned()));
            }
        }
    }
    routes
}

#[test]
fn openapi_describes_exactly_the_routes_that_are_deployed_and_served_locally() {
    let cloud: BTreeSet<(String, String)> = template_routes(&template()).into_iter().map(|(m, p, _)| (m, p)).collect();
    let local: BTreeSet<(String, String)> = local_routes().into_iter().map(|(m, p, _)| (m, p)).collect();
    assert_eq!(openapi_routes(), cloud);
    assert_eq!(openapi_routes(), local);
}

#[test]
fn openapi_documents_every_problem_code_the_functions_answer_with() {
    let openapi = std::fs::read_to_string(root().join("openapi.yaml")).unwrap();
    let mut codes = BTreeSet::new();
    for kind in storefront::http::Kind::ALL {
        let (status, code, _) = kind.spec();
        assert!(codes.insert(code), "{code} is in the table twice");
        assert!((400..600).contains(&status), "{code}: {status}");
        assert!(openapi.contains(&format!("`{code}`")), "openapi.yaml does not document {code}");
    }
}

/// `(function, event type)` for every EventBridge rule of template.yaml (on the stack's bus,
/// source `storefront`).
fn template_rules(t: &Yaml) -> BTreeSet<(String, String)> {
    let mut rules = BTreeSet::new();
    for (id, f) in functions_in_template(t) {
        let binary = f["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap().to_owned();
        for (_, event) in f["Properties"]["Events"].as_hash().into_iter().flatten() {
            if event["Type"].as_str() != Some("EventBridgeRule") {
                continue;
            }
            let props = &event["Properties"];
            assert_eq!(props["EventBusName"].as_str(), Some("EventBus"), "{id}: a rule of the stack's bus");
            assert_eq!(strings(&props["Pattern"]["source"]), ["storefront"], "{id}: storefront's events only");
            assert!(props["RetryPolicy"]["MaximumEventAgeInSeconds"].as_i64().is_some(), "{id}: retried");
            assert_eq!(props["DeadLetterConfig"]["Type"].as_str(), Some("SQS"), "{id}: nothing dropped");
            let on_failure = &f["Properties"]["EventInvokeConfig"]["DestinationConfig"]["OnFailure"];
            assert_eq!(on_failure["Type"].as_str(), Some("SQS"), "{id}: an event it fails on is kept");
            for kind in strings(&props["Pattern"]["detail-type"]) {
                rules.insert((binary.clone(), kind));
            }
        }
    }
    rules
}

#[test]
fn the_local_bus_routes_events_exactly_as_the_templates_rules_do() {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let local: BTreeSet<(String, String)> = storefront_local::bus::rules(&manifest)
        .unwrap()
        .into_iter()
        .flat_map(|(function, types)| types.into_iter().map(move |kind| (function.clone(), kind)))
        .collect();
    let cloud = template_rules(&template());
    assert!(!cloud.is_empty());
    assert_eq!(local, cloud);
    let documented: BTreeSet<String> = storefront_tests::events::documented_types().into_iter().collect();
    for (function, kind) in &cloud {
        assert!(documented.contains(kind), "{function} subscribes to {kind}, which asyncapi.yaml does not document");
    }
}

#[test]
fn the_stream_mapping_passes_new_outbox_items_only_in_the_cloud_and_locally() {
    let t = template();
    let function = &t["Resources"]["PublishEventsFunction"]["Properties"];
    let mapping = &function["Events"]["Outbox"]["Properties"];
    assert_eq!(mapping["Stream"].as_str(), Some("Table.StreamArn"));
    assert_eq!(strings(&mapping["FunctionResponseTypes"]), ["ReportBatchItemFailures"]);
    let pattern = mapping["FilterCriteria"]["Filters"][0]["Pattern"].as_str().expect("a filter pattern");
    let cloud: serde_json::Value = serde_json::from_str(pattern).unwrap();
    let local: serde_json::Value = serde_json::from_str(storefront::api::events::STREAM_FILTER).unwrap();
    assert_eq!(cloud, local);
    let outbox = serde_json::json!({"eventName": "INSERT", "dynamodb": {"NewImage": {"entity": {"S": "event"}}}});
    assert!(storefront_local::stream::matches(&local, &outbox));
    for other in [
        serde_json::json!({"eventName": "REMOVE", "dynamodb": {"NewImage": {"entity": {"S": "event"}}}}),
        serde_json::json!({"eventName": "INSERT", "dynamodb": {"NewImage": {"entity": {"S": "order"}}}}),
        serde_json::json!({"eventName": "MODIFY", "dynamodb": {}}),
    ] {
        assert!(!storefront_local::stream::matches(&local, &other), "{other}");
    }
}

#[test]
fn the_local_stack_runs_exactly_the_templates_schedules() {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let local: BTreeSet<(String, String)> = storefront_local::schedule::schedules(&manifest)
        .unwrap()
        .into_iter()
        .map(|(function, minutes)| (function, storefront_local::schedule::rate(minutes)))
        .collect();
    let mut cloud = BTreeSet::new();
    for (_, f) in functions_in_template(&template()) {
        let binary = f["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap().to_owned();
        for (_, event) in f["Properties"]["Events"].as_hash().into_iter().flatten() {
            if event["Type"].as_str() == Some("Schedule") {
                assert_eq!(event["Properties"]["Enabled"].as_bool(), Some(true), "{binary}: the schedule runs");
                cloud.insert((binary.clone(), event["Properties"]["Schedule"].as_str().unwrap().to_owned()));
            }
        }
    }
    assert!(!cloud.is_empty());
    assert_eq!(local, cloud);
}

#[test]
fn every_documented_event_type_reaches_the_webhook_consumer() {
    let rules = template_rules(&template());
    for kind in storefront_tests::events::documented_types() {
        assert!(
            rules.contains(&("deliver-webhooks".to_owned(), kind.clone())),
            "deliver-webhooks' rule does not name {kind}"
        );
    }
    let known: Vec<String> = storefront::domain::EventType::ALL.iter().map(|t| t.as_str().to_owned()).collect();
    assert_eq!(storefront_tests::events::documented_types().len(), known.len(), "asyncapi.yaml documents each type");
}
