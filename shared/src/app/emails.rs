//! Customer emails: which events send one, and the message each becomes. The templates are
//! files of the repository (templates/emails/<event type>.j2, one per email, each with a
//! `subject`, a `text` and an `html` block), built into the function; the store's name, sender
//! and support address come from the stack's parameters; amounts are formatted in the store's
//! currency. The message is one RFC 5322 document (text and HTML alternatives), which SES sends
//! as it is, and which the local stack writes to a file.

use crate::config::EmailSettings;
use lettre::message::{Mailbox, MultiPart};
use serde::Serialize;
use serde_json::Value;

/// The templates, by the event type that sends them.
const TEMPLATES: &[(&str, &str)] = &[
    ("order.placed", include_str!("../../../templates/emails/order.placed.j2")),
    ("order.paid", include_str!("../../../templates/emails/order.paid.j2")),
    ("order.shipped", include_str!("../../../templates/emails/order.shipped.j2")),
    ("order.cancelled", include_str!("../../../templates/emails/order.cancelled.j2")),
    ("order.refunded", include_str!("../../../templates/emails/order.refunded.j2")),
    ("webhook.disabled", include_str!("../../../templates/emails/webhook.disabled.j2")),
    ("customer.verification_requested", include_str!("../../../templates/emails/customer.verification_requested.j2")),
    (
        "customer.password_reset_requested",
        include_str!("../../../templates/emails/customer.password_reset_requested.j2"),
    ),
];

/// The event types that send an email.
pub fn emailed(kind: &str) -> bool {
    TEMPLATES.iter().any(|(k, _)| *k == kind)
}

/// The field of an event's `data` naming the account it emails: the admin who registered a
/// disabled webhook endpoint, the account itself for an account email, otherwise the customer.
pub fn recipient_field(kind: &str) -> &'static str {
    if kind == "webhook.disabled" {
        "createdBy"
    } else if kind.starts_with("customer.") {
        "id"
    } else {
        "userId"
    }
}

/// The token an account email carries, in the clear (only ever in the email), and its lifetime.
#[derive(Debug, Clone, Copy)]
pub struct EmailedToken<'a> {
    pub value: &'a str,
    pub lifetime_seconds: i64,
}

/// Why an email could not be made.
#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    #[error("template {0}: {1}")]
    Template(String, String),
    #[error("address: {0}")]
    Address(String),
    #[error("message: {0}")]
    Message(String),
}

/// `cents` in `currency` as shoppers read it: `$12.34`, `€5.00`, `¥1200`, or `12.34 XYZ` for a
/// currency without a symbol of its own.
pub fn format_money(cents: i64, currency: &str) -> String {
    let known = iso_currency::Currency::from_code(currency);
    let exponent = u32::from(known.and_then(|c| c.exponent()).unwrap_or(2));
    let sign = if cents < 0 { "-" } else { "" };
    let units = cents.unsigned_abs();
    let amount = if exponent == 0 {
        units.to_string()
    } else {
        let scale = 10u64.pow(exponent);
        format!("{}.{:0width$}", units / scale, units % scale, width = exponent as usize)
    };
    match known.map(|c| c.symbol().symbol) {
        Some(symbol) if symbol != currency && !symbol.is_empty() => format!("{sign}{symbol}{amount}"),
        _ => format!("{sign}{amount} {currency}"),
    }
}

#[derive(Serialize)]
struct Line {
    quantity: i64,
    name: String,
    options: String,
    total: String,
}

#[derive(Serialize)]
struct OrderContext {
    number: String,
    placed_at: String,
    lines: Vec<Line>,
    subtotal: String,
    discount: Option<String>,
    discount_code: Option<String>,
    shipping_method: String,
    shipping: String,
    tax: String,
    total: String,
    address: Vec<String>,
    tracking_number: Option<String>,
    refund_due: bool,
    /// What its refunds give back, when any do.
    refunded: Option<String>,
}

#[derive(Serialize)]
struct RefundContext {
    amount: String,
    reason: Option<String>,
    lines: Vec<Line>,
}

/// The order an event is about: its `data`, or (a refund's, a return's) `data.order`.
pub fn order_of(envelope: &Value) -> &Value {
    let data = &envelope["data"];
    if data["order"].is_object() { &data["order"] } else { data }
}

