/* `every_feature`, the conformance migration in C: see ../README.md, which every language's
 * version follows to the letter (the Rust version, ../rust/src/lib.rs, is the reference).
 */
#include "drift.h"

#define TABLE "things"
#define COPY "things_copy"
#define INDEX "things_index"
#define STATS "things_stats"

/* The label every migrated item gets (an SS of one string). */
static const char *const V3[] = {"v3"};

static drift_info every_feature_info(void) {
    static const char *const other_tables[] = {COPY, INDEX, STATS, NULL};
    return (drift_info){
        .number = 7,
        .name = "every_feature",
        .table = TABLE,
        .description = "Conformance: every value type, every action kind, conditions, other "
                       "tables, an error, an immediate get-item and logs.",
        .other_tables = other_tables,
    };
}

/* The map every migrated item gets as `summary`: one value of each type. */
static drift_value *summary(void) {
    static const uint8_t bytes[] = {0x00, 0x01, 0x02, 0xff};
    static const uint8_t one[] = {0x01}, two_three[] = {0x02, 0x03};
    static const char *const colours[] = {"red", "green"};
    static const char *const numbers[] = {"1", "2.5", "-3"};
    const drift_bytes binaries[] = {{one, sizeof one}, {two_three, sizeof two_three}};

    drift_value *deep = drift_list();
    drift_list_push(deep, drift_bool(false));
    drift_list_push(deep, drift_null());
    drift_value *l = drift_list();
    drift_list_push(l, drift_s("one"));
    drift_list_push(l, drift_n("2"));
    drift_list_push(l, drift_map(drift_item_with(drift_item_new(), "deep", deep)));

    drift_item *nested = drift_item_with(drift_item_new(), "x", drift_n_i64(1));
    drift_item *m = drift_item_new();
    drift_item_set(m, "empty", drift_s(""));
    drift_item_set(m, "nested", drift_map(nested));

    drift_item *s = drift_item_new();
    drift_item_set(s, "s", drift_s(""));
    drift_item_set(s, "n", drift_n("12345678901234567890123456789012345678"));
    drift_item_set(s, "neg", drift_n("-0.000123"));
    drift_item_set(s, "b", drift_b(bytes, sizeof bytes));
    drift_item_set(s, "empty_b", drift_b(NULL, 0));
    drift_item_set(s, "t", drift_bool(true));
    drift_item_set(s, "nil", drift_null());
    drift_item_set(s, "ss", drift_ss(colours, 2));
    drift_item_set(s, "ns", drift_ns(numbers, 3));
    drift_item_set(s, "bs", drift_bs(binaries, 2));
    drift_item_set(s, "l", l);
    drift_item_set(s, "m", drift_map(m));
    return drift_map(s);
}

/* The item's `pk` (with its length: a string may hold NUL bytes) and its key. */
static const char *key_of(const drift_item *item, drift_str *pk, drift_item **key) {
    DRIFT_TRY(drift_item_key(item, key, "pk", NULL));
    const drift_value *value = drift_item_get(*key, "pk");
    if (value->type != DRIFT_S) return "item's `pk` is not a string";
    *pk = value->as.s;
    return NULL;
}

/* Logs `prefix`, `pk` and `suffix` at `level`, NUL bytes of `pk` kept. */
static void log_about(drift_level level, drift_str prefix, drift_str pk, drift_str suffix) {
    const drift_str parts[] = {prefix, pk, suffix};
    drift_log_str(level, drift_join(parts, 3));
}

/* The update of the `total` item of `things_stats`: ADD #count <placeholder> (= by). */
static drift_action *stats_update(const char *placeholder, int64_t by) {
    drift_action *change = drift_update(drift_item_with(drift_item_new(), "pk", drift_s("total")));
    drift_table(change, STATS);
    drift_expression(change, drift_concat("ADD #count ", placeholder, NULL));
    drift_name_placeholder(change, "#count", "count");
    drift_value_placeholder(change, placeholder, drift_n_i64(by));
    return change;
}

static bool is_number(const drift_value *value) { return value != NULL && value->type == DRIFT_N; }

