/* The C SDK's logic tests, native: values, paths, update builder, resolved text, numbers,
 * lowercase, the arena codec and memory handling through the generated export glue, log and
 * immediate operations (refused natively). Mirrors the Rust SDK's tests where they overlap.
 *
 * Build and run: guest-sdk/c/test (or CC=clang guest-sdk/c/test; ASAN=1 adds sanitizers). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drift.h"
#include "internal.h"
#include "migration.h"
#include "vectors.h"

static int failures, checks;

#define CHECK(cond)                                                                           \
    do {                                                                                       \
        checks++;                                                                              \
        if (!(cond)) {                                                                         \
            failures++;                                                                        \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);          \
        }                                                                                      \
    } while (0)

#define CHECK_STR(actual, expected)                                                           \
    do {                                                                                       \
        const char *a_ = (actual), *e_ = (expected);                                           \
        checks++;                                                                              \
        if (a_ == NULL || e_ == NULL ? a_ != e_ : strcmp(a_, e_) != 0) {                       \
            failures++;                                                                        \
            fprintf(stderr, "%s:%d: %s\n    got      %s\n    expected %s\n", __FILE__,         \
                    __LINE__, #actual, a_ ? a_ : "(null)", e_ ? e_ : "(null)");               \
        }                                                                                      \
    } while (0)

extern char native_last_log[512];
extern size_t native_last_log_len;
extern int native_last_level;
extern char native_last_db[512];

/* ---- values and items ---- */

static drift_item *user(void) {
    drift_item *address = drift_item_with(drift_item_with(drift_item_new(), "city", drift_s("Oslo")),
                                          "zip", drift_n_i64(150));
    drift_value *tags = drift_list_push(drift_list_push(drift_list(), drift_s("a")), drift_s("b"));
    drift_item *u = drift_item_new();
    drift_item_set(u, "id", drift_s("u1"));
    drift_item_set(u, "age", drift_n_i64(42));
    drift_item_set(u, "active", drift_bool(true));
    drift_item_set(u, "address", drift_map(address));
    drift_item_set(u, "tags", tags);
    return u;
}

static void typed_accessors_match_only_their_type(void) {
    drift_item *u = user();
    int64_t n = 0;
    bool b = false;
    double f = 0;
    CHECK_STR(drift_item_get_str(u, "id"), "u1");
    CHECK(drift_item_get_i64(u, "age", &n) && n == 42);
    CHECK(drift_item_get_str(u, "age") == NULL);
    CHECK(drift_item_get_bool(u, "active", &b) && b);
    CHECK(drift_as_f64(drift_item_get(u, "age"), &f) && f == 42.0);
    CHECK_STR(drift_type_name(drift_item_get(u, "age")), "N");
    CHECK(drift_item_get(u, "missing") == NULL);
    CHECK(!drift_item_get_i64(u, "missing", &n));
    CHECK(drift_as_map(drift_item_get(u, "address")) != NULL);
    CHECK(drift_list_len(drift_item_get(u, "tags")) == 2);
    CHECK(drift_is_null(drift_null()));
    drift_bytes bytes;
    CHECK(drift_as_bytes(drift_b("\x01\x02", 2), &bytes) && bytes.len == 2 && bytes.ptr[1] == 2);
    const char *types[] = {"S", "N", "B", "BOOL", "NULL", "SS", "NS", "BS", "L", "M"};
    const char *one[] = {"x"};
    drift_bytes bs[] = {{(const uint8_t *)"", 0}};
    drift_value *values[] = {drift_s("x"), drift_n("1"), drift_b("", 0), drift_bool(false),
                             drift_null(), drift_ss(one, 1), drift_ns(one, 1), drift_bs(bs, 1),
                             drift_list(), drift_map(NULL)};
    for (int i = 0; i < 10; i++) CHECK_STR(drift_type_name(values[i]), types[i]);
    drift_reset();
}