/// What a template sees of a refund (`order.refunded`): its amount, reason, and lines named
/// as the order names them.
fn refund_context(refund: &Value, order: &Value) -> RefundContext {
    let currency = order["currency"].as_str().unwrap_or("USD");
    let lines = refund["lines"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|back| {
            let line = order["items"].as_array().into_iter().flatten().find(|l| l["variantId"] == back["variantId"]);
            let line = line.unwrap_or(&Value::Null);
            Line {
                quantity: back["quantity"].as_i64().unwrap_or(0),
                name: line["name"].as_str().unwrap_or_default().to_owned(),
                options: options(line),
                total: format_money(back["amountCents"].as_i64().unwrap_or(0), currency),
            }
        })
        .collect();
    RefundContext {
        amount: format_money(refund["amountCents"].as_i64().unwrap_or(0), currency),
        reason: refund["reason"].as_str().map(str::to_owned),
        lines,
    }
}

/// A line's options as `Size: M, Colour: Red` (empty without).
fn options(line: &Value) -> String {
    line["options"]
        .as_object()
        .map(|o| o.iter().map(|(k, v)| format!("{k}: {}", v.as_str().unwrap_or_default())).collect::<Vec<_>>())
        .unwrap_or_default()
        .join(", ")
}

/// What a template sees of an order (the event's `data`, as the API shows orders).
fn order_context(order: &Value) -> OrderContext {
    let currency = order["currency"].as_str().unwrap_or("USD");
    let money = |field: &str| format_money(order[field].as_i64().unwrap_or(0), currency);
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let lines = order["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| Line {
            quantity: l["quantity"].as_i64().unwrap_or(0),
            name: text(&l["name"]).unwrap_or_default(),
            options: options(l),
            total: format_money(l["lineTotalCents"].as_i64().unwrap_or(0), currency),
        })
        .collect();
    let address = &order["shippingAddress"];
    let city_line = [&address["postalCode"], &address["city"]].iter().filter_map(|v| v.as_str()).collect::<Vec<_>>();
    let address = [
        text(&address["name"]),
        text(&address["line1"]),
        text(&address["line2"]),
        Some(city_line.join(" ")),
        text(&address["region"]),
        text(&address["country"]),
    ]
    .into_iter()
    .flatten()
    .filter(|part| !part.is_empty())
    .collect();
    let placed_at = order["createdAt"]
        .as_str()
        .and_then(|at| time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339).ok())
        .and_then(|at| {
            at.format(time::macros::format_description!(
                "[day padding:none] [month repr:short] [year], [hour]:[minute] UTC"
            ))
            .ok()
        })
        .unwrap_or_default();
    let discount = order["discountCents"].as_i64().filter(|d| *d > 0).map(|d| format_money(d, currency));
    OrderContext {
        number: text(&order["id"]).unwrap_or_default(),
        placed_at,
        lines,
        subtotal: money("subtotalCents"),
        discount,
        discount_code: text(&order["discountCode"]),
        shipping_method: text(&order["shippingMethod"]).unwrap_or_default(),
        shipping: money("shippingCents"),
        tax: money("taxCents"),
        total: money("totalCents"),
        address,
        tracking_number: text(&order["trackingNumber"]),
        refund_due: order["refundDue"] == true,
        refunded: order["refundedCents"].as_i64().filter(|c| *c > 0).map(|c| format_money(c, currency)),
    }
}

/// An email's parts, rendered.
#[derive(Debug)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The email an event's template makes for a customer named `name`; `None` for an event type
/// that sends none.
pub fn render(
    settings: &EmailSettings,
    envelope: &Value,
    name: &str,
    token: Option<EmailedToken<'_>>,
) -> Result<Option<Rendered>, EmailError> {
    let kind = envelope["type"].as_str().unwrap_or_default();
    let Some((_, source)) = TEMPLATES.iter().find(|(k, _)| *k == kind) else { return Ok(None) };
    let mut env = minijinja::Environment::new();
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    env.add_template(kind, source).map_err(|e| EmailError::Template(kind.into(), e.to_string()))?;
    let template = env.get_template(kind).map_err(|e| EmailError::Template(kind.into(), e.to_string()))?;
    let context = minijinja::context! {
        store => minijinja::context! { name => settings.store_name.clone(), support => settings.support.clone() },
        customer => minijinja::context! { name => name },
        order => minijinja::Value::from_serialize(order_context(order_of(envelope))),
        refund => minijinja::Value::from_serialize(refund_context(&envelope["data"], order_of(envelope))),
        reason => envelope["data"]["reason"].as_str().unwrap_or_default(),
        webhook => minijinja::Value::from_serialize(&envelope["data"]),
        token => token.map(|t| minijinja::context! {
            value => t.value,
            minutes => t.lifetime_seconds / 60,
            hours => t.lifetime_seconds / 3600,
        }),
    };
    let failed = |e: minijinja::Error| EmailError::Template(kind.into(), e.to_string());
    let mut rendered = template.render_captured(context).map_err(failed)?;
    let mut block = |name: &str| rendered.with_state_mut(|state| state.render_block(name)).map_err(failed);
    let (subject, text, html) = (block("subject")?, block("text")?, block("html")?);
    Ok(Some(Rendered { subject: subject.trim().to_owned(), text: text.trim().to_owned() + "\n", html }))
}

