//! Dumps Rust's own lowercase mapping and final-sigma context sets, so that the C SDK's
//! `drift_to_lower` gives what `str::to_lowercase` gives in the Rust SDK (same Unicode version).
//! Used by gen_unicode.py; run: rustc -O unicode_dump.rs && ./unicode_dump > dump.txt
fn main() {
    for u in 0..=0x10FFFFu32 {
        let Some(c) = char::from_u32(u) else { continue };
        let lower: Vec<u32> = c.to_lowercase().map(|c| c as u32).collect();
        if lower != [u] {
            let text: Vec<String> = lower.iter().map(|l| format!("{l:X}")).collect();
            println!("L {u:X} {}", text.join(" "));
        }
        // "cΣ" ends in final sigma iff c is cased and not case-ignorable.
        let alone: String = [c, 'Σ'].iter().collect();
        if alone.to_lowercase().ends_with('ς') {
            println!("C {u:X}");
        }
        // "AcΣ" ends in final sigma iff c is case-ignorable, or cased.
        let after_a: String = ['A', c, 'Σ'].iter().collect();
        if after_a.to_lowercase().ends_with('ς') && !alone.to_lowercase().ends_with('ς') {
            println!("I {u:X}");
        }
    }
}
