/* The C SDK's native tests of the generated export glue (arena in, actions out, memory as the
 * generated code expects), the log, and immediate operations (refused natively). */

#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "internal.h"
#include "migration.h"

/* ---- the export glue, natively: arena in, actions out, memory as the generated code expects ---- */

/* The test migration: puts each item back whole (with "echo": true added), or fails. */
static const char *echo(drift_item *item, drift_actions *out) {
    if (drift_item_has(item, "fail")) return drift_concat("failing ", drift_item_get_str(item, "fail"), NULL);
    if (drift_item_has(item, "bad_path")) {
        drift_set(drift_push(out, drift_update(drift_item_new())), "a..b", drift_null());
        return NULL;
    }
    drift_item_set(item, "echo", drift_bool(true));
    drift_push(out, drift_put(item));
    return NULL;
}

static drift_info echo_info(void) {
    static const char *const others[] = {"copy", "audit", NULL};
    return (drift_info){.number = 9, .name = "echo", .table = "things", .other_tables = others};
}

const drift_migration drift_registered_migration = {echo_info, echo, NULL};

/* Host-side arena building, malloc'd as cabi_realloc would. */
static migration_string_t host_string(const char *s) {
    migration_string_t out = {NULL, strlen(s)};
    if (out.len) {
        out.ptr = malloc(out.len);
        memcpy(out.ptr, s, out.len);
    }
    return out;
}

typedef struct host_item {
    migration_tuple2_string_u32_t attributes[16];
    drift_migration_types_value_t nodes[64];
    size_t n_attributes, n_nodes;
} host_item;

static uint32_t host_node(host_item *h, drift_migration_types_value_t node) {
    h->nodes[h->n_nodes] = node;
    return (uint32_t)h->n_nodes++;
}

static drift_migration_types_value_t host_s(const char *s) {
    drift_migration_types_value_t v = {.tag = DRIFT_MIGRATION_TYPES_VALUE_S};
    v.val.s = host_string(s);
    return v;
}

static void host_attribute(host_item *h, const char *name, uint32_t index) {
    h->attributes[h->n_attributes].f0 = host_string(name);
    h->attributes[h->n_attributes++].f1 = index;
}

static migration_item_t host_finish(host_item *h) {
    migration_item_t item;
    item.attributes.len = h->n_attributes;
    item.attributes.ptr = malloc(h->n_attributes * sizeof(migration_tuple2_string_u32_t) + 1);
    memcpy(item.attributes.ptr, h->attributes, h->n_attributes * sizeof(migration_tuple2_string_u32_t));
    item.nodes.len = h->n_nodes;
    item.nodes.ptr = malloc(h->n_nodes * sizeof(drift_migration_types_value_t) + 1);
    memcpy(item.nodes.ptr, h->nodes, h->n_nodes * sizeof(drift_migration_types_value_t));
    return item;
}

static bool str_is(migration_string_t s, const char *expected) {
    return s.len == strlen(expected) && memcmp(s.ptr, expected, s.len) == 0;
}

/* Calls the generated export wrapper as the host does, then its post-return. */
extern uint8_t *__wasm_export_exports_migration_migrate(uint8_t *, size_t, uint8_t *, size_t);
extern void __wasm_export_exports_migration_migrate_post_return(uint8_t *);
extern uint8_t *__wasm_export_exports_migration_rollback(uint8_t *, size_t, uint8_t *, size_t);
extern void __wasm_export_exports_migration_rollback_post_return(uint8_t *);
extern uint8_t *__wasm_export_exports_migration_info(void);
extern void __wasm_export_exports_migration_info_post_return(uint8_t *);

typedef struct outcome {
    bool is_err;
    migration_list_action_t ok;
    migration_string_t err;
    uint8_t *area;
} outcome;

static outcome call_migrate(migration_item_t item) {
    uint8_t *area = __wasm_export_exports_migration_migrate(
        (uint8_t *)item.attributes.ptr, item.attributes.len, (uint8_t *)item.nodes.ptr, item.nodes.len);
    outcome o = {.area = area};
    o.is_err = area[0] == 1;
    if (o.is_err) {
        o.err = (migration_string_t){*(uint8_t **)(area + sizeof(void *)), *(size_t *)(area + 2 * sizeof(void *))};
    } else {
        o.ok = (migration_list_action_t){*(migration_action_t **)(area + sizeof(void *)),
                                         *(size_t *)(area + 2 * sizeof(void *))};
    }
    return o;
}

