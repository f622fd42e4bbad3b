//! `storefront-admin`: operator commands against a storefront table.
//!
//! It reads the same environment as the functions (`TABLE_NAME`, AWS credentials and region,
//! `AWS_ENDPOINT_URL_DYNAMODB` for a local table) and needs no JWT key.
//!
//! ```text
//! storefront-admin grant-admin EMAIL
//! storefront-admin migrate
//! ```

use std::process::ExitCode;
use storefront::app::{App, accounts};
use storefront::clock::Clock;
use storefront::config::{Config, KeySource};
use storefront::domain::Email;
use storefront::store::Store;

const USAGE: &str = "usage: storefront-admin grant-admin EMAIL | migrate\n\n\
  grant-admin EMAIL   make the account with this email an admin (admin routes read the role as stored: at once)\n\
  migrate             upgrade a table written before products had variants, in place (safe to run again;\n\
                      a stopped run resumes where it stopped)\n\n\
  Environment: TABLE_NAME (required), AWS credentials and region as for the AWS CLI,\n\
  AWS_ENDPOINT_URL_DYNAMODB to use a local table.";

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["grant-admin", email] => grant_admin(email).await,
        ["migrate"] => migrate().await,
        ["-h" | "--help" | "help"] => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(message) => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

/// The app on `TABLE_NAME`. These commands touch neither tokens nor cursors.
async fn app() -> Result<App, String> {
    let table = std::env::var("TABLE_NAME").map_err(|_| "TABLE_NAME is not set".to_owned())?;
    let http = storefront::app::http_client().map_err(|e| format!("TLS set-up: {e}"))?;
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(http).load().await;
    let store = Store::new(aws_sdk_dynamodb::Client::new(&sdk), table.clone());
    let config = Config::new(table, KeySource::File("unused".into()), "");
    Ok(App::new(config, store, Clock::system(), Some(sdk)))
}

async fn migrate() -> Result<String, String> {
    let app = app().await?;
    let report =
        storefront::app::migrate::run(&app, |line| println!("{line}")).await.map_err(|e| format!("failed: {e}"))?;
    Ok(format!("done: {} products migrated; the table is up to date", report.migrated))
}

async fn grant_admin(email: &str) -> Result<String, String> {
    let email = Email::parse(email).map_err(|e| format!("EMAIL {e}"))?;
    let app = app().await?;
    match accounts::grant_admin(&app, &email).await {
        Ok(Some(user)) => Ok(format!("{} ({}) is now an admin", user.email, user.id)),
        Ok(None) => Err(format!("no account has the email {email}")),
        Err(err) => Err(format!("failed: {err}")),
    }
}
