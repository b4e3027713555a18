//! The engine through the library API: loading, the compiled cache, core-module wrapping, and
//! hostile guests contained by the pool.

use std::sync::Arc;
use std::time::Duration;

use drift_host::engine::{
    self, CacheOutcome, GuestContext, ItemError, Job, Limits, ModuleKind, Outcome, Pool, Runtime,
};
use drift_host::model::item::{Item, Value};
use drift_host::model::operation::Operation;

use crate::support::guest;

fn limits() -> Limits {
    Limits {
        deadline: Duration::from_millis(300),
        memory_bytes: 64 << 20,
        max_actions_per_item: 10_000,
    }
}

fn hostile_item(id: &str, behave: &str) -> Item {
    [
        ("id".to_string(), Value::S(id.into())),
        ("behave".to_string(), Value::S(behave.into())),
    ]
    .into_iter()
    .collect()
}

/// Feeds `jobs` from another thread (both channels are bounded) and collects every outcome.
fn run_pool<T: std::fmt::Display + Send + 'static>(
    migration: Arc<engine::LoadedMigration>,
    workers: usize,
    jobs: Vec<Job<T>>,
) -> Vec<Outcome<T>> {
    let context = GuestContext {
        tables: migration.tables(None),
        store: None,
        schemas: None,
    };
    let mut pool = Pool::start(migration, Operation::Migrate, workers, context);
    let sender = pool.sender();
    pool.close();
    let feeder = std::thread::spawn(move || {
        jobs.into_iter()
            .for_each(|job| sender.send(vec![job]).unwrap())
    });
    let outcomes = pool.outcomes().iter().flatten().collect();
    feeder.join().unwrap();
    outcomes
}

/// Runs each behaviour of the hostile guest through a pool of `workers`, in order, and returns
/// the outcomes sorted by item id.
fn run_hostile(behaviours: &[&str], workers: usize) -> Vec<(String, Result<usize, ItemError>)> {
    let runtime = Runtime::new(limits(), workers as u32).unwrap();
    let migration = Arc::new(engine::load(&runtime, &guest("drift_test_guests"), None).unwrap());
    let jobs = behaviours.iter().enumerate().map(|(n, behave)| {
        let id = format!("{n:03}-{behave}");
        Job {
            tag: id.clone(),
            item: hostile_item(&id, behave),
        }
    });
    let mut outcomes: Vec<_> = run_pool(migration, workers, jobs.collect())
        .into_iter()
        .map(|o| (o.tag, o.result.map(|actions| actions.len())))
        .collect();
    outcomes.sort_by(|a, b| a.0.cmp(&b.0));
    outcomes
}

#[test]
fn hostile_guests_fail_their_item_and_the_pool_goes_on() {
    // One worker: each failure must be followed by a healthy instance for the next item.
    let behaviours = [
        "loop",
        "echo",
        "trap",
        "echo",
        "memory",
        "echo",
        "recurse",
        "echo",
        "bad-index",
        "cycle",
        "undeclared-table",
        "big-item",
        "many-actions",
        "error",
        "echo",
    ];
    let outcomes = run_hostile(&behaviours, 1);
    let expect = |n: usize, check: &dyn Fn(&Result<usize, ItemError>) -> bool, what: &str| {
        let (id, result) = &outcomes[n];
        assert!(check(result), "{id}: expected {what}, got {result:?}");
    };
    let message = |result: &Result<usize, ItemError>| match result {
        Err(error) => error.to_string(),
        Ok(n) => format!("ok with {n} actions"),
    };
    for n in [1, 3, 5, 7, 14] {
        expect(n, &|r| r == &Ok(1), "one action");
    }
    expect(
        0,
        &|r| r == &Err(ItemError::DeadlineExceeded(Duration::from_millis(300))),
        "deadline",
    );
    expect(
        2,
        &|r| message(r).contains("panicked") && message(r).contains("trapped on purpose"),
        "the panic message",
    );
    expect(
        4,
        &|r| r == &Err(ItemError::MemoryExceeded(64 << 20)),
        "memory cap",
    );
    // Rust's shadow stack lives in linear memory and runs out first (an out-of-bounds access);
    // wasm's own call stack would report a stack overflow.
    expect(
        6,
        &|r| {
            ["stack overflow", "out of bounds memory access"]
                .iter()
                .any(|m| message(r).contains(m))
        },
        "a stack trap",
    );
    expect(
        8,
        &|r| message(r).contains("node index 7 is out of range"),
        "bad index",
    );
    expect(
        9,
        &|r| message(r).contains("referenced more than once"),
        "cycle",
    );
    expect(
        10,
        &|r| message(r).contains("table `not_declared` is not declared in the migration's info()"),
        "undeclared table",
    );
    expect(
        11,
        &|r| message(r).contains("over DynamoDB's limit of 409600"),
        "oversized item",
    );
    expect(
        12,
        &|r| message(r).contains("20000 actions for one item, more than the limit of 10000"),
        "too many actions",
    );
    expect(
        13,
        &|r| r == &Err(ItemError::Rejected("refused on purpose".into())),
        "the guest's error",
    );
}

#[test]
fn many_workers_process_every_item_once() {
    let behaviours: Vec<&str> = (0..200)
        .map(|n| if n % 50 == 7 { "trap" } else { "echo" })
        .collect();
    let outcomes = run_hostile(&behaviours, 4);
    assert_eq!(outcomes.len(), 200);
    let failed: Vec<_> = outcomes
        .iter()
        .filter(|(_, r)| r.is_err())
        .map(|(id, _)| id.as_str())
        .collect();
    assert_eq!(failed, ["007-trap", "057-trap", "107-trap", "157-trap"]);
}

