/* The one place that touches the bindings `wit-bindgen c` generates from wit/migration.wit:
 * the item arena both ways, the exports (info, migrate, rollback) and the imports (log,
 * dynamodb), and who owns which memory:
 *
 * - an export's argument was allocated by the host (cabi_realloc, i.e. malloc): it is decoded
 *   into the region and freed at once with the generated *_free helper;
 * - an export's result is malloc'd piece by piece, as the generated cabi_post_* functions free
 *   it after the host has read it;
 * - an import's arguments are only read during the call: they live in the region;
 * - an import's result was allocated by cabi_realloc: decoded, then freed;
 * - the region is reset when an export returns.
 */
#include <stdlib.h>

#include "internal.h"
#include "migration.h"

/* drift-value's MAX_DEPTH: DynamoDB's nesting limit. */
#define MAX_DEPTH 32

typedef void *(*allocator)(size_t);

static void *heap_alloc(size_t size) {
    void *p = malloc(size ? size : 1);
    if (p == NULL) drift_trap();
    return p;
}

/* ---- decoding (arena → tree) ---- */

typedef struct decoder {
    const drift_migration_types_list_value_t *nodes;
    bool *taken;
} decoder;

static drift_str copy_string(const migration_string_t *s) {
    return drift_str_copy((const char *)s->ptr, s->len);
}

static const char *take(decoder *d, uint32_t index, size_t depth, drift_value **out);

static const char *decode_entries(decoder *d, const migration_list_tuple2_string_u32_t *entries,
                                  size_t depth, drift_item *into, const char *what) {
    for (size_t i = 0; i < entries->len; i++) {
        const migration_tuple2_string_u32_t *e = &entries->ptr[i];
        drift_value *value;
        const char *error = take(d, e->f1, depth, &value);
        if (error != NULL) return error;
        bool found;
        size_t at = drift_item_find(into, (const char *)e->f0.ptr, e->f0.len, &found);
        if (found) {
            drift_str name = copy_string(&e->f0);
            return drift_concat(what, " `", name.ptr, "` appears twice", NULL);
        }
        drift_item_insert_at(into, at, copy_string(&e->f0), value);
    }
    return NULL;
}

