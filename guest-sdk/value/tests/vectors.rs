//! The SDKs' shared vectors, `guest-sdk/vectors/sdk.json`: what the Rust SDK gives for document
//! paths, update placeholders, item sizes, numbers from floats, floats from number texts,
//! lowercasing and item arenas. The Python, TypeScript and C SDKs' tests read the file (C through
//! a header `guest-sdk/c/tools/vectors_h.py` writes from it) and must give the same; this test
//! checks that the file is what the Rust SDK gives today.
//!
//! After a deliberate change: `DRIFT_UPDATE_VECTORS=1 cargo test -p drift-value --test vectors`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use drift_value::arena::{self, Node};
use drift_value::expression::{ExpressionAttributes, UpdateBuilder};
use drift_value::path::{Path, Segment};
use drift_value::{Item, Value};
use serde_json::{json, Value as Json};

/// xorshift64*: the same vectors on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, choices: &'a [T]) -> &'a T {
        &choices[self.below(choices.len())]
    }
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().fold(0u32, |n, b| n << 8 | *b as u32) << (8 * (3 - chunk.len()));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A value in DynamoDB JSON.
fn dynamo_json(value: &Value) -> Json {
    match value {
        Value::S(s) => json!({ "S": s }),
        Value::N(n) => json!({ "N": n }),
        Value::B(b) => json!({ "B": base64(b) }),
        Value::Bool(b) => json!({ "BOOL": b }),
        Value::Null => json!({ "NULL": true }),
        Value::Ss(set) => json!({ "SS": set }),
        Value::Ns(set) => json!({ "NS": set }),
        Value::Bs(set) => json!({ "BS": set.iter().map(|b| base64(b)).collect::<Vec<_>>() }),
        Value::L(list) => json!({ "L": list.iter().map(dynamo_json).collect::<Vec<_>>() }),
        Value::M(map) => json!({ "M": item_json(map) }),
    }
}

fn item_json(item: &Item) -> Json {
    Json::Object(
        item.iter()
            .map(|(name, value)| (name.clone(), dynamo_json(value)))
            .collect(),
    )
}

const NAMES: &[&str] = &[
    "a", "b", "id", "email", "x1", "name", "é", "🦀", "a.b", "drift0", "#drift", "σ", "Z", "",
];

fn any_value(rng: &mut Rng, depth: u32) -> Value {
    let kinds = if depth == 0 { 8 } else { 10 };
    match rng.below(kinds) {
        0 => Value::S(rng.pick(&["", "x", "ünï", "a\"b\\c\n", "🦀🦀"]).to_string()),
        1 => Value::N(
            rng.pick(&["0", "-1.5", "12345678901234567890", "1E+3", "0.001"])
                .to_string(),
        ),
        2 => Value::B((0..rng.below(5)).map(|i| (i * 77) as u8).collect()),
        3 => Value::Bool(rng.below(2) == 0),
        4 => Value::Null,
        5 => Value::Ss(vec!["red".into(), "grün".into()][..1 + rng.below(2)].to_vec()),
        6 => Value::Ns(vec!["1".into(), "2.5".into(), "-3".into()][..1 + rng.below(3)].to_vec()),
        7 => Value::Bs(vec![vec![1], vec![2, 3]][..1 + rng.below(2)].to_vec()),
        8 => Value::L(
            (0..rng.below(4))
                .map(|_| any_value(rng, depth - 1))
                .collect(),
        ),
        _ => Value::M(any_item(rng, depth - 1, 3)),
    }
}

fn any_item(rng: &mut Rng, depth: u32, most: usize) -> Item {
    let mut item = Item::new();
    for _ in 0..rng.below(most + 1) {
        let name = rng.pick(NAMES).to_string();
        item.insert(name, any_value(rng, depth));
    }
    item
}

