//! `storefront-admin migrate` (and `make run` on old local data): upgrades a table written
//! before products had variants, in place. Idempotent (a migrated product is left alone) and
//! resumable (each product is one transaction; a stopped run is simply run again).

use super::{App, AppError};
use crate::store::Migrated;

/// Products read per page.
const PAGE: i32 = 100;
/// Passes over the catalog: a product that changed while it was migrated is met again on the
/// next pass.
const MAX_PASSES: usize = 5;

/// What a migration did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct MigrationReport {
    pub migrated: usize,
}

/// Whether the table holds products in the old shape (reads until it finds one).
pub async fn needed(app: &App) -> Result<bool, AppError> {
    let mut after = None;
    loop {
        let (items, next) = app.store.legacy_products(after.as_ref(), PAGE).await?;
        if !items.is_empty() {
            return Ok(true);
        }
        match next {
            Some(next) => after = Some(next),
            None => return Ok(false),
        }
    }
}

/// Migrates every product in the old shape, telling `progress` how far it got.
pub async fn run(app: &App, progress: impl Fn(&str)) -> Result<MigrationReport, AppError> {
    let mut report = MigrationReport::default();
    for pass in 0..MAX_PASSES {
        // Read each pass: orders placed or cancelled meanwhile move the units (only of
        // products already migrated: the others cannot be ordered until they are).
        let reserved = app.store.open_order_units().await?;
        let mut after = None;
        let mut skipped = 0;
        loop {
            let (items, next) = app.store.legacy_products(after.as_ref(), PAGE).await?;
            for item in items {
                let variant = crate::store::legacy_variant(&item);
                let units = variant.and_then(|v| reserved.get(&v).copied()).unwrap_or(0);
                match app.store.migrate_product(item, units, app.clock.now()).await? {
                    Migrated::Done => report.migrated += 1,
                    Migrated::Skipped => skipped += 1,
                }
            }
            progress(&format!("migrated {} products", report.migrated));
            match next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        if skipped == 0 {
            return Ok(report);
        }
        progress(&format!("pass {}: {skipped} products changed while migrating; going over them again", pass + 1));
    }
    Err(AppError::Unavailable("products kept changing during the migration; run it again".into()))
}
