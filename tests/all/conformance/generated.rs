//! Generated items through every language's build: each must give the actions the Rust build
//! gives, on items no one wrote by hand.

use super::*;

/// Random items for every_feature: names and values of every type, nested, with the attributes
/// the migration reads (`note`, `visits`, `labels`, `profile.city`, `scores`, `poison`, and for
/// rollback `summary`, `profile.city_label`, `first_score`, `archive.note`, `index_entry`)
/// present or not, of the type it expects or not.
struct Generated {
    rng: fastrand::Rng,
}

impl Generated {
    fn chance(&mut self, one_in: u32) -> bool {
        self.rng.u32(0..one_in) == 0
    }

    fn string(&mut self) -> String {
        const PIECES: [&str; 12] = [
            "", "a", "Zed", "é", "ü", "東京", "🦀", " ", "\"", "\\", "\n", "\u{0}",
        ];
        (0..self.rng.usize(0..4))
            .map(|_| PIECES[self.rng.usize(0..PIECES.len())])
            .collect()
    }

    /// Attribute names: non-empty, and sorting the same by bytes, code points and UTF-16 code
    /// units (no characters above U+FFFF), as the spec asks of the data.
    fn name(&mut self) -> String {
        const LETTERS: [&str; 8] = ["a", "b", "z", "é", "ü", "東", "_", "0"];
        (0..self.rng.usize(1..5))
            .map(|_| LETTERS[self.rng.usize(0..LETTERS.len())])
            .collect()
    }

    /// A valid DynamoDB number: up to 38 significant digits, an exponent now and then.
    fn number(&mut self) -> String {
        let digits = |rng: &mut fastrand::Rng, n: usize| -> String {
            (0..n).map(|_| char::from(b'0' + rng.u8(0..10))).collect()
        };
        let whole_len = self.rng.usize(1..20);
        let mut number = match self.rng.bool() {
            true => "-".to_owned(),
            false => String::new(),
        };
        number.push(char::from(b'1' + self.rng.u8(0..9)));
        number += &digits(&mut self.rng, whole_len - 1);
        if self.rng.bool() {
            let fraction_len = self.rng.usize(1..=38 - whole_len);
            number = format!("{number}.{}", digits(&mut self.rng, fraction_len));
        }
        if self.chance(4) {
            number = format!("{number}E{}", self.rng.i32(-30..30));
        }
        number
    }

    fn bytes(&mut self, at_least: usize) -> Vec<u8> {
        let len = self.rng.usize(at_least..6);
        (0..len).map(|_| self.rng.u8(..)).collect()
    }

    fn value(&mut self, depth: u32) -> Value {
        let kinds = if depth == 0 { 8 } else { 10 };
        match self.rng.u8(0..kinds) {
            0 => Value::S(self.string()),
            1 => Value::N(self.number()),
            2 => Value::B(self.bytes(0)),
            3 => Value::Bool(self.rng.bool()),
            4 => Value::Null,
            5 => {
                let set: BTreeSet<String> = (0..self.rng.usize(1..4))
                    .map(|i| format!("{i}{}", self.string()))
                    .collect();
                Value::Ss(set.into_iter().collect())
            }
            6 => {
                let set: BTreeSet<i64> = (0..self.rng.usize(1..4))
                    .map(|_| self.rng.i64(-1000..1000))
                    .collect();
                Value::Ns(set.into_iter().map(|n| n.to_string()).collect())
            }
            7 => {
                let set: BTreeSet<Vec<u8>> =
                    (0..self.rng.usize(1..4)).map(|_| self.bytes(1)).collect();
                Value::Bs(set.into_iter().collect())
            }
            8 => Value::L(
                (0..self.rng.usize(0..4))
                    .map(|_| self.value(depth - 1))
                    .collect(),
            ),
            _ => Value::M(self.map(depth - 1)),
        }
    }

    fn map(&mut self, depth: u32) -> Item {
        let mut map = Item::new();
        for _ in 0..self.rng.usize(0..4) {
            let (name, value) = (self.name(), self.value(depth));
            map.set(name, value);
        }
        map
    }

    /// `value` of the expected kind most of the time, anything otherwise.
    fn mostly(&mut self, expected: Value) -> Value {
        match self.chance(4) {
            true => self.value(2),
            false => expected,
        }
    }

