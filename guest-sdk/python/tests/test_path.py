import pytest

from drift_sdk import Path, PathError


def segments(text):
    return Path.parse(text).segments


def test_parses_names_and_indices():
    assert segments("a") == ("a",)
    assert segments("a.b[2][0].c") == ("a", "b", 2, 0, "c")
    assert segments("名前.ключ") == ("名前", "ключ")
    assert segments("a]b") == ("a]b",)
    assert segments("a[+1]") == ("a", 1)
    assert str(Path.parse("a.b[2][0].c")) == "a.b[2][0].c"
    assert Path.attribute("a.b").segments == ("a.b",)
    assert Path.parse("a[1].b").split_first() == ("a", Path((1, "b")))


@pytest.mark.parametrize("bad", ["", ".a", "a.", "a..b", "[0]", "a[", "a[x]", "a[0]b", "a[-1]", "a[]"])
def test_rejects_malformed_paths(bad):
    with pytest.raises(PathError):
        Path.parse(bad)


def test_errors_say_what_is_wrong_like_rust():
    cases = {
        "a[": "unclosed `[`",
        "a..b": "empty name",
        "a.": "empty name",
        "": "empty path",
        "[0]": "a path starts with an attribute name",
        "a[x]": "list index is not a whole number",
        "a[0]b": "expected `.` or `[` after an index",
    }
    for text, reason in cases.items():
        with pytest.raises(PathError) as error:
            Path.parse(text)
        assert error.value.reason == reason
        assert str(error.value) == f"invalid document path `{text}`: {reason}"
