//! What API Gateway (HTTP API) does in front of the functions, for the local stack: match a
//! request to a route of Cargo.toml's `[workspace.metadata.lambda.watch.router]` (the table
//! `cargo lambda watch` serves too), turn it into a payload 2.0 event, and turn the function's
//! answer back into an HTTP response. Bytes are taken as API Gateway takes them: a body that is
//! not text reaches the function base64-encoded, whatever it holds.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// One route: a method, a path template (`/products/{id}`) and the function that serves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub method: String,
    pub path: String,
    pub function: String,
}

/// The table at `path` under a workspace manifest's `[workspace.metadata.lambda]`.
fn lambda_table(manifest: &str, path: &[&str]) -> Result<toml::Table, String> {
    let manifest: toml::Table = manifest.parse().map_err(|e| format!("Cargo.toml: {e}"))?;
    let mut at = manifest.get("workspace").and_then(|w| w.get("metadata")).and_then(|m| m.get("lambda"));
    for key in path {
        at = at.and_then(|t| t.get(key));
    }
    at.and_then(|t| t.as_table())
        .cloned()
        .ok_or_else(|| format!("Cargo.toml has no [workspace.metadata.lambda.{}]", path.join(".")))
}

/// The routes of a workspace manifest's lambda router.
pub fn routes(manifest: &str) -> Result<Vec<Route>, String> {
    let router = lambda_table(manifest, &["watch", "router"])?;
    let mut routes = Vec::new();
    for (path, targets) in &router {
        for target in targets.as_array().ok_or_else(|| format!("route {path}: not a list"))? {
            let field = |name: &str| target.get(name).and_then(|v| v.as_str()).map(str::to_owned);
            let (Some(method), Some(function)) = (field("method"), field("function")) else {
                return Err(format!("route {path}: each entry needs a method and a function"));
            };
            routes.push(Route { method: method.to_ascii_uppercase(), path: path.clone(), function });
        }
    }
    Ok(routes)
}

/// The functions' local environment: Cargo.toml's `[workspace.metadata.lambda.env]`.
pub fn environment(manifest: &str) -> Result<BTreeMap<String, String>, String> {
    lambda_table(manifest, &["env"])?
        .iter()
        .map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())).ok_or_else(|| format!("env {k}: not a string")))
        .collect()
}

/// The route for `method` and `path`, with the path parameters it binds. API Gateway matches
/// literal segments before parameters; no two routes here differ only in that way.
pub fn find<'a>(routes: &'a [Route], method: &str, path: &str) -> Option<(&'a Route, BTreeMap<String, String>)> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    routes.iter().filter(|r| r.method == method).find_map(|route| {
        let template: Vec<&str> = route.path.trim_start_matches('/').split('/').collect();
        if template.len() != segments.len() {
            return None;
        }
        let mut params = BTreeMap::new();
        for (want, got) in template.iter().zip(&segments) {
            match want.strip_prefix('{').and_then(|w| w.strip_suffix('}')) {
                Some(name) if !got.is_empty() => {
                    params.insert(name.to_owned(), percent_decode(got)?);
                }
                Some(_) => return None,
                None if want == got => {}
                None => return None,
            }
        }
        Some((route, params))
    })
}

fn percent_decode(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = raw.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    // API Gateway passes decoded parameters as strings; bytes that are not UTF-8 are kept lossily.
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// Whether API Gateway hands a body of this content type over as text (HTTP APIs treat these
/// types as text and base64-encode everything else).
fn is_text(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else { return false };
    let essence = ct.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence.starts_with("text/")
        || essence == "application/json"
        || essence.ends_with("+json")
        || essence == "application/xml"
        || essence.ends_with("+xml")
        || essence == "application/javascript"
        || essence == "application/x-www-form-urlencoded"
}

/// One HTTP request as it arrived, before routing.
pub struct Incoming<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: Option<&'a str>,
    /// Header names (any case) and raw values, in arrival order.
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: &'a [u8],
    pub source_ip: String,
    pub request_id: String,
}

