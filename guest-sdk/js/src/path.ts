// Document paths (`address.city`, `tags[0]`), as DynamoDB expressions spell them.
//
// The same parser as the Rust SDK's (`drift_value::path`), with the same error messages.

/** One step of a document path: a map key (or top-level attribute name), or a list index. */
export type Segment = { readonly kind: "name"; readonly name: string } | { readonly kind: "index"; readonly index: number };

/** Why a path could not be parsed: `invalid document path \`a..b\`: empty name`. */
export class PathError extends Error {
  /** The path as written. */
  readonly path: string;
  /** What is wrong with it. */
  readonly reason: string;

  constructor(path: string, reason: string) {
    super(`invalid document path \`${path}\`: ${reason}`);
    this.name = "PathError";
    this.path = path;
    this.reason = reason;
  }
}

/** How many parsed paths {@link Path.cached} keeps. */
const CACHE_LIMIT = 1024;
const cache = new Map<string, Path>();

/** The largest list index a path may hold (the Rust guest's `usize` on wasm32). */
const MAX_INDEX = 4294967295;

/** A parsed document path: an attribute name followed by map keys and list indices. */
export class Path {
  /** The steps of the path. */
  readonly segments: readonly Segment[];

  private constructor(segments: readonly Segment[]) {
    this.segments = segments;
  }

  /** Parses `a.b[3].c`: names are separated by `.`, list indices are `[n]`. Throws a {@link PathError}. */
  static parse(text: string): Path {
    const segments: Segment[] = [];
    let i = 0;
    let expectName = true;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 91 /* [ */) {
        const end = text.indexOf("]", i + 1);
        if (end < 0) throw new PathError(text, "unclosed `[`");
        const index = parseIndex(text.substring(i + 1, end));
        if (index === undefined) throw new PathError(text, "list index is not a whole number");
        if (segments.length === 0) throw new PathError(text, "a path starts with an attribute name");
        segments.push({ kind: "index", index });
        i = end + 1;
        expectName = false;
      } else if (c === 46 /* . */) {
        if (expectName) throw new PathError(text, "empty name");
        i++;
        expectName = true;
        if (i === text.length) throw new PathError(text, "empty name");
      } else {
        if (!expectName) throw new PathError(text, "expected `.` or `[` after an index");
        let end = i;
        while (end < text.length) {
          const d = text.charCodeAt(end);
          if (d === 46 || d === 91) break;
          end++;
        }
        segments.push({ kind: "name", name: text.substring(i, end) });
        i = end;
        expectName = false;
      }
    }
    if (segments.length === 0) throw new PathError(text, "empty path");
    return new Path(segments);
  }

  /**
   * {@link Path.parse} with a cache: a migration spells the same few paths for every item, so
   * each is parsed once (up to {@link CACHE_LIMIT} distinct paths; the cache is then cleared).
   */
  static cached(text: string): Path {
    let path = cache.get(text);
    if (path === undefined) {
      path = Path.parse(text);
      if (cache.size >= CACHE_LIMIT) cache.clear();
      cache.set(text, path);
    }
    return path;
  }

  /** A path of one top-level attribute, taken literally (dots and brackets included). */
  static attribute(name: string): Path {
    return new Path([{ kind: "name", name }]);
  }

  /** The top-level attribute name and the rest of the path below it. */
  splitFirst(): [string, Path] | undefined {
    const first = this.segments[0];
    if (first === undefined || first.kind !== "name") return undefined;
    return [first.name, new Path(this.segments.slice(1))];
  }

  /** The path as DynamoDB spells it: `a.b[3].c`. */
  toString(): string {
    let out = "";
    for (const segment of this.segments) {
      if (segment.kind === "index") out += `[${segment.index}]`;
      else out += (out.length > 0 ? "." : "") + segment.name;
    }
    return out;
  }
}

/** A list index as Rust's `usize::from_str` reads it: an optional `+`, then digits. */
function parseIndex(text: string): number | undefined {
  let i = text.startsWith("+") ? 1 : 0;
  if (i === text.length) return undefined;
  let value = 0;
  for (; i < text.length; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return undefined;
    value = value * 10 + d;
    if (value > MAX_INDEX) return undefined;
  }
  return value;
}
