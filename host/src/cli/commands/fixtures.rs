//! The helpers around the runs: `load` (fixtures into a table) and `unlock`.

use anyhow::Result;
use aws_sdk_dynamodb::types::ScalarAttributeType;
use drift_host::aws::{connect, create_table, Billing};
use drift_host::load::load;
use drift_host::metadata::lock::unlock;
use drift_host::model::error::EXIT_OK;
use drift_host::model::key::KeyAttribute;
use drift_host::run::Settings;

use super::super::args::{LoadArgs, UnlockArgs};
use super::open_input;

/// `load`.
pub async fn load_command(args: LoadArgs) -> Result<u8> {
    let input = open_input(&args.input)?;
    let settings = Settings::new(args.connection.given(), None);
    let client = connect(&settings.connection()).await?;
    let policy = settings.policy();
    if let Some(hash) = &args.create_key {
        fn typed(k: &KeyAttribute) -> (&str, ScalarAttributeType) {
            (k.name.as_str(), ScalarAttributeType::from(k.kind.as_str()))
        }
        let range = args.create_sort_key.as_ref().map(typed);
        let hash = typed(hash);
        create_table(
            &client,
            &policy,
            &args.table,
            hash,
            range,
            Billing::OnDemand,
        )
        .await?;
    }
    let count = load(&client, &policy, &args.table, input).await?;
    eprintln!("loaded {count} items into `{}`", args.table);
    Ok(EXIT_OK)
}

/// `unlock`.
pub async fn unlock_command(args: UnlockArgs) -> Result<u8> {
    let settings = Settings::new(args.meta.given().over(&args.connection.given()), None);
    let client = connect(&settings.connection()).await?;
    let table = &settings.meta_table();
    match unlock(&client, &settings.policy(), table, args.force).await? {
        Some(holder) => eprintln!(
            "removed the lock of `{table}` held by {}",
            holder.describe()
        ),
        None => eprintln!("metadata table `{table}` is not locked"),
    }
    Ok(EXIT_OK)
}
