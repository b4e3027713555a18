/* Values and items: building, reading, comparing, sizing, readable text. */
#include <stdarg.h>

#include "internal.h"

static drift_value *new_value(drift_type type) {
    drift_value *v = drift_alloc(sizeof *v);
    memset(v, 0, sizeof *v);
    v->type = type;
    return v;
}

drift_value *drift_s_len(const char *text, size_t len) {
    drift_value *v = new_value(DRIFT_S);
    v->as.s = drift_str_copy(text, len);
    return v;
}

drift_value *drift_s(const char *text) { return drift_s_len(text, strlen(text)); }

drift_value *drift_s_str(drift_str text) { return drift_s_len(text.ptr, text.len); }

drift_value *drift_n(const char *decimal) {
    drift_value *v = new_value(DRIFT_N);
    v->as.s = drift_str_copy(decimal, strlen(decimal));
    return v;
}

drift_value *drift_n_i64(int64_t n) { return drift_n(drift_i64_text(n)); }

drift_value *drift_n_u64(uint64_t n) { return drift_n(drift_u64_text(n)); }

drift_value *drift_n_f64(double n) { return drift_n(drift_format_f64(n)); }

drift_value *drift_b(const void *bytes, size_t len) {
    drift_value *v = new_value(DRIFT_B);
    drift_str copy = drift_str_copy(bytes, len);
    v->as.b = (drift_bytes){(const uint8_t *)copy.ptr, len};
    return v;
}

drift_value *drift_bool(bool b) {
    drift_value *v = new_value(DRIFT_BOOL);
    v->as.boolean = b;
    return v;
}

drift_value *drift_null(void) { return new_value(DRIFT_NULL); }

static drift_value *string_set(drift_type type, const char *const *strings, size_t count) {
    drift_value *v = new_value(type);
    v->as.strings.items = drift_alloc(count * sizeof(drift_str));
    for (size_t i = 0; i < count; i++) {
        v->as.strings.items[i] = drift_str_copy(strings[i], strlen(strings[i]));
    }
    v->as.strings.len = count;
    return v;
}

drift_value *drift_ss(const char *const *strings, size_t count) {
    return string_set(DRIFT_SS, strings, count);
}

drift_value *drift_ns(const char *const *numbers, size_t count) {
    return string_set(DRIFT_NS, numbers, count);
}

drift_value *drift_bs(const drift_bytes *items, size_t count) {
    drift_value *v = new_value(DRIFT_BS);
    v->as.binaries.items = drift_alloc(count * sizeof(drift_bytes));
    for (size_t i = 0; i < count; i++) {
        drift_str copy = drift_str_copy((const char *)items[i].ptr, items[i].len);
        v->as.binaries.items[i] = (drift_bytes){(const uint8_t *)copy.ptr, copy.len};
    }
    v->as.binaries.len = count;
    return v;
}

drift_value *drift_list(void) { return new_value(DRIFT_L); }

drift_value *drift_list_push(drift_value *list, drift_value *element) {
    if (list == NULL || list->type != DRIFT_L || element == NULL) drift_trap();
    DRIFT_RESERVE(list->as.list.items, list->as.list.len, list->as.list.cap);
    list->as.list.items[list->as.list.len++] = element;
    return list;
}

drift_value *drift_map(drift_item *entries) {
    drift_value *v = new_value(DRIFT_M);
    v->as.map = entries != NULL ? entries : drift_item_new();
    return v;
}

