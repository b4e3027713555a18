// Document paths (`address.city`, `tags[0]`), as DynamoDB expressions spell them.

/** One step of a path: a map key or a list index. */
export class Segment {
  isIndex: bool = false;
  name: string = "";
  index: u32 = 0;
}

/** A parsed document path. */
export class Path {
  segments: Segment[] = [];
  /** Why the last parse failed ("" if it did not). */
  static lastError: string = "";

  /** Parses `a.b[3].c`; null (with `Path.lastError` set) if malformed. */
  static parse(text: string): Path | null {
    const path = new Path();
    let i = 0;
    let expectName = true;
    while (i < text.length) {
      const c = text.charAt(i);
      if (c == "[") {
        const end = text.indexOf("]", i);
        if (end < 0) return Path.error(text, "unclosed `[`");
        // As Rust's `usize::from_str` on wasm32 reads it: an optional `+`, digits, at most u32::MAX.
        const digits = text.substring(i + 1, end);
        const first = digits.startsWith("+") ? 1 : 0;
        if (digits.length == first) return Path.error(text, "list index is not a whole number");
        let index: u64 = 0;
        for (let k = first; k < digits.length; k++) {
          const d = digits.charCodeAt(k);
          if (d < 48 || d > 57) return Path.error(text, "list index is not a whole number");
          index = index * 10 + <u64>(d - 48);
          if (index > <u64>U32.MAX_VALUE) return Path.error(text, "list index is not a whole number");
        }
        if (path.segments.length == 0) return Path.error(text, "a path starts with an attribute name");
        const s = new Segment();
        s.isIndex = true;
        s.index = <u32>index;
        path.segments.push(s);
        i = end + 1;
        expectName = false;
      } else if (c == ".") {
        if (expectName) return Path.error(text, "empty name");
        i++;
        expectName = true;
        if (i == text.length) return Path.error(text, "empty name");
      } else {
        if (!expectName) return Path.error(text, "expected `.` or `[` after an index");
        let end = i;
        while (end < text.length && text.charAt(end) != "." && text.charAt(end) != "[") end++;
        const s = new Segment();
        s.name = text.substring(i, end);
        path.segments.push(s);
        i = end;
        expectName = false;
      }
    }
    if (path.segments.length == 0) return Path.error(text, "empty path");
    Path.lastError = "";
    return path;
  }

  private static error(text: string, reason: string): Path | null {
    Path.lastError = "invalid document path `" + text + "`: " + reason;
    return null;
  }
}
