/* Document paths (`address.city`, `tags[0]`), parsed as the Rust SDK parses them. */
#include "internal.h"

static const char *path_error(const char *text, const char *reason) {
    return drift_concat("invalid document path `", text, "`: ", reason, NULL);
}

const char *drift_path_parse(const char *text, drift_path *out) {
    size_t cap = 0;
    drift_path path = {0};
    const char *rest = text;
    bool expect_name = true;
    while (*rest) {
        if (*rest == '[') {
            const char *after = rest + 1;
            const char *end = strchr(after, ']');
            if (end == NULL) return path_error(text, "unclosed `[`");
            size_t index;
            if (!drift_parse_usize(after, (size_t)(end - after), &index)) {
                return path_error(text, "list index is not a whole number");
            }
            if (path.len == 0) return path_error(text, "a path starts with an attribute name");
            DRIFT_RESERVE(path.segments, path.len, cap);
            path.segments[path.len++] = (drift_segment){NULL, 0, index};
            rest = end + 1;
            expect_name = false;
        } else if (*rest == '.') {
            if (expect_name) return path_error(text, "empty name");
            rest++;
            expect_name = true;
            if (*rest == 0) return path_error(text, "empty name");
        } else {
            if (!expect_name) return path_error(text, "expected `.` or `[` after an index");
            size_t len = strcspn(rest, ".[");
            DRIFT_RESERVE(path.segments, path.len, cap);
            path.segments[path.len++] = (drift_segment){drift_strndup(rest, len), len, 0};
            rest += len;
            expect_name = false;
        }
    }
    if (path.len == 0) return path_error(text, "empty path");
    *out = path;
    return NULL;
}