drift_value *drift_value_clone(const drift_value *value) {
    if (value == NULL) return NULL;
    switch (value->type) {
    case DRIFT_S:
        return drift_s_len(value->as.s.ptr, value->as.s.len);
    case DRIFT_N: {
        drift_value *v = new_value(DRIFT_N);
        v->as.s = drift_str_copy(value->as.s.ptr, value->as.s.len);
        return v;
    }
    case DRIFT_B:
        return drift_b(value->as.b.ptr, value->as.b.len);
    case DRIFT_BOOL:
        return drift_bool(value->as.boolean);
    case DRIFT_NULL:
        return drift_null();
    case DRIFT_SS:
    case DRIFT_NS: {
        drift_value *v = new_value(value->type);
        size_t n = value->as.strings.len;
        v->as.strings.items = drift_alloc(n * sizeof(drift_str));
        for (size_t i = 0; i < n; i++) {
            v->as.strings.items[i] =
                drift_str_copy(value->as.strings.items[i].ptr, value->as.strings.items[i].len);
        }
        v->as.strings.len = n;
        return v;
    }
    case DRIFT_BS:
        return drift_bs(value->as.binaries.items, value->as.binaries.len);
    case DRIFT_L: {
        drift_value *v = drift_list();
        for (size_t i = 0; i < value->as.list.len; i++) {
            drift_list_push(v, drift_value_clone(value->as.list.items[i]));
        }
        return v;
    }
    case DRIFT_M:
        return drift_map(drift_item_clone(value->as.map));
    }
    drift_trap();
}

/* ---- reading ---- */

const char *drift_type_name(const drift_value *value) {
    static const char *const names[] = {"S", "N", "B", "BOOL", "NULL", "SS", "NS", "BS", "L", "M"};
    if (value == NULL || (unsigned)value->type > DRIFT_M) return NULL;
    return names[value->type];
}

const char *drift_as_str(const drift_value *value) {
    return value != NULL && value->type == DRIFT_S ? value->as.s.ptr : NULL;
}

const char *drift_as_number(const drift_value *value) {
    return value != NULL && value->type == DRIFT_N ? value->as.s.ptr : NULL;
}

bool drift_as_i64(const drift_value *value, int64_t *out) {
    if (value == NULL || value->type != DRIFT_N) return false;
    return drift_parse_i64(value->as.s.ptr, value->as.s.len, out);
}

bool drift_as_f64(const drift_value *value, double *out) {
    if (value == NULL || value->type != DRIFT_N) return false;
    return drift_parse_f64(value->as.s.ptr, value->as.s.len, out);
}

bool drift_as_bool(const drift_value *value, bool *out) {
    if (value == NULL || value->type != DRIFT_BOOL) return false;
    if (out) *out = value->as.boolean;
    return true;
}

bool drift_as_bytes(const drift_value *value, drift_bytes *out) {
    if (value == NULL || value->type != DRIFT_B) return false;
    if (out) *out = value->as.b;
    return true;
}

bool drift_is_null(const drift_value *value) { return value != NULL && value->type == DRIFT_NULL; }

const drift_item *drift_as_map(const drift_value *value) {
    return value != NULL && value->type == DRIFT_M ? value->as.map : NULL;
}

size_t drift_list_len(const drift_value *value) {
    return value != NULL && value->type == DRIFT_L ? value->as.list.len : 0;
}

drift_value *drift_list_get(const drift_value *value, size_t index) {
    if (value == NULL || value->type != DRIFT_L || index >= value->as.list.len) return NULL;
    return value->as.list.items[index];
}

