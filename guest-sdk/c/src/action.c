/* Actions: put/update/delete builders, generated update expressions, resolved text. */
#include "internal.h"

/* The clauses of an update, rendered as they are added (call order within each clause). */
struct drift_update_parts {
    drift_buf clause[4]; /* SET, REMOVE, ADD, DELETE */
    size_t count[4];
    const char *error; /* the first path that did not parse */
};

enum { SET, REMOVE, ADD, DELETE };
static const char *const KEYWORDS[4] = {"SET ", "REMOVE ", "ADD ", "DELETE "};

/* ---- placeholder maps ---- */

static size_t names_find(const drift_names *names, const char *placeholder, bool *found) {
    size_t low = 0, high = names->len, len = strlen(placeholder);
    while (low < high) {
        size_t mid = low + (high - low) / 2;
        const char *p = names->entries[mid].placeholder;
        int c = drift_name_cmp(p, strlen(p), placeholder, len);
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

const char *drift_names_get(const drift_names *names, const char *placeholder) {
    bool found;
    size_t at = names_find(names, placeholder, &found);
    return found ? names->entries[at].name : NULL;
}

void drift_names_put(drift_names *names, const char *placeholder, const char *name) {
    bool found;
    size_t at = names_find(names, placeholder, &found);
    if (found) {
        names->entries[at].name = name;
        return;
    }
    DRIFT_RESERVE(names->entries, names->len, names->cap);
    memmove(&names->entries[at + 1], &names->entries[at], (names->len - at) * sizeof(struct drift_name));
    names->entries[at] = (struct drift_name){placeholder, name};
    names->len++;
}

/* ---- building ---- */

static drift_action *new_action(drift_action_kind kind, drift_item *item) {
    if (item == NULL) drift_trap();
    drift_action *a = drift_alloc(sizeof *a);
    memset(a, 0, sizeof *a);
    a->kind = kind;
    a->item = item;
    a->values = drift_item_new();
    return a;
}

drift_action *drift_put(drift_item *item) { return new_action(DRIFT_PUT, item); }

drift_action *drift_update(drift_item *key) {
    drift_action *a = new_action(DRIFT_UPDATE, key);
    a->parts = drift_alloc(sizeof *a->parts);
    memset(a->parts, 0, sizeof *a->parts);
    return a;
}

drift_action *drift_delete(drift_item *key) { return new_action(DRIFT_DELETE, key); }

drift_action *drift_push(drift_actions *out, drift_action *action) {
    DRIFT_RESERVE(out->items, out->len, out->cap);
    out->items[out->len++] = action;
    return action;
}

drift_action *drift_table(drift_action *action, const char *table) {
    action->table = drift_strdup(table);
    return action;
}

drift_action *drift_condition(drift_action *action, const char *expression) {
    action->condition = drift_strdup(expression);
    return action;
}

drift_action *drift_name_placeholder(drift_action *action, const char *placeholder,
                                     const char *name) {
    drift_names_put(&action->names, drift_strdup(placeholder), drift_strdup(name));
    return action;
}

drift_action *drift_value_placeholder(drift_action *action, const char *placeholder,
                                      drift_value *value) {
    drift_item_set(action->values, placeholder, value);
    return action;
}

/* The generated placeholder of `name`: the one it already has, or the next number. */
static const char *name_placeholder(drift_names *names, const char *name, size_t len) {
    for (size_t i = 0; i < names->len; i++) {
        const struct drift_name *n = &names->entries[i];
        if (strncmp(n->placeholder, "#drift", 6) == 0 && strlen(n->name) == len &&
            memcmp(n->name, name, len) == 0) {
            return n->placeholder;
        }
    }
    const char *placeholder = drift_concat("#drift", drift_u64_text(names->len), NULL);
    drift_names_put(names, placeholder, drift_strndup(name, len));
    return placeholder;
}

/* A new placeholder for `value`: values are never shared, even when equal. */
static const char *value_placeholder(drift_item *values, drift_value *value) {
    const char *placeholder = drift_concat(":drift", drift_u64_text(values->len), NULL);
    drift_item_set(values, placeholder, value);
    return placeholder;
}

static drift_update_parts *parts_of(drift_action *update) {
    if (update->kind != DRIFT_UPDATE || update->parts == NULL) drift_trap();
    return update->parts;
}

/* Renders `path` with name placeholders into `out`; false (error kept) if it does not parse. */
static bool placeholder_path(drift_action *update, const char *path, drift_buf *out) {
    drift_update_parts *parts = parts_of(update);
    drift_path parsed;
    const char *error = drift_path_parse(path, &parsed);
    if (error != NULL) {
        if (parts->error == NULL) parts->error = error;
        return false;
    }
    for (size_t i = 0; i < parsed.len; i++) {
        const drift_segment *s = &parsed.segments[i];
        if (s->name != NULL) {
            if (i > 0) drift_buf_char(out, '.');
            drift_buf_str(out, name_placeholder(&update->names, s->name, s->name_len));
        } else {
            drift_buf_char(out, '[');
            drift_buf_u64(out, s->index);
            drift_buf_char(out, ']');
        }
    }
    return true;
}

static drift_action *add_clause(drift_action *update, int clause, const char *path,
                                drift_value *value) {
    drift_update_parts *parts = parts_of(update);
    drift_buf rendered = {0};
    if (!placeholder_path(update, path, &rendered)) return update;
    if (value != NULL) {
        drift_buf_str(&rendered, clause == SET ? " = " : " ");
        drift_buf_str(&rendered, value_placeholder(update->values, value));
    }
    drift_buf *buf = &parts->clause[clause];
    if (parts->count[clause]++ > 0) drift_buf_str(buf, ", ");
    drift_buf_mem(buf, rendered.ptr, rendered.len);
    return update;
}

drift_action *drift_set(drift_action *update, const char *path, drift_value *value) {
    if (value == NULL) drift_trap();
    return add_clause(update, SET, path, value);
}

drift_action *drift_remove(drift_action *update, const char *path) {
    return add_clause(update, REMOVE, path, NULL);
}

drift_action *drift_add(drift_action *update, const char *path, drift_value *value) {
    if (value == NULL) drift_trap();
    return add_clause(update, ADD, path, value);
}

drift_action *drift_delete_from_set(drift_action *update, const char *path, drift_value *value) {
    if (value == NULL) drift_trap();
    return add_clause(update, DELETE, path, value);
}

drift_action *drift_expression(drift_action *update, const char *expression) {
    parts_of(update);
    update->expression = drift_strdup(expression);
    return update;
}

drift_action *drift_upsert(drift_action *update) {
    parts_of(update);
    update->upsert = true;
    return update;
}

const char *drift_update_expression(const drift_action *update, const char **error) {
    const char *ignored;
    if (error == NULL) error = &ignored;
    *error = NULL;
    if (update->kind != DRIFT_UPDATE || update->parts == NULL) {
        *error = "not an update";
        return NULL;
    }
    const drift_update_parts *parts = update->parts;
    if (parts->error != NULL) {
        *error = parts->error;
        return NULL;
    }
    bool empty = !parts->count[SET] && !parts->count[REMOVE] && !parts->count[ADD] &&
                 !parts->count[DELETE];
    if (update->expression != NULL) {
        if (empty) return update->expression;
        *error = "an update cannot mix expression() with set/remove/add/delete";
        return NULL;
    }
    if (empty) {
        *error = "an update needs at least one set/remove/add/delete";
        return NULL;
    }
    drift_buf out = {0};
    for (int c = SET; c <= DELETE; c++) {
        if (!parts->count[c]) continue;
        if (out.len) drift_buf_char(&out, ' ');
        drift_buf_str(&out, KEYWORDS[c]);
        drift_buf_mem(&out, parts->clause[c].ptr, parts->clause[c].len);
    }
    return drift_buf_text(&out);
}

/* ---- resolved text, for tests ---- */

static bool is_word(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static void readable_name(drift_buf *out, const char *name) {
    bool plain = ((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z') ||
                  name[0] == '_');
    for (const char *p = name; *p && plain; p++) plain = is_word(*p);
    if (!plain) drift_buf_char(out, '`');
    drift_buf_str(out, name);
    if (!plain) drift_buf_char(out, '`');
}

const char *drift_resolved(const drift_action *update, const char **error) {
    const char *ignored;
    if (error == NULL) error = &ignored;
    const char *expression = drift_update_expression(update, error);
    if (expression == NULL) return NULL;
    drift_buf out = {0};
    for (size_t i = 0; expression[i];) {
        char c = expression[i];
        if (c != '#' && c != ':') {
            drift_buf_char(&out, c);
            i++;
            continue;
        }
        size_t end = i + 1;
        while (is_word(expression[end])) end++;
        if (end == i + 1) {
            char symbol[2] = {c, 0};
            *error = drift_concat("invalid update expression: `", symbol,
                                  "` must be followed by letters, digits or `_` (at byte ",
                                  drift_u64_text(i), ")", NULL);
            return NULL;
        }
        const char *placeholder = drift_strndup(expression + i, end - i);
        if (c == '#') {
            const char *name = drift_names_get(&update->names, placeholder);
            if (name == NULL) {
                *error = drift_concat("undefined name placeholder `", placeholder, "`", NULL);
                return NULL;
            }
            readable_name(&out, name);
        } else {
            const drift_value *value = drift_item_get(update->values, placeholder);
            if (value == NULL) {
                *error = drift_concat("undefined value placeholder `", placeholder, "`", NULL);
                return NULL;
            }
            drift_buf_str(&out, drift_readable(value));
        }
        i = end;
    }
    return drift_buf_text(&out);
}

/* ---- running a migration natively ---- */

const char *drift_run(drift_migrate_fn fn, drift_item *item, drift_actions *out) {
    if (fn == NULL) return "this migration has no rollback";
    const char *error = fn(item, out);
    if (error != NULL) return error;
    for (size_t i = 0; i < out->len; i++) {
        if (out->items[i]->kind == DRIFT_UPDATE) {
            if (drift_update_expression(out->items[i], &error) == NULL) return error;
        }
    }
    return NULL;
}

/* ---- queries ---- */

drift_query *drift_query_new(const char *table, const char *key_condition) {
    drift_query *q = drift_alloc(sizeof *q);
    memset(q, 0, sizeof *q);
    q->table = drift_strdup(table);
    q->key_condition = drift_strdup(key_condition);
    q->values = drift_item_new();
    return q;
}

drift_query *drift_query_index(drift_query *query, const char *index) {
    query->index = drift_strdup(index);
    return query;
}

drift_query *drift_query_filter(drift_query *query, const char *filter) {
    query->filter = drift_strdup(filter);
    return query;
}

drift_query *drift_query_name(drift_query *query, const char *placeholder, const char *name) {
    drift_names_put(&query->names, drift_strdup(placeholder), drift_strdup(name));
    return query;
}

drift_query *drift_query_value(drift_query *query, const char *placeholder, drift_value *value) {
    drift_item_set(query->values, placeholder, value);
    return query;
}

drift_query *drift_query_limit(drift_query *query, uint32_t limit) {
    query->limit = limit;
    return query;
}

drift_query *drift_query_descending(drift_query *query) {
    query->descending = true;
    return query;
}

const char *drift_db_message(drift_db_status status, const char *why) {
    switch (status) {
    case DRIFT_DB_OK:
        return NULL;
    case DRIFT_DB_CONDITIONAL_CHECK_FAILED:
        return "condition check failed";
    case DRIFT_DB_REFUSED:
        return drift_concat("refused: ", why ? why : "", NULL);
    case DRIFT_DB_FAILED:
        return drift_concat("DynamoDB failed: ", why ? why : "", NULL);
    }
    return NULL;
}