static const char *take(decoder *d, uint32_t index, size_t depth, drift_value **out) {
    if (depth > MAX_DEPTH) return "item arena nests deeper than DynamoDB's 32 levels";
    if (index >= d->nodes->len) {
        return drift_concat("item arena: node index ", drift_u64_text(index), " is out of range",
                            NULL);
    }
    if (d->taken[index]) {
        return drift_concat("item arena: node ", drift_u64_text(index),
                            " is referenced more than once (shared or cyclic)", NULL);
    }
    d->taken[index] = true;
    const drift_migration_types_value_t *node = &d->nodes->ptr[index];
    drift_value *v = drift_alloc(sizeof *v);
    memset(v, 0, sizeof *v);
    switch (node->tag) {
    case DRIFT_MIGRATION_TYPES_VALUE_S:
        v->type = DRIFT_S;
        v->as.s = copy_string(&node->val.s);
        break;
    case DRIFT_MIGRATION_TYPES_VALUE_N:
        v->type = DRIFT_N;
        v->as.s = copy_string(&node->val.n);
        break;
    case DRIFT_MIGRATION_TYPES_VALUE_B: {
        v->type = DRIFT_B;
        drift_str bytes = drift_str_copy((const char *)node->val.b.ptr, node->val.b.len);
        v->as.b = (drift_bytes){(const uint8_t *)bytes.ptr, bytes.len};
        break;
    }
    case DRIFT_MIGRATION_TYPES_VALUE_BOOLEAN:
        v->type = DRIFT_BOOL;
        v->as.boolean = node->val.boolean;
        break;
    case DRIFT_MIGRATION_TYPES_VALUE_NULL:
        v->type = DRIFT_NULL;
        break;
    case DRIFT_MIGRATION_TYPES_VALUE_SS:
    case DRIFT_MIGRATION_TYPES_VALUE_NS: {
        const migration_list_string_t *set =
            node->tag == DRIFT_MIGRATION_TYPES_VALUE_SS ? &node->val.ss : &node->val.ns;
        v->type = node->tag == DRIFT_MIGRATION_TYPES_VALUE_SS ? DRIFT_SS : DRIFT_NS;
        v->as.strings.items = drift_alloc(set->len * sizeof(drift_str));
        for (size_t i = 0; i < set->len; i++) v->as.strings.items[i] = copy_string(&set->ptr[i]);
        v->as.strings.len = set->len;
        break;
    }
    case DRIFT_MIGRATION_TYPES_VALUE_BS: {
        const migration_list_list_u8_t *set = &node->val.bs;
        v->type = DRIFT_BS;
        v->as.binaries.items = drift_alloc(set->len * sizeof(drift_bytes));
        for (size_t i = 0; i < set->len; i++) {
            drift_str bytes = drift_str_copy((const char *)set->ptr[i].ptr, set->ptr[i].len);
            v->as.binaries.items[i] = (drift_bytes){(const uint8_t *)bytes.ptr, bytes.len};
        }
        v->as.binaries.len = set->len;
        break;
    }
    case DRIFT_MIGRATION_TYPES_VALUE_L: {
        const migration_list_u32_t *list = &node->val.l;
        v->type = DRIFT_L;
        v->as.list.items = drift_alloc(list->len * sizeof(drift_value *));
        v->as.list.cap = list->len;
        for (size_t i = 0; i < list->len; i++) {
            const char *error = take(d, list->ptr[i], depth + 1, &v->as.list.items[i]);
            if (error != NULL) return error;
            v->as.list.len++;
        }
        break;
    }
    case DRIFT_MIGRATION_TYPES_VALUE_M: {
        v->type = DRIFT_M;
        v->as.map = drift_item_new();
        const char *error = decode_entries(d, &node->val.m, depth + 1, v->as.map, "map key");
        if (error != NULL) return error;
        break;
    }
    default:
        drift_trap();
    }
    *out = v;
    return NULL;
}

/* Rebuilds an item from an arena, rejecting what the Rust SDK rejects, with its messages. */
static const char *decode_item(const drift_migration_types_item_t *arena, drift_item **out) {
    decoder d = {&arena->nodes, drift_alloc(arena->nodes.len ? arena->nodes.len : 1)};
    memset(d.taken, 0, arena->nodes.len);
    drift_item *item = drift_item_new();
    const char *error = decode_entries(&d, &arena->attributes, 0, item, "attribute");
    if (error != NULL) return error;
    *out = item;
    return NULL;
}

/* ---- encoding (tree → arena), preorder, entries in name order: as the Rust SDK ---- */

typedef struct encoder {
    allocator alloc;
    drift_migration_types_value_t *nodes;
    uint32_t next;
} encoder;

static migration_string_t lower_bytes(allocator alloc, const void *ptr, size_t len) {
    migration_string_t s = {NULL, len};
    if (len) {
        s.ptr = alloc(len);
        memcpy(s.ptr, ptr, len);
    }
    return s;
}

static migration_string_t lower_str(allocator alloc, const char *text) {
    return lower_bytes(alloc, text, strlen(text));
}

static size_t count_nodes(const drift_value *v) {
    size_t n = 1;
    if (v->type == DRIFT_L) {
        for (size_t i = 0; i < v->as.list.len; i++) n += count_nodes(v->as.list.items[i]);
    } else if (v->type == DRIFT_M) {
        for (size_t i = 0; i < v->as.map->len; i++) n += count_nodes(v->as.map->entries[i].value);
    }
    return n;
}

static uint32_t push(encoder *e, const drift_value *v);

static migration_list_tuple2_string_u32_t push_entries(encoder *e, const drift_item *item) {
    migration_list_tuple2_string_u32_t list = {NULL, item->len};
    if (item->len) list.ptr = e->alloc(item->len * sizeof(migration_tuple2_string_u32_t));
    for (size_t i = 0; i < item->len; i++) {
        const drift_entry *entry = &item->entries[i];
        list.ptr[i].f0 = lower_bytes(e->alloc, entry->name.ptr, entry->name.len);
        list.ptr[i].f1 = push(e, entry->value);
    }
    return list;
}

