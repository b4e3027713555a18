//! The lease lock of a metadata table: at most one `run`/`undo` at a time per metadata table.
//!
//! The lock is an item (`id = "lock"`) in the metadata table, taken with a conditional write
//! that succeeds only if there is no lock or its lease has expired (its holder died). The
//! holder renews the lease while it runs (heartbeat) and deletes the lock at the end. Every
//! metadata write of the holder is fenced: it is a transaction that also checks that the lock
//! is still its own, so a run that lost its lease (paused, partitioned) cannot overwrite the
//! record of the run that took over.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Result};
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::delete_item::{DeleteItemError, DeleteItemOutput};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use serde::Serialize;

use crate::aws::convert::from_aws_item;
use crate::aws::retry::{error_code, is_conditional_check_failed, RetryPolicy};
use crate::model::error::refused;
use crate::model::item::{Item, Value};
use crate::model::now;
use crate::model::stop::{Stop, StopReason};

/// The lock item's key in the metadata table.
pub const LOCK_ID: &str = "lock";

/// Who holds a lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LockHolder {
    /// The holder's run id.
    pub owner: String,
    /// What it is doing, e.g. `migrate users_v2 #2`.
    pub purpose: String,
    /// Host name and process id.
    pub host: String,
    /// When it took the lock (RFC 3339).
    pub acquired_at: String,
    /// When the lease ends unless renewed (Unix seconds).
    pub expires_at: u64,
    /// The run of several workers it is held for (`--workers`), which each of them joins.
    pub group: Option<String>,
}

impl LockHolder {
    /// Whether the lease has run out: the holder stopped renewing it.
    pub fn expired(&self) -> bool {
        self.expires_at < unix_now()
    }

    /// Whether the holder ran on this host and its process is gone (or is another program
    /// now): then it is dead for sure, whatever its lease says. A holder on another host
    /// cannot be seen from here.
    pub fn is_gone_from_this_host(&self) -> bool {
        process_gone(&self.host)
    }

    /// One line for messages.
    pub fn describe(&self) -> String {
        let left = self.expires_at as i64 - unix_now() as i64;
        let lease = if left >= 0 {
            format!("lease expires in {left} s")
        } else {
            format!("lease expired {} s ago", -left)
        };
        format!(
            "{} (run {}, {}) since {}, {lease}",
            self.purpose, self.owner, self.host, self.acquired_at
        )
    }

    fn from_item(item: &Item) -> Option<LockHolder> {
        let s = |name: &str| match item.get(name) {
            Some(Value::S(v)) => Some(v.clone()),
            _ => None,
        };
        Some(LockHolder {
            owner: s("owner")?,
            purpose: s("purpose")?,
            host: s("host")?,
            acquired_at: s("acquired_at")?,
            expires_at: match item.get("expires_at") {
                Some(Value::N(n)) => n.parse().ok()?,
                _ => return None,
            },
            group: s("group"),
        })
    }
}

/// Whether the process `host` names (`<host> pid <pid>`, as holders record themselves) ran
/// on this host and is gone (or is another program now). One on another host cannot be seen.
pub fn process_gone(host: &str) -> bool {
    let Some((host, pid)) = host.rsplit_once(" pid ") else {
        return false;
    };
    let Ok(pid) = pid.parse::<u32>() else {
        return false;
    };
    if host != host_name() || pid == std::process::id() {
        return false;
    }
    match std::fs::read(format!("/proc/{pid}/cmdline")) {
        Ok(cmdline) => !String::from_utf8_lossy(&cmdline).contains("drift-host"),
        Err(_) => true,
    }
}

/// Seconds since the Unix epoch, as leases count them.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn s(text: &str) -> AttributeValue {
    AttributeValue::S(text.to_owned())
}