static bool str_equal(drift_str a, drift_str b) {
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static bool bytes_equal(drift_bytes a, drift_bytes b) {
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

bool drift_value_equal(const drift_value *a, const drift_value *b) {
    if (a == NULL || b == NULL) return a == b;
    if (a->type != b->type) return false;
    switch (a->type) {
    case DRIFT_S:
    case DRIFT_N:
        return str_equal(a->as.s, b->as.s);
    case DRIFT_B:
        return bytes_equal(a->as.b, b->as.b);
    case DRIFT_BOOL:
        return a->as.boolean == b->as.boolean;
    case DRIFT_NULL:
        return true;
    case DRIFT_SS:
    case DRIFT_NS:
        if (a->as.strings.len != b->as.strings.len) return false;
        for (size_t i = 0; i < a->as.strings.len; i++) {
            if (!str_equal(a->as.strings.items[i], b->as.strings.items[i])) return false;
        }
        return true;
    case DRIFT_BS:
        if (a->as.binaries.len != b->as.binaries.len) return false;
        for (size_t i = 0; i < a->as.binaries.len; i++) {
            if (!bytes_equal(a->as.binaries.items[i], b->as.binaries.items[i])) return false;
        }
        return true;
    case DRIFT_L:
        if (a->as.list.len != b->as.list.len) return false;
        for (size_t i = 0; i < a->as.list.len; i++) {
            if (!drift_value_equal(a->as.list.items[i], b->as.list.items[i])) return false;
        }
        return true;
    case DRIFT_M:
        return drift_item_equal(a->as.map, b->as.map);
    }
    return false;
}

/* A number's size: about one byte per two significant digits, plus one. */
static size_t number_size(drift_str n) {
    size_t digits = 0;
    for (size_t i = 0; i < n.len; i++) digits += n.ptr[i] >= '0' && n.ptr[i] <= '9';
    return (digits + 1) / 2 + 1;
}

size_t drift_value_size(const drift_value *value) {
    size_t total = 0;
    switch (value->type) {
    case DRIFT_S:
        return value->as.s.len;
    case DRIFT_N:
        return number_size(value->as.s);
    case DRIFT_B:
        return value->as.b.len;
    case DRIFT_BOOL:
    case DRIFT_NULL:
        return 1;
    case DRIFT_SS:
        for (size_t i = 0; i < value->as.strings.len; i++) total += value->as.strings.items[i].len;
        return total;
    case DRIFT_NS:
        for (size_t i = 0; i < value->as.strings.len; i++) {
            total += number_size(value->as.strings.items[i]);
        }
        return total;
    case DRIFT_BS:
        for (size_t i = 0; i < value->as.binaries.len; i++) {
            total += value->as.binaries.items[i].len;
        }
        return total;
    case DRIFT_L:
        total = 3;
        for (size_t i = 0; i < value->as.list.len; i++) {
            total += 1 + drift_value_size(value->as.list.items[i]);
        }
        return total;
    case DRIFT_M:
        total = 3;
        for (size_t i = 0; i < value->as.map->len; i++) {
            total += value->as.map->entries[i].name.len + 1 +
                     drift_value_size(value->as.map->entries[i].value);
        }
        return total;
    }
    return 0;
}

/* ---- readable text (the Rust SDK's expression::readable) ---- */

static void json_string(drift_buf *out, const char *s, size_t len) {
    static const char hex[] = "0123456789abcdef";
    drift_buf_char(out, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"':
            drift_buf_str(out, "\\\"");
            break;
        case '\\':
            drift_buf_str(out, "\\\\");
            break;
        case '\n':
            drift_buf_str(out, "\\n");
            break;
        case '\r':
            drift_buf_str(out, "\\r");
            break;
        case '\t':
            drift_buf_str(out, "\\t");
            break;
        default:
            if (c < 0x20) {
                char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                drift_buf_mem(out, esc, 6);
            } else {
                drift_buf_char(out, (char)c);
            }
        }
    }
    drift_buf_char(out, '"');
}

static void base64(drift_buf *out, drift_bytes b) {
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    drift_buf_char(out, '"');
    for (size_t i = 0; i < b.len; i += 3) {
        size_t n = b.len - i < 3 ? b.len - i : 3;
        uint32_t v = (uint32_t)b.ptr[i] << 16;
        if (n > 1) v |= (uint32_t)b.ptr[i + 1] << 8;
        if (n > 2) v |= b.ptr[i + 2];
        for (size_t k = 0; k < 4; k++) {
            drift_buf_char(out, k <= n ? alphabet[(v >> (18 - 6 * k)) & 63] : '=');
        }
    }
    drift_buf_char(out, '"');
}

static void write_readable(drift_buf *out, const drift_value *value) {
    switch (value->type) {
    case DRIFT_S:
        json_string(out, value->as.s.ptr, value->as.s.len);
        return;
    case DRIFT_N:
        drift_buf_mem(out, value->as.s.ptr, value->as.s.len);
        return;
    case DRIFT_BOOL:
        drift_buf_str(out, value->as.boolean ? "true" : "false");
        return;
    case DRIFT_NULL:
        drift_buf_str(out, "null");
        return;
    case DRIFT_B:
        drift_buf_str(out, "{\"B\": ");
        base64(out, value->as.b);
        drift_buf_char(out, '}');
        return;
    case DRIFT_SS:
    case DRIFT_NS:
        drift_buf_str(out, value->type == DRIFT_SS ? "{\"SS\": [" : "{\"NS\": [");
        for (size_t i = 0; i < value->as.strings.len; i++) {
            if (i) drift_buf_str(out, ", ");
            json_string(out, value->as.strings.items[i].ptr, value->as.strings.items[i].len);
        }
        drift_buf_str(out, "]}");
        return;
    case DRIFT_BS:
        drift_buf_str(out, "{\"BS\": [");
        for (size_t i = 0; i < value->as.binaries.len; i++) {
            if (i) drift_buf_str(out, ", ");
            base64(out, value->as.binaries.items[i]);
        }
        drift_buf_str(out, "]}");
        return;
    case DRIFT_L:
        drift_buf_char(out, '[');
        for (size_t i = 0; i < value->as.list.len; i++) {
            if (i) drift_buf_str(out, ", ");
            write_readable(out, value->as.list.items[i]);
        }
        drift_buf_char(out, ']');
        return;
    case DRIFT_M:
        drift_buf_char(out, '{');
        for (size_t i = 0; i < value->as.map->len; i++) {
            const drift_entry *e = &value->as.map->entries[i];
            if (i) drift_buf_str(out, ", ");
            json_string(out, e->name.ptr, e->name.len);
            drift_buf_str(out, ": ");
            write_readable(out, e->value);
        }
        drift_buf_char(out, '}');
        return;
    }
}

const char *drift_readable(const drift_value *value) {
    drift_buf out = {0};
    write_readable(&out, value);
    return drift_buf_text(&out);
}

/* ---- items ---- */

int drift_name_cmp(const char *a, size_t a_len, const char *b, size_t b_len) {
    size_t n = a_len < b_len ? a_len : b_len;
    int c = n ? memcmp(a, b, n) : 0;
    if (c != 0) return c;
    return a_len < b_len ? -1 : a_len > b_len ? 1 : 0;
}

drift_item *drift_item_new(void) {
    drift_item *item = drift_alloc(sizeof *item);
    memset(item, 0, sizeof *item);
    return item;
}

drift_item *drift_item_clone(const drift_item *item) {
    drift_item *copy = drift_item_new();
    copy->entries = drift_alloc((item->len ? item->len : 1) * sizeof(drift_entry));
    copy->cap = item->len;
    for (size_t i = 0; i < item->len; i++) {
        copy->entries[i].name = drift_str_copy(item->entries[i].name.ptr, item->entries[i].name.len);
        copy->entries[i].value = drift_value_clone(item->entries[i].value);
    }
    copy->len = item->len;
    return copy;
}

size_t drift_item_find(const drift_item *item, const char *name, size_t len, bool *found) {
    size_t low = 0, high = item->len;
    while (low < high) {
        size_t mid = low + (high - low) / 2;
        int c = drift_name_cmp(item->entries[mid].name.ptr, item->entries[mid].name.len, name, len);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0) {
            low = mid + 1;
        } else {
            high = mid;
        }
    }
    *found = false;
    return low;
}