void arena_round_trips_in_preorder_and_name_order(void) {
    /* Attributes given out of order; a nested map and list; every type. */
    host_item h = {0};
    uint32_t id = host_node(&h, host_s("u1"));
    drift_migration_types_value_t list = {.tag = DRIFT_MIGRATION_TYPES_VALUE_L};
    uint32_t list_at = host_node(&h, list);
    drift_migration_types_value_t inner_map = {.tag = DRIFT_MIGRATION_TYPES_VALUE_M};
    uint32_t map_at = host_node(&h, inner_map);
    uint32_t k = host_node(&h, host_s("\xc3\xbf\xf0\x9f\xa6\x80"));
    drift_migration_types_value_t f = {.tag = DRIFT_MIGRATION_TYPES_VALUE_BOOLEAN, .val.boolean = false};
    uint32_t f_at = host_node(&h, f);
    drift_migration_types_value_t empty = {.tag = DRIFT_MIGRATION_TYPES_VALUE_L};
    uint32_t empty_at = host_node(&h, empty);
    drift_migration_types_value_t bs = {.tag = DRIFT_MIGRATION_TYPES_VALUE_BS};
    bs.val.bs.len = 2;
    bs.val.bs.ptr = malloc(2 * sizeof(migration_list_u8_t));
    bs.val.bs.ptr[0] = (migration_list_u8_t){malloc(1), 1};
    bs.val.bs.ptr[0].ptr[0] = 1;
    bs.val.bs.ptr[1] = (migration_list_u8_t){NULL, 0};
    uint32_t bs_at = host_node(&h, bs);
    drift_migration_types_value_t n = {.tag = DRIFT_MIGRATION_TYPES_VALUE_N};
    n.val.n = host_string("12345678901234567890123456789012345678");
    uint32_t n_at = host_node(&h, n);
    drift_migration_types_value_t ns = {.tag = DRIFT_MIGRATION_TYPES_VALUE_NS};
    ns.val.ns.len = 1;
    ns.val.ns.ptr = malloc(sizeof(migration_string_t));
    ns.val.ns.ptr[0] = host_string("1.5");
    uint32_t ns_at = host_node(&h, ns);
    drift_migration_types_value_t nul = {.tag = DRIFT_MIGRATION_TYPES_VALUE_NULL};
    uint32_t null_at = host_node(&h, nul);
    h.nodes[map_at].val.m.len = 1;
    h.nodes[map_at].val.m.ptr = malloc(sizeof(migration_tuple2_string_u32_t));
    h.nodes[map_at].val.m.ptr[0] = (migration_tuple2_string_u32_t){host_string("k"), k};
    h.nodes[list_at].val.l.len = 3;
    h.nodes[list_at].val.l.ptr = malloc(3 * sizeof(uint32_t));
    h.nodes[list_at].val.l.ptr[0] = map_at;
    h.nodes[list_at].val.l.ptr[1] = empty_at;
    h.nodes[list_at].val.l.ptr[2] = f_at;
    host_attribute(&h, "list", list_at);
    host_attribute(&h, "id", id);
    host_attribute(&h, "n", n_at);
    host_attribute(&h, "bs", bs_at);
    host_attribute(&h, "ns", ns_at);
    host_attribute(&h, "nothing", null_at);
    outcome o = call_migrate(host_finish(&h));
    CHECK(!o.is_err);
    CHECK(o.ok.len == 1);
    if (!o.is_err && o.ok.len == 1) {
        migration_action_t *a = &o.ok.ptr[0];
        CHECK(a->tag == DRIFT_MIGRATION_TYPES_ACTION_PUT);
        drift_migration_types_item_t *item = &a->val.put.item;
        const char *names[] = {"bs", "echo", "id", "list", "n", "nothing", "ns"};
        uint32_t at[] = {0, 1, 2, 3, 8, 9, 10};
        CHECK(item->attributes.len == 7);
        for (size_t i = 0; i < 7 && i < item->attributes.len; i++) {
            CHECK(str_is(item->attributes.ptr[i].f0, names[i]));
            CHECK(item->attributes.ptr[i].f1 == at[i]);
        }
        CHECK(item->nodes.len == 11);
        drift_migration_types_value_t *nodes = item->nodes.ptr;
        CHECK(nodes[3].tag == DRIFT_MIGRATION_TYPES_VALUE_L && nodes[3].val.l.len == 3);
        CHECK(nodes[3].val.l.ptr[0] == 4 && nodes[3].val.l.ptr[1] == 6 && nodes[3].val.l.ptr[2] == 7);
        CHECK(nodes[4].tag == DRIFT_MIGRATION_TYPES_VALUE_M && nodes[4].val.m.ptr[0].f1 == 5);
        CHECK(str_is(nodes[5].val.s, "\xc3\xbf\xf0\x9f\xa6\x80"));
        CHECK(nodes[7].tag == DRIFT_MIGRATION_TYPES_VALUE_BOOLEAN && !nodes[7].val.boolean);
        CHECK(nodes[0].tag == DRIFT_MIGRATION_TYPES_VALUE_BS && nodes[0].val.bs.len == 2 &&
              nodes[0].val.bs.ptr[1].len == 0);
        CHECK(str_is(nodes[8].val.n, "12345678901234567890123456789012345678"));
        CHECK(nodes[10].tag == DRIFT_MIGRATION_TYPES_VALUE_NS && str_is(nodes[10].val.ns.ptr[0], "1.5"));
        CHECK(!a->val.put.table.is_some && !a->val.put.condition.is_some);
        CHECK(a->val.put.attributes.names.len == 0 && a->val.put.attributes.values.nodes.len == 0);
    }
    __wasm_export_exports_migration_migrate_post_return(o.area);
    CHECK(drift_region_bytes() == 0);
}

