//! Request bodies: size, media type, JSON syntax, then each field, reporting every problem at once.

use super::ApiError;
use super::problem::Kind;
use crate::app::FieldError;
use crate::domain::Invalid;
use lambda_http::{Body, Request};
use serde_json::{Map, Value};

pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A JSON object body being taken apart field by field. Each field is taken at most once;
/// whatever is left at [`finish`](Self::finish) is an unknown field and refused, so a client
/// can never set a field the operation does not expect (no mass assignment).
pub struct JsonBody {
    fields: Map<String, Value>,
    errors: Vec<FieldError>,
    prefix: String,
}

fn is_json_media_type(value: &str) -> bool {
    let media = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    media == "application/json" || (media.starts_with("application/") && media.ends_with("+json"))
}

impl JsonBody {
    /// Checks size (413), media type (415) and syntax (400); the body must be a JSON object (422).
    pub fn parse(req: &Request) -> Result<Self, ApiError> {
        let bytes: &[u8] = match req.body() {
            Body::Empty => &[],
            Body::Text(text) => text.as_bytes(),
            Body::Binary(bytes) => bytes,
            _ => &[],
        };
        if bytes.len() > MAX_BODY_BYTES {
            return Err(ApiError::of(
                Kind::PayloadTooLarge,
                format!("The body must be at most {MAX_BODY_BYTES} bytes."),
            ));
        }
        let content_type = req.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
        if !is_json_media_type(content_type) {
            return Err(ApiError::of(Kind::UnsupportedMediaType, "Send the body as application/json."));
        }
        let value: Value = serde_json::from_slice(bytes).map_err(|e| {
            ApiError::malformed_json(format!("The body is not valid JSON (line {}, column {}).", e.line(), e.column()))
        })?;
        match value {
            Value::Object(fields) => Ok(Self { fields, errors: Vec::new(), prefix: String::new() }),
            _ => Err(ApiError::validation(vec![FieldError::new("", "the body must be a JSON object")])),
        }
    }

    fn path(&self, field: &str) -> String {
        format!("{}{field}", self.prefix)
    }

    fn error(&mut self, field: &str, message: impl Into<String>) {
        let path = self.path(field);
        self.errors.push(FieldError::new(path, message));
    }

    /// Takes a field out, whatever its type. `None` if absent.
    pub fn take(&mut self, field: &str) -> Option<Value> {
        self.fields.remove(field)
    }

    /// A required string field, parsed by `parse`.
    pub fn string<T>(&mut self, field: &str, parse: impl FnOnce(&str) -> Result<T, Invalid>) -> Option<T> {
        match self.take(field) {
            None => {
                self.error(field, "is required");
                None
            }
            Some(value) => self.parse_string(field, value, parse),
        }
    }

    /// An optional string field: absent gives `None`; `null` is refused (omit the field instead).
    pub fn optional_string<T>(&mut self, field: &str, parse: impl FnOnce(&str) -> Result<T, Invalid>) -> Option<T> {
        let value = self.take(field)?;
        self.parse_string(field, value, parse)
    }

    fn parse_string<T>(
        &mut self,
        field: &str,
        value: Value,
        parse: impl FnOnce(&str) -> Result<T, Invalid>,
    ) -> Option<T> {
        match value {
            Value::String(raw) => parse(&raw).map_err(|e| self.error(field, e.0)).ok(),
            _ => {
                self.error(field, "must be a string");
                None
            }
        }
    }

    /// A required integer field (a JSON number without a fraction), parsed by `parse`.
    pub fn integer<T>(&mut self, field: &str, parse: impl FnOnce(i64) -> Result<T, Invalid>) -> Option<T> {
        match self.take(field) {
            None => {
                self.error(field, "is required");
                None
            }
            Some(value) => self.parse_integer(field, value, parse),
        }
    }