static void integers_parse_as_rust_parses_them(void) {
    struct {
        const char *text;
        bool ok;
        int64_t value;
    } cases[] = {{"2", true, 2},
                 {"+2", true, 2},
                 {"-2", true, -2},
                 {"-9223372036854775808", true, INT64_MIN},
                 {"9223372036854775807", true, INT64_MAX},
                 {"9223372036854775808", false, 0},
                 {"2.0", false, 0},
                 {"2e0", false, 0},
                 {"", false, 0},
                 {"-", false, 0},
                 {" 2", false, 0},
                 {"12345678901234567890123456789012345678", false, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t n = 0;
        bool ok = drift_as_i64(drift_n(cases[i].text), &n);
        CHECK(ok == cases[i].ok);
        if (ok) CHECK(n == cases[i].value);
    }
    CHECK_STR(drift_as_number(drift_n_i64(INT64_MIN)), "-9223372036854775808");
    CHECK_STR(drift_as_number(drift_n_u64(UINT64_MAX)), "18446744073709551615");
    const char *big = "12345678901234567890123456789012345678";
    CHECK_STR(drift_as_number(drift_n(big)), big);
    drift_reset();
}

static void paths_reach_nested_maps_and_lists(void) {
    drift_item *u = user();
    CHECK_STR(drift_as_str(drift_item_path(u, "address.city")), "Oslo");
    CHECK_STR(drift_as_str(drift_item_path(u, "tags[1]")), "b");
    CHECK(drift_item_path(u, "tags[2]") == NULL);
    CHECK(drift_item_path(u, "address.city.x") == NULL);
    CHECK(drift_item_path(u, "id[0]") == NULL);
    CHECK(drift_item_path(u, "a..b") == NULL);
    drift_reset();
}

static void key_picks_attributes_or_names_the_missing_one(void) {
    drift_item *u = user(), *key = NULL;
    CHECK(drift_item_key(u, &key, "id", NULL) == NULL);
    CHECK(drift_item_equal(key, drift_item_with(drift_item_new(), "id", drift_s("u1"))));
    CHECK_STR(drift_item_key(u, &key, "id", "sk", NULL), "item has no key attribute `sk`");
    drift_reset();
}

static void set_and_remove_change_top_level_attributes(void) {
    drift_item *u = user();
    CHECK(drift_value_equal(drift_item_set(u, "age", drift_n_i64(43)), drift_n_i64(42)));
    CHECK(drift_value_equal(drift_item_remove(u, "active"), drift_bool(true)));
    CHECK(!drift_item_has(u, "active"));
    CHECK(u->len == 4);
    CHECK(drift_item_remove(u, "active") == NULL);
    drift_reset();
}

static void an_item_keeps_names_in_byte_order(void) {
    drift_item *item = drift_item_new();
    drift_item_set(item, "b", drift_null());
    drift_item_set(item, "a", drift_n_i64(1));
    drift_item_set(item, "ab", drift_n_i64(1));
    drift_item_set(item, "\xc3\xa9", drift_n_i64(1)); /* é sorts after ASCII */
    drift_item_set(item, "B", drift_n_i64(1));
    const char *order[] = {"B", "a", "ab", "b", "\xc3\xa9"};
    CHECK(item->len == 5);
    for (size_t i = 0; i < 5 && i < item->len; i++) CHECK_STR(item->entries[i].name.ptr, order[i]);
    drift_item *copy = drift_item_clone(item);
    CHECK(drift_item_equal(copy, item));
    drift_item_set(copy, "a", drift_n_i64(2));
    CHECK(!drift_item_equal(copy, item));
    drift_reset();
}

static void sizes_follow_dynamodb_rules(void) {
    drift_item *item = drift_item_with(drift_item_with(drift_item_new(), "id", drift_s("abc")), "n",
                                       drift_n("1234"));
    CHECK(drift_item_size(item) == 2 + 3 + 1 + 3);
    CHECK(drift_value_size(drift_n("-1.5E+10")) == 2 + 1);
    drift_value *nested = drift_list_push(drift_list_push(drift_list(), drift_null()), drift_map(item));
    CHECK(drift_value_size(nested) == 3 + (1 + 1) + (1 + 3 + (2 + 1 + 3) + (1 + 1 + 3)));
    drift_reset();
}

static void values_read_like_json(void) {
    drift_item *map = drift_item_new();
    const char *ns[] = {"1"};
    drift_item_set(map, "k", drift_ns(ns, 1));
    drift_item_set(map, "b", drift_b("\x01\x02", 2));
    const char *ss[] = {"x", "y"};
    drift_bytes bs[] = {{(const uint8_t *)"\xff", 1}};
    CHECK_STR(drift_readable(drift_s("a \"q\"\n\x01\xc3\xa9")), "\"a \\\"q\\\"\\n\\u0001\xc3\xa9\"");
    CHECK_STR(drift_readable(drift_n("-1.5E3")), "-1.5E3");
    CHECK_STR(drift_readable(drift_bool(false)), "false");
    CHECK_STR(drift_readable(drift_null()), "null");
    CHECK_STR(drift_readable(drift_ss(ss, 2)), "{\"SS\": [\"x\", \"y\"]}");
    CHECK_STR(drift_readable(drift_bs(bs, 1)), "{\"BS\": [\"/w==\"]}");
    drift_value *list = drift_list_push(drift_list_push(drift_list(), drift_n_i64(1)), drift_map(map));
    CHECK_STR(drift_readable(list), "[1, {\"b\": {\"B\": \"AQI=\"}, \"k\": {\"NS\": [\"1\"]}}]");
    const char *b64[][2] = {{"", "\"\""},      {"f", "\"Zg==\""},     {"fo", "\"Zm8=\""},
                            {"foo", "\"Zm9v\""}, {"foob", "\"Zm9vYg==\""}};
    for (int i = 0; i < 5; i++) {
        CHECK_STR(drift_readable(drift_b(b64[i][0], strlen(b64[i][0]))),
                  drift_concat("{\"B\": ", b64[i][1], "}", NULL));
    }
    drift_reset();
}

/* ---- paths ---- */

static void paths_parse_names_and_indices(void) {
    drift_path p;
    CHECK(drift_path_parse("a.b[2][0].c", &p) == NULL);
    CHECK(p.len == 5);
    CHECK_STR(p.segments[0].name, "a");
    CHECK_STR(p.segments[1].name, "b");
    CHECK(p.segments[2].name == NULL && p.segments[2].index == 2);
    CHECK(p.segments[3].name == NULL && p.segments[3].index == 0);
    CHECK_STR(p.segments[4].name, "c");
    CHECK(drift_path_parse("\xe5\x90\x8d\xe5\x89\x8d.\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87", &p) == NULL);
    CHECK(p.len == 2);
    const char *bad[] = {"", ".a", "a.", "a..b", "[0]", "a[", "a[x]", "a[0]b", "a[-1]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) CHECK(drift_path_parse(bad[i], &p) != NULL);
    CHECK_STR(drift_path_parse("a[", &p), "invalid document path `a[`: unclosed `[`");
    CHECK_STR(drift_path_parse("a..b", &p), "invalid document path `a..b`: empty name");
    CHECK_STR(drift_path_parse("[0]", &p),
              "invalid document path `[0]`: a path starts with an attribute name");
    CHECK_STR(drift_path_parse("a[x]", &p),
              "invalid document path `a[x]`: list index is not a whole number");
    CHECK_STR(drift_path_parse("a[0]b", &p),
              "invalid document path `a[0]b`: expected `.` or `[` after an index");
    CHECK_STR(drift_path_parse("", &p), "invalid document path ``: empty path");
    drift_reset();
}

/* ---- actions ---- */

static drift_item *key(void) { return drift_item_with(drift_item_new(), "id", drift_s("u1")); }

static void update_builds_expression_with_placeholders(void) {
    const char *old[] = {"old"};
    drift_action *u = drift_update(key());
    drift_set(u, "email_lower", drift_s("a@b.c"));
    drift_set(u, "address.city", drift_s("Oslo"));
    drift_remove(u, "name");
    drift_add(u, "visits", drift_n_i64(1));
    drift_delete_from_set(u, "tags", drift_ss(old, 1));
    CHECK_STR(drift_update_expression(u, NULL),
              "SET #drift0 = :drift0, #drift1.#drift2 = :drift1 REMOVE #drift3 ADD #drift4 :drift2 "
              "DELETE #drift5 :drift3");
    CHECK_STR(drift_names_get(&u->names, "#drift1"), "address");
    CHECK_STR(drift_names_get(&u->names, "#drift2"), "city");
    CHECK(drift_value_equal(drift_item_get(u->values, ":drift1"), drift_s("Oslo")));
    CHECK(!u->upsert);
    CHECK_STR(drift_resolved(u, NULL), "SET email_lower = \"a@b.c\", address.city = \"Oslo\" REMOVE "
                                       "name ADD visits 1 DELETE tags {\"SS\": [\"old\"]}");
    drift_reset();
}

static void repeated_names_share_a_placeholder_and_indices_stay_literal(void) {
    drift_action *u = drift_update(key());
    drift_set(u, "a.b", drift_n_i64(1));
    drift_set(u, "a.c[3]", drift_n_i64(2));
    CHECK_STR(drift_update_expression(u, NULL),
              "SET #drift0.#drift1 = :drift0, #drift0.#drift2[3] = :drift1");
    drift_reset();
}

static void generated_placeholders_are_numbered_after_user_ones(void) {
    drift_action *u = drift_update(key());
    drift_condition(u, "attribute_exists(#e)");
    drift_name_placeholder(u, "#e", "email");
    drift_set(u, "email", drift_s("x"));
    drift_value_placeholder(u, ":v", drift_n_i64(1));
    drift_add(u, "n", drift_n_i64(1));
    CHECK_STR(drift_update_expression(u, NULL), "SET #drift1 = :drift0 ADD #drift2 :drift2");
    drift_reset();
}

static void placeholders_past_ten_sort_as_text(void) {
    /* BTreeMap order: #drift0, #drift1, #drift10, #drift11, #drift2, ... */
    drift_action *u = drift_update(key());
    const char *names[] = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"};
    for (int i = 0; i < 12; i++) drift_set(u, names[i], drift_n_i64(i));
    drift_set(u, "a", drift_n_i64(99)); /* a repeated name keeps #drift0 */
    CHECK_STR(u->names.entries[2].placeholder, "#drift10");
    CHECK_STR(u->values->entries[2].name.ptr, ":drift10");
    const char *expression = drift_update_expression(u, NULL);
    CHECK(strstr(expression, "#drift11 = :drift11, #drift0 = :drift12") != NULL);
    drift_reset();
}

static void update_without_clauses_or_with_bad_path_is_an_error(void) {
    const char *error = NULL;
    CHECK(drift_update_expression(drift_update(key()), &error) == NULL);
    CHECK_STR(error, "an update needs at least one set/remove/add/delete");
    drift_action *bad = drift_set(drift_update(key()), "a..b", drift_n_i64(1));
    CHECK(drift_update_expression(bad, &error) == NULL);
    CHECK_STR(error, "invalid document path `a..b`: empty name");
    CHECK(bad->values->len == 0); /* no value placeholder for a path that did not parse */
    drift_action *mixed = drift_set(drift_expression(drift_update(key()), "SET x = :x"), "y", drift_n_i64(1));
    CHECK(drift_update_expression(mixed, &error) == NULL);
    CHECK_STR(error, "an update cannot mix expression() with set/remove/add/delete");
    drift_reset();
}

static void raw_expression_with_user_placeholders(void) {
    drift_action *u = drift_update(key());
    drift_expression(u, "SET #n = :v");
    drift_name_placeholder(u, "#n", "name");
    drift_value_placeholder(u, ":v", drift_s("x"));
    drift_condition(u, "attribute_exists(#n)");
    drift_table(u, "other");
    drift_upsert(u);
    CHECK_STR(drift_update_expression(u, NULL), "SET #n = :v");
    CHECK_STR(drift_resolved(u, NULL), "SET name = \"x\"");
    CHECK_STR(u->table, "other");
    CHECK_STR(u->condition, "attribute_exists(#n)");
    CHECK(u->upsert);
    const char *error = NULL;
    drift_expression(u, "SET #n = :w");
    CHECK(drift_resolved(u, &error) == NULL);
    CHECK_STR(error, "undefined value placeholder `:w`");
    drift_expression(u, "SET #m = :v");
    CHECK(drift_resolved(u, &error) == NULL);
    CHECK_STR(error, "undefined name placeholder `#m`");
    drift_expression(u, "SET # = :v");
    CHECK(drift_resolved(u, &error) == NULL);
    CHECK_STR(error, "invalid update expression: `#` must be followed by letters, digits or `_` (at byte 4)");
    drift_name_placeholder(u, "#f", "first name");
    drift_expression(u, "SET #f = :v");
    CHECK_STR(drift_resolved(u, NULL), "SET `first name` = \"x\"");
    drift_reset();
}

static void put_and_delete_carry_table_and_condition(void) {
    drift_actions out = {0};
    drift_action *p = drift_push(&out, drift_put(drift_item_with(key(), "x", drift_n_i64(1))));
    drift_table(p, "copy");
    drift_condition(p, "attribute_not_exists(id)");
    drift_action *d = drift_push(&out, drift_delete(key()));
    drift_value_placeholder(d, ":v", drift_n_i64(1));
    CHECK(out.len == 2 && out.items[0]->kind == DRIFT_PUT && out.items[1]->kind == DRIFT_DELETE);
    int64_t x = 0;
    CHECK_STR(out.items[0]->table, "copy");
    CHECK(drift_item_get_i64(out.items[0]->item, "x", &x) && x == 1);
    CHECK(drift_value_equal(drift_item_get(out.items[1]->values, ":v"), drift_n_i64(1)));
    const char *error = NULL;
    CHECK(drift_update_expression(p, &error) == NULL);
    CHECK_STR(error, "not an update");
    drift_reset();
}

/* ---- numbers ---- */

static void f64_prints_and_parses_as_rust(void) {
    size_t bad = 0;
    for (size_t i = 0; i < sizeof F64_DISPLAY / sizeof F64_DISPLAY[0]; i++) {
        double d;
        memcpy(&d, &F64_DISPLAY[i].bits, sizeof d);
        const char *text = drift_as_number(drift_n_f64(d));
        if (strcmp(text, F64_DISPLAY[i].text) != 0 && bad++ < 5) {
            fprintf(stderr, "f64 %016llx: got %s, expected %s\n",
                    (unsigned long long)F64_DISPLAY[i].bits, text, F64_DISPLAY[i].text);
        }
        double back = 0;
        uint64_t back_bits;
        if (!drift_as_f64(drift_n(F64_DISPLAY[i].text), &back)) bad++;
        memcpy(&back_bits, &back, sizeof back);
        if (back_bits != F64_DISPLAY[i].bits && bad++ < 5) {
            fprintf(stderr, "parse %s: got %016llx\n", F64_DISPLAY[i].text, (unsigned long long)back_bits);
        }
        drift_reset();
    }
    for (size_t i = 0; i < sizeof F64_PARSE / sizeof F64_PARSE[0]; i++) {
        double d = 0;
        bool ok = drift_as_f64(drift_n(F64_PARSE[i].text), &d);
        uint64_t bits;
        memcpy(&bits, &d, sizeof d);
        if ((ok != (bool)F64_PARSE[i].ok || (ok && bits != F64_PARSE[i].bits)) && bad++ < 10) {
            fprintf(stderr, "parse %s: got %d %016llx, expected %d %016llx\n", F64_PARSE[i].text, ok,
                    (unsigned long long)bits, F64_PARSE[i].ok, (unsigned long long)F64_PARSE[i].bits);
        }
        drift_reset();
    }
    CHECK(bad == 0);
    CHECK_STR(drift_as_number(drift_n_f64(1.5)), "1.5");
    CHECK_STR(drift_as_number(drift_n_f64(2.0)), "2");
    CHECK_STR(drift_as_number(drift_n_f64(-0.0)), "-0");
    CHECK_STR(drift_as_number(drift_n_f64(NAN)), "NaN");
    CHECK_STR(drift_as_number(drift_n_f64(-INFINITY)), "-inf");
    drift_reset();
}

/* ---- lowercase ---- */

static void lowercase_is_rusts(void) {
    for (size_t i = 0; i < sizeof LOWER / sizeof LOWER[0]; i++) {
        CHECK_STR(drift_to_lower(LOWER[i].text), LOWER[i].lower);
    }
    size_t len = 0;
    const char *lower = drift_to_lower_len("A\0B", 3, &len);
    CHECK(len == 3 && memcmp(lower, "a\0b", 3) == 0);
    drift_reset();
}

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

static void arena_round_trips_in_preorder_and_name_order(void) {
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

static void rejects_bad_arenas(void) {
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

static void errors_and_checks_come_back_as_the_items_error(void) {
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

static void info_is_lowered_whole(void) {
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

static void log_goes_to_the_host(void) {
    drift_log_warn("careful");
    CHECK(native_last_level == 3);
    CHECK_STR(native_last_log, "careful");
    drift_log_info("x");
    CHECK(native_last_level == 2);
}

static void natively_every_db_call_is_refused(void) {
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

/* ---- memory ---- */

static void the_region_grows_and_resets(void) {
    drift_reset();
    CHECK(drift_region_bytes() == 0);
    char *big = drift_alloc(100000);
    memset(big, 1, 100000);
    drift_value *list = drift_list();
    for (int i = 0; i < 5000; i++) drift_list_push(list, drift_n_i64(i));
    CHECK(drift_list_len(list) == 5000);
    int64_t n = 0;
    CHECK(drift_as_i64(drift_list_get(list, 4999), &n) && n == 4999);
    CHECK(drift_region_bytes() > 100000);
    CHECK_STR(drift_concat("a", "", "bc", NULL), "abc");
    CHECK_STR(drift_i64_text(-12), "-12");
    drift_reset();
    CHECK(drift_region_bytes() == 0);
}

static void joined_text_keeps_nul_bytes(void) {
    drift_item *item = drift_item_new();
    drift_item_set(item, "city", drift_s_len("a\0b", 3));
    const drift_value *city = drift_item_get(item, "city");
    const drift_str parts[] = {DRIFT_STR("city of "), city->as.s};
    drift_str label = drift_join(parts, 2);
    CHECK(label.len == 11 && memcmp(label.ptr, "city of a\0b", 12) == 0);
    CHECK(drift_s_str(label)->as.s.len == 11);
    drift_log_str(DRIFT_INFO, label);
    CHECK(native_last_log_len == 11 && memcmp(native_last_log, "city of a\0b", 11) == 0);
    CHECK(drift_str_of("abc").len == 3);
    CHECK(drift_join(NULL, 0).len == 0);
    drift_reset();
}

int main(void) {
    typed_accessors_match_only_their_type();
    joined_text_keeps_nul_bytes();
    integers_parse_as_rust_parses_them();
    paths_reach_nested_maps_and_lists();
    key_picks_attributes_or_names_the_missing_one();
    set_and_remove_change_top_level_attributes();
    an_item_keeps_names_in_byte_order();
    sizes_follow_dynamodb_rules();
    values_read_like_json();
    paths_parse_names_and_indices();
    update_builds_expression_with_placeholders();
    repeated_names_share_a_placeholder_and_indices_stay_literal();
    generated_placeholders_are_numbered_after_user_ones();
    placeholders_past_ten_sort_as_text();
    update_without_clauses_or_with_bad_path_is_an_error();
    raw_expression_with_user_placeholders();
    put_and_delete_carry_table_and_condition();
    f64_prints_and_parses_as_rust();
    lowercase_is_rusts();
    arena_round_trips_in_preorder_and_name_order();
    rejects_bad_arenas();
    errors_and_checks_come_back_as_the_items_error();
    info_is_lowered_whole();
    log_goes_to_the_host();
    natively_every_db_call_is_refused();
    the_region_grows_and_resets();
    drift_reset();
    printf("%d checks, %d failed\n", checks, failures);
    return failures ? 1 : 0;
}
