//! The AssemblyScript SDK's canonical-ABI glue lays values out by hand, with the sizes and
//! offsets of `guest-sdk/assemblyscript/assembly/layout.ts`. This test computes every one of
//! them from `wit/` with wit-parser's `SizeAlign` (wasm32), so that a change to the world cannot
//! leave the glue behind: each constant must be what the WIT gives, and each must be checked.

use std::collections::BTreeMap;
use std::path::PathBuf;

use wit_parser::{Function, Int, Resolve, SizeAlign, Type, TypeDefKind, TypeId, WorldItem};

/// The world, its sizes, and a lookup of its named types.
struct World {
    resolve: Resolve,
    sizes: SizeAlign,
}

impl World {
    fn load() -> World {
        let mut resolve = Resolve::new();
        let wit = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../wit/migration.wit");
        resolve.push_file(&wit).expect("wit/migration.wit parses");
        let mut sizes = SizeAlign::default();
        sizes.fill(&resolve).expect("sizes of the world's types");
        World { resolve, sizes }
    }

    fn named(&self, name: &str) -> TypeId {
        self.resolve
            .types
            .iter()
            .find(|(_, def)| def.name.as_deref() == Some(name))
            .map(|(id, _)| id)
            .unwrap_or_else(|| panic!("no type `{name}` in the world"))
    }

    fn size(&self, ty: &Type) -> usize {
        self.sizes.size(ty).size_wasm32()
    }

    fn size_of(&self, name: &str) -> usize {
        self.size(&Type::Id(self.named(name)))
    }

    /// The offset of field `field` of record `record`.
    fn field(&self, record: &str, field: &str) -> usize {
        let TypeDefKind::Record(fields) = &self.resolve.types[self.named(record)].kind else {
            panic!("`{record}` is not a record")
        };
        let index = fields.fields.iter().position(|f| f.name == field);
        let index = index.unwrap_or_else(|| panic!("`{record}` has no field `{field}`"));
        let offsets = self
            .sizes
            .field_offsets(fields.fields.iter().map(|f| &f.ty));
        offsets[index].0.size_wasm32()
    }

    /// The offset of a variant's (option's, result's) payload, behind its tag.
    fn payload(&self, ty: &Type) -> usize {
        let cases: Vec<Option<Type>> = match &self.resolve.types[type_id(ty)].kind {
            TypeDefKind::Variant(v) => v.cases.iter().map(|c| c.ty).collect(),
            TypeDefKind::Option(t) => vec![None, Some(*t)],
            TypeDefKind::Result(r) => vec![r.ok, r.err],
            other => panic!("{other:?} has no payload"),
        };
        self.sizes
            .payload_offset(Int::U8, cases.iter().map(Option::as_ref))
            .size_wasm32()
    }

    fn payload_of(&self, name: &str) -> usize {
        self.payload(&Type::Id(self.named(name)))
    }

    fn function(&self, name: &str) -> &Function {
        let interface = self
            .resolve
            .interfaces
            .iter()
            .find(|(_, i)| i.name.as_deref() == Some("dynamodb"))
            .map(|(_, i)| i)
            .expect("the dynamodb interface");
        &interface.functions[name]
    }

    /// The size of a function's parameters laid out in memory, and the offset of each.
    fn params(&self, name: &str) -> (usize, Vec<usize>) {
        let types: Vec<&Type> = self.function(name).params.iter().map(|p| &p.ty).collect();
        let record = self.sizes.record(types.iter().copied());
        let offsets = self.sizes.field_offsets(types.iter().copied());
        (
            record.size.size_wasm32(),
            offsets.iter().map(|(o, _)| o.size_wasm32()).collect(),
        )
    }

    fn result(&self, name: &str) -> Type {
        self.function(name).result.expect("a result")
    }

    /// The type of field `field` of record `record`.
    fn field_type(&self, record: &str, field: &str) -> Type {
        let TypeDefKind::Record(fields) = &self.resolve.types[self.named(record)].kind else {
            panic!("`{record}` is not a record")
        };
        fields.fields.iter().find(|f| f.name == field).unwrap().ty
    }

    /// The type a list or an option holds, or the `ok` of a result.
    fn inner(&self, ty: &Type) -> Type {
        match &self.resolve.types[type_id(ty)].kind {
            TypeDefKind::List(t) | TypeDefKind::Option(t) => *t,
            TypeDefKind::Result(r) => r.ok.expect("an ok type"),
            TypeDefKind::Type(t) => self.inner(t),
            other => panic!("{other:?} holds no one type"),
        }
    }
}

