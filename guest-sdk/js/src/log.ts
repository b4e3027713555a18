// Messages to the host's log, tagged by the host with the migration and the current item.
//
// Outside a component (native unit tests) they go to standard error, as `[Info] message`.

import { host } from "./host.js";
import type { Level } from "./wit.js";

export type { Level };

/** Logs `message` at `level`. */
export function write(level: Level, message: string): void {
  host().log(level, String(message));
}

/** Logs at trace level. */
export function trace(message: string): void {
  write("trace", message);
}

/** Logs at debug level. */
export function debug(message: string): void {
  write("debug", message);
}

/** Logs at info level. */
export function info(message: string): void {
  write("info", message);
}

/** Logs at warn level. */
export function warn(message: string): void {
  write("warn", message);
}

/** Logs at error level. */
export function error(message: string): void {
  write("error", message);
}