    /// An item of `things` as it is before the migration.
    fn item(&mut self, pk: String) -> Item {
        let mut item = self.map(2);
        if self.chance(2) {
            let note = self.value(2);
            item.set("note", note);
        }
        if self.chance(2) {
            let visits = Value::N(self.rng.u32(0..100).to_string());
            let visits = self.mostly(visits);
            item.set("visits", visits);
        }
        if self.chance(2) {
            let labels = Value::Ss(vec!["a".into(), "é".into()][..self.rng.usize(1..3)].to_vec());
            item.set("labels", labels);
        }
        if self.chance(2) {
            let mut profile = self.map(1);
            if self.rng.bool() {
                let city = Value::S(self.string());
                let city = self.mostly(city);
                profile.set("city", city);
            }
            let profile = self.mostly(Value::M(profile));
            item.set("profile", profile);
        }
        if self.chance(2) {
            let scores = Value::L((0..self.rng.usize(0..3)).map(|_| self.value(1)).collect());
            let scores = self.mostly(scores);
            item.set("scores", scores);
        }
        if self.chance(12) {
            item.set("poison", Value::Bool(true));
        }
        item.set("pk", Value::S(pk));
        item
    }

    /// An item of `things` as it may be after the migration (or not migrated at all).
    fn migrated(&mut self, pk: String) -> Item {
        let mut item = self.item(pk.clone());
        item.remove("poison");
        if self.chance(5) {
            return item;
        }
        let summary = Value::M(self.map(1));
        let summary = self.mostly(summary);
        item.set("summary", summary);
        item.set("types", Value::L(vec![Value::S("S".into())]));
        if let Some(Value::M(profile)) = item.get("profile").cloned() {
            if self.rng.bool() {
                let mut profile = profile;
                profile.set("city_label", Value::S(format!("city of {}", self.string())));
                item.set("profile", Value::M(profile));
            }
        }
        if self.rng.bool() {
            let first = self.value(1);
            item.set("first_score", first);
        }
        if let Some(note) = item.remove("note") {
            let archive = self.mostly(Value::M(Item::new().with("note", note)));
            item.set("archive", archive);
        }
        if self.rng.bool() {
            let mut entry = self.map(1);
            entry.set("pk", Value::S(pk));
            entry.set("state", Value::S("active".into()));
            // Not a map now and then (rollback then leaves it); never a map without a key, which
            // rollback would put and the host refuse.
            let entry = match self.chance(4) {
                true => Value::S(self.string()),
                false => Value::M(entry),
            };
            item.set("index_entry", entry);
        }
        item
    }
}

/// What `exec` printed: the actions (stdout), the guest's log lines, the exit code.
type Printed = (String, String, Option<i32>);

/// Writes `items` as `exec --input` reads them.
fn write_items(path: &Path, items: &[Item]) {
    let items: Vec<Json> = items.iter().map(to_json_item).collect();
    std::fs::write(path, json!({ "Items": items }).to_string()).unwrap();
}

/// The seed and the number of items of the generated tests (`DRIFT_CONFORMANCE_SEED`,
/// `DRIFT_CONFORMANCE_CASES`, to look further than a test run does).
fn generation() -> (u64, usize) {
    let seed = std::env::var("DRIFT_CONFORMANCE_SEED")
        .map(|s| s.parse().expect("DRIFT_CONFORMANCE_SEED: a number"))
        .unwrap_or(13);
    let count = std::env::var("DRIFT_CONFORMANCE_CASES")
        .map(|s| s.parse().expect("DRIFT_CONFORMANCE_CASES: a number"))
        .unwrap_or(150);
    (seed, count)
}

/// Writes `migrate` and `rollback` (the items each runs on) into `target/conformance-generated/
/// <name>` (kept, to reproduce a difference by hand), runs `exec` of each with `module` of
/// every language, and requires every language to print what the first one prints. Returns
/// the first one's output, migrate then rollback, for the caller's checks that it is not empty.
fn agree(
    name: &str,
    seed: u64,
    module: impl Fn(&str) -> PathBuf,
    key: &str,
    migrate: &[Item],
    rollback: &[Item],
) -> Vec<Printed> {
    let dir = root().join("target/conformance-generated").join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let (before, after) = (dir.join("migrate.json"), dir.join("rollback.json"));
    write_items(&before, migrate);
    write_items(&after, rollback);
    let runs = [
        vec!["--input", before.to_str().unwrap()],
        vec!["--input", after.to_str().unwrap(), "--rollback"],
    ];
    let mut reference: Option<(&str, Vec<Printed>)> = None;
    for language in languages() {
        let wasm = module(language);
        let wasm = wasm.to_str().unwrap();
        let outputs: Vec<Printed> = runs
            .iter()
            .map(|args| {
                let mut all = vec!["exec", wasm, "--key", key];
                all.extend(args);
                let output = exec_logged(&all);
                let log = guest_log(&stderr(&output));
                (stdout(&output), log, output.status.code())
            })
            .collect();
        match &reference {
            None => reference = Some((language, outputs)),
            Some((first, expected)) => {
                for (what, (got, want)) in ["migrate", "rollback"]
                    .iter()
                    .zip(outputs.iter().zip(expected))
                {
                    assert_eq!(
                        got,
                        want,
                        "{name}, seed {seed}: {language} and {first} differ on {what} (inputs in {})",
                        dir.display()
                    );
                }
            }
        }
    }
    reference.map(|(_, outputs)| outputs).unwrap_or_default()
}

