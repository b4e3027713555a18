//! drift-host's benchmark (run by `scripts/bench`, which builds everything in release and
//! starts DynamoDB Local): drift-host `run` on three workloads against a native Rust client
//! doing the same scan and writes without wasm, and the engine alone (items in memory → pool
//! of guests → nothing), Rust and AssemblyScript guests against the same logic in native Rust.
//!
//! Each measured process is a child: items/s from its wall time, client CPU from its own
//! rusage (user + system, `wait4`), peak RSS from the same, the server's CPU from
//! `/proc/<java pid>/stat` around the run. Every table is verified item by item afterwards.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, ensure, Context, Result};
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{
    AttributeValue, BatchStatementRequest, PutRequest, ReturnConsumedCapacity, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use clap::{Parser, Subcommand};
use drift_host::aws::convert::{from_aws_item, to_aws_item};
use drift_host::aws::{connect, create_table, Billing, ConnectOptions, RetryPolicy};
use drift_host::engine::{self, GuestContext, Job, Limits, Pool, Runtime};
use drift_host::model::action::Tables;
use drift_host::model::item::{Item, Value};
use drift_host::model::operation::Operation;
use drift_sdk::Migration;
use serde_json::{json, Value as Json};
use tokio::task::JoinSet;

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Bench,
}

#[derive(Subcommand)]
enum Bench {
    /// Creates `table` and fills it with `items` users of about 1 KB.
    Seed {
        #[arg(long)]
        endpoint: String,
        #[arg(long)]
        table: String,
        #[arg(long)]
        items: usize,
        /// `behave` attribute of every item (for the hostile test guest), if any.
        #[arg(long)]
        behave: Option<String>,
        /// Enable a NEW_AND_OLD_IMAGES stream once the items are written (for live runs).
        #[arg(long)]
        stream: bool,
    },
    /// The native baseline: parallel scan (8 segments) and one conditional UpdateItem per
    /// item, 32 in flight, doing what users_v2 does; with `--partiql`, the same changes as
    /// PartiQL `UPDATE` statements in `BatchExecuteStatement`s of 25, as drift-host sends them.
    Baseline {
        #[arg(long)]
        endpoint: String,
        #[arg(long)]
        table: String,
        #[arg(long)]
        partiql: bool,
    },
    /// The engine alone: `items` users from memory through a pool of `workers` guests (or
    /// the native logic with `--native`), every action dropped.
    Engine {
        #[arg(long)]
        wasm: Option<PathBuf>,
        #[arg(long)]
        native: bool,
        #[arg(long)]
        items: usize,
        #[arg(long, default_value_t = 2)]
        workers: usize,
    },
    /// Checks a table after a run: `update` (users_v2 applied), `put` (unchanged copies), or
    /// `delete` (empty).
    Verify {
        #[arg(long)]
        endpoint: String,
        #[arg(long)]
        table: String,
        #[arg(long)]
        workload: String,
        #[arg(long)]
        items: usize,
        /// The emails a writer left (`write`'s output): those users are expected with them.
        #[arg(long)]
        emails: Option<PathBuf>,
    },
    /// An application writing during a live run: `rate` puts a second for `seconds`, each
    /// replacing a random user with an old-shape version under a new email; prints the last
    /// email of every user written (JSON).
    Write {
        #[arg(long)]
        endpoint: String,
        #[arg(long)]
        table: String,
        #[arg(long)]
        items: usize,
        #[arg(long)]
        rate: f64,
        #[arg(long)]
        seconds: f64,
    },
}

/// Puts old-shape users at `rate` a second for `seconds`; returns each written id's last email.
async fn write(endpoint: &str, table: &str, items: usize, rate: f64, seconds: f64) -> Result<Json> {
    let client = client(endpoint).await;
    let users = users(items, None);
    let mut rng = fastrand::Rng::with_seed(5);
    let mut emails = serde_json::Map::new();
    let started = Instant::now();
    let mut writes = 0u64;
    while started.elapsed().as_secs_f64() < seconds {
        let due = writes as f64 / rate;
        let now = started.elapsed().as_secs_f64();
        if due > now {
            tokio::time::sleep(std::time::Duration::from_secs_f64(due - now)).await;
        }
        let mut user = users[rng.usize(..items)].clone();
        let id = user.get_str("id").unwrap().to_owned();
        let email = format!("Writer.{writes}.{id}@Example.COM");
        user.set("email", email.as_str());
        client
            .put_item()
            .table_name(table)
            .set_item(Some(to_aws_item(&user)))
            .send()
            .await?;
        emails.insert(id, Json::String(email));
        writes += 1;
    }
    Ok(json!({ "writes": writes, "emails": emails }))
}

