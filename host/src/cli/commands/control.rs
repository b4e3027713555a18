//! `control`: tells a running run to pause, resume, change its budgets or stop, through its
//! control item in the metadata table (see `drift_host::metadata::control`).

use anyhow::{bail, Result};
use drift_host::aws::connect;
use drift_host::metadata::{Control, MetadataTable};
use drift_host::model::error::EXIT_OK;
use drift_host::model::operation::Status;
use drift_host::run::Settings;

use super::super::args::{ControlAction, ControlArgs, OutputFormat};
use super::print_json;

/// `control`.
pub async fn control_command(args: ControlArgs) -> Result<u8> {
    if let ControlAction::Set {
        max_rcu: None,
        max_wcu: None,
        apply_concurrency: None,
    } = args.action
    {
        bail!("`control set` needs --max-rcu, --max-wcu or --apply-concurrency");
    }
    let settings = Settings::new(args.meta.given().over(&args.connection.given()), None);
    let client = connect(&settings.connection()).await?;
    let meta = MetadataTable::new(client, settings.meta_table(), settings.policy());
    let running = meta
        .list()
        .await?
        .into_iter()
        .filter(|record| record.status == Status::Running)
        .find(|record| match (&args.run, args.migration) {
            (Some(run), _) => &record.run_id == run,
            (None, Some(number)) => record.number == number,
            (None, None) => false,
        });
    let Some(record) = running else {
        match (&args.run, args.migration) {
            (Some(run), _) => bail!("no migration is running run {run} in `{}`", meta.name()),
            (_, number) => bail!(
                "migration {} is not running in `{}`",
                number.unwrap_or_default(),
                meta.name()
            ),
        }
    };
    let mut control = match meta.control(record.number).await? {
        Some(control) if control.run_id == record.run_id => control,
        _ => Control {
            run_id: record.run_id.clone(),
            ..Control::default()
        },
    };
    match &args.action {
        ControlAction::Pause => control.paused = true,
        ControlAction::Resume => control.paused = false,
        ControlAction::Stop => control.stop = true,
        ControlAction::Set {
            max_rcu,
            max_wcu,
            apply_concurrency,
        } => {
            control.max_rcu = max_rcu.or(control.max_rcu);
            control.max_wcu = max_wcu.or(control.max_wcu);
            control.apply_concurrency = apply_concurrency.or(control.apply_concurrency);
        }
    }
    meta.set_control(record.number, &control).await?;
    match args.output {
        OutputFormat::Json => print_json(
            &serde_json::json!({
                "migration": record.number,
                "name": record.name,
                "control": control,
            }),
            EXIT_OK,
        )?,
        OutputFormat::Text => eprintln!(
            "migration {} ({}), run {}: {}; the run obeys within a renewal of its lease",
            record.number,
            record.name,
            record.run_id,
            describe(&control)
        ),
    }
    Ok(EXIT_OK)
}

/// The control in a few words.
pub fn describe(control: &Control) -> String {
    let mut words = vec![if control.stop {
        "stopping".to_owned()
    } else if control.paused {
        "paused".to_owned()
    } else {
        "running".to_owned()
    }];
    if let Some(rcu) = control.max_rcu {
        words.push(format!("at most {rcu} RCU/s"));
    }
    if let Some(wcu) = control.max_wcu {
        words.push(format!("at most {wcu} WCU/s"));
    }
    if let Some(lanes) = control.apply_concurrency {
        words.push(format!("{lanes} apply lanes at once"));
    }
    words.join(", ")
}