/// The HTTP API payload 2.0 event of `request` for `route`.
pub fn event(request: &Incoming<'_>, route: &Route, params: &BTreeMap<String, String>) -> Value {
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    let mut cookies: Vec<String> = Vec::new();
    for (name, value) in &request.headers {
        let name = name.to_ascii_lowercase();
        // Header bytes outside ASCII are passed on as text, never refused.
        let value = String::from_utf8_lossy(value).into_owned();
        if name == "cookie" {
            cookies.extend(value.split(';').map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()));
            continue;
        }
        headers.entry(name).and_modify(|v| *v = format!("{v},{value}")).or_insert(value);
    }
    let mut query: BTreeMap<String, String> = BTreeMap::new();
    for pair in request.query.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (Some(key), Some(value)) =
            (percent_decode(&key.replace('+', " ")), percent_decode(&value.replace('+', " ")))
        else {
            continue;
        };
        query.entry(key).and_modify(|v| *v = format!("{v},{value}")).or_insert(value);
    }
    let text = is_text(headers.get("content-type").map(String::as_str));
    let (body, base64) = match std::str::from_utf8(request.body) {
        _ if request.body.is_empty() => (Value::Null, false),
        Ok(body) if text => (Value::String(body.to_owned()), false),
        _ => (Value::String(STANDARD.encode(request.body)), true),
    };
    let now = time::OffsetDateTime::now_utc();
    let stamp = now
        .format(time::macros::format_description!("[day]/[month repr:short]/[year]:[hour]:[minute]:[second] +0000"))
        .unwrap_or_default();
    let route_key = format!("{} {}", route.method, route.path);
    let mut event = json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": request.path,
        "rawQueryString": request.query.unwrap_or_default(),
        "headers": headers,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": headers.get("host").cloned().unwrap_or_else(|| "localhost".into()),
            "domainPrefix": "local",
            "http": {
                "method": request.method,
                "path": request.path,
                "protocol": "HTTP/1.1",
                "sourceIp": request.source_ip,
                "userAgent": headers.get("user-agent").cloned().unwrap_or_default(),
            },
            "requestId": request.request_id,
            "routeKey": route_key,
            "stage": "$default",
            "time": stamp,
            "timeEpoch": now.unix_timestamp() * 1000 + i64::from(now.millisecond()),
        },
        "isBase64Encoded": base64,
    });
    if let Value::Object(map) = &mut event {
        if !cookies.is_empty() {
            map.insert("cookies".into(), json!(cookies));
        }
        if !query.is_empty() {
            map.insert("queryStringParameters".into(), json!(query));
        }
        if !params.is_empty() {
            map.insert("pathParameters".into(), json!(params));
        }
        if !body.is_null() {
            map.insert("body".into(), body);
        }
    }
    event
}

/// An HTTP answer, from a function's payload 2.0 response or made here.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// The function's answer as API Gateway would send it; `None` when it is not a valid payload
/// 2.0 response (API Gateway then answers 500).
pub fn answer(response: &[u8]) -> Option<Answer> {
    let response: Map<String, Value> = serde_json::from_slice(response).ok()?;
    let status = u16::try_from(response.get("statusCode")?.as_u64()?).ok()?;
    let mut headers = Vec::new();
    for (name, value) in response.get("headers").and_then(Value::as_object).into_iter().flatten() {
        headers.push((name.clone(), value.as_str()?.to_owned()));
    }
    for (name, values) in response.get("multiValueHeaders").and_then(Value::as_object).into_iter().flatten() {
        for value in values.as_array().into_iter().flatten() {
            if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
                headers.push((name.clone(), value.as_str()?.to_owned()));
            }
        }
    }
    for cookie in response.get("cookies").and_then(Value::as_array).into_iter().flatten() {
        headers.push(("set-cookie".into(), cookie.as_str()?.to_owned()));
    }
    let body = response.get("body").and_then(Value::as_str).unwrap_or_default();
    let body = if response.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) {
        STANDARD.decode(body).ok()?
    } else {
        body.as_bytes().to_vec()
    };
    Some(Answer { status, headers, body })
}