/// `items` users of about 1 KB, as the test suite's users but padded.
fn users(items: usize, behave: Option<&str>) -> Vec<Item> {
    let names = [
        "Ada Lovelace",
        "Grace Hopper",
        "Kurt Gödel",
        "Émilie du Châtelet",
    ];
    (0..items)
        .map(|i| {
            let name = names[i % names.len()];
            let mut item = Item::new()
                .with("id", format!("u-{i:07}"))
                .with(
                    "email",
                    format!("{}.{i}@Example.COM", name.split(' ').next().unwrap()),
                )
                .with("created", 1_700_000_000 + i as i64)
                .with("bio", "x".repeat(800))
                .with(
                    "address",
                    Item::new()
                        .with("city", "Oslo")
                        .with("zip", format!("{:04}", i % 10000)),
                );
            if i % 7 != 0 {
                item.insert("name".into(), Value::S(name.into()));
            }
            if let Some(behave) = behave {
                item.insert("behave".into(), Value::S(behave.into()));
            }
            item
        })
        .collect()
}

async fn client(endpoint: &str) -> Client {
    connect(&ConnectOptions {
        endpoint_url: Some(endpoint.to_owned()),
        ..ConnectOptions::default()
    })
    .await
    .expect("AWS credentials for the benchmark")
}

async fn seed(endpoint: &str, table: &str, items: usize, behave: Option<&str>) -> Result<()> {
    let client = client(endpoint).await;
    let policy = RetryPolicy::default();
    let hash = ("id", aws_sdk_dynamodb::types::ScalarAttributeType::S);
    create_table(&client, &policy, table, hash, None, Billing::OnDemand).await?;
    let mut batches = JoinSet::new();
    for chunk in users(items, behave).chunks(25) {
        let requests: Vec<WriteRequest> = chunk
            .iter()
            .map(|item| {
                let put = PutRequest::builder()
                    .set_item(Some(to_aws_item(item)))
                    .build()?;
                Ok(WriteRequest::builder().put_request(put).build())
            })
            .collect::<Result<_>>()?;
        let (client, policy, table) = (client.clone(), policy.clone(), table.to_owned());
        batches.spawn(async move {
            let requests = HashMap::from([(table, requests)]);
            let capacity = Default::default();
            drift_host::aws::write::batch_write(&client, &policy, &capacity, requests).await
        });
        while batches.len() >= 8 {
            batches.join_next().await.expect("a batch")??;
        }
    }
    while let Some(done) = batches.join_next().await {
        done??;
    }
    Ok(())
}

/// Every item of `table`.
async fn scan_all(client: &Client, table: &str) -> Result<Vec<Item>> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .limit(1000)
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await?;
        for raw in page.items() {
            items.push(from_aws_item(raw)?);
        }
        start = page.last_evaluated_key;
        if start.is_none() {
            return Ok(items);
        }
    }
}