/// The refusal of a run that finds the lock of `table` held by `holder`.
pub fn locked_by(table: &str, holder: Option<LockHolder>) -> anyhow::Error {
    let gone = holder
        .as_ref()
        .is_some_and(LockHolder::is_gone_from_this_host);
    let who = holder.map_or_else(|| "another run".to_owned(), |h| h.describe());
    refused(if gone {
        format!(
            "metadata table `{table}` is locked by {who}, whose process on this host is gone: \
             `drift-host unlock` removes the lock, then run again to resume"
        )
    } else {
        format!(
            "metadata table `{table}` is locked by {who}; wait for it, or run `drift-host \
             unlock` if that run is dead"
        )
    })
}

/// How a renewal went.
enum Renewal {
    Renewed,
    /// Another run holds the lock, or another process this worker's lease.
    Lost,
    /// Not renewed this time, for this reason: the next tick tries again.
    Failed(String),
}

/// What a run asks of the lock.
struct Wanted<'a> {
    owner: &'a str,
    purpose: &'a str,
    group: Option<&'a str>,
    duration: Duration,
}

/// A worker's own lease item, renewed with the lock (see `metadata::workers`).
#[derive(Clone)]
pub struct WorkerSlot {
    /// The item's id.
    pub id: String,
    /// This process's UUID, which holds it.
    pub owner: String,
    /// What the worker publishes with each renewal (phase, items, actions).
    pub progress: std::sync::Arc<std::sync::Mutex<SlotProgress>>,
}

/// A worker's progress as its lease item shows it.
#[derive(Debug, Clone, Default)]
pub struct SlotProgress {
    /// What it does now.
    pub phase: String,
    /// Items its guests took.
    pub items: u64,
    /// Actions journaled or applied.
    pub actions: u64,
}

/// Condition of every write to a held lock: it is still `owner`'s.
const HELD_BY_OWNER: &str = "#owner = :owner";

/// The placeholders of [`HELD_BY_OWNER`] for `owner`.
fn owner_placeholders(owner: &str) -> (HashMap<String, String>, HashMap<String, AttributeValue>) {
    (
        HashMap::from([("#owner".to_owned(), "owner".to_owned())]),
        HashMap::from([(":owner".to_owned(), s(owner))]),
    )
}

fn lock_key() -> HashMap<String, AttributeValue> {
    [("id".to_owned(), s(LOCK_ID))].into_iter().collect()
}

/// The lock item of `table`, if any.
pub async fn read(
    client: &Client,
    policy: &RetryPolicy,
    table: &str,
) -> Result<Option<LockHolder>> {
    let output = policy
        .run(|| {
            client
                .get_item()
                .table_name(table)
                .set_key(Some(lock_key()))
                .consistent_read(true)
                .send()
        })
        .await
        .map_err(|e| anyhow!("cannot read the lock of `{table}`: {}", error_code(&e)))?;
    match output.item {
        None => Ok(None),
        Some(item) => LockHolder::from_item(&from_aws_item(&item)?)
            .map(Some)
            .ok_or_else(|| {
                anyhow!("the lock item of metadata table `{table}` is not drift-host's")
            }),
    }
}

/// A held lease; renew it with [`Lease::heartbeat`], give it back with [`Lease::release`].
#[derive(Clone)]
pub struct Lease {
    client: Client,
    policy: RetryPolicy,
    table: String,
    /// The run id that holds it.
    pub owner: String,
    duration: Duration,
    /// A worker's own lease, renewed together with the lock.
    slot: Option<WorkerSlot>,
}

impl Lease {
    /// Takes the lock of `table` for `purpose`, or refuses with who holds it.
    pub async fn acquire(
        client: &Client,
        policy: &RetryPolicy,
        table: &str,
        owner: &str,
        purpose: &str,
        duration: Duration,
    ) -> Result<Lease> {
        let wanted = Wanted {
            owner,
            purpose,
            group: None,
            duration,
        };
        match Lease::take(client, policy, table, wanted).await? {
            Ok(lease) => Ok(lease),
            Err(holder) => Err(locked_by(table, holder)),
        }
    }

