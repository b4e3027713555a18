//! DynamoDB's naming rules, checked wherever a name comes in (the command line, drift.toml, a
//! migration's info) so that a bad one is refused before DynamoDB is asked.

/// A table or index name: 3 to 255 ASCII letters, digits, `_`, `-` or `.`.
pub fn check_table_name(name: &str) -> Result<(), String> {
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
    if name.len() < 3 || name.len() > 255 || !name.chars().all(plain) {
        return Err(format!(
            "`{}` is not a DynamoDB table name: 3 to 255 ASCII letters, digits, `_`, `-` or `.`",
            name.escape_debug()
        ));
    }
    Ok(())
}

/// [`check_table_name`] as a parser of the command line.
pub fn parse_table_name(name: &str) -> Result<String, String> {
    check_table_name(name).map(|()| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_dynamodb_table_names_pass() {
        for good in ["abc", "users_v2", "a.b-c", &"x".repeat(255)] {
            assert_eq!(check_table_name(good), Ok(()), "{good}");
        }
        for bad in ["", "ab", "a b", "tähti", "a/b", &"x".repeat(256)] {
            assert!(check_table_name(bad).is_err(), "{bad}");
        }
        assert!(check_table_name("a b").unwrap_err().contains("`a b`"));
    }
}
