//! The address book: up to 20 saved addresses per customer, one of them the default shipping
//! address the profile shows. Every change is decided from the book as read and written on its
//! version, so concurrent changes never lose one another.

use super::sessions::Verified;
use super::{App, AppError, FieldError, Resource};
use crate::domain::{Address, AddressBook, AddressEdit, AddressEntry, AddressId, PersonName, User, UserId};

async fn book(app: &App, user: UserId) -> Result<(AddressBook, i64), AppError> {
    app.store.address_book(user).await?.ok_or(AppError::Unauthenticated)
}

/// Changes the caller's book with `change`, re-reading and deciding again if another change got
/// in first. Returns the user as stored after it and what `change` returned.
async fn change<T>(
    app: &App,
    user: UserId,
    name: Option<&PersonName>,
    change: impl Fn(&mut AddressBook) -> Result<T, AppError>,
) -> Result<(User, T), AppError> {
    for _ in 0..super::MAX_DECISIONS {
        let (mut book, version) = book(app, user).await?;
        let outcome = change(&mut book)?;
        if let Some(user) = app.store.save_address_book(user, &book, version, name, app.clock.now()).await? {
            return Ok((user, outcome));
        }
    }
    Err(AppError::Unavailable("the address book kept changing".into()))
}

fn full() -> AppError {
    AppError::AddressBookFull
}

/// `GET /me/addresses`: in the order they were added.
pub async fn list(app: &App, verified: &Verified) -> Result<Vec<AddressEntry>, AppError> {
    Ok(book(app, verified.principal.user_id).await?.0.entries)
}

/// `POST /me/addresses`.
pub async fn add(app: &App, verified: &Verified, address: Address, default: bool) -> Result<AddressEntry, AppError> {
    let id = AddressId::new();
    let (_, entry) = change(app, verified.principal.user_id, None, |book| {
        book.add(id, address.clone(), default).map_err(|_| full())?;
        Ok(book.get(id).cloned())
    })
    .await?;
    entry.ok_or_else(|| AppError::Internal("an added address is not in the book".into()))
}

/// `PATCH /me/addresses/{id}`: the fields given (raw text by JSON name; blank removes an optional
/// one) replace the entry's, and the result must be a valid address; `default_shipping` as given.
pub async fn edit(
    app: &App,
    verified: &Verified,
    id: AddressId,
    fields: &std::collections::HashMap<&str, String>,
    default_shipping: Option<bool>,
) -> Result<AddressEntry, AppError> {
    let (_, entry) = change(app, verified.principal.user_id, None, |book| {
        let existing = book.get(id).ok_or(AppError::NotFound(Resource::Address))?;
        let address = if fields.is_empty() {
            None
        } else {
            let merged = Address::parse(|f| fields.get(f).map(String::as_str).or_else(|| existing.address.field(f)));
            Some(merged.map_err(|errors| {
                AppError::Validation(errors.into_iter().map(|(f, e)| FieldError::new(f, e.0)).collect())
            })?)
        };
        book.edit(id, AddressEdit { address, default_shipping });
        Ok(book.get(id).cloned())
    })
    .await?;
    entry.ok_or(AppError::NotFound(Resource::Address))
}

/// `DELETE /me/addresses/{id}`.
pub async fn remove(app: &App, verified: &Verified, id: AddressId) -> Result<(), AppError> {
    change(app, verified.principal.user_id, None, |book| {
        if book.remove(id) { Ok(()) } else { Err(AppError::NotFound(Resource::Address)) }
    })
    .await?;
    Ok(())
}

/// `PATCH /me` with `defaultShippingAddress` (and maybe `name`): that address the default (a
/// saved one equal to it, else a new entry), or (with `None`) no default.
pub async fn set_default(
    app: &App,
    verified: &Verified,
    address: Option<Address>,
    name: Option<&PersonName>,
) -> Result<User, AppError> {
    let id = AddressId::new();
    let (user, ()) =
        change(app, verified.principal.user_id, name, |book| book.set_default(id, address.clone()).map_err(|_| full()))
            .await?;
    Ok(user)
}

/// The saved address a checkout names by `shippingAddressId` (422 if it is not one of the
/// caller's).
pub async fn resolve(app: &App, user: UserId, id: AddressId) -> Result<Address, AppError> {
    let (book, _) = book(app, user).await?;
    book.get(id).map(|e| e.address.clone()).ok_or_else(|| {
        AppError::Validation(vec![FieldError::new("shippingAddressId", "is not one of your saved addresses")])
    })
}
