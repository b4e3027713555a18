//! The tables a case's guest reads offline: its immediate `get-item` and `query` are answered
//! from the case's input (in the migration's table) and the items the case gives other tables
//! (`given`), in memory. Immediate writes are refused: they are not actions, and a case is
//! about the actions a migration returns.
//!
//! No key schema is known offline, so an item matches a key when it holds every attribute of
//! the key with an equal value (numbers by value), and a query keeps the items on which its
//! key condition and filter hold, in the order given (reversed when descending); `limit`
//! bounds the items read before the filter, and a page that stops early names its last item
//! read as the key the next page starts after.

use std::collections::BTreeMap;

use drift_value::expression::ConditionExpression;

use crate::engine::{
    DbError, DbResult, ImmediateQuery, ImmediateWrite, QueryPage, TableStore, WriteExpressions,
};
use crate::model::item::Item;
use crate::preview::canonical;

/// A case's tables, by name.
#[derive(Debug, Default, Clone)]
pub struct CaseTables {
    tables: BTreeMap<String, Vec<Item>>,
}

impl CaseTables {
    /// `own` holding the case's `input`, and the `given` tables.
    pub fn new(own: &str, input: &[Item], given: &BTreeMap<String, Vec<Item>>) -> CaseTables {
        let mut tables = given.clone();
        tables.insert(own.to_owned(), input.to_vec());
        CaseTables { tables }
    }

    fn items(&self, table: &str) -> &[Item] {
        self.tables.get(table).map_or(&[], Vec::as_slice)
    }
}

/// Whether `item` holds every attribute of `key`, numbers compared by value (only the key's
/// attributes are put in canonical form, not the whole item).
fn matches(item: &Item, key: &Item) -> bool {
    key.iter().all(|(name, value)| {
        item.get(name)
            .is_some_and(|held| canonical(held) == canonical(value))
    })
}

/// DynamoDB's answer to an expression it cannot read.
fn invalid(what: &str, why: String) -> DbError {
    DbError::Failed(format!("ValidationException: Invalid {what}: {why}"))
}

impl TableStore for CaseTables {
    fn get_item(&self, table: &str, key: &Item) -> DbResult<Option<Item>> {
        Ok(self
            .items(table)
            .iter()
            .find(|item| matches(item, key))
            .cloned())
    }

    fn write(&self, _: &str, _: ImmediateWrite, _: WriteExpressions) -> DbResult<()> {
        Err(DbError::Refused(
            "immediate writes are not applied offline (drift-host test): they need a run".into(),
        ))
    }

