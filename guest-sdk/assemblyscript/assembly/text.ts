// Text helpers that give what the Rust SDK's `str` methods give, so a migration's output does
// not depend on its language.

import { isCased, isCaseIgnorable } from "~lib/util/string";

const CAPITAL_SIGMA: i32 = 0x03a3;

/// The letters whose lowercase came with Unicode 14 to 16, which AssemblyScript's
/// `String#toLowerCase` (older tables) leaves as they are, each followed by its lowercase as
/// Rust's std gives it (all single code points). The shared vectors' letters hold it complete.
const NEWER_LOWERCASE: StaticArray<i32> = [
  0x1c89, 0x1c8a, 0x2c2f, 0x2c5f, 0xa7c0, 0xa7c1, 0xa7cb, 0x264, 0xa7cc, 0xa7cd, 0xa7ce, 0xa7cf,
  0xa7d0, 0xa7d1, 0xa7d2, 0xa7d3, 0xa7d4, 0xa7d5, 0xa7d6, 0xa7d7, 0xa7d8, 0xa7d9, 0xa7da, 0xa7db,
  0xa7dc, 0x19b, 0x10570, 0x10597, 0x10571, 0x10598, 0x10572, 0x10599, 0x10573, 0x1059a,
  0x10574, 0x1059b, 0x10575, 0x1059c, 0x10576, 0x1059d, 0x10577, 0x1059e, 0x10578, 0x1059f,
  0x10579, 0x105a0, 0x1057a, 0x105a1, 0x1057c, 0x105a3, 0x1057d, 0x105a4, 0x1057e, 0x105a5,
  0x1057f, 0x105a6, 0x10580, 0x105a7, 0x10581, 0x105a8, 0x10582, 0x105a9, 0x10583, 0x105aa,
  0x10584, 0x105ab, 0x10585, 0x105ac, 0x10586, 0x105ad, 0x10587, 0x105ae, 0x10588, 0x105af,
  0x10589, 0x105b0, 0x1058a, 0x105b1, 0x1058c, 0x105b3, 0x1058d, 0x105b4, 0x1058e, 0x105b5,
  0x1058f, 0x105b6, 0x10590, 0x105b7, 0x10591, 0x105b8, 0x10592, 0x105b9, 0x10594, 0x105bb,
  0x10595, 0x105bc, 0x10d50, 0x10d70, 0x10d51, 0x10d71, 0x10d52, 0x10d72, 0x10d53, 0x10d73,
  0x10d54, 0x10d74, 0x10d55, 0x10d75, 0x10d56, 0x10d76, 0x10d57, 0x10d77, 0x10d58, 0x10d78,
  0x10d59, 0x10d79, 0x10d5a, 0x10d7a, 0x10d5b, 0x10d7b, 0x10d5c, 0x10d7c, 0x10d5d, 0x10d7d,
  0x10d5e, 0x10d7e, 0x10d5f, 0x10d7f, 0x10d60, 0x10d80, 0x10d61, 0x10d81, 0x10d62, 0x10d82,
  0x10d63, 0x10d83, 0x10d64, 0x10d84, 0x10d65, 0x10d85, 0x16ea0, 0x16ebb, 0x16ea1, 0x16ebc,
  0x16ea2, 0x16ebd, 0x16ea3, 0x16ebe, 0x16ea4, 0x16ebf, 0x16ea5, 0x16ec0, 0x16ea6, 0x16ec1,
  0x16ea7, 0x16ec2, 0x16ea8, 0x16ec3, 0x16ea9, 0x16ec4, 0x16eaa, 0x16ec5, 0x16eab, 0x16ec6,
  0x16eac, 0x16ec7, 0x16ead, 0x16ec8, 0x16eae, 0x16ec9, 0x16eaf, 0x16eca, 0x16eb0, 0x16ecb,
  0x16eb1, 0x16ecc, 0x16eb2, 0x16ecd, 0x16eb3, 0x16ece, 0x16eb4, 0x16ecf, 0x16eb5, 0x16ed0,
  0x16eb6, 0x16ed1, 0x16eb7, 0x16ed2, 0x16eb8, 0x16ed3
];

/// The lowest code point of `NEWER_LOWERCASE`: texts below it need no second look.
const NEWER_LOWERCASE_FROM: i32 = 0x1c89;

/// `lowered` (already lowercased by the standard library) with the newer letters lowered too.
function lowerNewer(lowered: string): string {
  let newer = false;
  for (let i = 0; i < lowered.length && !newer; i++) newer = lowered.charCodeAt(i) >= NEWER_LOWERCASE_FROM;
  if (!newer) return lowered;
  const out = new Array<string>();
  for (let i = 0; i < lowered.length; ) {
    let c = lowered.codePointAt(i);
    i += c >= 0x10000 ? 2 : 1;
    for (let k = 0; k < NEWER_LOWERCASE.length; k += 2) {
      if (NEWER_LOWERCASE[k] == c) {
        c = NEWER_LOWERCASE[k + 1];
        break;
      }
    }
    out.push(String.fromCodePoint(c));
  }
  return out.join("");
}

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
  if (text.indexOf("\u03a3") < 0) return lowerNewer(text.toLowerCase());
  const parts = new Array<string>();
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) != CAPITAL_SIGMA) continue;
    parts.push(lowerNewer(text.substring(start, i).toLowerCase()));
    const final = caseIgnorableThenCased(text, i, true) && !caseIgnorableThenCased(text, i + 1, false);
    parts.push(final ? "\u03c2" : "\u03c3");
    start = i + 1;
  }
  parts.push(lowerNewer(text.substring(start).toLowerCase()));
  return parts.join("");
}