fn type_id(ty: &Type) -> TypeId {
    match ty {
        Type::Id(id) => *id,
        other => panic!("{other:?} is not a defined type"),
    }
}

/// What each constant of layout.ts must be.
fn expected(world: &World) -> BTreeMap<&'static str, usize> {
    let w = world;
    let item = Type::Id(w.named("item"));
    let entry = w.inner(&w.field_type("item", "attributes"));
    let names = w.inner(&w.field_type("expression-attributes", "names"));
    let string_option = w.field_type("put-action", "condition");
    let tuple_second = |ty: &Type| {
        let TypeDefKind::Tuple(t) = &w.resolve.types[type_id(ty)].kind else {
            panic!("not a tuple")
        };
        w.sizes.field_offsets(t.types.iter())[1].0.size_wasm32()
    };
    let (get_size, get) = w.params("get-item");
    let (put_size, put) = w.params("put-item");
    let (delete_size, delete) = w.params("delete-item");
    let (update_size, update) = w.params("update-item");
    assert_eq!(
        (put_size, &put),
        (delete_size, &delete),
        "put-item and delete-item are laid out alike"
    );
    let get_result = w.result("get-item");
    let write_result = w.result("put-item");
    assert_eq!(
        w.size(&write_result),
        w.size(&w.result("update-item")),
        "the write imports share one result"
    );
    let query_result = w.result("query");
    let query_output = w.inner(&query_result);
    let TypeDefKind::Record(output) = &w.resolve.types[type_id(&query_output)].kind else {
        panic!("query-output is a record")
    };
    let output_offsets = w.sizes.field_offsets(output.fields.iter().map(|f| &f.ty));
    let slice_len = w.sizes.field_offsets([&Type::U32, &Type::U32])[1]
        .0
        .size_wasm32();
    let start_key = w.field_type("query-input", "exclusive-start-key");
    let limit = w.field_type("query-input", "limit");
    [
        ("SLICE_SIZE", w.size(&Type::String)),
        ("SLICE_LEN", slice_len),
        ("VALUE_SIZE", w.size_of("value")),
        ("VALUE_PAYLOAD", w.payload_of("value")),
        ("OPTION_STRING_SIZE", w.size(&string_option)),
        ("OPTION_STRING_PAYLOAD", w.payload(&string_option)),
        ("ITEM_SIZE", w.size(&item)),
        ("ITEM_NODES", w.field("item", "nodes")),
        ("ENTRY_SIZE", w.size(&entry)),
        ("ENTRY_NODE", tuple_second(&entry)),
        ("INDEX_SIZE", w.size(&Type::U32)),
        (
            "EXPRESSION_ATTRIBUTES_SIZE",
            w.size_of("expression-attributes"),
        ),
        (
            "EXPRESSION_ATTRIBUTES_VALUES",
            w.field("expression-attributes", "values"),
        ),
        ("NAME_PAIR_SIZE", w.size(&names)),
        ("NAME_PAIR_SECOND", tuple_second(&names)),
        ("PUT_ACTION_ITEM", w.field("put-action", "item")),
        ("PUT_ACTION_CONDITION", w.field("put-action", "condition")),
        ("PUT_ACTION_ATTRIBUTES", w.field("put-action", "attributes")),
        ("UPDATE_ACTION_KEY", w.field("update-action", "key")),
        (
            "UPDATE_ACTION_UPDATE_EXPRESSION",
            w.field("update-action", "update-expression"),
        ),
        (
            "UPDATE_ACTION_CONDITION",
            w.field("update-action", "condition"),
        ),
        (
            "UPDATE_ACTION_ATTRIBUTES",
            w.field("update-action", "attributes"),
        ),
        ("UPDATE_ACTION_UPSERT", w.field("update-action", "upsert")),
        ("ACTION_SIZE", w.size_of("action")),
        ("ACTION_PAYLOAD", w.payload_of("action")),
        ("ACTIONS_RESULT_SIZE", w.size(&w.result_of_export_like())),
        (
            "ACTIONS_RESULT_PAYLOAD",
            w.payload(&w.result_of_export_like()),
        ),
        ("INFO_SIZE", w.size_of("info")),
        ("INFO_NAME", w.field("info", "name")),
        ("INFO_DESCRIPTION", w.field("info", "description")),
        ("INFO_TABLE", w.field("info", "table")),
        ("INFO_OTHER_TABLES", w.field("info", "other-tables")),
        ("DB_ERROR_PAYLOAD", w.payload_of("db-error")),
        ("GET_ITEM_ARGS_SIZE", get_size),
        ("GET_ITEM_ARGS_KEY", get[1]),
        ("GET_ITEM_RESULT_SIZE", w.size(&get_result)),
        ("GET_ITEM_RESULT_PAYLOAD", w.payload(&get_result)),
        (
            "GET_ITEM_RESULT_ITEM",
            w.payload(&get_result) + w.payload(&w.inner(&get_result)),
        ),
        ("WRITE_ARGS_SIZE", put_size),
        ("WRITE_ARGS_ITEM", put[1]),
        ("WRITE_ARGS_CONDITION", put[2]),
        ("WRITE_ARGS_ATTRIBUTES", put[3]),
        ("UNIT_RESULT_SIZE", w.size(&write_result)),
        ("UNIT_RESULT_PAYLOAD", w.payload(&write_result)),
        ("UPDATE_ITEM_ARGS_SIZE", update_size),
        ("UPDATE_ITEM_ARGS_KEY", update[1]),
        ("UPDATE_ITEM_ARGS_UPDATE_EXPRESSION", update[2]),
        ("UPDATE_ITEM_ARGS_CONDITION", update[3]),
        ("UPDATE_ITEM_ARGS_ATTRIBUTES", update[4]),
        ("QUERY_INPUT_SIZE", w.size_of("query-input")),
        ("QUERY_INPUT_INDEX", w.field("query-input", "index")),
        (
            "QUERY_INPUT_KEY_CONDITION",
            w.field("query-input", "key-condition"),
        ),
        ("QUERY_INPUT_FILTER", w.field("query-input", "filter")),
        (
            "QUERY_INPUT_ATTRIBUTES",
            w.field("query-input", "attributes"),
        ),
        ("QUERY_INPUT_LIMIT", w.field("query-input", "limit")),
        (
            "QUERY_INPUT_EXCLUSIVE_START_KEY",
            w.field("query-input", "exclusive-start-key"),
        ),
        (
            "QUERY_INPUT_DESCENDING",
            w.field("query-input", "descending"),
        ),
        ("OPTION_U32_PAYLOAD", w.payload(&limit)),
        ("OPTION_ITEM_PAYLOAD", w.payload(&start_key)),
        ("QUERY_RESULT_SIZE", w.size(&query_result)),
        ("QUERY_RESULT_PAYLOAD", w.payload(&query_result)),
        (
            "QUERY_OUTPUT_LAST_EVALUATED_KEY",
            output_offsets[1].0.size_wasm32(),
        ),
    ]
    .into_iter()
    .collect()
}