    /// An optional integer field; `null` is refused.
    pub fn optional_integer<T>(&mut self, field: &str, parse: impl FnOnce(i64) -> Result<T, Invalid>) -> Option<T> {
        let value = self.take(field)?;
        self.parse_integer(field, value, parse)
    }

    fn parse_integer<T>(
        &mut self,
        field: &str,
        value: Value,
        parse: impl FnOnce(i64) -> Result<T, Invalid>,
    ) -> Option<T> {
        match value.as_i64() {
            Some(number) => parse(number).map_err(|e| self.error(field, e.0)).ok(),
            None => {
                self.error(field, "must be an integer");
                None
            }
        }
    }

    /// An optional boolean field; `null` is refused.
    pub fn optional_bool(&mut self, field: &str) -> Option<bool> {
        match self.take(field)? {
            Value::Bool(b) => Some(b),
            _ => {
                self.error(field, "must be true or false");
                None
            }
        }
    }

    /// A nullable object field: absent → `None`, `null` → `Some(None)`, an object → parsed by
    /// `parse`, which reads it as a nested [`JsonBody`] (its errors are reported with this
    /// field's name as a prefix).
    pub fn nullable_object<T>(
        &mut self,
        field: &str,
        parse: impl FnOnce(&mut JsonBody) -> Option<T>,
    ) -> Option<Option<T>> {
        match self.take(field)? {
            Value::Null => Some(None),
            Value::Object(fields) => {
                let mut nested = JsonBody { fields, errors: Vec::new(), prefix: format!("{}.", self.path(field)) };
                let parsed = parse(&mut nested);
                nested.unknown_fields();
                let ok = nested.errors.is_empty();
                self.errors.append(&mut nested.errors);
                if ok { parsed.map(Some) } else { None }
            }
            _ => {
                self.error(field, "must be an object or null");
                None
            }
        }
    }

    /// An optional array of objects (absent → `None`), each read as a nested [`JsonBody`] by
    /// `parse` (its errors are reported as `field[i].name`). `None` too when any is invalid
    /// (the errors say why).
    pub fn optional_objects<T>(
        &mut self,
        field: &str,
        max: usize,
        parse: impl Fn(&mut JsonBody) -> Option<T>,
    ) -> Option<Vec<T>> {
        let items = match self.take(field)? {
            Value::Array(items) if items.len() <= max => items,
            Value::Array(_) => {
                self.error(field, format!("must have at most {max} items"));
                return None;
            }
            _ => {
                self.error(field, "must be an array of objects");
                return None;
            }
        };
        let mut parsed = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, item) in items.into_iter().enumerate() {
            let Value::Object(fields) = item else {
                self.error(&format!("{field}[{i}]"), "must be an object");
                ok = false;
                continue;
            };
            let mut nested = JsonBody { fields, errors: Vec::new(), prefix: format!("{}[{i}].", self.path(field)) };
            let value = parse(&mut nested);
            nested.unknown_fields();
            ok &= nested.errors.is_empty() && value.is_some();
            self.errors.append(&mut nested.errors);
            parsed.extend(value);
        }
        ok.then_some(parsed)
    }

    /// An optional field read by `parse` from its JSON value (for shapes no other reader takes).
    pub fn optional_value<T>(&mut self, field: &str, parse: impl FnOnce(Value) -> Result<T, Invalid>) -> Option<T> {
        let value = self.take(field)?;
        parse(value).map_err(|e| self.error(field, e.0)).ok()
    }

    /// Whether the body has `field` (still untaken).
    pub fn has(&self, field: &str) -> bool {
        self.fields.contains_key(field)
    }

    /// Whether an error was already recorded for `field` (or inside it).
    pub fn has_errors_for(&self, field: &str) -> bool {
        let path = self.path(field);
        self.errors.iter().any(|e| e.field == path || e.field.starts_with(&format!("{path}.")))
    }

    /// Records an error found while combining fields (e.g. by a domain constructor).
    pub fn invalid(&mut self, field: &str, invalid: Invalid) {
        self.error(field, invalid.0);
    }

    /// The raw text of a string field, left in place (for parsers that take several fields).
    pub fn peek_str(&self, field: &str) -> Option<&str> {
        self.fields.get(field).and_then(Value::as_str)
    }

    fn unknown_fields(&mut self) {
        let mut unknown: Vec<String> = self.fields.keys().cloned().collect();
        unknown.sort();
        for field in unknown {
            self.error(&field, "is not a known field");
        }
        self.fields.clear();
    }

    /// Ends parsing: any field not taken is unknown. All errors so far → 422 `validation_failed`;
    /// otherwise the parsed values, all present.
    pub fn finish<T: AllSome>(mut self, values: T) -> Result<T::Values, ApiError> {
        self.unknown_fields();
        if !self.errors.is_empty() {
            return Err(ApiError::validation(self.errors));
        }
        values.all_some().ok_or_else(|| ApiError::internal("a required field was missing without an error"))
    }
}