    /// Takes or joins the lock of `table` for the run `owner` of several workers (`group`
    /// names the migration, module and worker count): taken if free, expired, or already
    /// `owner`'s. `Ok(Err(holder))`: someone else holds it (which may be another run id of the
    /// same group, for the caller to join).
    pub async fn join(
        client: &Client,
        policy: &RetryPolicy,
        table: &str,
        owner: &str,
        purpose: &str,
        group: &str,
        duration: Duration,
    ) -> Result<Result<Lease, Option<LockHolder>>> {
        let wanted = Wanted {
            owner,
            purpose,
            group: Some(group),
            duration,
        };
        Lease::take(client, policy, table, wanted).await
    }

    async fn take(
        client: &Client,
        policy: &RetryPolicy,
        table: &str,
        wanted: Wanted<'_>,
    ) -> Result<Result<Lease, Option<LockHolder>>> {
        let Wanted {
            owner,
            purpose,
            group,
            duration,
        } = wanted;
        let host = format!("{} pid {}", host_name(), std::process::id());
        let mut item: HashMap<String, AttributeValue> = [
            ("id", s(LOCK_ID)),
            ("owner", s(owner)),
            ("purpose", s(purpose)),
            ("host", s(&host)),
            ("acquired_at", s(&now())),
            (
                "expires_at",
                AttributeValue::N((unix_now() + duration.as_secs()).to_string()),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        // A worker joining its run's lock takes it as its own too.
        let condition = match group {
            Some(group) => {
                item.insert("group".to_owned(), s(group));
                "attribute_not_exists(#id) OR #expires < :now OR #owner = :owner"
            }
            None => "attribute_not_exists(#id) OR #expires < :now",
        };
        let sent = Instant::now();
        let result = policy
            .run(|| {
                let request = client
                    .put_item()
                    .table_name(table)
                    .set_item(Some(item.clone()))
                    .condition_expression(condition)
                    .expression_attribute_names("#id", "id")
                    .expression_attribute_names("#expires", "expires_at")
                    .expression_attribute_values(":now", AttributeValue::N(unix_now().to_string()));
                match group {
                    Some(_) => request
                        .expression_attribute_names("#owner", "owner")
                        .expression_attribute_values(":owner", s(owner)),
                    None => request,
                }
                .send()
            })
            .await;
        let lease = Lease {
            client: client.clone(),
            policy: policy.clone(),
            table: table.to_owned(),
            owner: owner.to_owned(),
            duration,
            slot: None,
        };
        match result {
            Ok(_) => {
                lease.policy.fence.extend_to(lease.held_until(sent));
                Ok(Ok(lease))
            }
            Err(e) if is_conditional_check_failed(&e) => {
                let holder = read(client, policy, table).await?;
                if holder.as_ref().is_some_and(|h| h.owner == owner) {
                    // A retry of our own write, which had been applied.
                    lease.policy.fence.extend_to(lease.held_until(sent));
                    return Ok(Ok(lease));
                }
                Ok(Err(holder))
            }
            Err(e) => bail!("cannot take the lock of `{table}`: {}", error_code(&e)),
        }
    }

    /// Renews `slot` (a worker's own lease item) together with the lock from now on: the
    /// lease holds only while both do.
    pub fn with_slot(mut self, slot: WorkerSlot) -> Lease {
        self.slot = Some(slot);
        self
    }

    /// Until when requests may be sent on a lease (re)taken by a request sent at `sent`: a
    /// quarter lease before it ends, for the clocks of the hosts that judge its expiry.
    fn held_until(&self, sent: Instant) -> Instant {
        sent + self.duration - self.duration / 4
    }

    /// Renews the lease every third of its duration until it is lost; requests `stop` if it
    /// is. Each renewal that succeeds extends the fence of the run's requests; one that takes
    /// longer than a third of the lease is given up (the next tick tries again), so the fence
    /// runs out rather than a write going out on a lease that may have ended.
    pub async fn heartbeat(self, stop: Stop) {
        let mut ticker = tokio::time::interval(self.duration / 3);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            let sent = Instant::now();
            let renewing = self.renew();
            let Ok(renewed) = tokio::time::timeout(self.duration / 3, renewing).await else {
                tracing::warn!("renewing the lock of `{}` timed out", self.table);
                continue;
            };
            match renewed {
                Ok(Renewal::Renewed) => self.policy.fence.extend_to(self.held_until(sent)),
                Ok(Renewal::Lost) => {
                    self.policy.fence.close();
                    tracing::error!(
                        "lost the lock of `{}`: another run took it over; stopping",
                        self.table
                    );
                    stop.request(StopReason::LeaseLost);
                    return;
                }
                // A failed renewal is retried at the next tick; the lease outlives two misses.
                Ok(Renewal::Failed(code)) => {
                    tracing::warn!("could not renew the lock of `{}`: {code}", self.table)
                }
                Err(error) => tracing::warn!("{error:#}"),
            }
        }
    }

    /// One renewal: of the lock alone, or of the lock and the worker's own lease item in one
    /// transaction (the item only while it is still this process's and not expired: a worker
    /// paused past its lease may have been replaced, and must not go on).
    async fn renew(&self) -> Result<Renewal> {
        let (mut names, mut values) = owner_placeholders(&self.owner);
        names.insert("#expires".to_owned(), "expires_at".to_owned());
        let expires = (unix_now() + self.duration.as_secs()).to_string();
        values.insert(":expires".to_owned(), AttributeValue::N(expires.clone()));
        let Some(slot) = &self.slot else {
            let renewed = self
                .policy
                .run(|| {
                    self.client
                        .update_item()
                        .table_name(&self.table)
                        .set_key(Some(lock_key()))
                        .update_expression("SET #expires = :expires")
                        .condition_expression(HELD_BY_OWNER)
                        .set_expression_attribute_names(Some(names.clone()))
                        .set_expression_attribute_values(Some(values.clone()))
                        .send()
                })
                .await;
            return Ok(match renewed {
                Ok(_) => Renewal::Renewed,
                Err(e) if is_conditional_check_failed(&e) => Renewal::Lost,
                Err(e) => Renewal::Failed(error_code(&e)),
            });
        };
        super::workers::coordinating();
        let progress = slot.progress.lock().expect("slot progress").clone();
        let lock = aws_sdk_dynamodb::types::Update::builder()
            .table_name(&self.table)
            .set_key(Some(lock_key()))
            .update_expression("SET #expires = :expires")
            .condition_expression(HELD_BY_OWNER)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .build()?;
        let own = aws_sdk_dynamodb::types::Update::builder()
            .table_name(&self.table)
            .set_key(Some([("id".to_owned(), s(&slot.id))].into()))
            .update_expression(
                "SET #expires = :expires, #phase = :phase, #items = :items, #actions = :actions",
            )
            .condition_expression("#owner = :owner AND #expires >= :now")
            .expression_attribute_names("#expires", "expires_at")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_names("#phase", "phase")
            .expression_attribute_names("#items", "items")
            .expression_attribute_names("#actions", "actions")
            .expression_attribute_values(":expires", AttributeValue::N(expires))
            .expression_attribute_values(":owner", s(&slot.owner))
            .expression_attribute_values(":now", AttributeValue::N(unix_now().to_string()))
            .expression_attribute_values(":phase", s(&progress.phase))
            .expression_attribute_values(":items", AttributeValue::N(progress.items.to_string()))
            .expression_attribute_values(
                ":actions",
                AttributeValue::N(progress.actions.to_string()),
            )
            .build()?;
        let items = vec![
            aws_sdk_dynamodb::types::TransactWriteItem::builder()
                .update(lock)
                .build(),
            aws_sdk_dynamodb::types::TransactWriteItem::builder()
                .update(own)
                .build(),
        ];
        let renewed = self
            .policy
            .run(|| {
                self.client
                    .transact_write_items()
                    .set_transact_items(Some(items.clone()))
                    .send()
            })
            .await;
        Ok(match renewed {
            Ok(_) => Renewal::Renewed,
            Err(e) => match crate::aws::write::cancellation_reasons(&e) {
                Some(reasons)
                    if reasons
                        .iter()
                        .any(|r| r == crate::aws::write::CONDITION_FAILED) =>
                {
                    Renewal::Lost
                }
                _ => Renewal::Failed(error_code(&e)),
            },
        })
    }

    /// The condition that fences a metadata write: the lock is still ours.
    pub fn fence(&self) -> aws_sdk_dynamodb::types::ConditionCheck {
        let (names, values) = owner_placeholders(&self.owner);
        aws_sdk_dynamodb::types::ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(lock_key()))
            .condition_expression(HELD_BY_OWNER)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .build()
            .expect("condition check has its required fields")
    }