static const char *every_feature_migrate(drift_item *item, drift_actions *out) {
    drift_str pk;
    drift_item *key;
    DRIFT_TRY(key_of(item, &pk, &key));
    if (drift_item_has(item, "poison")) {
        log_about(DRIFT_ERROR, DRIFT_STR("poisoned item "), pk, DRIFT_STR(""));
        /* (an error message is a C string: it ends at a NUL byte of pk) */
        return drift_concat("item ", pk.ptr, " is poisoned", NULL);
    }
    if (drift_item_has(item, "summary")) return NULL;
    log_about(DRIFT_INFO, DRIFT_STR("migrate "), pk,
              drift_str_of(drift_concat(": ", drift_u64_text(item->len), " attributes", NULL)));

    drift_item *entry; /* the index entry, or NULL */
    if (drift_db_get(INDEX, key, &entry, NULL) != DRIFT_DB_OK) {
        log_about(DRIFT_WARN, DRIFT_STR("index lookup unavailable for "), pk, DRIFT_STR(""));
    }

    drift_action *change = drift_push(out, drift_update(key));
    drift_set(change, "summary", summary());
    drift_value *types = drift_list();
    for (size_t i = 0; i < item->len; i++) {
        drift_list_push(types, drift_s(drift_type_name(item->entries[i].value)));
    }
    drift_set(change, "types", types);
    const drift_value *city = drift_item_path(item, "profile.city");
    if (city != NULL && city->type == DRIFT_S) {
        const drift_str label[] = {DRIFT_STR("city of "), city->as.s};
        drift_set(change, "profile.city_label", drift_s_str(drift_join(label, 2)));
    }
    const drift_value *first = drift_item_path(item, "scores[0]");
    if (first != NULL) drift_set(change, "first_score", drift_value_clone(first));
    drift_value *note = drift_item_get(item, "note");
    if (note != NULL) {
        drift_set(change, "archive", drift_map(drift_item_with(drift_item_new(), "note", note)));
        drift_remove(change, "note");
    }
    if (is_number(drift_item_get(item, "visits"))) drift_add(change, "visits", drift_n_i64(1));
    drift_add(change, "labels", drift_ss(V3, 1));
    if (entry != NULL) drift_set(change, "index_entry", drift_map(entry));
    drift_condition(change, "attribute_not_exists(#summary)");
    drift_name_placeholder(change, "#summary", "summary");

    drift_item *copied = drift_item_with(drift_item_clone(item), "copied_from", drift_s(TABLE));
    drift_action *copy = drift_push(out, drift_put(copied));
    drift_table(copy, COPY);
    drift_condition(copy, "attribute_not_exists(#pk)");
    drift_name_placeholder(copy, "#pk", "pk");

    drift_upsert(drift_push(out, stats_update(":one", 1)));

    if (entry != NULL) {
        drift_action *unindex = drift_push(out, drift_delete(key));
        drift_table(unindex, INDEX);
        drift_condition(unindex, "#state = :state");
        drift_name_placeholder(unindex, "#state", "state");
        drift_value_placeholder(unindex, ":state", drift_s("active"));
    }
    return NULL;
}

static const char *every_feature_rollback(drift_item *item, drift_actions *out) {
    if (!drift_item_has(item, "summary")) return NULL;
    drift_str pk;
    drift_item *key;
    DRIFT_TRY(key_of(item, &pk, &key));
    log_about(DRIFT_INFO, DRIFT_STR("rollback "), pk, DRIFT_STR(""));

    drift_action *change = drift_push(out, drift_update(key));
    drift_remove(change, "summary");
    drift_remove(change, "types");
    if (drift_item_path(item, "profile.city_label") != NULL) {
        drift_remove(change, "profile.city_label");
    }
    if (drift_item_has(item, "first_score")) drift_remove(change, "first_score");
    const drift_value *note = drift_item_path(item, "archive.note");
    if (note != NULL) {
        drift_set(change, "note", drift_value_clone(note));
        drift_remove(change, "archive");
    }
    if (is_number(drift_item_get(item, "visits"))) drift_add(change, "visits", drift_n_i64(-1));
    drift_delete_from_set(change, "labels", drift_ss(V3, 1));
    const drift_item *entry = drift_as_map(drift_item_get(item, "index_entry"));
    if (entry != NULL) drift_remove(change, "index_entry");
    drift_condition(change, "attribute_exists(#summary)");
    drift_name_placeholder(change, "#summary", "summary");

    drift_action *uncopy = drift_push(out, drift_delete(key));
    drift_table(uncopy, COPY);
    drift_condition(uncopy, "attribute_exists(#pk)");
    drift_name_placeholder(uncopy, "#pk", "pk");

    drift_push(out, stats_update(":minus_one", -1));

    if (entry != NULL) {
        drift_action *reindex = drift_push(out, drift_put(drift_item_clone(entry)));
        drift_table(reindex, INDEX);
        drift_condition(reindex, "attribute_not_exists(#pk)");
        drift_name_placeholder(reindex, "#pk", "pk");
    }
    return NULL;
}

DRIFT_MIGRATION(every_feature_info, every_feature_migrate, every_feature_rollback)
