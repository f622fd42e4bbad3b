//! Discount codes (admins).

use super::{App, AppError};
use crate::domain::{Discount, DiscountCode};

pub async fn create(app: &App, discount: Discount) -> Result<Discount, AppError> {
    if app.store.insert_discount(&discount).await? { Ok(discount) } else { Err(AppError::DiscountCodeTaken) }
}

pub async fn list(app: &App) -> Result<Vec<Discount>, AppError> {
    Ok(app.store.discounts().await?)
}

pub async fn set_active(app: &App, code: &DiscountCode, active: bool) -> Result<Discount, AppError> {
    app.store.set_discount_active(code, active).await?.ok_or(AppError::NotFound(crate::app::Resource::Discount))
}