static uint32_t push(encoder *e, const drift_value *v) {
    /* The parent's slot first: its children are numbered after it. */
    uint32_t index = e->next++;
    drift_migration_types_value_t node;
    memset(&node, 0, sizeof node);
    switch (v->type) {
    case DRIFT_S:
        node.tag = DRIFT_MIGRATION_TYPES_VALUE_S;
        node.val.s = lower_bytes(e->alloc, v->as.s.ptr, v->as.s.len);
        break;
    case DRIFT_N:
        node.tag = DRIFT_MIGRATION_TYPES_VALUE_N;
        node.val.n = lower_bytes(e->alloc, v->as.s.ptr, v->as.s.len);
        break;
    case DRIFT_B: {
        node.tag = DRIFT_MIGRATION_TYPES_VALUE_B;
        migration_string_t bytes = lower_bytes(e->alloc, v->as.b.ptr, v->as.b.len);
        node.val.b = (migration_list_u8_t){bytes.ptr, bytes.len};
        break;
    }
    case DRIFT_BOOL:
        node.tag = DRIFT_MIGRATION_TYPES_VALUE_BOOLEAN;
        node.val.boolean = v->as.boolean;
        break;
    case DRIFT_NULL:
        node.tag = DRIFT_MIGRATION_TYPES_VALUE_NULL;
        break;
    case DRIFT_SS:
    case DRIFT_NS: {
        migration_list_string_t set = {NULL, v->as.strings.len};
        if (set.len) set.ptr = e->alloc(set.len * sizeof(migration_string_t));
        for (size_t i = 0; i < set.len; i++) {
            set.ptr[i] = lower_bytes(e->alloc, v->as.strings.items[i].ptr, v->as.strings.items[i].len);
        }
        node.tag = v->type == DRIFT_SS ? DRIFT_MIGRATION_TYPES_VALUE_SS : DRIFT_MIGRATION_TYPES_VALUE_NS;
        if (v->type == DRIFT_SS) {
            node.val.ss = set;
        } else {
            node.val.ns = set;
        }
        break;
    }
    case DRIFT_BS: {
        migration_list_list_u8_t set = {NULL, v->as.binaries.len};
        if (set.len) set.ptr = e->alloc(set.len * sizeof(migration_list_u8_t));
        for (size_t i = 0; i < set.len; i++) {
            migration_string_t bytes =
                lower_bytes(e->alloc, v->as.binaries.items[i].ptr, v->as.binaries.items[i].len);
            set.ptr[i] = (migration_list_u8_t){bytes.ptr, bytes.len};
        }
        node.tag = DRIFT_MIGRATION_TYPES_VALUE_BS;
        node.val.bs = set;
        break;
    }
    case DRIFT_L: {
        migration_list_u32_t list = {NULL, v->as.list.len};
        if (list.len) list.ptr = e->alloc(list.len * sizeof(uint32_t));
        for (size_t i = 0; i < list.len; i++) list.ptr[i] = push(e, v->as.list.items[i]);
        node.tag = DRIFT_MIGRATION_TYPES_VALUE_L;
        node.val.l = list;
        break;
    }
    case DRIFT_M:
        node.tag = DRIFT_MIGRATION_TYPES_VALUE_M;
        node.val.m = push_entries(e, v->as.map);
        break;
    }
    e->nodes[index] = node;
    return index;
}

static drift_migration_types_item_t encode_item(allocator alloc, const drift_item *item) {
    size_t count = 0;
    for (size_t i = 0; i < item->len; i++) count += count_nodes(item->entries[i].value);
    encoder e = {alloc, count ? alloc(count * sizeof(drift_migration_types_value_t)) : NULL, 0};
    drift_migration_types_item_t arena;
    arena.attributes = push_entries(&e, item);
    arena.nodes = (drift_migration_types_list_value_t){e.nodes, count};
    return arena;
}

