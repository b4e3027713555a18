//! Tests of declared tables against existing ones.

use super::*;
use crate::project::config::ProjectFile;

fn declared() -> BTreeMap<String, TableDeclaration> {
    ProjectFile::parse(
        r#"
[tables.aaa]
partition_key = "id:S"
ttl = "expires"
[[tables.aaa.indexes]]
name = "by_x"
partition_key = "x:N"
projection = ["p", "q"]
[tables.bbb]
partition_key = "pk:S"
sort_key = "sk:N"
"#,
    )
    .unwrap()
    .tables
}

fn as_existing(declaration: &TableDeclaration) -> ExistingTable {
    ExistingTable {
        partition_key: declaration.partition_key.clone(),
        sort_key: declaration.sort_key.clone(),
        billing: declaration.billing,
        ttl: declaration.ttl.clone(),
        indexes: declaration.indexes.clone(),
        local_indexes: declaration.local_indexes.clone(),
    }
}

#[test]
fn nothing_to_do_when_all_match() {
    let declared = declared();
    let existing = declared
        .iter()
        .map(|(n, d)| (n.clone(), Some(as_existing(d))))
        .collect();
    assert!(changes(&declared, &existing, &BTreeSet::new()).is_empty());
}

#[test]
fn every_difference_is_found() {
    let declared = declared();
    let mut a = as_existing(&declared["aaa"]);
    a.indexes.clear();
    a.ttl = None;
    a.billing = Billing::Provisioned(Throughput { read: 1, write: 1 });
    let mut b = as_existing(&declared["bbb"]);
    b.sort_key = None;
    b.indexes.push(declared["aaa"].indexes[0].clone());
    let existing = [
        ("aaa".to_owned(), Some(a)),
        ("bbb".to_owned(), Some(b)),
        ("old".to_owned(), Some(as_existing(&declared["bbb"]))),
    ]
    .into();
    let managed = ["old".to_owned(), "gone".to_owned()].into();
    let found = changes(&declared, &existing, &managed);
    let lines: Vec<String> = found.iter().map(Change::describe).collect();
    assert_eq!(
        lines,
        [
            "aaa: global index `by_x` missing; add it",
            "aaa: TTL is off; set it on `expires`",
            "aaa: billing is provisioned:1,1; switch it to on-demand",
            "bbb: key schema is (pk:S), declared (pk:S, sk:N) (cannot change in place; left as it is)",
            "bbb: global index `by_x` exists but is not declared (cannot change in place; left as it is)",
            "old: created by this project but no longer declared (delete it with --prune --confirm old)",
        ]
    );
    let missing = [("aaa".to_owned(), None)].into();
    let found = changes(&declared, &missing, &BTreeSet::new());
    assert_eq!(
        found,
        [
            Change::Create {
                table: "aaa".into()
            },
            Change::Create {
                table: "bbb".into()
            }
        ]
    );
}

#[test]
fn include_projections_compare_as_sets() {
    let declared = declared();
    let mut a = as_existing(&declared["aaa"]);
    a.indexes[0].projection = Projection::Include(vec!["q".into(), "p".into()]);
    let existing = [
        ("aaa".to_owned(), Some(a)),
        ("bbb".to_owned(), Some(as_existing(&declared["bbb"]))),
    ]
    .into();
    assert!(changes(&declared, &existing, &BTreeSet::new()).is_empty());
}
