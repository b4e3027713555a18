// Messages to the host's log, tagged by the host with the migration and the current item.

@external("$root", "log")
declare function hostLog(level: i32, ptr: usize, len: usize): void;

function write(level: i32, message: string): void {
  const bytes = String.UTF8.encode(message, false, String.UTF8.ErrorMode.REPLACE);
  hostLog(level, changetype<usize>(bytes), <usize>bytes.byteLength);
}

/** Logs at trace level. */
export function trace(message: string): void { write(0, message); }
/** Logs at debug level. */
export function debug(message: string): void { write(1, message); }
/** Logs at info level. */
export function info(message: string): void { write(2, message); }
/** Logs at warn level. */
export function warn(message: string): void { write(3, message); }
/** Logs at error level. */
export function error(message: string): void { write(4, message); }