impl World {
    /// `result<list<action>, string>`, what `migrate` and `rollback` return.
    fn result_of_export_like(&self) -> Type {
        let world = self
            .resolve
            .worlds
            .iter()
            .find(|(_, w)| w.name == "migration")
            .map(|(_, w)| w)
            .expect("the migration world");
        world
            .exports
            .iter()
            .find_map(|(key, item)| match item {
                WorldItem::Function(f) if self.resolve.name_world_key(key) == "migrate" => f.result,
                _ => None,
            })
            .expect("migrate returns a result")
    }
}

/// The `export const NAME: usize = N;` lines of layout.ts.
fn constants() -> BTreeMap<String, usize> {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../guest-sdk/assemblyscript/assembly/layout.ts");
    let text = std::fs::read_to_string(&file).expect("read layout.ts");
    text.lines()
        .filter_map(|line| line.strip_prefix("export const "))
        .map(|rest| {
            let (name, value) = rest
                .split_once(": usize = ")
                .unwrap_or_else(|| panic!("`{rest}`: not `NAME: usize = N;`"));
            let value = value.trim_end_matches(';').parse().expect("a whole number");
            (name.to_string(), value)
        })
        .collect()
}

#[test]
fn the_assemblyscript_layouts_are_the_wits() {
    let world = World::load();
    let expected = expected(&world);
    let written = constants();
    let unchecked: Vec<&String> = written
        .keys()
        .filter(|name| !expected.contains_key(name.as_str()))
        .collect();
    assert!(
        unchecked.is_empty(),
        "layout.ts constants this test does not check: {unchecked:?}"
    );
    let wrong: Vec<String> = expected
        .iter()
        .filter(|(name, value)| written.get(**name) != Some(value))
        .map(|(name, value)| {
            format!(
                "{name}: layout.ts {:?}, the WIT {value}",
                written.get(*name)
            )
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "layout.ts differs from the WIT:\n{}",
        wrong.join("\n")
    );
}
