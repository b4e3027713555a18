//! Parallel scan of a DynamoDB table, streamed into the guest pool (any channel of jobs made
//! from `(ScanTag, Item)`: the scan knows nothing of the engine).
//!
//! Each segment pages through its part of the table on its own (its own `LastEvaluatedKey`),
//! and hands each page to the pool as soon as it arrives: no barrier between pages, and the
//! pool's bounded queue slows the scan down when the guests are the bottleneck.
//!
//! Each page is announced to a [`PageLedger`] before its items go out, so the journal writer
//! can tell when a page is wholly journaled; a resumed scan starts each segment at its first
//! page that was not, and leaves out the items of that page that are journaled already.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use anyhow::{anyhow, Context, Result};
use aws_sdk_dynamodb::types::ReturnConsumedCapacity;
use aws_sdk_dynamodb::Client;
use crossbeam_channel::Sender;
use tokio::task::JoinSet;

use super::pages::PageLedger;
use crate::aws::capacity::Capacity;
use crate::aws::convert::{from_aws_item, to_aws_item};
use crate::aws::retry::{error_code, RetryPolicy};
use crate::model::guard::{Guard, GuardMode};
use crate::model::item::{from_json_item, to_json_item, Item};
use crate::model::schema::KeySchema;
use crate::model::source::{key_identity, PageTag, ScanTag, SourceKey};
use crate::model::stop::{Stop, StopReason};

/// Default items per Scan request: DynamoDB Local scans far faster with a limit than with
/// 1 MB pages.
pub const PAGE_SIZE: i32 = 1000;

/// What to scan and how.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// The table.
    pub table: String,
    /// Its key schema, to tag each item with its key.
    pub schema: KeySchema,
    /// Parallel scan segments (`TotalSegments`).
    pub segments: u32,
    /// Read capacity budget, and the count of what was consumed.
    pub capacity: Capacity,
    /// Items per Scan request.
    pub page_size: i32,
    /// Where each segment starts, and the pages in flight.
    pub ledger: Arc<PageLedger>,
    /// Items per message to the pool.
    pub chunk: usize,
    /// Keys ([`key_identity`]) of items a resumed scan finds journaled already.
    pub journaled: Arc<HashSet<Vec<u8>>>,
    /// Live runs: how each item's guard is taken.
    pub guard: Option<GuardMode>,
}

/// Scans every segment, sending the items to `jobs` in chunks of `options.chunk`; stops early
/// when `stop` is requested.
/// Returns the number of items read (those of journaled pages included).
pub async fn scan<J>(
    client: &Client,
    policy: &RetryPolicy,
    options: &ScanOptions,
    jobs: Sender<Vec<J>>,
    stop: &Stop,
) -> Result<u64>
where
    J: From<(ScanTag, Item)> + Send + 'static,
{
    // Items of the pages a resumed scan does not read again.
    let before: u64 = (0..options.segments.max(1))
        .map(|segment| options.ledger.start_of(segment).items)
        .sum();
    let scanned = Arc::new(AtomicU64::new(0));
    let mut segments = JoinSet::new();
    for segment in 0..options.segments.max(1) {
        let (client, policy, options) = (client.clone(), policy.clone(), options.clone());
        let (jobs, stop, scanned) = (jobs.clone(), stop.clone(), scanned.clone());
        segments.spawn(async move {
            scan_segment(&client, &policy, &options, segment, jobs, &stop, &scanned)
                .await
                .with_context(|| format!("scan of `{}` segment {segment}", options.table))
        });
    }
    drop(jobs);
    let mut first_error = None;
    while let Some(joined) = segments.join_next().await {
        let result = joined
            .map_err(|e| anyhow!("scan task failed: {e}"))
            .and_then(|r| r);
        if let Err(error) = result {
            // One failed segment ends the scan: the others stop at their next page.
            stop.request(StopReason::StageFailed);
            first_error.get_or_insert(error);
        }
    }
    match first_error {
        Some(error) => Err(error),
        None => Ok(before + scanned.load(Ordering::Relaxed)),
    }
}

async fn scan_segment<J>(
    client: &Client,
    policy: &RetryPolicy,
    options: &ScanOptions,
    segment: u32,
    jobs: Sender<Vec<J>>,
    stop: &Stop,
    scanned: &AtomicU64,
) -> Result<()>
where
    J: From<(ScanTag, Item)> + Send + 'static,
{
    let resume_at = options.ledger.start_of(segment);
    if resume_at.done {
        return Ok(());
    }
    let mut page_number = resume_at.pages;
    let mut start = resume_at
        .start_key
        .as_ref()
        .map(|key| from_json_item(key).map(|key| to_aws_item(&key)))
        .transpose()
        .context("the checkpoint's start key")?;
    loop {
        if stop.is_requested() {
            return Ok(());
        }
        let page = options
            .capacity
            .metered_read(policy, || {
                client
                    .scan()
                    .table_name(&options.table)
                    .segment(segment as i32)
                    .total_segments(options.segments.max(1) as i32)
                    .limit(options.page_size)
                    .consistent_read(true)
                    .return_consumed_capacity(ReturnConsumedCapacity::Total)
                    .set_exclusive_start_key(start.clone())
                    .send()
            })
            .await
            .map_err(|e| anyhow!("{}", error_code(&e)))?;
        let tag = PageTag {
            segment,
            page: page_number,
        };
        let mut batch = Vec::with_capacity(page.items().len());
        for raw in page.items() {
            let item = from_aws_item(raw)?;
            let key = options.schema.key_of(&item).with_context(|| {
                format!("an item of `{}` lacks its key attributes", options.table)
            })?;
            // Only a resumed scan has journaled items to leave out: no key encoding otherwise.
            if !options.journaled.is_empty() && options.journaled.contains(&key_identity(&key)) {
                continue;
            }
            let tag = ScanTag {
                key: SourceKey(key),
                page: tag,
                guard: options.guard.as_ref().map(|mode| Guard::of(mode, &item)),
            };
            batch.push(J::from((tag, item)));
        }
        let read = page.items().len() as u64;
        let count = batch.len() as u64;
        let next_key = page
            .last_evaluated_key
            .as_ref()
            .map(|key| from_aws_item(key).map(|key| to_json_item(&key)))
            .transpose()?;
        options.ledger.page_read(tag, read, count, next_key);
        let (sender, stop_flag) = (jobs.clone(), stop.clone());
        // The pool's channel blocks when the guests are busy: wait for it off the async threads,
        // and look at the stop flag between items so that a cancel takes effect promptly.
        let chunk = options.chunk.max(1);
        let sent = tokio::task::spawn_blocking(move || {
            let mut sent = 0u64;
            let mut batch = batch.into_iter().peekable();
            while batch.peek().is_some() {
                let jobs: Vec<J> = batch.by_ref().take(chunk).collect();
                let size = jobs.len() as u64;
                if stop_flag.is_requested() || sender.send(jobs).is_err() {
                    break;
                }
                sent += size;
            }
            sent
        })
        .await
        .map_err(|e| anyhow!("scan hand-off failed: {e}"))?;
        if sent < count {
            return Ok(()); // stopped, or the pool stopped taking items
        }
        scanned.fetch_add(read, Ordering::Relaxed);
        crate::crash::point("scan-page");
        page_number += 1;
        match page.last_evaluated_key {
            Some(key) => start = Some(key),
            None => return Ok(()),
        }
    }
}
