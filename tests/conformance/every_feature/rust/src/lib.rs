//! `every_feature`, the conformance migration in Rust: see `../README.md`, which every language's
//! version follows to the letter.

use drift_sdk::prelude::*;
use drift_sdk::{db, log};

/// The `every_feature` migration.
pub struct EveryFeature;

const TABLE: &str = "things";
const COPY: &str = "things_copy";
const INDEX: &str = "things_index";
const STATS: &str = "things_stats";

/// The map every migrated item gets as `summary`: one value of each type.
fn summary() -> Item {
    let deep = Item::new().with("deep", vec![Value::Bool(false), Value::Null]);
    Item::new()
        .with("s", "")
        .with(
            "n",
            Value::N("12345678901234567890123456789012345678".into()),
        )
        .with("neg", Value::N("-0.000123".into()))
        .with("b", vec![0u8, 1, 2, 255])
        .with("empty_b", Vec::<u8>::new())
        .with("t", true)
        .with("nil", Value::Null)
        .with("ss", Value::Ss(vec!["red".into(), "green".into()]))
        .with("ns", Value::Ns(vec!["1".into(), "2.5".into(), "-3".into()]))
        .with("bs", Value::Bs(vec![vec![1], vec![2, 3]]))
        .with(
            "l",
            vec![Value::from("one"), Value::N("2".into()), deep.into()],
        )
        .with(
            "m",
            Item::new()
                .with("empty", "")
                .with("nested", Item::new().with("x", 1)),
        )
}

/// The item's `pk` and its key.
fn key_of(item: &Item) -> Result<(String, Item), Error> {
    let key = item.key(&["pk"])?;
    let pk = match key.get("pk") {
        Some(Value::S(pk)) => pk.clone(),
        _ => return Err("item's `pk` is not a string".into()),
    };
    Ok((pk, key))
}

fn stats_update(placeholder: &str, by: i64) -> Update {
    let mut change = update(Item::new().with("pk", "total"));
    change
        .table(STATS)
        .expression(format!("ADD #count {placeholder}"))
        .name("#count", "count")
        .value(placeholder, by);
    change
}

impl Migration for EveryFeature {
    fn info() -> Info {
        Info::new(7, "every_feature", TABLE)
            .description(
                "Conformance: every value type, every action kind, conditions, other tables, \
                 an error, an immediate get-item and logs.",
            )
            .other_table(COPY)
            .other_table(INDEX)
            .other_table(STATS)
    }

    fn migrate(item: Item) -> Result<Vec<Action>, Error> {
        let (pk, key) = key_of(&item)?;
        if item.contains("poison") {
            log::error(&format!("poisoned item {pk}"));
            return Err(format!("item {pk} is poisoned").into());
        }
        if item.contains("summary") {
            return Ok(vec![]);
        }
        log::info(&format!("migrate {pk}: {} attributes", item.len()));
        let entry = match db::get_item(INDEX, &key) {
            Ok(entry) => entry,
            Err(_) => {
                log::warn(&format!("index lookup unavailable for {pk}"));
                None
            }
        };

        let mut change = update(key.clone());
        change.set("summary", summary()).set(
            "types",
            item.iter()
                .map(|(_, value)| Value::from(value.type_name()))
                .collect::<Vec<_>>(),
        );
        if let Some(Value::S(city)) = item.path("profile.city") {
            change.set("profile.city_label", format!("city of {city}"));
        }
        if let Some(first) = item.path("scores[0]") {
            change.set("first_score", first.clone());
        }
        if let Some(note) = item.get("note") {
            change
                .set("archive", Item::new().with("note", note.clone()))
                .remove("note");
        }
        if let Some(Value::N(_)) = item.get("visits") {
            change.add("visits", 1);
        }
        change.add("labels", Value::Ss(vec!["v3".into()]));
        if let Some(entry) = &entry {
            change.set("index_entry", entry.clone());
        }
        change
            .condition("attribute_not_exists(#summary)")
            .name("#summary", "summary");

        let mut copy = put(item.clone().with("copied_from", TABLE));
        copy.table(COPY)
            .condition("attribute_not_exists(#pk)")
            .name("#pk", "pk");

        let mut stats = stats_update(":one", 1);
        stats.upsert();

        let mut actions: Vec<Action> = vec![change.into(), copy.into(), stats.into()];
        if entry.is_some() {
            let mut unindex = delete(key);
            unindex
                .table(INDEX)
                .condition("#state = :state")
                .name("#state", "state")
                .value(":state", "active");
            actions.push(unindex.into());
        }
        Ok(actions)
    }

    fn rollback(item: Item) -> Result<Vec<Action>, Error> {
        if !item.contains("summary") {
            return Ok(vec![]);
        }
        let (pk, key) = key_of(&item)?;
        log::info(&format!("rollback {pk}"));

        let mut change = update(key.clone());
        change.remove("summary").remove("types");
        if item.path("profile.city_label").is_some() {
            change.remove("profile.city_label");
        }
        if item.contains("first_score") {
            change.remove("first_score");
        }
        if let Some(note) = item.path("archive.note") {
            change.set("note", note.clone()).remove("archive");
        }
        if let Some(Value::N(_)) = item.get("visits") {
            change.add("visits", -1);
        }
        change.delete_from_set("labels", Value::Ss(vec!["v3".into()]));
        let entry = match item.get("index_entry") {
            Some(Value::M(entry)) => Some(entry.clone()),
            _ => None,
        };
        if entry.is_some() {
            change.remove("index_entry");
        }
        change
            .condition("attribute_exists(#summary)")
            .name("#summary", "summary");

        let mut uncopy = delete(key);
        uncopy
            .table(COPY)
            .condition("attribute_exists(#pk)")
            .name("#pk", "pk");

        let mut actions: Vec<Action> = vec![
            change.into(),
            uncopy.into(),
            stats_update(":minus_one", -1).into(),
        ];
        if let Some(entry) = entry {
            let mut reindex = put(entry);
            reindex
                .table(INDEX)
                .condition("attribute_not_exists(#pk)")
                .name("#pk", "pk");
            actions.push(reindex.into());
        }
        Ok(actions)
    }
}

drift_sdk::export_migration!(EveryFeature);
