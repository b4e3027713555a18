//! The error a migration returns for an item.

use std::fmt;

/// Why a migration failed for an item: the message drift-host reports with the item's key.
///
/// Anything that implements `Display` converts into it, so `?` works on the SDK's errors
/// (`item.key(..)?`), on `String`s and on the migration's own error types, and
/// `Err("text".into())` or `Err(format!(..).into())` build one. To keep that blanket
/// conversion coherent, `Error` does not implement `Display` itself: read the text with
/// [`Error::message`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(String);

impl Error {
    /// An error with `message`.
    pub fn new(message: impl Into<String>) -> Error {
        Error(message.into())
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.0
    }

    /// The message, by value.
    pub fn into_message(self) -> String {
        self.0
    }
}

impl<E: fmt::Display> From<E> for Error {
    fn from(error: E) -> Error {
        Error(error.to_string())
    }
}

impl PartialEq<str> for Error {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Error {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Item;

    #[derive(Debug)]
    struct Custom;

    impl fmt::Display for Custom {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("custom failure")
        }
    }

    fn fails(which: u8) -> Result<(), Error> {
        match which {
            0 => Err("text".into()),
            1 => Err(format!("formatted {}", 1).into()),
            2 => {
                Item::new().key(&["id"])?;
                Ok(())
            }
            3 => Err(Custom)?,
            _ => "x".parse::<i32>().map(|_| ()).map_err(Into::into),
        }
    }

    #[test]
    fn anything_displayable_converts() {
        assert_eq!(fails(0).unwrap_err(), "text");
        assert_eq!(fails(1).unwrap_err().message(), "formatted 1");
        assert_eq!(fails(2).unwrap_err(), "item has no key attribute `id`");
        assert_eq!(fails(3).unwrap_err(), Error::new("custom failure"));
        assert_eq!(
            fails(4).unwrap_err().into_message(),
            "invalid digit found in string"
        );
    }
}