static migration_item_t arena(const char *names[], const uint32_t indices[], size_t count,
                              drift_migration_types_value_t *nodes, size_t n_nodes) {
    host_item h = {0};
    for (size_t i = 0; i < n_nodes; i++) host_node(&h, nodes[i]);
    for (size_t i = 0; i < count; i++) host_attribute(&h, names[i], indices[i]);
    return host_finish(&h);
}

static drift_migration_types_value_t list_of(uint32_t index) {
    drift_migration_types_value_t v = {.tag = DRIFT_MIGRATION_TYPES_VALUE_L};
    v.val.l.len = 1;
    v.val.l.ptr = malloc(sizeof(uint32_t));
    v.val.l.ptr[0] = index;
    return v;
}

static void expect_error(migration_item_t item, const char *message) {
    outcome o = call_migrate(item);
    CHECK(o.is_err);
    if (o.is_err && !str_is(o.err, message)) {
        failures++;
        fprintf(stderr, "error %.*s, expected %s\n", (int)o.err.len, (const char *)o.err.ptr, message);
    }
    __wasm_export_exports_migration_migrate_post_return(o.area);
}

void rejects_bad_arenas(void) {
    drift_migration_types_value_t nul = {.tag = DRIFT_MIGRATION_TYPES_VALUE_NULL};
    {
        const char *n[] = {"a"};
        uint32_t i[] = {3};
        drift_migration_types_value_t nodes[] = {nul};
        expect_error(arena(n, i, 1, nodes, 1), "item arena: node index 3 is out of range");
    }
    {
        const char *n[] = {"a", "b"};
        uint32_t i[] = {0, 0};
        drift_migration_types_value_t nodes[] = {nul};
        expect_error(arena(n, i, 2, nodes, 1),
                     "item arena: node 0 is referenced more than once (shared or cyclic)");
    }
    {
        const char *n[] = {"a"};
        uint32_t i[] = {0};
        drift_migration_types_value_t nodes[] = {list_of(0)};
        expect_error(arena(n, i, 1, nodes, 1),
                     "item arena: node 0 is referenced more than once (shared or cyclic)");
    }
    {
        drift_migration_types_value_t map = {.tag = DRIFT_MIGRATION_TYPES_VALUE_M};
        map.val.m.len = 2;
        map.val.m.ptr = malloc(2 * sizeof(migration_tuple2_string_u32_t));
        map.val.m.ptr[0] = (migration_tuple2_string_u32_t){host_string("x"), 1};
        map.val.m.ptr[1] = (migration_tuple2_string_u32_t){host_string("x"), 2};
        const char *n[] = {"a"};
        uint32_t i[] = {0};
        drift_migration_types_value_t nodes[] = {map, nul, nul};
        expect_error(arena(n, i, 1, nodes, 3), "map key `x` appears twice");
    }
    {
        const char *n[] = {"a", "a"};
        uint32_t i[] = {0, 1};
        drift_migration_types_value_t nodes[] = {nul, nul};
        expect_error(arena(n, i, 2, nodes, 2), "attribute `a` appears twice");
    }
    {
        /* 32 nested lists are accepted, 33 are not. */
        drift_migration_types_value_t nodes[34];
        for (uint32_t k = 0; k < 32; k++) nodes[k] = list_of(k + 1);
        nodes[32] = nul;
        const char *n[] = {"a"};
        uint32_t i[] = {0};
        outcome o = call_migrate(arena(n, i, 1, nodes, 33));
        CHECK(!o.is_err);
        __wasm_export_exports_migration_migrate_post_return(o.area);
        for (uint32_t k = 0; k < 33; k++) nodes[k] = list_of(k + 1);
        nodes[33] = nul;
        expect_error(arena(n, i, 1, nodes, 34), "item arena nests deeper than DynamoDB's 32 levels");
    }
    CHECK(drift_region_bytes() == 0);
}