/// A problem+json answer made by the gateway itself (no function ran, or it failed).
pub fn problem(status: u16, code: &str, title: &str, detail: &str, request_id: &str) -> Answer {
    let body = json!({
        "type": format!("urn:storefront:problem:{code}"),
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "requestId": request_id,
    });
    let mut headers = vec![
        ("content-type".to_owned(), "application/problem+json".to_owned()),
        ("cache-control".to_owned(), "no-store".to_owned()),
        ("x-request-id".to_owned(), request_id.to_owned()),
    ];
    if status == 503 {
        headers.push(("retry-after".to_owned(), "1".to_owned()));
    }
    Answer { status, headers, body: body.to_string().into_bytes() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Vec<Route> {
        routes(include_str!("../../../Cargo.toml")).expect("the workspace router")
    }

    fn incoming<'a>(method: &'a str, path: &'a str, content_type: Option<&str>, body: &'a [u8]) -> Incoming<'a> {
        let mut headers = vec![("Host".to_owned(), b"127.0.0.1:9000".to_vec())];
        if let Some(ct) = content_type {
            headers.push(("Content-Type".to_owned(), ct.as_bytes().to_vec()));
        }
        Incoming { method, path, query: None, headers, body, source_ip: "127.0.0.1".into(), request_id: "r".into() }
    }

    #[test]
    fn routes_bind_path_parameters_and_prefer_nothing_unknown() {
        let routes = table();
        let (route, params) = find(&routes, "GET", "/products/01ABC").expect("a route");
        assert_eq!((route.function.as_str(), params["id"].as_str()), ("get-product", "01ABC"));
        let (route, _) = find(&routes, "POST", "/products/01ABC/stock").expect("a route");
        assert_eq!(route.function, "adjust-stock");
        assert!(find(&routes, "PUT", "/products/01ABC").is_none(), "an unknown method");
        assert!(find(&routes, "GET", "/nowhere").is_none(), "an unknown path");
        assert!(find(&routes, "GET", "/products/").is_none(), "an empty parameter");
    }

    #[test]
    fn a_body_that_is_not_text_reaches_the_function_base64_encoded() {
        let routes = table();
        let (route, params) = find(&routes, "POST", "/auth/login").expect("a route");
        let odd = incoming("POST", "/auth/login", Some("application/json"), b"\xff\xfe");
        let event = event(&odd, route, &params);
        assert_eq!((event["isBase64Encoded"].as_bool(), event["body"].as_str()), (Some(true), Some("//4=")));
        let json = incoming("POST", "/auth/login", Some("application/json; charset=utf-8"), b"{}");
        let event = super::event(&json, route, &params);
        assert_eq!((event["isBase64Encoded"].as_bool(), event["body"].as_str()), (Some(false), Some("{}")));
        assert_eq!(event["routeKey"], "POST /auth/login");
        assert_eq!(event["headers"]["content-type"], "application/json; charset=utf-8");
        let request: lambda_http::Request =
            lambda_http::request::from_str(&event.to_string()).expect("lambda_http takes the event");
        assert_eq!(request.uri().path(), "/auth/login");
    }

    #[test]
    fn queries_and_repeated_headers_are_joined_as_api_gateway_joins_them() {
        let routes = table();
        let (route, params) = find(&routes, "GET", "/products").expect("a route");
        let mut request = incoming("GET", "/products", None, b"");
        request.query = Some("q=wire%20mou&limit=3&q=x");
        request.headers.push(("x-a".into(), b"1".to_vec()));
        request.headers.push(("X-A".into(), b"2".to_vec()));
        request.headers.push(("x-odd".into(), b"caf\xe9".to_vec()));
        let event = event(&request, route, &params);
        assert_eq!(event["queryStringParameters"]["q"], "wire mou,x");
        assert_eq!(event["queryStringParameters"]["limit"], "3");
        assert_eq!(event["headers"]["x-a"], "1,2");
        assert_eq!(event["headers"]["x-odd"], "caf\u{fffd}");
        assert!(event.get("body").is_none());
    }

    #[test]
    fn a_function_answer_becomes_the_http_answer() {
        let body = br#"{"statusCode":201,"headers":{"content-type":"application/json"},"body":"{\"a\":1}","isBase64Encoded":false,"cookies":["s=1"]}"#;
        let answer = answer(body).expect("an answer");
        assert_eq!(answer.status, 201);
        assert_eq!(answer.body, br#"{"a":1}"#);
        assert!(answer.headers.contains(&("set-cookie".into(), "s=1".into())));
        assert!(super::answer(b"not json").is_none());
    }

    #[test]
    fn the_local_environment_names_the_table_and_the_database() {
        let env = environment(include_str!("../../../Cargo.toml")).expect("the workspace env");
        assert_eq!(env["TABLE_NAME"], "storefront");
        assert_eq!(env["AWS_ENDPOINT_URL_DYNAMODB"], "http://127.0.0.1:8000");
    }
}