    fn query(&self, query: &ImmediateQuery) -> DbResult<QueryPage> {
        let key_condition = ConditionExpression::parse(&query.key_condition)
            .map_err(|e| invalid("KeyConditionExpression", e))?;
        let filter = query
            .filter
            .as_deref()
            .map(ConditionExpression::parse)
            .transpose()
            .map_err(|e| invalid("FilterExpression", e))?;
        let holds = |condition: &ConditionExpression, item: &Item, what: &str| {
            condition
                .holds(Some(item), &query.names, &query.values)
                .map_err(|e| invalid(what, e))
        };
        let mut items: Vec<&Item> = self.items(&query.table).iter().collect();
        if query.descending {
            items.reverse();
        }
        if let Some(start) = &query.start {
            if let Some(at) = items.iter().position(|item| matches(item, start)) {
                items.drain(..=at);
            }
        }
        // As DynamoDB: `limit` bounds the items read (those the key condition selects), the
        // filter drops some of them after, and a page that stops early names its last read.
        let mut selected = Vec::new();
        for item in items {
            if holds(&key_condition, item, "KeyConditionExpression")? {
                selected.push(item);
            }
        }
        let limit = query.limit as usize;
        let mut page = QueryPage::default();
        for item in selected.iter().take(limit) {
            if let Some(filter) = &filter {
                if !holds(filter, item, "FilterExpression")? {
                    continue;
                }
            }
            page.items.push((*item).clone());
        }
        if selected.len() > limit {
            page.last_key = Some(selected[limit - 1].clone());
        }
        Ok(page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::item::Value;

    fn item(pairs: &[(&str, Value)]) -> Item {
        pairs
            .iter()
            .map(|(name, value)| (name.to_string(), value.clone()))
            .collect()
    }

    fn s(text: &str) -> Value {
        Value::S(text.to_owned())
    }

    fn n(text: &str) -> Value {
        Value::N(text.to_owned())
    }

    fn tables() -> CaseTables {
        let input = [
            item(&[("id", s("u1")), ("n", n("1.50"))]),
            item(&[("id", s("u2"))]),
        ];
        let audit: Vec<Item> = (0..5)
            .map(|i| {
                item(&[
                    ("user", s(if i % 2 == 0 { "u1" } else { "u2" })),
                    ("at", n(&i.to_string())),
                ])
            })
            .collect();
        CaseTables::new("users", &input, &BTreeMap::from([("audit".into(), audit)]))
    }

    fn query(table: &str, limit: u32, start: Option<Item>, descending: bool) -> ImmediateQuery {
        ImmediateQuery {
            table: table.into(),
            index: None,
            key_condition: "#u = :u".into(),
            filter: Some("#at >= :min".into()),
            names: BTreeMap::from([("#u".into(), "user".into()), ("#at".into(), "at".into())]),
            values: item(&[(":u", s("u1")), (":min", n("1"))]),
            start,
            descending,
            limit,
        }
    }

    #[test]
    fn get_item_finds_the_item_holding_the_key_numbers_by_value() {
        let tables = tables();
        let found = tables.get_item("users", &item(&[("id", s("u1"))])).unwrap();
        assert_eq!(found.unwrap()["n"], n("1.50"));
        let by_number = tables
            .get_item("users", &item(&[("id", s("u1")), ("n", n("1.5"))]))
            .unwrap();
        assert!(by_number.is_some());
        assert!(tables
            .get_item("users", &item(&[("id", s("u3"))]))
            .unwrap()
            .is_none());
        assert!(tables
            .get_item("elsewhere", &item(&[("id", s("u1"))]))
            .unwrap()
            .is_none());
    }

    #[test]
    fn a_query_keeps_what_its_key_condition_and_filter_hold_on_page_by_page() {
        let tables = tables();
        let all = tables.query(&query("audit", 100, None, false)).unwrap();
        let ats: Vec<&Value> = all.items.iter().map(|i| &i["at"]).collect();
        assert_eq!(ats, [&n("2"), &n("4")]);
        assert_eq!(all.last_key, None);
        // Pages of one item read: the first one's (at 0) is filtered out, yet the page names
        // it as where the next starts; the last page names none.
        let first = tables.query(&query("audit", 1, None, false)).unwrap();
        assert!(first.items.is_empty());
        assert_eq!(first.last_key.as_ref().map(|k| &k["at"]), Some(&n("0")));
        let (mut seen, mut pages) = (Vec::new(), 1);
        let mut next = first;
        while let Some(start) = next.last_key.clone() {
            next = tables
                .query(&query("audit", 1, Some(start), false))
                .unwrap();
            seen.extend(next.items.clone());
            pages += 1;
        }
        assert_eq!(seen, all.items);
        assert_eq!(pages, 3);
        let down = tables.query(&query("audit", 100, None, true)).unwrap();
        let ats: Vec<&Value> = down.items.iter().map(|i| &i["at"]).collect();
        assert_eq!(ats, [&n("4"), &n("2")]);
    }

    #[test]
    fn unreadable_expressions_fail_and_writes_are_refused() {
        let tables = tables();
        let mut bad = query("audit", 10, None, false);
        bad.key_condition = "#u = ".into();
        assert!(matches!(
            tables.query(&bad),
            Err(DbError::Failed(why)) if why.contains("KeyConditionExpression")
        ));
        let mut undefined = query("audit", 10, None, false);
        undefined.values = Item::new();
        assert!(tables.query(&undefined).is_err());
        let write = ImmediateWrite::Delete(item(&[("id", s("u1"))]));
        assert!(matches!(
            tables.write("users", write, WriteExpressions::default()),
            Err(DbError::Refused(_))
        ));
    }
}