static migration_option_string_t lower_option(allocator alloc, const char *text) {
    migration_option_string_t option;
    memset(&option, 0, sizeof option);
    if (text != NULL) {
        option.is_some = true;
        option.val = lower_str(alloc, text);
    }
    return option;
}

static drift_migration_types_expression_attributes_t lower_attributes(allocator alloc,
                                                                      const drift_names *names,
                                                                      const drift_item *values) {
    drift_migration_types_expression_attributes_t out;
    out.names = (migration_list_tuple2_string_string_t){NULL, names->len};
    if (names->len) out.names.ptr = alloc(names->len * sizeof(migration_tuple2_string_string_t));
    for (size_t i = 0; i < names->len; i++) {
        out.names.ptr[i].f0 = lower_str(alloc, names->entries[i].placeholder);
        out.names.ptr[i].f1 = lower_str(alloc, names->entries[i].name);
    }
    out.values = encode_item(alloc, values);
    return out;
}

/* Lowers one action; `expression` is the update's, already checked. */
static migration_action_t lower_action(allocator alloc, const drift_action *a,
                                       const char *expression) {
    migration_action_t out;
    memset(&out, 0, sizeof out);
    switch (a->kind) {
    case DRIFT_PUT:
        out.tag = DRIFT_MIGRATION_TYPES_ACTION_PUT;
        out.val.put.table = lower_option(alloc, a->table);
        out.val.put.item = encode_item(alloc, a->item);
        out.val.put.condition = lower_option(alloc, a->condition);
        out.val.put.attributes = lower_attributes(alloc, &a->names, a->values);
        break;
    case DRIFT_UPDATE:
        out.tag = DRIFT_MIGRATION_TYPES_ACTION_UPDATE;
        out.val.update.table = lower_option(alloc, a->table);
        out.val.update.key = encode_item(alloc, a->item);
        out.val.update.update_expression = lower_str(alloc, expression);
        out.val.update.condition = lower_option(alloc, a->condition);
        out.val.update.attributes = lower_attributes(alloc, &a->names, a->values);
        out.val.update.upsert = a->upsert;
        break;
    case DRIFT_DELETE:
        out.tag = DRIFT_MIGRATION_TYPES_ACTION_DELETE;
        out.val.delete_.table = lower_option(alloc, a->table);
        out.val.delete_.key = encode_item(alloc, a->item);
        out.val.delete_.condition = lower_option(alloc, a->condition);
        out.val.delete_.attributes = lower_attributes(alloc, &a->names, a->values);
        break;
    }
    return out;
}

/* ---- exports ---- */

static const drift_migration *registered(void) {
    if (!DRIFT_HAS_MIGRATION()) drift_trap(); /* no DRIFT_MIGRATION(...) */
    return &drift_registered_migration;
}

void exports_migration_info(migration_info_t *ret) {
    drift_info info = registered()->info();
    ret->number = info.number;
    ret->name = lower_str(heap_alloc, info.name ? info.name : "");
    ret->description = lower_str(heap_alloc, info.description ? info.description : "");
    ret->table = lower_str(heap_alloc, info.table ? info.table : "");
    size_t count = 0;
    while (info.other_tables != NULL && info.other_tables[count] != NULL) count++;
    ret->other_tables = (migration_list_string_t){NULL, count};
    if (count) ret->other_tables.ptr = heap_alloc(count * sizeof(migration_string_t));
    for (size_t i = 0; i < count; i++) ret->other_tables.ptr[i] = lower_str(heap_alloc, info.other_tables[i]);
    drift_reset();
}

/* decode → call → check → lower, then free the input and the region. */
static bool call(drift_migrate_fn fn, migration_item_t *input, migration_list_action_t *ret,
                 migration_string_t *err) {
    drift_item *item = NULL;
    const char *error = decode_item(input, &item);
    migration_item_free(input);
    drift_actions actions = {0};
    if (error == NULL) error = drift_run(fn, item, &actions);
    if (error != NULL) {
        *err = lower_str(heap_alloc, error);
        drift_reset();
        return false;
    }
    ret->len = actions.len;
    ret->ptr = actions.len ? heap_alloc(actions.len * sizeof(migration_action_t)) : NULL;
    for (size_t i = 0; i < actions.len; i++) {
        const drift_action *a = actions.items[i];
        const char *expression = a->kind == DRIFT_UPDATE ? drift_update_expression(a, NULL) : NULL;
        ret->ptr[i] = lower_action(heap_alloc, a, expression);
    }
    drift_reset();
    return true;
}