void errors_and_checks_come_back_as_the_items_error(void) {
    host_item h = {0};
    host_attribute(&h, "fail", host_node(&h, host_s("on purpose")));
    expect_error(host_finish(&h), "failing on purpose");
    host_item g = {0};
    host_attribute(&g, "bad_path", host_node(&g, host_s("x")));
    expect_error(host_finish(&g), "invalid document path `a..b`: empty name");
    /* No rollback registered. */
    host_item r = {0};
    host_attribute(&r, "id", host_node(&r, host_s("x")));
    migration_item_t item = host_finish(&r);
    uint8_t *area = __wasm_export_exports_migration_rollback(
        (uint8_t *)item.attributes.ptr, item.attributes.len, (uint8_t *)item.nodes.ptr, item.nodes.len);
    CHECK(area[0] == 1);
    migration_string_t err = {*(uint8_t **)(area + sizeof(void *)), *(size_t *)(area + 2 * sizeof(void *))};
    CHECK(str_is(err, "this migration has no rollback"));
    __wasm_export_exports_migration_rollback_post_return(area);
    CHECK(drift_region_bytes() == 0);
}

void info_is_lowered_whole(void) {
    uint8_t *area = __wasm_export_exports_migration_info();
    migration_info_t info;
    info.number = *(uint64_t *)area;
    info.name = *(migration_string_t *)(area + 8);
    info.description = *(migration_string_t *)(area + 8 + 2 * sizeof(void *));
    info.table = *(migration_string_t *)(area + 8 + 4 * sizeof(void *));
    info.other_tables = *(migration_list_string_t *)(area + 8 + 6 * sizeof(void *));
    CHECK(info.number == 9);
    CHECK(str_is(info.name, "echo"));
    CHECK(info.description.len == 0);
    CHECK(str_is(info.table, "things"));
    CHECK(info.other_tables.len == 2 && str_is(info.other_tables.ptr[1], "audit"));
    __wasm_export_exports_migration_info_post_return(area);
    CHECK(drift_region_bytes() == 0);
}

/* ---- log and immediate operations (refused natively) ---- */

void log_goes_to_the_host(void) {
    drift_log_warn("careful");
    CHECK(native_last_level == 3);
    CHECK_STR(native_last_log, "careful");
    drift_log_info("x");
    CHECK(native_last_level == 2);
}

void natively_every_db_call_is_refused(void) {
    drift_item *found = (drift_item *)1;
    const char *why = NULL;
    CHECK(drift_db_get("things", key(), &found, &why) == DRIFT_DB_REFUSED);
    CHECK(found == NULL);
    CHECK_STR(why, "immediate DynamoDB operations need the drift-host runtime");
    CHECK_STR(native_last_db, "get-item things");
    CHECK_STR(drift_db_message(DRIFT_DB_REFUSED, why),
              "refused: immediate DynamoDB operations need the drift-host runtime");
    CHECK_STR(drift_db_message(DRIFT_DB_CONDITIONAL_CHECK_FAILED, NULL), "condition check failed");
    CHECK_STR(drift_db_message(DRIFT_DB_FAILED, "boom"), "DynamoDB failed: boom");
    CHECK(drift_db_write(drift_table(drift_put(key()), "copy"), &why) == DRIFT_DB_REFUSED);
    CHECK_STR(native_last_db, "put-item copy");
    CHECK(drift_db_write(drift_delete(key()), &why) == DRIFT_DB_REFUSED);
    CHECK_STR(native_last_db, "delete-item things"); /* the migration's own table */
    CHECK(drift_db_write(drift_set(drift_update(key()), "a", drift_n_i64(1)), &why) == DRIFT_DB_REFUSED);
    CHECK_STR(native_last_db, "update-item things");
    CHECK(drift_db_write(drift_update(key()), &why) == DRIFT_DB_REFUSED);
    CHECK_STR(why, "an update needs at least one set/remove/add/delete");
    drift_query *q = drift_query_new("audit", "#pk = :pk");
    drift_query_name(q, "#pk", "id");
    drift_query_value(q, ":pk", drift_s("u1"));
    drift_query_limit(drift_query_descending(drift_query_index(q, "by_id")), 10);
    drift_item **items = NULL;
    size_t count = 1;
    CHECK(drift_db_query_all(q, &items, &count, &why) == DRIFT_DB_REFUSED);
    CHECK(items == NULL && count == 0);
    CHECK_STR(native_last_db, "query audit");
    drift_reset();
}
