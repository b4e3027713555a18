// What the SDK needs from the outside: the WIT world's imports (`log` and `dynamodb`).
//
// Inside a component, the engine glue (`@drift/sdk-js/quickjs`) installs the real ones. Outside
// (native unit tests with node), the default host writes logs to standard error and refuses
// every DynamoDB call, as the Rust SDK does off wasm. A test can install its own with
// {@link setHost}: a fake table, or a log that records messages.

import type { Level, WitDbError, WitExpressionAttributes, WitItem, WitQueryInput, WitQueryOutput } from "./wit.js";

/** Why an immediate DynamoDB operation failed. */
export class DbError extends Error {
  /** `conditional-check-failed`: the condition did not hold and nothing was written;
   *  `refused`: the host refused the call (undeclared table, offline run, bad argument);
   *  `failed`: DynamoDB failed after the host's retries. */
  readonly kind: "conditional-check-failed" | "refused" | "failed";
  /** The host's explanation (empty for `conditional-check-failed`). */
  readonly reason: string;

  constructor(kind: DbError["kind"], reason = "") {
    super(
      kind === "conditional-check-failed"
        ? "condition check failed"
        : kind === "refused"
          ? `refused: ${reason}`
          : `DynamoDB failed: ${reason}`,
    );
    this.name = "DbError";
    this.kind = kind;
    this.reason = reason;
  }

  /** From the WIT `db-error` variant. */
  static fromWit(error: WitDbError): DbError {
    return new DbError(error.tag, error.val ?? "");
  }
}

/**
 * The imports of the `drift:migration` world, in WIT shapes. Failing DynamoDB calls throw a
 * {@link DbError}.
 */
export interface Host {
  /** Writes a message to the host's log. */
  log(level: Level, message: string): void;
  /** Reads one item by its key; undefined when there is none. */
  getItem(table: string, key: WitItem): WitItem | undefined;
  /** Writes a whole item now. */
  putItem(table: string, item: WitItem, condition: string | undefined, attributes: WitExpressionAttributes): void;
  /** Updates an item now. */
  updateItem(
    table: string,
    key: WitItem,
    updateExpression: string,
    condition: string | undefined,
    attributes: WitExpressionAttributes,
  ): void;
  /** Deletes an item now. */
  deleteItem(table: string, key: WitItem, condition: string | undefined, attributes: WitExpressionAttributes): void;
  /** Reads one page of a query. */
  query(input: WitQueryInput): WitQueryOutput;
}

const LEVEL_NAMES: Record<Level, string> = { trace: "Trace", debug: "Debug", info: "Info", warn: "Warn", error: "Error" };

function refused(): never {
  throw new DbError("refused", "immediate DynamoDB operations need the drift-host runtime");
}

/** The host outside a component: logs go to standard error, DynamoDB calls are refused. */
export const nativeHost: Host = {
  log(level, message) {
    const console = (globalThis as { console?: { error(...args: unknown[]): void } }).console;
    console?.error(`[${LEVEL_NAMES[level]}] ${message}`);
  },
  getItem: refused,
  putItem: refused,
  updateItem: refused,
  deleteItem: refused,
  query: refused,
};

let current: Host = nativeHost;

/**
 * Installs `host` (missing methods fall back to {@link nativeHost}); returns the previous one.
 * The engine glue calls it; tests may too, to fake DynamoDB or record logs.
 */
export function setHost(host: Partial<Host>): Host {
  const previous = current;
  current = { ...nativeHost, ...host };
  return previous;
}

/** The installed host. */
export function host(): Host {
  return current;
}