#[test]
fn every_feature_agrees_on_generated_items_in_every_language() {
    let (seed, count) = generation();
    let mut generated = Generated {
        rng: fastrand::Rng::with_seed(seed),
    };
    let before: Vec<Item> = (0..count)
        .map(|i| generated.item(format!("g-{i}")))
        .collect();
    let after: Vec<Item> = (0..count)
        .map(|i| generated.migrated(format!("m-{i}")))
        .collect();
    // An item fails when it is poisoned, or when its `visits` (a number: the migration adds 1,
    // the rollback of a migrated item -1) has no sum DynamoDB can store (38 digits at most):
    // the checks before the apply refuse what UpdateItem would.
    let overflows = |item: &Item, delta: &str| matches!(item.get("visits"), Some(Value::N(n)) if add_numbers(n, delta).is_err());
    let migrate_fails = before
        .iter()
        .any(|item| item.contains("poison") || overflows(item, "1"));
    let rollback_fails = after
        .iter()
        .any(|item| item.contains("summary") && overflows(item, "-1"));
    let outputs = agree("every_feature", seed, every_feature, "pk", &before, &after);
    if let [migrate, rollback] = &outputs[..] {
        assert!(
            migrate.0.lines().count() >= count && rollback.0.lines().count() >= count / 2,
            "seed {seed}: too few actions to compare:\n{}{}",
            migrate.0,
            rollback.0
        );
        assert_eq!(migrate.2, Some(i32::from(migrate_fails)), "seed {seed}");
        assert_eq!(
            rollback.2,
            Some(i32::from(rollback_fails)),
            "seed {seed}: {}",
            rollback.1
        );
    }
}

#[test]
fn users_v2_agrees_on_generated_users_in_every_language() {
    // Emails whose lowercase is where languages part: final sigma (after marks, spaces, at the
    // end), dotted İ, ẞ, Cherokee, title case, Kelvin and Ångström signs, astral letters.
    const PIECES: [&str; 24] = [
        "Σ", "ΑΣ", "ς", "İ", "I", "ẞ", "Ꭰ", "ǅ", "Ǆ", "\u{212a}", "\u{212b}", "Ω", "A", "b", "@",
        " ", ".", "𐐀", "Ⅻ", "Ⓐ", "ﬀ", "ᾈ", "\u{345}", "\u{307}",
    ];
    let (seed, count) = generation();
    let mut rng = fastrand::Rng::with_seed(seed);
    let text = |rng: &mut fastrand::Rng| -> String {
        (0..rng.usize(0..7))
            .map(|_| PIECES[rng.usize(0..PIECES.len())])
            .collect()
    };
    let mut users = Vec::new();
    let mut migrated = Vec::new();
    for i in 0..count {
        let mut user = Item::new().with("id", format!("u-{i}"));
        // No email now and then, or a number: both fail the item, in every language alike.
        let email = match rng.u8(0..12) {
            0 => None,
            1 => Some(Value::N(rng.u32(..).to_string())),
            _ => Some(Value::S(text(&mut rng))),
        };
        if let Some(email) = email {
            user.set("email", email);
        }
        if rng.bool() {
            user.set("name", Value::S(text(&mut rng)));
        }
        // Versions that equal 2 only as decimals, or do not fit an i64: only `2` is version 2.
        const VERSIONS: [&str; 6] = ["1", "2.0", "2E0", "20E-1", "-0", "9223372036854775809"];
        if rng.u8(0..4) == 0 {
            let version = VERSIONS[rng.usize(0..VERSIONS.len())];
            user.set("schema_version", Value::N(version.into()));
        }
        let mut done = user.clone().with("schema_version", 2);
        if rng.u8(0..4) == 0 {
            let version = VERSIONS[rng.usize(0..VERSIONS.len())];
            done.set("schema_version", Value::N(version.into()));
        }
        if let Some(name) = done.remove("name") {
            done.set("full_name", name);
        }
        done.set("email_lower", Value::S(text(&mut rng)));
        users.push(user);
        migrated.push(done);
    }
    let outputs = agree("users_v2", seed, module, "id", &users, &migrated);
    if let [migrate, rollback] = &outputs[..] {
        assert!(
            migrate.0.lines().count() >= count / 2 && rollback.0.lines().count() >= count / 2,
            "seed {seed}: too few actions to compare:\n{}{}",
            migrate.0,
            rollback.0
        );
    }
}