#[test]
fn compiled_components_are_cached_and_not_recompiled() {
    let cache = tempfile::tempdir().unwrap();
    let runtime = Runtime::new(limits(), 1).unwrap();
    let first = engine::load(&runtime, &guest("users_v2"), Some(cache.path())).unwrap();
    let second = engine::load(&runtime, &guest("users_v2"), Some(cache.path())).unwrap();
    assert_eq!(
        (first.cache, second.cache),
        (CacheOutcome::Compiled, CacheOutcome::Hit)
    );
    assert_eq!(first.checksum, second.checksum);
    assert_eq!(second.info.name, "users_v2");
    // A corrupt cache entry is ignored and replaced, never trusted. (Replace the file rather
    // than truncate it: the loaded components above still map it.)
    for entry in std::fs::read_dir(cache.path()).unwrap() {
        let path = entry.unwrap().path();
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, b"garbage").unwrap();
    }
    let third = engine::load(&runtime, &guest("users_v2"), Some(cache.path())).unwrap();
    assert_eq!(third.cache, CacheOutcome::Compiled);
}

/// A core module implementing the world's canonical ABI by hand, as AssemblyScript guests do:
/// `info` returns a pointer to the record, `migrate`/`rollback` a pointer to `ok([])`.
const CORE_MODULE: &str = r#"
(module
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
    (global.set $heap (i32.add (local.get $ptr) (local.get 3)))
    (local.get $ptr))
  (data (i32.const 100) "wat_probe")
  (data (i32.const 120) "things")
  (data (i32.const 200) "\2a\00\00\00\00\00\00\00" "\64\00\00\00\09\00\00\00" "\00\00\00\00\00\00\00\00"
                        "\78\00\00\00\06\00\00\00" "\00\00\00\00\00\00\00\00")
  (func (export "info") (result i32) (i32.const 200))
  (func (export "migrate") (param i32 i32 i32 i32) (result i32) (i32.const 300))
  (func (export "rollback") (param i32 i32 i32 i32) (result i32) (i32.const 300))
  (func (export "cabi_post_migrate") (param i32) (global.set $heap (i32.const 1024)))
)"#;

#[test]
fn core_modules_are_wrapped_into_components() {
    let runtime = Runtime::new(limits(), 1).unwrap();
    let bytes = wat::parse_str(CORE_MODULE).unwrap();
    let migration = Arc::new(engine::load_bytes(&runtime, &bytes, None).unwrap());
    assert_eq!(migration.kind, ModuleKind::CoreModule);
    assert_eq!(
        (
            migration.info.number,
            migration.info.name.as_str(),
            migration.info.table.as_str()
        ),
        (42, "wat_probe", "things")
    );
    let jobs = (0..100u32)
        .map(|n| Job {
            tag: n,
            item: hostile_item("x", "echo"),
        })
        .collect();
    let results: Vec<_> = run_pool(migration, 1, jobs)
        .into_iter()
        .map(|o| o.result.map(|a| a.len()))
        .collect();
    assert_eq!(results, vec![Ok(0); 100]);
}

#[test]
fn modules_of_another_shape_are_refused_with_one_line() {
    let runtime = Runtime::new(limits(), 1).unwrap();
    let error = |bytes: &[u8]| {
        format!(
            "{:#}",
            engine::load_bytes(&runtime, bytes, None)
                .err()
                .expect("refused")
        )
    };
    assert_eq!(error(b"hello"), "not a WebAssembly file (no wasm header)");
    let other_world = wat::parse_str(r#"(module (func (export "frobnicate")))"#).unwrap();
    assert!(
        error(&other_world).starts_with("core module does not implement the drift:migration world")
    );
    let foreign_component =
        wat::parse_str(r#"(component (import "wasi:foo/bar" (func)))"#).unwrap();
    assert!(
        error(&foreign_component).starts_with("the module is not a drift:migration component"),
        "{}",
        error(&foreign_component)
    );
}

#[test]
fn dropping_a_pool_midway_stops_its_workers_and_feeder() {
    // The consumer gives up after one outcome (as `exec | head` does) while a feeder still
    // has thousands of items to send: dropping the pool must not hang.
    let runtime = Runtime::new(limits(), 2).unwrap();
    let migration = Arc::new(engine::load(&runtime, &guest("drift_test_guests"), None).unwrap());
    let context = GuestContext {
        tables: migration.tables(None),
        store: None,
        schemas: None,
    };
    let mut pool: Pool<u32> = Pool::start(migration, Operation::Migrate, 2, context);
    let sender = pool.sender();
    pool.close();
    let feeder = std::thread::spawn(move || {
        (0..10_000u32)
            .take_while(|&n| {
                sender
                    .send(vec![Job {
                        tag: n,
                        item: hostile_item("x", "echo"),
                    }])
                    .is_ok()
            })
            .count()
    });
    pool.outcomes().recv().unwrap();
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        drop(pool);
        done.send(feeder.join().unwrap()).unwrap();
    });
    let sent = finished
        .recv_timeout(Duration::from_secs(30))
        .expect("dropping the pool hung");
    assert!(sent < 10_000, "the feeder was stopped early ({sent} sent)");
}