/// The email an event sends a customer (`to`, named `name`), as an RFC 5322 message; `None`
/// for an event type that sends none. Its Message-ID is made of the event's id.
pub fn message(
    settings: &EmailSettings,
    envelope: &Value,
    to: &str,
    name: &str,
    token: Option<EmailedToken<'_>>,
) -> Result<Option<Vec<u8>>, EmailError> {
    let Some(Rendered { subject, text, html }) = render(settings, envelope, name, token)? else { return Ok(None) };
    let mailbox = |raw: &str| raw.parse::<Mailbox>().map_err(|e| EmailError::Address(format!("{raw}: {e}")));
    let from = Mailbox::new(Some(settings.store_name.clone()), mailbox(&settings.sender)?.email);
    let to = Mailbox::new(Some(name.to_owned()), mailbox(to)?.email);
    let id = envelope["id"].as_str().unwrap_or_default();
    let message = lettre::Message::builder()
        .from(from)
        .reply_to(mailbox(&settings.support)?)
        .to(to)
        .subject(subject)
        .message_id(Some(format!("<{id}@storefront>")))
        .multipart(MultiPart::alternative_plain_html(text, html))
        .map_err(|e| EmailError::Message(e.to_string()))?;
    Ok(Some(message.formatted()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_formatted_in_the_store_currency() {
        assert_eq!(format_money(1234, "USD"), "$12.34");
        assert_eq!(format_money(500, "EUR"), "€5.00");
        assert_eq!(format_money(1200, "JPY"), "¥1200");
        assert_eq!(format_money(5, "GBP"), "£0.05");
        assert_eq!(format_money(-250, "USD"), "-$2.50");
    }

    #[test]
    fn order_events_email_customers_and_a_disabled_webhook_its_admin() {
        assert!(emailed("order.placed") && emailed("order.cancelled") && emailed("webhook.disabled"));
        assert_eq!((recipient_field("order.paid"), recipient_field("webhook.disabled")), ("userId", "createdBy"));
        assert!(!emailed("order.delivered") && !emailed("product.created") && !emailed("inventory.low"));
    }

    #[test]
    fn every_template_renders_its_three_blocks_with_html_escaped() {
        let settings = EmailSettings {
            store_name: "Shop & Co".into(),
            sender: "orders@shop.example".into(),
            support: "help@shop.example".into(),
            directory: None,
        };
        let order = serde_json::json!({"id": "01KBGQ3M7V2X9C4D6F8H0J2K4M", "currency": "USD", "createdAt": "2026-12-03T10:15:00.000Z",
            "items": [{"name": "<b>Tee</b>", "quantity": 2, "lineTotalCents": 3800, "options": {"Size": "M"}}],
            "subtotalCents": 3800, "discountCents": 0, "shippingCents": 500, "taxCents": 0, "totalCents": 4300,
            "shippingMethod": "standard", "trackingNumber": "1Z999", "reason": "expired",
            "shippingAddress": {"name": "Ada", "line1": "1 Road", "city": "London", "postalCode": "N1", "country": "GB"}});
        for (kind, _) in TEMPLATES.iter().filter(|(k, _)| k.starts_with("order.")) {
            let envelope = serde_json::json!({"id": "01KBGQ3M7V2X9C4D6F8H0J2K4M", "type": kind, "data": order});
            let email = render(&settings, &envelope, "Ada", None).unwrap().unwrap();
            assert!(
                email.subject.contains("Shop & Co") && email.subject.contains("01KBGQ3M7V2X9C4D6F8H0J2K4M"),
                "{kind}"
            );
            assert!(email.text.contains("Hello Ada") && email.html.contains("Hello Ada"), "{kind}");
            assert!(email.text.contains("help@shop.example"), "{kind}: the support address");
            if email.text.contains("Tee") {
                assert!(email.text.contains("<b>Tee</b>"), "{kind}: plain text is as written");
                assert!(
                    email.html.contains("&lt;b&gt;Tee") && !email.html.contains("<b>Tee"),
                    "{kind}: HTML is escaped"
                );
            }
            let raw = message(&settings, &envelope, "ada@example.com", "Ada", None).unwrap().unwrap();
            let text = String::from_utf8_lossy(&raw);
            assert!(text.contains("Message-ID: <01KBGQ3M7V2X9C4D6F8H0J2K4M@storefront>"), "{kind}: {text}");
            assert!(text.contains("multipart/alternative"), "{kind}");
        }
    }

    #[test]
    fn a_refund_email_names_its_amount_units_and_what_the_order_has_had_back() {
        let settings = EmailSettings::default();
        let order = serde_json::json!({"id": "01KBGQ3M7V2X9C4D6F8H0J2K4M", "currency": "USD", "totalCents": 5445,
            "refundedCents": 4500, "items": [{"variantId": "V-1", "name": "Mug", "quantity": 2, "lineTotalCents": 5000}]});
        let refund = serde_json::json!({"amountCents": 2250, "reason": "Arrived damaged", "order": order,
            "lines": [{"variantId": "V-1", "quantity": 1, "amountCents": 2250}]});
        let envelope =
            serde_json::json!({"id": "01KBGQ3M7V2X9C4D6F8H0J2K4N", "type": "order.refunded", "data": refund});
        let email = render(&settings, &envelope, "Ada", None).unwrap().unwrap();
        assert_eq!(email.subject, "$22.50 refunded for your storefront order 01KBGQ3M7V2X9C4D6F8H0J2K4M");
        for part in ["(Arrived damaged)", "1 × Mug", "$22.50", "In all, $45.00 of this order's $54.45"] {
            assert!(email.text.contains(part), "{part}: {}", email.text);
        }
    }

    #[test]
    fn account_emails_carry_their_token_and_its_lifetime() {
        let settings = EmailSettings {
            store_name: "Shop & Co".into(),
            sender: "orders@shop.example".into(),
            support: "help@shop.example".into(),
            directory: None,
        };
        for (kind, lifetime, says) in [
            ("customer.verification_requested", 24 * 3600, "24 hours"),
            ("customer.password_reset_requested", 1800, "30 minutes"),
        ] {
            let envelope = serde_json::json!({"id": "01KBGQ3M7V2X9C4D6F8H0J2K4P", "type": kind,
                "data": {"id": "01KBGQ3M7V2X9C4D6F8H0J2K4N", "email": "ada@example.com"}});
            let token = EmailedToken { value: "tok_abc-123", lifetime_seconds: lifetime };
            let email = render(&settings, &envelope, "Ada", Some(token)).unwrap().unwrap();
            assert!(email.text.contains("tok_abc-123") && email.html.contains("tok_abc-123"), "{kind}");
            assert!(email.text.contains(says), "{kind}: {}", email.text);
            assert!(email.subject.contains("Shop & Co"), "{kind}");
        }
        assert_eq!(recipient_field("customer.password_reset_requested"), "id");
    }

    #[test]
    fn the_disabled_webhook_email_names_the_endpoint_and_how_to_switch_it_back_on() {
        let settings = EmailSettings {
            store_name: "Shop & Co".into(),
            sender: "orders@shop.example".into(),
            support: "help@shop.example".into(),
            directory: None,
        };
        let data = serde_json::json!({"id": "01KBGQ3M7V2X9C4D6F8H0J2K4M", "url": "https://erp.example.com/h?a=1&b=<2>",
            "events": ["*"], "enabled": false, "failingSince": "2026-12-02T10:00:00.000Z", "createdBy": "01KBGQ3M7V2X9C4D6F8H0J2K4N"});
        let envelope =
            serde_json::json!({"id": "01KBGQ3M7V2X9C4D6F8H0J2K4P", "type": "webhook.disabled", "data": data});
        let email = render(&settings, &envelope, "Grace", None).unwrap().unwrap();
        assert!(email.subject.contains("Shop & Co") && email.subject.contains("disabled"), "{}", email.subject);
        assert!(email.text.contains("Hello Grace") && email.text.contains("https://erp.example.com/h?a=1&b=<2>"));
        assert!(email.text.contains("since 2026-12-02T10:00:00.000Z"));
        assert!(email.text.contains(r#"PATCH /admin/webhooks/01KBGQ3M7V2X9C4D6F8H0J2K4M {"enabled": true}"#));
        assert!(email.html.contains("b=&lt;2&gt;") && !email.html.contains("b=<2>"), "HTML is escaped");
    }
}