void drift_item_insert_at(drift_item *item, size_t at, drift_str name, drift_value *value) {
    DRIFT_RESERVE(item->entries, item->len, item->cap);
    memmove(&item->entries[at + 1], &item->entries[at], (item->len - at) * sizeof(drift_entry));
    item->entries[at] = (drift_entry){name, value};
    item->len++;
}

drift_value *drift_item_get_len(const drift_item *item, const char *name, size_t len) {
    if (item == NULL) return NULL;
    bool found;
    size_t at = drift_item_find(item, name, len, &found);
    return found ? item->entries[at].value : NULL;
}

drift_value *drift_item_get(const drift_item *item, const char *name) {
    return drift_item_get_len(item, name, strlen(name));
}

const char *drift_item_get_str(const drift_item *item, const char *name) {
    return drift_as_str(drift_item_get(item, name));
}

bool drift_item_get_i64(const drift_item *item, const char *name, int64_t *out) {
    return drift_as_i64(drift_item_get(item, name), out);
}

bool drift_item_get_bool(const drift_item *item, const char *name, bool *out) {
    return drift_as_bool(drift_item_get(item, name), out);
}

bool drift_item_has(const drift_item *item, const char *name) {
    return drift_item_get(item, name) != NULL;
}

drift_value *drift_item_set_len(drift_item *item, const char *name, size_t len, drift_value *value) {
    if (value == NULL) drift_trap();
    bool found;
    size_t at = drift_item_find(item, name, len, &found);
    if (found) {
        drift_value *old = item->entries[at].value;
        item->entries[at].value = value;
        return old;
    }
    drift_item_insert_at(item, at, drift_str_copy(name, len), value);
    return NULL;
}

