//! Messages to the host's log, tagged by the host with the migration and the current item.
//!
//! Off wasm (in native unit tests) messages go to standard error instead.

use crate::bindings::drift::migration::types::Level;

fn write(level: Level, message: &str) {
    #[cfg(target_arch = "wasm32")]
    crate::bindings::log(level, message);
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("[{level:?}] {message}");
}

/// Logs at trace level.
pub fn trace(message: &str) {
    write(Level::Trace, message)
}

/// Logs at debug level.
pub fn debug(message: &str) {
    write(Level::Debug, message)
}

/// Logs at info level.
pub fn info(message: &str) {
    write(Level::Info, message)
}

/// Logs at warn level.
pub fn warn(message: &str) {
    write(Level::Warn, message)
}

/// Logs at error level.
pub fn error(message: &str) {
    write(Level::Error, message)
}