/// Attribute values to set, and attributes to remove.
type Change = (Vec<(&'static str, AttributeValue)>, Vec<&'static str>);

/// What users_v2 does to `user`, natively.
fn users_v2(user: &Item) -> Option<Change> {
    if user.get_i64("schema_version") == Some(2) {
        return None;
    }
    let email = user.get_str("email")?;
    let mut set = vec![
        ("email_lower", AttributeValue::S(email.to_lowercase())),
        ("schema_version", AttributeValue::N("2".into())),
    ];
    let mut remove = Vec::new();
    if let Some(Value::S(name)) = user.get("name") {
        set.push(("full_name", AttributeValue::S(name.clone())));
        remove.push("name");
    }
    Some((set, remove))
}

/// The conditional UpdateItem doing `change` to the item with key `id`.
fn update_item(
    client: &Client,
    table: &str,
    id: &AttributeValue,
    change: Change,
) -> UpdateItemFluentBuilder {
    let (set, remove) = change;
    let mut expression = String::from("SET ");
    let mut names = HashMap::from([("#k".to_owned(), "id".to_owned())]);
    let mut values = HashMap::new();
    for (n, (name, value)) in set.into_iter().enumerate() {
        if n > 0 {
            expression.push_str(", ");
        }
        expression.push_str(&format!("#s{n} = :s{n}"));
        names.insert(format!("#s{n}"), name.to_owned());
        values.insert(format!(":s{n}"), value);
    }
    for (n, name) in remove.into_iter().enumerate() {
        expression.push_str(&format!(" REMOVE #r{n}"));
        names.insert(format!("#r{n}"), name.to_owned());
    }
    let key = HashMap::from([("id".to_owned(), id.clone())]);
    client
        .update_item()
        .table_name(table)
        .set_key(Some(key))
        .update_expression(expression)
        .condition_expression("attribute_exists(#k)")
        .set_expression_attribute_names(Some(names))
        .set_expression_attribute_values(Some(values))
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
}

/// The PartiQL `UPDATE` doing `change` to the item with key `id` (which must exist, as
/// PartiQL's `UPDATE` requires).
fn update_statement(table: &str, id: &AttributeValue, change: Change) -> BatchStatementRequest {
    let (set, remove) = change;
    let mut text = format!("UPDATE \"{table}\"");
    let mut parameters = Vec::new();
    for (name, value) in set {
        text.push_str(&format!(" SET \"{name}\"=?"));
        parameters.push(value);
    }
    for name in remove {
        text.push_str(&format!(" REMOVE \"{name}\""));
    }
    text.push_str(" WHERE \"id\"=?");
    parameters.push(id.clone());
    BatchStatementRequest::builder()
        .statement(text)
        .set_parameters(Some(parameters))
        .build()
        .expect("a statement")
}

/// Sends one batch of statements; a statement the server refused fails the baseline.
async fn execute(client: Client, statements: Vec<BatchStatementRequest>) -> Result<()> {
    let output = client
        .batch_execute_statement()
        .set_statements(Some(statements))
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await?;
    if let Some(error) = output.responses().iter().find_map(|r| r.error()) {
        bail!("a statement failed: {error:?}");
    }
    Ok(())
}

async fn baseline(endpoint: &str, table: &str, partiql: bool) -> Result<u64> {
    const SEGMENTS: i32 = 8;
    const IN_FLIGHT: usize = 32;
    const BATCH: usize = 25;
    let client = client(endpoint).await;
    let permits = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
    let mut segments = JoinSet::new();
    for segment in 0..SEGMENTS {
        let (client, table, permits) = (client.clone(), table.to_owned(), permits.clone());
        segments.spawn(async move {
            let mut writes = JoinSet::new();
            let mut batch = Vec::new();
            let mut start = None;
            let mut items = 0u64;
            loop {
                let page = client
                    .scan()
                    .table_name(&table)
                    .segment(segment)
                    .total_segments(SEGMENTS)
                    .limit(1000)
                    .consistent_read(true)
                    .set_exclusive_start_key(start)
                    .send()
                    .await?;
                for raw in page.items() {
                    items += 1;
                    let item = from_aws_item(raw)?;
                    if let Some(change) = users_v2(&item) {
                        if partiql {
                            batch.push(update_statement(&table, &raw["id"], change));
                        } else {
                            let request = update_item(&client, &table, &raw["id"], change);
                            let permit = permits.clone().acquire_owned().await?;
                            writes.spawn(async move {
                                let result = request.send().await.map(|_| ());
                                drop(permit);
                                result.map_err(anyhow::Error::from)
                            });
                        }
                    }
                    // A full batch goes out at once; the last, partial one after the scan.
                    if batch.len() == BATCH {
                        let permit = permits.clone().acquire_owned().await?;
                        let sending = execute(client.clone(), std::mem::take(&mut batch));
                        writes.spawn(async move {
                            let result = sending.await;
                            drop(permit);
                            result
                        });
                    }
                    while let Some(done) = writes.try_join_next() {
                        done??;
                    }
                }
                start = page.last_evaluated_key;
                if start.is_none() {
                    break;
                }
            }
            if !batch.is_empty() {
                execute(client.clone(), batch).await?;
            }
            while let Some(done) = writes.join_next().await {
                done??;
            }
            anyhow::Ok(items)
        });
    }
    let mut items = 0;
    while let Some(done) = segments.join_next().await {
        items += done??;
    }
    Ok(items)
}

fn engine_alone(
    wasm: Option<&PathBuf>,
    native: bool,
    items: usize,
    workers: usize,
) -> Result<Json> {
    let users = users(items, None);
    let started = Instant::now();
    if native {
        // The same logic without wasm, on as many threads.
        let chunk = items.div_ceil(workers.max(1));
        std::thread::scope(|scope| {
            for part in users.chunks(chunk) {
                scope.spawn(move || {
                    for user in part {
                        let item: drift_sdk::Item = user.clone();
                        let actions = users_v2::UsersV2::migrate(item).expect("migrates");
                        std::hint::black_box(actions);
                    }
                });
            }
        });
    } else {
        let wasm = wasm.context("--wasm or --native")?;
        let runtime = Runtime::new(Limits::default(), workers as u32)?;
        // No cache: the first load of a module, compilation included (what a first `run` or
        // `inspect` of a new build pays).
        let loading = Instant::now();
        let migration = Arc::new(engine::load(&runtime, wasm, None)?);
        let load_seconds = loading.elapsed().as_secs_f64();
        let context = GuestContext {
            tables: Tables::new("users", []),
            store: None,
            schemas: None,
        };
        let started_pool = Instant::now();
        let mut pool: Pool<usize> = Pool::start(migration, Operation::Migrate, workers, context);
        let jobs = pool.sender();
        pool.close();
        let feeder = std::thread::spawn(move || {
            let mut users = users.into_iter().enumerate().peekable();
            while users.peek().is_some() {
                let chunk = users
                    .by_ref()
                    .take(engine::CHUNK)
                    .map(|(tag, item)| Job { tag, item })
                    .collect();
                if jobs.send(chunk).is_err() {
                    break;
                }
            }
        });
        let mut failed = 0;
        for outcome in pool.outcomes().iter().flatten() {
            failed += outcome.result.is_err() as u64;
        }
        feeder.join().expect("feeder");
        ensure!(failed == 0, "{failed} items failed in the guest");
        let seconds = started_pool.elapsed().as_secs_f64();
        return Ok(json!({
            "items": items,
            "seconds": seconds,
            "items_per_s": items as f64 / seconds,
            "load_seconds": load_seconds,
            "module_bytes": std::fs::metadata(wasm)?.len(),
        }));
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok(json!({ "items": items, "seconds": seconds, "items_per_s": items as f64 / seconds }))
}

async fn verify(
    endpoint: &str,
    table: &str,
    workload: &str,
    items: usize,
    emails: Option<&PathBuf>,
) -> Result<()> {
    let client = client(endpoint).await;
    let found = scan_all(&client, table).await?;
    let mut originals: HashMap<String, Item> = users(items, None)
        .into_iter()
        .map(|item| (item.get_str("id").unwrap().to_owned(), item))
        .collect();
    if let Some(path) = emails {
        let written: Json = serde_json::from_slice(&std::fs::read(path)?)?;
        for (id, email) in written["emails"].as_object().into_iter().flatten() {
            let user = originals.get_mut(id).context("a written id")?;
            user.set("email", email.as_str().context("an email")?);
        }
    }
    match workload {
        "delete" => ensure!(
            found.is_empty(),
            "{} items left after the deletes",
            found.len()
        ),
        "put" | "update" => {
            ensure!(
                found.len() == items,
                "{} items, expected {items}",
                found.len()
            );
            for item in &found {
                let id = item.get_str("id").context("an id")?;
                let mut original = originals.get(id).context("a known id")?.clone();
                if workload == "update" {
                    let email = original.get_str("email").unwrap().to_lowercase();
                    original.insert("email_lower".into(), Value::S(email));
                    original.insert("schema_version".into(), Value::N("2".into()));
                    if let Some(name) = original.remove("name") {
                        original.insert("full_name".into(), name);
                    }
                }
                let mut item = item.clone();
                item.remove("behave");
                ensure!(item == original, "item {id} is not as expected: {item:?}");
            }
        }
        other => bail!("unknown workload {other}"),
    }
    Ok(())
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Runtime::new()?;
    match cli.command {
        Bench::Seed {
            endpoint,
            table,
            items,
            behave,
            stream,
        } => runtime.block_on(async {
            seed(&endpoint, &table, items, behave.as_deref()).await?;
            if stream {
                let client = client(&endpoint).await;
                drift_host::aws::stream::enable_stream(&client, &RetryPolicy::default(), &table)
                    .await?;
            }
            Ok(())
        }),
        Bench::Baseline {
            endpoint,
            table,
            partiql,
        } => {
            let started = Instant::now();
            let items = runtime.block_on(baseline(&endpoint, &table, partiql))?;
            let seconds = started.elapsed().as_secs_f64();
            println!("{}", json!({ "items": items, "seconds": seconds }));
            Ok(())
        }
        Bench::Engine {
            wasm,
            native,
            items,
            workers,
        } => {
            let report = engine_alone(wasm.as_ref(), native, items, workers)?;
            println!("{report}");
            Ok(())
        }
        Bench::Verify {
            endpoint,
            table,
            workload,
            items,
            emails,
        } => runtime.block_on(verify(&endpoint, &table, &workload, items, emails.as_ref())),
        Bench::Write {
            endpoint,
            table,
            items,
            rate,
            seconds,
        } => {
            let written = runtime.block_on(write(&endpoint, &table, items, rate, seconds))?;
            println!("{written}");
            Ok(())
        }
    }
}
