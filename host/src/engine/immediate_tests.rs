//! The `dynamodb` import alone: a view onto a context with a recording store, no sandbox.

use std::sync::Mutex;

use wasmtime::component::Linker;
use wasmtime::Engine;

use super::*;
use crate::model::item::Value;

/// A store that records what it was asked and answers from `items` (own table only).
#[derive(Default)]
struct Recording {
    calls: Mutex<Vec<String>>,
    items: Vec<Item>,
    pause: Duration,
}

impl TableStore for Recording {
    fn get_item(&self, table: &str, key: &Item) -> DbResult<Option<Item>> {
        std::thread::sleep(self.pause);
        self.calls
            .lock()
            .unwrap()
            .push(format!("get {table} {key:?}"));
        Ok(self
            .items
            .iter()
            .find(|item| {
                key.iter()
                    .all(|(name, value)| item.get(name) == Some(value))
            })
            .cloned())
    }

    fn write(
        &self,
        table: &str,
        write: ImmediateWrite,
        expressions: WriteExpressions,
    ) -> DbResult<()> {
        self.calls
            .lock()
            .unwrap()
            .push(format!("write {table} {write:?} {expressions:?}"));
        match expressions.condition.as_deref() {
            Some("attribute_not_exists(id)") => Err(DbError::ConditionalCheckFailed),
            _ => Ok(()),
        }
    }

    fn query(&self, query: &ImmediateQuery) -> DbResult<QueryPage> {
        self.calls.lock().unwrap().push(format!("query {query:?}"));
        Ok(QueryPage {
            items: self.items.clone(),
            last_key: self.items.last().cloned(),
        })
    }
}

fn s(text: &str) -> Value {
    Value::S(text.to_owned())
}

fn key(id: &str) -> Item {
    Item::from(BTreeMap::from([("id".to_owned(), s(id))]))
}

fn context(store: Option<Arc<Recording>>) -> GuestContext {
    GuestContext {
        tables: Tables::new("users", ["audit".to_owned()]).with_own(Some("users_live")),
        store: store.map(|s| s as Arc<dyn TableStore>),
        schemas: None,
    }
}

fn attributes(values: &Item) -> wit::ExpressionAttributes {
    wit::ExpressionAttributes {
        names: vec![("#n".into(), "name".into())],
        values: arena::encode(values),
    }
}

fn query_input(limit: Option<u32>) -> QueryInput {
    QueryInput {
        table: "audit".into(),
        index: Some("by_day".into()),
        key_condition: "#n = :v".into(),
        filter: None,
        attributes: attributes(&Item::from(BTreeMap::from([(":v".to_owned(), s("x"))]))),
        exclusive_start_key: Some(arena::encode(&key("u0"))),
        limit,
        descending: true,
    }
}

#[test]
fn without_a_store_every_operation_is_refused() {
    let context = context(None);
    let mut guest = OnlyDb::new(context);
    let mut view = guest.db();
    let refused = |result: DbResult<()>| match result {
        Err(DbError::Refused(why)) => assert!(why.contains("not available offline"), "{why}"),
        other => panic!("{other:?}"),
    };
    refused(wit_db::Host::get_item(&mut view, "users".into(), arena::encode(&key("u1"))).map(drop));
    refused(wit_db::Host::put_item(
        &mut view,
        "users".into(),
        arena::encode(&key("u1")),
        None,
        attributes(&Item::new()),
    ));
    refused(wit_db::Host::query(&mut view, query_input(None)).map(drop));
}

#[test]
fn tables_resolve_as_declared_and_others_are_refused() {
    let store = Arc::new(Recording {
        items: vec![Item::from(BTreeMap::from([
            ("id".to_owned(), s("u1")),
            ("n".to_owned(), s("Ada")),
        ]))],
        ..Recording::default()
    });
    let context = context(Some(store.clone()));
    let mut guest = OnlyDb::new(context);
    let mut view = guest.db();
    // The migration's declared table is the run's own table (`--table users_live`).
    let found = wit_db::Host::get_item(&mut view, "users".into(), arena::encode(&key("u1")))
        .unwrap()
        .map(|item| arena::decode(item).unwrap());
    assert_eq!(found, Some(store.items[0].clone()));
    let missing = wit_db::Host::get_item(&mut view, "audit".into(), arena::encode(&key("u9")));
    assert!(missing.unwrap().is_none());
    match wit_db::Host::get_item(&mut view, "secrets".into(), arena::encode(&key("u1"))) {
        Err(DbError::Refused(why)) => assert!(why.contains("`secrets` is not declared"), "{why}"),
        other => panic!("{other:?}"),
    }
    let calls = store.calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert!(calls[0].starts_with("get users_live "), "{calls:?}");
    assert!(calls[1].starts_with("get audit "), "{calls:?}");
}