    /// Gives the lock back (only if it is still ours).
    pub async fn release(&self) -> Result<()> {
        let result = delete_if_held_by(&self.client, &self.policy, &self.table, &self.owner).await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_conditional_check_failed(&e) => Ok(()), // already taken over
            Err(e) => bail!(
                "cannot release the lock of `{}`: {}",
                self.table,
                error_code(&e)
            ),
        }
    }
}

/// Deletes the lock of `table` if `owner` still holds it (release, and unlock).
async fn delete_if_held_by(
    client: &Client,
    policy: &RetryPolicy,
    table: &str,
    owner: &str,
) -> Result<DeleteItemOutput, SdkError<DeleteItemError, HttpResponse>> {
    let (names, values) = owner_placeholders(owner);
    policy
        .run(|| {
            client
                .delete_item()
                .table_name(table)
                .set_key(Some(lock_key()))
                .condition_expression(HELD_BY_OWNER)
                .set_expression_attribute_names(Some(names.clone()))
                .set_expression_attribute_values(Some(values.clone()))
                .send()
        })
        .await
}

/// This host's name, as lock holders record it.
pub(crate) fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map_or_else(|_| "?".to_owned(), |h| h.trim().to_owned())
}

/// `drift-host unlock`: removes an expired lock, a lock whose process on this host is gone,
/// or any lock with `force`. Returns what was removed.
pub async fn unlock(
    client: &Client,
    policy: &RetryPolicy,
    table: &str,
    force: bool,
) -> Result<Option<LockHolder>> {
    let Some(holder) = read(client, policy, table).await? else {
        return Ok(None);
    };
    if !holder.expired() && !force && !holder.is_gone_from_this_host() {
        return Err(refused(format!(
            "metadata table `{table}` is locked by {}; that run looks alive: use --force only if you know it is dead",
            holder.describe()
        )));
    }
    match delete_if_held_by(client, policy, table, &holder.owner).await {
        Ok(_) => Ok(Some(holder)),
        Err(e) if is_conditional_check_failed(&e) => {
            bail!("the lock of `{table}` changed hands meanwhile; look again")
        }
        Err(e) => bail!("cannot remove the lock of `{table}`: {}", error_code(&e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held_by(host: String) -> LockHolder {
        LockHolder {
            owner: "run-1".into(),
            purpose: "migrate users_v2 #2".into(),
            host,
            acquired_at: now(),
            expires_at: unix_now() + 60,
            group: None,
        }
    }

    #[test]
    fn a_holder_is_gone_only_if_it_ran_here_and_its_process_is_not_drift_host() {
        let here = host_name();
        // This process is alive (and no other run); a child that exited is gone.
        assert!(!held_by(format!("{here} pid {}", std::process::id())).is_gone_from_this_host());
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(held_by(format!("{here} pid {pid}")).is_gone_from_this_host());
        // Another host's process cannot be judged from here; nor a holder without a pid.
        assert!(!held_by(format!("{here}-other pid {pid}")).is_gone_from_this_host());
        assert!(!held_by(here.clone()).is_gone_from_this_host());
        // A live process that is not drift-host (pid 1 is init) is not the holder any more.
        assert!(held_by(format!("{here} pid 1")).is_gone_from_this_host());
    }
}
