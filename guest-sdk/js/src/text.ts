// Names and text as Rust spells them: UTF-8 byte order of names, UTF-8 lengths, JSON string
// literals, base64 and number texts, which value.ts and the arena need byte for byte as the
// Rust SDK has them.

/**
 * Compares two names in UTF-8 byte order (= code point order), the order of Rust's `String`s.
 * JS's `<` compares UTF-16 code units, which differs only where both strings have a character
 * at or above U+D800 at their first difference; names without such characters (nearly all)
 * take the fast native comparison.
 */
export function compareNames(a: string, b: string): number {
  if (a === b) return 0;
  if (isPlain(a) || isPlain(b)) return a < b ? -1 : 1;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x !== y) {
      if (x >= 0xd800 && y >= 0xd800) {
        // Surrogates (code points above U+FFFF) sort after U+E000..U+FFFF in code point order.
        x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
        y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
      }
      return x < y ? -1 : 1;
    }
  }
  return a.length < b.length ? -1 : 1;
}

/** Sorts `names` in place by {@link compareNames} (cheaply when they already are, the usual case). */
export function sortNames(names: string[]): string[] {
  if (names.length < 2) return names;
  if (isPlain(names.join(""))) {
    // No character at or above U+D800: the native comparison is the code point order.
    for (let i = 1; i < names.length; i++) {
      if (names[i - 1]! > names[i]!) return names.sort();
    }
    return names;
  }
  for (let i = 1; i < names.length; i++) {
    if (compareNames(names[i - 1]!, names[i]!) > 0) return names.sort(compareNames);
  }
  return names;
}

const HIGH = /[\uD800-\uFFFF]/;
const plainNames = new Map<string, boolean>();

/** Whether `s` has no character at or above U+D800 (remembered: names repeat from item to item). */
function isPlain(s: string): boolean {
  let plain = plainNames.get(s);
  if (plain === undefined) {
    plain = !HIGH.test(s);
    if (plainNames.size >= 4096) plainNames.clear();
    plainNames.set(s, plain);
  }
  return plain;
}

/** The UTF-8 length of a string. */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        n += 2; // 4 bytes for 2 code units
        i++;
      } else n += 2;
    } else n += 2;
  }
  return n;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function arraysEqual<T>(a: readonly T[], b: readonly T[], eq: (x: T, y: T) => boolean): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!eq(a[i]!, b[i]!)) return false;
  return true;
}

/** `s` as a JSON string literal, escaped as Rust's `readable` does. */
export function jsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 34) out += '\\"';
    else if (c === 92) out += "\\\\";
    else if (c === 10) out += "\\n";
    else if (c === 13) out += "\\r";
    else if (c === 9) out += "\\t";
    else if (c < 0x20) out += "\\u" + c.toString(16).padStart(4, "0");
    else out += s[i];
  }
  return out + '"';
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Standard base64 with padding, as DynamoDB JSON spells binary. */
export function base64Encode(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const rest = bytes.length - i;
    const n = (bytes[i]! << 16) | ((rest > 1 ? bytes[i + 1]! : 0) << 8) | (rest > 2 ? bytes[i + 2]! : 0);
    out += ALPHABET[(n >> 18) & 63]! + ALPHABET[(n >> 12) & 63]!;
    out += rest > 1 ? ALPHABET[(n >> 6) & 63]! : "=";
    out += rest > 2 ? ALPHABET[n & 63]! : "=";
  }
  return out;
}

/** Decodes standard base64 (padding optional); throws on other characters. */
export function base64Decode(text: string): Uint8Array {
  const clean = text.replace(/=+$/, "");
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0;
  let buffer = 0;
  let o = 0;
  for (let i = 0; i < clean.length; i++) {
    const v = ALPHABET.indexOf(clean[i]!);
    if (v < 0) throw new TypeError(`invalid base64: ${JSON.stringify(text)}`);
    buffer = (buffer << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (buffer >> bits) & 0xff;
    }
  }
  return out;
}

/**
 * A float's decimal text as Rust's `f64` Display writes it: the shortest digits that read back
 * the same, positional (no exponent), `-0` for negative zero. JS finds the same shortest digits
 * but breaks an exact tie between two of them toward the even digit, where Rust takes the one
 * of larger magnitude.
 */
export function floatText(n: number): string {
  if (n === 0) return Object.is(n, -0) ? "-0" : "0";
  const negative = n < 0;
  const [mantissa, exponentText] = Math.abs(n).toExponential().split("e") as [string, string];
  let digits = BigInt(mantissa.replace(".", ""));
  let power = Number(exponentText) - (mantissa.length - (mantissa.includes(".") ? 2 : 1));
  if (isTie(Math.abs(n), digits, power)) digits += 1n;
  let text = digits.toString();
  while (text.length > 1 && text.endsWith("0")) {
    text = text.slice(0, -1);
    power += 1;
  }
  let out: string;
  if (power >= 0) out = text + "0".repeat(power);
  else if (-power < text.length) out = text.slice(0, text.length + power) + "." + text.slice(text.length + power);
  else out = "0." + "0".repeat(-power - text.length) + text;
  return negative ? "-" + out : out;
}

/** Whether `x` lies exactly halfway between `digits`·10^power and (`digits` + 1)·10^power. */
function isTie(x: number, digits: bigint, power: number): boolean {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  const mantissa = biased === 0 ? fraction : fraction | (1n << 52n);
  const exponent = (biased === 0 ? 1 : biased) - 1075;
  // 2·x = mantissa·2^(exponent+1) against (2·digits + 1)·10^power, both scaled to integers.
  let left = mantissa;
  let right = 2n * digits + 1n;
  if (exponent + 1 >= 0) left <<= BigInt(exponent + 1);
  else right <<= BigInt(-(exponent + 1));
  if (power >= 0) right *= 10n ** BigInt(power);
  else left *= 10n ** BigInt(-power);
  return left === right;
}

/** The texts Rust's `f64::from_str` reads (`Number` also takes hex, binary and blanks). */
const FLOAT_TEXT = /^[+-]?(?:inf|infinity|nan|(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)$/i;

/** `text` read as a float as Rust's `f64::from_str` reads it, or undefined where Rust refuses it. */
export function floatOf(text: string): number | undefined {
  if (!FLOAT_TEXT.test(text)) return undefined;
  const unsigned = text.replace(/^[+-]/, "").toLowerCase();
  if (unsigned === "nan") return NaN;
  if (unsigned.startsWith("inf")) return text.startsWith("-") ? -Infinity : Infinity;
  return Number(text);
}

/** The bytes DynamoDB counts for a number: a byte per two significant digits, and one. */
export function numberSize(text: string): number {
  let digits = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
  }
  return Math.ceil(digits / 2) + 1;
}

/** Whether `text` is a whole number: an optional sign, then digits. */
export function isInteger(text: string): boolean {
  let i = text.charCodeAt(0) === 45 || text.charCodeAt(0) === 43 ? 1 : 0;
  if (i === text.length) return false;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}