#[test]
fn writes_arrive_decoded_with_their_expressions_and_errors_come_back() {
    let store = Arc::new(Recording::default());
    let context = context(Some(store.clone()));
    let mut guest = OnlyDb::new(context);
    let mut view = guest.db();
    let values = Item::from(BTreeMap::from([(":v".to_owned(), s("Ada"))]));
    wit_db::Host::update_item(
        &mut view,
        "users".into(),
        arena::encode(&key("u1")),
        "SET #n = :v".into(),
        Some("attribute_exists(id)".into()),
        attributes(&values),
    )
    .unwrap();
    let put = wit_db::Host::put_item(
        &mut view,
        "audit".into(),
        arena::encode(&key("u1")),
        Some("attribute_not_exists(id)".into()),
        attributes(&Item::new()),
    );
    assert!(
        matches!(put, Err(DbError::ConditionalCheckFailed)),
        "{put:?}"
    );
    wit_db::Host::delete_item(
        &mut view,
        "audit".into(),
        arena::encode(&key("u2")),
        None,
        attributes(&Item::new()),
    )
    .unwrap();
    let calls = store.calls.lock().unwrap().clone();
    let expected_update = format!(
        "write users_live {:?} {:?}",
        ImmediateWrite::Update(key("u1"), "SET #n = :v".into()),
        WriteExpressions {
            condition: Some("attribute_exists(id)".into()),
            names: BTreeMap::from([("#n".to_owned(), "name".to_owned())]),
            values,
        }
    );
    assert_eq!(calls[0], expected_update);
    assert!(calls[1].starts_with("write audit Put("), "{calls:?}");
    assert!(calls[2].starts_with("write audit Delete("), "{calls:?}");
}

#[test]
fn queries_have_their_page_size_bounded_and_pages_come_back_encoded() {
    let store = Arc::new(Recording {
        items: vec![key("a"), key("b")],
        ..Recording::default()
    });
    let context = context(Some(store.clone()));
    let mut guest = OnlyDb::new(context);
    let mut view = guest.db();
    for (asked, sent) in [
        (None, MAX_QUERY_PAGE),
        (Some(0), 1),
        (Some(7), 7),
        (Some(5000), 1000),
    ] {
        let page = wit_db::Host::query(&mut view, query_input(asked)).unwrap();
        assert_eq!(page.items.len(), 2);
        assert_eq!(
            page.last_evaluated_key.map(|k| arena::decode(k).unwrap()),
            Some(key("b"))
        );
        let last = store.calls.lock().unwrap().last().cloned().unwrap();
        assert!(
            last.contains(&format!("limit: {sent} ")),
            "{asked:?}: {last}"
        );
    }
    let last = store.calls.lock().unwrap().last().cloned().unwrap();
    for part in [
        "table: \"audit\"",
        "index: Some(\"by_day\")",
        "descending: true",
        "\"#n\": \"name\"",
    ] {
        assert!(last.contains(part), "{part}: {last}");
    }
}

#[test]
fn a_malformed_arena_is_refused_before_the_store_is_asked() {
    let store = Arc::new(Recording::default());
    let context = context(Some(store.clone()));
    let mut guest = OnlyDb::new(context);
    let mut view = guest.db();
    let broken = wit::Item {
        nodes: vec![],
        attributes: vec![("id".into(), 3)],
    };
    match wit_db::Host::get_item(&mut view, "users".into(), broken) {
        Err(DbError::Refused(why)) => assert!(why.starts_with("key: "), "{why}"),
        other => panic!("{other:?}"),
    }
    assert!(store.calls.lock().unwrap().is_empty());
}

#[test]
fn time_in_the_store_is_counted_as_blocked() {
    let store = Arc::new(Recording {
        pause: Duration::from_millis(20),
        ..Recording::default()
    });
    let context = context(Some(store));
    let mut guest = OnlyDb::new(context);
    let mut view = guest.db();
    for _ in 0..2 {
        wit_db::Host::get_item(&mut view, "users".into(), arena::encode(&key("u1"))).unwrap();
    }
    assert!(
        guest.blocked >= Duration::from_millis(40),
        "{:?}",
        guest.blocked
    );
}

/// Store data that carries only the import.
struct OnlyDb {
    context: GuestContext,
    blocked: Duration,
}

impl OnlyDb {
    fn new(context: GuestContext) -> OnlyDb {
        OnlyDb {
            context,
            blocked: Duration::ZERO,
        }
    }
}

impl DbImportView for OnlyDb {
    fn db(&mut self) -> DbView<'_> {
        DbView {
            context: &self.context,
            blocked: &mut self.blocked,
        }
    }
}

#[test]
fn the_import_links_on_its_own() {
    let engine = Engine::default();
    let mut linker: Linker<OnlyDb> = Linker::new(&engine);
    add_to_linker(&mut linker).unwrap();
    // Twice is a duplicate definition: the import was really defined.
    assert!(add_to_linker(&mut linker).is_err());
}