bool exports_migration_migrate(migration_item_t *item, migration_list_action_t *ret,
                               migration_string_t *err) {
    return call(registered()->migrate, item, ret, err);
}

bool exports_migration_rollback(migration_item_t *item, migration_list_action_t *ret,
                                migration_string_t *err) {
    return call(registered()->rollback, item, ret, err);
}

/* ---- imports: log ---- */

void drift_log(drift_level level, const char *message) {
    migration_string_t text = {(uint8_t *)message, strlen(message)};
    migration_log((migration_level_t)level, &text);
}

void drift_log_str(drift_level level, drift_str message) {
    migration_string_t text = {(uint8_t *)message.ptr, message.len};
    migration_log((migration_level_t)level, &text);
}

void drift_log_trace(const char *message) { drift_log(DRIFT_TRACE, message); }
void drift_log_debug(const char *message) { drift_log(DRIFT_DEBUG, message); }
void drift_log_info(const char *message) { drift_log(DRIFT_INFO, message); }
void drift_log_warn(const char *message) { drift_log(DRIFT_WARN, message); }
void drift_log_error(const char *message) { drift_log(DRIFT_ERROR, message); }

/* ---- imports: dynamodb ---- */

static drift_db_status db_error(drift_migration_dynamodb_db_error_t *e, const char **why) {
    drift_db_status status = DRIFT_DB_FAILED;
    const char *text = NULL;
    switch (e->tag) {
    case DRIFT_MIGRATION_DYNAMODB_DB_ERROR_CONDITIONAL_CHECK_FAILED:
        status = DRIFT_DB_CONDITIONAL_CHECK_FAILED;
        break;
    case DRIFT_MIGRATION_DYNAMODB_DB_ERROR_REFUSED:
        status = DRIFT_DB_REFUSED;
        text = copy_string(&e->val.refused).ptr;
        break;
    case DRIFT_MIGRATION_DYNAMODB_DB_ERROR_FAILED:
        text = copy_string(&e->val.failed).ptr;
        break;
    }
    drift_migration_dynamodb_db_error_free(e);
    if (why) *why = text;
    return status;
}

/* A host item (malloc'd by cabi_realloc) into the region; frees it. */
static drift_db_status take_item(drift_migration_types_item_t *arena, drift_item **out,
                                 const char **why) {
    const char *error = decode_item(arena, out);
    drift_migration_types_item_free(arena);
    if (error != NULL) {
        if (why) *why = error;
        return DRIFT_DB_FAILED;
    }
    return DRIFT_DB_OK;
}

static migration_string_t borrow(const char *text) {
    return (migration_string_t){(uint8_t *)text, strlen(text)};
}

drift_db_status drift_db_get(const char *table, const drift_item *key, drift_item **found,
                             const char **why) {
    migration_string_t t = borrow(table);
    drift_migration_types_item_t k = encode_item(drift_alloc, key);
    drift_migration_dynamodb_option_item_t result;
    drift_migration_dynamodb_db_error_t error;
    *found = NULL;
    if (!drift_migration_dynamodb_get_item(&t, &k, &result, &error)) return db_error(&error, why);
    if (!result.is_some) return DRIFT_DB_OK;
    return take_item(&result.val, found, why);
}

