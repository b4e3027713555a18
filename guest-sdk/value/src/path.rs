//! Document paths (`address.city`, `tags[0]`), as DynamoDB expressions spell them.

use std::fmt;

/// One step of a document path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// A map key (or a top-level attribute name).
    Name(String),
    /// A list index.
    Index(usize),
}

/// A parsed document path: an attribute name followed by map keys and list indices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path(Vec<Segment>);

/// Why a path could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathError {
    /// The path as written.
    pub path: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid document path `{}`: {}", self.path, self.reason)
    }
}

impl std::error::Error for PathError {}

impl Path {
    /// Parses `a.b[3].c`: names are separated by `.`, list indices are `[n]`.
    pub fn parse(text: &str) -> Result<Path, PathError> {
        let error = |reason| PathError {
            path: text.to_owned(),
            reason,
        };
        let mut segments = Vec::new();
        let mut rest = text;
        let mut expect_name = true;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('[') {
                let end = after.find(']').ok_or_else(|| error("unclosed `[`"))?;
                let index = after[..end]
                    .parse()
                    .map_err(|_| error("list index is not a whole number"))?;
                if segments.is_empty() {
                    return Err(error("a path starts with an attribute name"));
                }
                segments.push(Segment::Index(index));
                rest = &after[end + 1..];
                expect_name = false;
            } else if let Some(after) = rest.strip_prefix('.') {
                if expect_name {
                    return Err(error("empty name"));
                }
                rest = after;
                expect_name = true;
                if rest.is_empty() {
                    return Err(error("empty name"));
                }
            } else {
                if !expect_name {
                    return Err(error("expected `.` or `[` after an index"));
                }
                let end = rest.find(['.', '[']).unwrap_or(rest.len());
                segments.push(Segment::Name(rest[..end].to_owned()));
                rest = &rest[end..];
                expect_name = false;
            }
        }
        if segments.is_empty() {
            return Err(error("empty path"));
        }
        Ok(Path(segments))
    }

    /// A path of one top-level attribute, taken literally (dots and brackets included).
    pub fn attribute(name: impl Into<String>) -> Path {
        Path(vec![Segment::Name(name.into())])
    }

    /// The steps of the path.
    pub fn segments(&self) -> &[Segment] {
        &self.0
    }

    /// The top-level attribute name and the rest of the path below it.
    pub fn split_first(&self) -> Option<(&str, Path)> {
        match self.0.first()? {
            Segment::Name(name) => Some((name, Path(self.0[1..].to_vec()))),
            Segment::Index(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(path: &str) -> Vec<Segment> {
        Path::parse(path).unwrap().segments().to_vec()
    }

    #[test]
    fn parses_names_and_indices() {
        use Segment::*;
        assert_eq!(names("a"), vec![Name("a".into())]);
        assert_eq!(
            names("a.b[2][0].c"),
            vec![
                Name("a".into()),
                Name("b".into()),
                Index(2),
                Index(0),
                Name("c".into())
            ]
        );
        assert_eq!(
            names("名前.ключ"),
            vec![Name("名前".into()), Name("ключ".into())]
        );
    }

    #[test]
    fn rejects_malformed_paths() {
        for bad in [
            "", ".a", "a.", "a..b", "[0]", "a[", "a[x]", "a[0]b", "a[-1]",
        ] {
            assert!(Path::parse(bad).is_err(), "{bad} should be rejected");
        }
        assert_eq!(
            Path::parse("a[").unwrap_err().to_string(),
            "invalid document path `a[`: unclosed `[`"
        );
    }
}