drift_value *drift_item_set(drift_item *item, const char *name, drift_value *value) {
    return drift_item_set_len(item, name, strlen(name), value);
}

drift_item *drift_item_with(drift_item *item, const char *name, drift_value *value) {
    drift_item_set(item, name, value);
    return item;
}

drift_value *drift_item_remove(drift_item *item, const char *name) {
    bool found;
    size_t at = drift_item_find(item, name, strlen(name), &found);
    if (!found) return NULL;
    drift_value *old = item->entries[at].value;
    memmove(&item->entries[at], &item->entries[at + 1], (item->len - at - 1) * sizeof(drift_entry));
    item->len--;
    return old;
}

const char *drift_item_key_of(const drift_item *item, const char *const *names, size_t count,
                              drift_item **key) {
    drift_item *out = drift_item_new();
    for (size_t i = 0; i < count; i++) {
        drift_value *value = drift_item_get(item, names[i]);
        if (value == NULL) {
            return drift_concat("item has no key attribute `", names[i], "`", NULL);
        }
        drift_item_set(out, names[i], drift_value_clone(value));
    }
    *key = out;
    return NULL;
}

const char *drift_item_key(const drift_item *item, drift_item **key, const char *name, ...) {
    const char *names[8];
    size_t count = 0;
    va_list args;
    va_start(args, name);
    for (const char *n = name; n != NULL; n = va_arg(args, const char *)) {
        if (count == sizeof names / sizeof names[0]) drift_trap();
        names[count++] = n;
    }
    va_end(args);
    return drift_item_key_of(item, names, count, key);
}

bool drift_item_equal(const drift_item *a, const drift_item *b) {
    if (a == NULL || b == NULL) return a == b;
    if (a->len != b->len) return false;
    for (size_t i = 0; i < a->len; i++) {
        if (!str_equal(a->entries[i].name, b->entries[i].name)) return false;
        if (!drift_value_equal(a->entries[i].value, b->entries[i].value)) return false;
    }
    return true;
}

size_t drift_item_size(const drift_item *item) {
    size_t total = 0;
    for (size_t i = 0; i < item->len; i++) {
        total += item->entries[i].name.len + drift_value_size(item->entries[i].value);
    }
    return total;
}

/* ---- paths over values ---- */

const drift_value *drift_value_at(const drift_value *value, const drift_segment *segments,
                                  size_t count) {
    for (size_t i = 0; i < count && value != NULL; i++) {
        if (segments[i].name != NULL) {
            value = value->type == DRIFT_M
                        ? drift_item_get_len(value->as.map, segments[i].name, segments[i].name_len)
                        : NULL;
        } else {
            value = drift_list_get(value, segments[i].index);
        }
    }
    return value;
}

const drift_value *drift_item_path(const drift_item *item, const char *path) {
    drift_path parsed;
    if (drift_path_parse(path, &parsed) != NULL) return NULL;
    const drift_segment *first = &parsed.segments[0];
    const drift_value *top = drift_item_get_len(item, first->name, first->name_len);
    return top ? drift_value_at(top, parsed.segments + 1, parsed.len - 1) : NULL;
}