drift_db_status drift_db_write(const drift_action *a, const char **why) {
    const char *table = a->table;
    if (table == NULL && DRIFT_HAS_MIGRATION()) {
        table = drift_registered_migration.info().table;
    }
    if (table == NULL) {
        if (why) *why = "no table";
        return DRIFT_DB_REFUSED;
    }
    migration_string_t t = borrow(table);
    drift_migration_types_item_t item = encode_item(drift_alloc, a->item);
    migration_string_t condition = a->condition ? borrow(a->condition) : (migration_string_t){0};
    migration_string_t *maybe_condition = a->condition ? &condition : NULL;
    drift_migration_types_expression_attributes_t attributes =
        lower_attributes(drift_alloc, &a->names, a->values);
    drift_migration_dynamodb_db_error_t error;
    bool ok = false;
    switch (a->kind) {
    case DRIFT_PUT:
        ok = drift_migration_dynamodb_put_item(&t, &item, maybe_condition, &attributes, &error);
        break;
    case DRIFT_UPDATE: {
        const char *expression = drift_update_expression(a, why);
        if (expression == NULL) return DRIFT_DB_REFUSED;
        migration_string_t e = borrow(expression);
        ok = drift_migration_dynamodb_update_item(&t, &item, &e, maybe_condition, &attributes,
                                                  &error);
        break;
    }
    case DRIFT_DELETE:
        ok = drift_migration_dynamodb_delete_item(&t, &item, maybe_condition, &attributes, &error);
        break;
    }
    return ok ? DRIFT_DB_OK : db_error(&error, why);
}

drift_db_status drift_db_query_page(const drift_query *q, const drift_item *start,
                                    drift_item ***items, size_t *count, drift_item **last_key,
                                    const char **why) {
    drift_migration_dynamodb_query_input_t input;
    memset(&input, 0, sizeof input);
    input.table = borrow(q->table);
    if (q->index) {
        input.index.is_some = true;
        input.index.val = borrow(q->index);
    }
    input.key_condition = borrow(q->key_condition);
    if (q->filter) {
        input.filter.is_some = true;
        input.filter.val = borrow(q->filter);
    }
    input.attributes = lower_attributes(drift_alloc, &q->names, q->values);
    if (q->limit) {
        input.limit.is_some = true;
        input.limit.val = q->limit;
    }
    if (start) {
        input.exclusive_start_key.is_some = true;
        input.exclusive_start_key.val = encode_item(drift_alloc, start);
    }
    input.descending = q->descending;
    drift_migration_dynamodb_query_output_t output;
    drift_migration_dynamodb_db_error_t error;
    *items = NULL;
    *count = 0;
    if (last_key) *last_key = NULL;
    if (!drift_migration_dynamodb_query(&input, &output, &error)) return db_error(&error, why);
    drift_db_status status = DRIFT_DB_OK;
    drift_item **list = drift_alloc((output.items.len ? output.items.len : 1) * sizeof(drift_item *));
    for (size_t i = 0; i < output.items.len && status == DRIFT_DB_OK; i++) {
        const char *error_text = decode_item(&output.items.ptr[i], &list[i]);
        if (error_text != NULL) {
            if (why) *why = error_text;
            status = DRIFT_DB_FAILED;
        }
    }
    if (status == DRIFT_DB_OK && output.last_evaluated_key.is_some && last_key) {
        const char *error_text = decode_item(&output.last_evaluated_key.val, last_key);
        if (error_text != NULL) {
            if (why) *why = error_text;
            status = DRIFT_DB_FAILED;
        }
    }
    size_t page_len = output.items.len;
    drift_migration_dynamodb_query_output_free(&output);
    if (status == DRIFT_DB_OK) {
        *items = list;
        *count = page_len;
    }
    return status;
}

drift_db_status drift_db_query_all(const drift_query *query, drift_item ***items, size_t *count,
                                   const char **why) {
    drift_item **all = NULL;
    size_t len = 0, cap = 0;
    drift_item *start = NULL;
    *items = NULL;
    *count = 0;
    for (;;) {
        drift_item **page;
        size_t page_len;
        drift_item *next = NULL;
        drift_db_status status = drift_db_query_page(query, start, &page, &page_len, &next, why);
        if (status != DRIFT_DB_OK) return status;
        for (size_t i = 0; i < page_len; i++) {
            DRIFT_RESERVE(all, len, cap);
            all[len++] = page[i];
        }
        if (next == NULL) break;
        start = next;
    }
    *items = all;
    *count = len;
    return DRIFT_DB_OK;
}
