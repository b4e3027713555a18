// Text helpers that give what the Rust SDK's `str` methods give, so a migration's output does
// not depend on its language.

import { isCased, isCaseIgnorable } from "~lib/util/string";

const CAPITAL_SIGMA: i32 = 0x03a3;

/// The code point that ends just before UTF-16 index `end` of `text`.
function codePointBefore(text: string, end: i32): i32 {
  const low = text.charCodeAt(end - 1);
  if (end >= 2 && (low & 0xfc00) == 0xdc00) {
    const high = text.charCodeAt(end - 2);
    if ((high & 0xfc00) == 0xd800) return ((high - 0xd800) << 10) + (low - 0xdc00) + 0x10000;
  }
  return low;
}

/// Whether, skipping case-ignorable code points from `index` on (backwards when `backwards`),
/// the first other code point is cased (Rust's `case_ignorable_then_cased`).
function caseIgnorableThenCased(text: string, index: i32, backwards: bool): bool {
  let at = index;
  while (backwards ? at > 0 : at < text.length) {
    const c = backwards ? codePointBefore(text, at) : text.codePointAt(at);
    if (!isCaseIgnorable(c)) return isCased(c);
    const width: i32 = c >= 0x10000 ? 2 : 1;
    at += backwards ? -width : width;
  }
  return false;
}

/// Unicode lowercase, as Rust's `str::to_lowercase`.
///
/// AssemblyScript's `String#toLowerCase` decides between `σ` and final `ς` for a capital sigma
/// from up to 30 code points before it, and gives `σ` when any of them is neither cased nor
/// case-ignorable (`"K ΣΣ"` → `"k σσ"`, Rust: `"k σς"`). Here each capital sigma follows
/// Unicode's final-sigma rule as Rust applies it, and the text between them, which has no
/// other context-dependent mapping, is lowered by the standard library.
export function toLowerCase(text: string): string {
  if (text.indexOf("\u03a3") < 0) return text.toLowerCase();
  const parts = new Array<string>();
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) != CAPITAL_SIGMA) continue;
    parts.push(text.substring(start, i).toLowerCase());
    const final = caseIgnorableThenCased(text, i, true) && !caseIgnorableThenCased(text, i + 1, false);
    parts.push(final ? "\u03c2" : "\u03c3");
    start = i + 1;
  }
  parts.push(text.substring(start).toLowerCase());
  return parts.join("");
}