/// A tuple of `Option`s that is complete when every one is `Some`.
pub trait AllSome {
    type Values;
    fn all_some(self) -> Option<Self::Values>;
}

macro_rules! all_some {
    ($($t:ident),*) => {
        impl<$($t),*> AllSome for ($(Option<$t>,)*) {
            type Values = ($($t,)*);
            #[allow(non_snake_case)]
            fn all_some(self) -> Option<Self::Values> {
                let ($($t,)*) = self;
                Some(($($t?,)*))
            }
        }
    };
}
all_some!();
all_some!(A);
all_some!(A, B);
all_some!(A, B, C);
all_some!(A, B, C, D);
all_some!(A, B, C, D, E);
all_some!(A, B, C, D, E, F);
all_some!(A, B, C, D, E, F, G);
all_some!(A, B, C, D, E, F, G, H);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Email;

    fn request(content_type: &str, body: &str) -> Request {
        lambda_http::http::Request::builder()
            .method("POST")
            .header("content-type", content_type)
            .body(Body::Text(body.to_owned()))
            .unwrap()
    }

    #[test]
    fn refuses_bodies_over_64_kib_before_parsing() {
        let big = format!("{{\"x\":\"{}\"}}", "a".repeat(MAX_BODY_BYTES));
        assert_eq!(JsonBody::parse(&request("application/json", &big)).err().unwrap().status, 413);
    }

    #[test]
    fn refuses_other_media_types() {
        assert_eq!(JsonBody::parse(&request("text/plain", "{}")).err().unwrap().status, 415);
        assert!(JsonBody::parse(&request("application/json; charset=utf-8", "{}")).is_ok());
        assert!(JsonBody::parse(&request("Application/Problem+JSON", "{}")).is_ok());
    }

    #[test]
    fn malformed_json_is_a_400_and_a_non_object_a_422() {
        assert_eq!(JsonBody::parse(&request("application/json", "{\"a\":")).err().unwrap().code, "malformed_json");
        assert_eq!(JsonBody::parse(&request("application/json", "")).err().unwrap().code, "malformed_json");
        assert_eq!(JsonBody::parse(&request("application/json", "[1]")).err().unwrap().status, 422);
    }

    #[test]
    fn reports_every_bad_missing_and_unknown_field() {
        let mut body =
            JsonBody::parse(&request("application/json", r#"{"email": 3, "role": "admin", "id": "x"}"#)).unwrap();
        let email = body.string("email", Email::parse);
        let name = body.string("name", |s| Ok(s.to_owned()));
        let err = body.finish((email, name)).unwrap_err();
        let fields: Vec<_> = err.errors.iter().map(|e| (e.field.as_str(), e.message.as_str())).collect();
        assert_eq!(
            fields,
            [
                ("email", "must be a string"),
                ("name", "is required"),
                ("id", "is not a known field"),
                ("role", "is not a known field")
            ]
        );
    }
}
