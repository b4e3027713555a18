/* The C SDK's logic tests, native: values, paths, update builder, resolved text, numbers,
 * lowercase, the arena codec and memory handling through the generated export glue, log and
 * immediate operations (refused natively; those two in test_glue.c). Mirrors the Rust SDK's
 * tests where they overlap.
 *
 * Build and run: guest-sdk/c/test (or CC=clang guest-sdk/c/test; ASAN=1 adds sanitizers). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drift.h"
#include "internal.h"
#include "migration.h"
#include "check.h"
#include "vectors.h"

int failures, checks;

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

drift_item *key(void) { return drift_item_with(drift_item_new(), "id", drift_s("u1")); }

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