fn paths(rng: &mut Rng) -> Json {
    let mut texts: Vec<String> = [
        "a",
        "a.b",
        "a.b[0].c",
        "a[0][12]",
        "a[+01].b",
        "a[+]",
        "a[1000000000]",
        "a[4294967295]",
        "tags[3]",
        "é.ü[10]",
        "a..b",
        "",
        ".a",
        "a.",
        "[0]",
        "a[",
        "a[]",
        "a[x]",
        "a[-1]",
        "a]",
        "a[1]b",
        "a[18446744073709551616]",
        "a b",
        "#a",
        ":v",
        "a\"b",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let pieces = ["a", "bc", ".", "[", "]", "0", "12", "é", "_", " ", "-"];
    for _ in 0..120 {
        texts.push((0..1 + rng.below(6)).map(|_| *rng.pick(&pieces)).collect());
    }
    Json::Array(
        texts
            .into_iter()
            .map(|text| match Path::parse(&text) {
                Ok(path) => {
                    let segments: Vec<Json> = path
                        .segments()
                        .iter()
                        .map(|segment| match segment {
                            Segment::Name(name) => json!({ "name": name }),
                            Segment::Index(index) => json!({ "index": index }),
                        })
                        .collect();
                    json!({ "text": text, "segments": segments })
                }
                Err(error) => json!({ "text": text, "error": error.to_string() }),
            })
            .collect(),
    )
}

fn updates(rng: &mut Rng) -> Json {
    let paths = [
        "a",
        "b",
        "a.b",
        "a.c[3]",
        "x1",
        "profile.city",
        "tags",
        "n",
        "é.ü",
        "list[0]",
        "σ",
    ];
    let mut cases = Vec::new();
    for _ in 0..150 {
        let mut builder = UpdateBuilder::new();
        let mut placeholders = ExpressionAttributes::default();
        let mut ops = Vec::new();
        for _ in 0..1 + rng.below(12) {
            // Now and then a path that does not parse: the update fails.
            let path = if rng.below(40) == 0 {
                "a..b"
            } else {
                *rng.pick(&paths)
            };
            match rng.below(4) {
                0 => {
                    let value = any_value(rng, 2);
                    ops.push(json!(["set", path, dynamo_json(&value)]));
                    builder.set(&mut placeholders, path, value);
                }
                1 => {
                    ops.push(json!(["remove", path]));
                    builder.remove(&mut placeholders, path);
                }
                2 => {
                    let value = if rng.below(2) == 0 {
                        Value::N(rng.pick(&["1", "-2.5"]).to_string())
                    } else {
                        Value::Ss(vec!["x".into()])
                    };
                    ops.push(json!(["add", path, dynamo_json(&value)]));
                    builder.add(&mut placeholders, path, value);
                }
                _ => {
                    let value = Value::Ss(vec!["old".into()]);
                    ops.push(json!(["delete", path, dynamo_json(&value)]));
                    builder.delete(&mut placeholders, path, value);
                }
            }
        }
        let case = match builder.build() {
            Ok(expression) => json!({
                "ops": ops,
                "expression": expression.to_string(),
                "names": placeholders.names,
                "values": item_json(&placeholders.values),
            }),
            Err(error) => json!({ "ops": ops, "error": error }),
        };
        cases.push(case);
    }
    Json::Array(cases)
}

fn sizes(rng: &mut Rng) -> Json {
    Json::Array(
        (0..120)
            .map(|_| {
                let item = any_item(rng, 3, 6);
                json!({ "item": item_json(&item), "size": item.size() })
            })
            .collect(),
    )
}

/// Floats worth writing: edges of the format, powers, random bits, short decimals; each with
/// its negation.
fn floats(rng: &mut Rng) -> Vec<f64> {
    let mut floats = vec![
        0.0,
        0.1,
        0.2,
        0.3,
        1.0 / 3.0,
        1.5,
        2.0,
        100.0,
        1e15,
        1e16,
        1e20,
        1e21,
        1e22,
        1e23,
        1e-6,
        1e-7,
        123456789.125,
        5e-324,
        f64::MIN_POSITIVE,
        f64::MAX,
        f64::EPSILON,
        9007199254740993.0,
        2f64.powi(-1022),
        2f64.powi(-1021),
        2f64.powi(60),
        2f64.powi(-60),
        1e300,
        1e-300,
        4.35,
        0.7,
        299792458.0,
        6.02214076e23,
        // The largest subnormal.
        f64::from_bits(0x000f_ffff_ffff_ffff),
    ];
    for e in -8..8 {
        floats.push(2f64.powi(e * 25));
        floats.push(10f64.powi(e * 7));
    }
    for _ in 0..100 {
        // Short decimals, the usual numbers of items.
        floats.push((rng.next() % 10_000_000) as f64 / 10f64.powi(rng.below(8) as i32));
    }
    for _ in 0..120 {
        // Exponents within 2^±100, so that positional texts stay short.
        let bits = rng.next();
        let exponent = 1023 - 100 + (bits >> 52) % 200;
        floats.push(f64::from_bits((exponent << 52) | (bits & ((1 << 52) - 1))));
    }
    floats.iter().flat_map(|&f| [f, -f]).collect()
}

fn numbers(rng: &mut Rng) -> Json {
    Json::Array(
        floats(rng)
            .into_iter()
            .map(|f| {
                let Value::N(text) = Value::from(f) else {
                    unreachable!("a float is a number")
                };
                // The float by its bits, exactly; `float` for readers that parse JSON numbers.
                json!({ "bits": format!("{:016x}", f.to_bits()), "float": f, "text": text })
            })
            .collect(),
    )
}

/// Number texts read as floats (`bits` null where the SDK refuses the text): signs, missing
/// digits, rounding at the edges of the format, and random digits and exponents.
fn parses(rng: &mut Rng) -> Json {
    let mut texts: Vec<String> = [
        "0",
        "-0",
        "1",
        "+1",
        "1.",
        ".5",
        "1e10",
        "1E-10",
        "2.5e+3",
        "12345678901234567890123456789012345678",
        "9007199254740993",
        "9007199254740992.5",
        "2.2250738585072011e-308",
        "2.2250738585072012e-308",
        "4.9406564584124654e-324",
        "2.4703282292062327e-324",
        "2.4703282292062328e-324",
        "1.7976931348623157e308",
        "1.7976931348623158e308",
        "1.7976931348623159e308",
        "1e309",
        "1e-400",
        "0.000000000000000000000000000000000000001",
        "123.456e-2",
        "1e+0",
        "0.1000000000000000055511151231257827021181583404541015625",
        "0.1000000000000000055511151231257827021181583404541015624",
        "0.1000000000000000055511151231257827021181583404541015626",
        "-12.5",
        "00012",
        "1_000",
        "",
        "e5",
        "1e",
        "0x10",
        "inf",
        "-infinity",
        "NaN",
        "Infinity",
        " 1",
        "1 ",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    for _ in 0..150 {
        let digits = 1 + rng.below(40);
        let mut text = String::new();
        for i in 0..digits {
            let digit = if i == 0 {
                1 + rng.below(9)
            } else {
                rng.below(10)
            };
            text.push(char::from(b'0' + digit as u8));
        }
        let exponent = rng.below(700) as i64 - 350;
        texts.push(format!("{text}e{exponent}"));
    }
    Json::Array(
        texts
            .into_iter()
            .map(|text| {
                let bits = Value::N(text.clone())
                    .as_f64()
                    .map(|f| format!("{:016x}", f.to_bits()));
                json!({ "text": text, "bits": bits })
            })
            .collect(),
    )
}

fn lowercase() -> Json {
    let texts = [
        "",
        "ABC",
        "Ünïcødé",
        "ΣΑΣ",
        "ΌΣΟΣ Σ",
        "aΣ b",
        "İstanbul",
        "ẞ",
        "Ǆ",
        "ﬀ",
        "ΑΣ.",
        "Σ",
        "AΣ1",
        "MIXED case 123",
        "ＡＢＣ",
        "Ⅻ",
        "🦀A",
        "ΣΣ",
        "a\u{0345}Σ",
        "Kurt.Gödel@IAS.edu",
        "Ada.Lovelace@Example.COM",
        "ὈΔΥΣΣΕΎΣ",
        "ΑΣ'Β",
        "ΑΣ\u{301}",
        "Α\u{301}Σ",
        "ÉMILIE DU CHÂTELET",
        "ǅungla",
        "ⒶⒷ",
        "ΑΣΑ",
        "x Σ y",
        "1Σ",
        "AΣ",
        "Ω",
        "Å",
        "ΣA",
        "ԱՐԱՄ",
        "ᏣᎳᎩ",
        "𐐀𐐁",
        "\u{212A}",
        "\u{212B}",
        "\u{2126}",
        "\u{1E9E}ss",
        "ⴀ",
        "\u{10C80}",
        "\u{1E900}",
        "\u{A7C0}\u{A7DC}",
    ];
    // And every letter with a lowercase (but `Σ`, whose lowercase depends on its neighbours),
    // 64 to a text, so that an SDK's tables are checked whole.
    let letters: Vec<char> = (0..=char::MAX as u32)
        .filter_map(char::from_u32)
        .filter(|&c| c != 'Σ' && c.to_lowercase().ne([c]))
        .collect();
    let letters = letters
        .chunks(64)
        .map(|chunk| chunk.iter().collect::<String>());
    Json::Array(
        texts
            .iter()
            .map(|text| text.to_string())
            .chain(letters)
            .map(|text| json!({ "lower": text.to_lowercase(), "text": text }))
            .collect(),
    )
}

fn node_json(node: &Node) -> Json {
    match node {
        Node::S(s) => json!({ "tag": "s", "val": s }),
        Node::N(n) => json!({ "tag": "n", "val": n }),
        Node::B(b) => json!({ "tag": "b", "val": b }),
        Node::Boolean(b) => json!({ "tag": "boolean", "val": b }),
        Node::Null => json!({ "tag": "null" }),
        Node::Ss(set) => json!({ "tag": "ss", "val": set }),
        Node::Ns(set) => json!({ "tag": "ns", "val": set }),
        Node::Bs(set) => json!({ "tag": "bs", "val": set }),
        Node::L(list) => json!({ "tag": "l", "val": list }),
        Node::M(map) => json!({ "tag": "m", "val": map }),
    }
}

fn arenas(rng: &mut Rng) -> Json {
    Json::Array(
        (0..60)
            .map(|_| {
                let item = any_item(rng, 3, 5);
                let (attributes, nodes) = arena::encode::<Node>(&item);
                json!({
                    "item": item_json(&item),
                    "attributes": attributes,
                    "nodes": nodes.iter().map(node_json).collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
}

fn vectors() -> String {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let document: BTreeMap<&str, Json> = [
        (
            "about",
            json!("Generated by guest-sdk/value/tests/vectors.rs from the Rust SDK: do not edit."),
        ),
        ("paths", paths(&mut rng)),
        ("updates", updates(&mut rng)),
        ("sizes", sizes(&mut rng)),
        ("numbers", numbers(&mut rng)),
        ("parses", parses(&mut rng)),
        ("lowercase", lowercase()),
        ("arenas", arenas(&mut rng)),
    ]
    .into_iter()
    .collect();
    serde_json::to_string_pretty(&document).unwrap() + "\n"
}

#[test]
fn the_shared_vectors_are_what_the_rust_sdk_gives() {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../vectors/sdk.json");
    let fresh = vectors();
    if std::env::var_os("DRIFT_UPDATE_VECTORS").is_some() {
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, &fresh).unwrap();
        return;
    }
    let stored = std::fs::read_to_string(&file).unwrap_or_default();
    assert!(
        stored == fresh,
        "{} is not what the Rust SDK gives: DRIFT_UPDATE_VECTORS=1 cargo test -p drift-value --test vectors",
        file.display()
    );
}
