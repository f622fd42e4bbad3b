//! Guests' tokens: a cart's `cartToken` and a guest order's `orderToken`. Each is an
//! HMAC-SHA256 of what it names, under a key derived from `CURSOR_SECRET` for this purpose
//! only, so a token is checked in memory (no read), cannot be made for another cart or order,
//! and names exactly one.

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::domain::{GuestId, OrderId};

/// Makes and checks guests' tokens.
pub struct GuestTokens {
    key: hmac::Key,
}

impl GuestTokens {
    pub fn new(secret: &str) -> Self {
        let root = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
        let derived = hmac::sign(&root, b"storefront guest tokens v1");
        Self { key: hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref()) }
    }

    fn tag(&self, what: &str) -> String {
        URL_SAFE_NO_PAD.encode(hmac::sign(&self.key, what.as_bytes()))
    }

    fn matches(&self, what: &str, tag: &str) -> bool {
        URL_SAFE_NO_PAD.decode(tag).is_ok_and(|bytes| hmac::verify(&self.key, what.as_bytes(), &bytes).is_ok())
    }

    /// `<cartId>.<tag>`.
    pub fn cart_token(&self, cart: GuestId) -> String {
        format!("{cart}.{}", self.tag(&format!("cart:{cart}")))
    }

    /// The cart a `cartToken` names, if it is one this key made.
    pub fn cart(&self, token: &str) -> Option<GuestId> {
        let (id, tag) = token.trim().split_once('.')?;
        let cart = GuestId::parse(id)?;
        self.matches(&format!("cart:{cart}"), tag).then_some(cart)
    }

    pub fn order_token(&self, order: OrderId) -> String {
        self.tag(&format!("order:{order}"))
    }

    /// Whether `token` is the `orderToken` of `order`.
    pub fn opens_order(&self, order: OrderId, token: &str) -> bool {
        self.matches(&format!("order:{order}"), token.trim())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cart_token_names_its_cart_and_no_other() {
        let tokens = GuestTokens::new("a-secret-of-at-least-thirty-two-bytes!!");
        let cart = GuestId::new();
        let token = tokens.cart_token(cart);
        assert_eq!(tokens.cart(&token), Some(cart));
        let other = GuestId::new();
        let (_, tag) = token.split_once('.').unwrap();
        assert_eq!(tokens.cart(&format!("{other}.{tag}")), None, "a tag is for one cart");
        assert_eq!(tokens.cart(&token.replace('.', "")), None);
        assert_eq!(GuestTokens::new("another-secret-of-thirty-two-bytes!!!!").cart(&token), None);
    }

    #[test]
    fn an_order_token_opens_its_order_only() {
        let tokens = GuestTokens::new("a-secret-of-at-least-thirty-two-bytes!!");
        let (order, other) = (OrderId::new(), OrderId::new());
        let token = tokens.order_token(order);
        assert!(tokens.opens_order(order, &token));
        assert!(!tokens.opens_order(other, &token));
        assert!(!tokens.opens_order(order, "x"));
        // A cart token's tag is not an order token, even for the same id text.
        assert!(!tokens.opens_order(order, &tokens.tag(&format!("cart:{order}"))));
    }
}
