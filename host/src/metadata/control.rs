//! Control of a running run (`drift-host control`): pause, resume, change its budgets, stop.
//!
//! The control is one item per migration (`control#<number>`) naming the run it is for; the
//! command writes it in one transaction with a check that the migration's record is
//! `running` with that run, so a control never lands on a run that ended or on the next
//! one. The run reads it at every renewal of its lease and obeys: a paused run sends no
//! request to the migrated tables but keeps renewing its lease; a stop ends it cleanly and
//! resumable, as a Ctrl-C would.

use anyhow::{anyhow, bail, Result};
use aws_sdk_dynamodb::types::{ConditionCheck, Put, TransactWriteItem};
use serde::Serialize;

use super::{MetadataTable, MigrationRecord, KEY};
use crate::aws::convert::{from_aws_item, to_aws_item};
use crate::aws::retry::error_code;
use crate::model::item::{Item, Value};
use crate::model::now;

/// What a run is told to do.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Control {
    /// The run it is for.
    pub run_id: String,
    /// Hold every request to the migrated tables.
    pub paused: bool,
    /// End cleanly (resumable).
    pub stop: bool,
    /// Read budget, units per second (`None`: as the run was started).
    pub max_rcu: Option<f64>,
    /// Write budget, units per second.
    pub max_wcu: Option<f64>,
    /// Apply lanes writing at once (`None`: as the run was started).
    pub apply_concurrency: Option<u64>,
    /// When it was last written (RFC 3339).
    pub updated_at: String,
}

impl Control {
    /// The item's key for migration `number`.
    pub fn id(number: u64) -> String {
        format!("control#{number:020}")
    }

    fn to_item(&self, number: u64) -> Item {
        let mut item = Item::new()
            .with(KEY, Control::id(number))
            .with("run_id", self.run_id.as_str())
            .with("paused", Value::Bool(self.paused))
            .with("stop", Value::Bool(self.stop))
            .with("updated_at", self.updated_at.as_str());
        for (name, limit) in [("max_rcu", self.max_rcu), ("max_wcu", self.max_wcu)] {
            if let Some(limit) = limit {
                item.set(name, Value::N(limit.to_string()));
            }
        }
        if let Some(lanes) = self.apply_concurrency {
            item.set("apply_concurrency", Value::N(lanes.to_string()));
        }
        item
    }

    fn from_item(item: &Item) -> Option<Control> {
        let flag = |name: &str| item.get(name).and_then(Value::as_bool).unwrap_or(false);
        let limit = |name: &str| item.get(name).and_then(Value::as_f64);
        Some(Control {
            run_id: item.get_str("run_id")?.to_owned(),
            paused: flag("paused"),
            stop: flag("stop"),
            max_rcu: limit("max_rcu"),
            max_wcu: limit("max_wcu"),
            apply_concurrency: item
                .get("apply_concurrency")
                .and_then(Value::as_i64)
                .map(|n| n as u64),
            updated_at: item.get_str("updated_at").unwrap_or_default().to_owned(),
        })
    }
}

impl MetadataTable {
    /// The control of migration `number`'s runs, if one was written.
    pub async fn control(&self, number: u64) -> Result<Option<Control>> {
        let key = Item::new().with(KEY, Control::id(number));
        let output = self
            .policy()
            .run(|| {
                self.client()
                    .get_item()
                    .table_name(self.name())
                    .set_key(Some(to_aws_item(&key)))
                    .consistent_read(true)
                    .send()
            })
            .await
            .map_err(|e| {
                anyhow!(
                    "cannot read the control of migration {number}: {}",
                    error_code(&e)
                )
            })?;
        Ok(output
            .item
            .and_then(|item| Control::from_item(&from_aws_item(&item).ok()?)))
    }

    /// Writes `control` for migration `number`, only while its record is `running` with the
    /// control's run.
    pub async fn set_control(&self, number: u64, control: &Control) -> Result<()> {
        let control = Control {
            updated_at: now(),
            ..control.clone()
        };
        let put = Put::builder()
            .table_name(self.name())
            .set_item(Some(to_aws_item(&control.to_item(number))))
            .build()?;
        let check = ConditionCheck::builder()
            .table_name(self.name())
            .key(
                KEY,
                aws_sdk_dynamodb::types::AttributeValue::S(MigrationRecord::id(number)),
            )
            .condition_expression("#status = :running AND #run = :run")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#run", "run_id")
            .expression_attribute_values(
                ":running",
                aws_sdk_dynamodb::types::AttributeValue::S("running".into()),
            )
            .expression_attribute_values(
                ":run",
                aws_sdk_dynamodb::types::AttributeValue::S(control.run_id.clone()),
            )
            .build()?;
        let items = vec![
            TransactWriteItem::builder().put(put).build(),
            TransactWriteItem::builder().condition_check(check).build(),
        ];
        let sent = self
            .policy()
            .run(|| {
                self.client()
                    .transact_write_items()
                    .set_transact_items(Some(items.clone()))
                    .send()
            })
            .await;
        match sent {
            Ok(_) => Ok(()),
            Err(error) if crate::aws::write::cancellation_reasons(&error).is_some() => bail!(
                "migration {number} has no running run {} any more (it ended, or another run \
                 took over)",
                control.run_id
            ),
            Err(error) => bail!(
                "cannot write the control of migration {number}: {}",
                error_code(&error)
            ),
        }
    }
}
