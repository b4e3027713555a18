/* drift.h: write drift-host DynamoDB data migrations in C.
 *
 * A migration is three plain C functions registered with DRIFT_MIGRATION:
 *
 *     #include "drift.h"
 *
 *     static drift_info info(void) {
 *         return (drift_info){.number = 7, .name = "add_flag", .table = "users",
 *                             .description = "Mark every user as active."};
 *     }
 *
 *     static const char *migrate(drift_item *user, drift_actions *out) {
 *         drift_item *key;
 *         DRIFT_TRY(drift_item_key(user, &key, "id", NULL));
 *         drift_set(drift_push(out, drift_update(key)), "active", drift_bool(true));
 *         return NULL;   // success; a string is the item's error message
 *     }
 *
 *     DRIFT_MIGRATION(info, migrate, NULL)   // NULL: no rollback
 *
 * Memory: everything the SDK hands out (values, items, actions, strings) lives in a region
 * that is freed as a whole once the host's call returns; a migration never frees anything.
 * The region is per call: do not keep pointers to it in globals across items. Natively
 * (unit tests), drift_reset() frees the region.
 *
 * The item passed to migrate/rollback belongs to the call: change it and put it back
 * (drift_put(item)) if you like. Values may be shared between items and actions (the arena
 * encoder copies); use drift_value_clone() before changing a value that is shared.
 *
 * Nothing here uses stdio: the component imports only `log` and `dynamodb`.
 */
#ifndef DRIFT_H
#define DRIFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define DRIFT_SENTINEL __attribute__((sentinel))
#else
#define DRIFT_SENTINEL
#endif

/* ------------------------------------------------------------------------------------------
 * Memory: the per-call region.
 * ---------------------------------------------------------------------------------------- */

/* `size` bytes from the region (aligned for any type); never NULL (traps when out of memory). */
void *drift_alloc(size_t size);
/* A region copy of `text` / of `len` bytes of `text`, NUL-terminated. */
char *drift_strdup(const char *text);
char *drift_strndup(const char *text, size_t len);
/* The concatenation of the strings up to the NULL one, in the region: build messages with it,
 * e.g. drift_concat("bad count: ", drift_i64_text(n), NULL). */
char *drift_concat(const char *first, ...) DRIFT_SENTINEL;
/* Decimal text of an integer, in the region. */
char *drift_i64_text(int64_t n);
char *drift_u64_text(uint64_t n);
/* Frees the whole region. The export glue calls it after every call; native tests may. */
void drift_reset(void);
/* Bytes the region holds now (for tests and measurements). */
size_t drift_region_bytes(void);

/* Unicode lowercase of UTF-8 text, exactly as Rust's str::to_lowercase (same tables, final
 * sigma included), in the region. */
char *drift_to_lower(const char *text);
char *drift_to_lower_len(const char *text, size_t len, size_t *out_len);

/* ------------------------------------------------------------------------------------------
 * Values and items.
 * ---------------------------------------------------------------------------------------- */

/* The ten DynamoDB types. */
typedef enum drift_type {
    DRIFT_S,    /* string */
    DRIFT_N,    /* number, as decimal text */
    DRIFT_B,    /* binary */
    DRIFT_BOOL, /* boolean */
    DRIFT_NULL, /* null */
    DRIFT_SS,   /* string set */
    DRIFT_NS,   /* number set, as decimal texts */
    DRIFT_BS,   /* binary set */
    DRIFT_L,    /* list */
    DRIFT_M     /* map */
} drift_type;

/* Text with its length; ptr[len] is always 0 (text may also hold NUL bytes itself). */
typedef struct drift_str {
    const char *ptr;
    size_t len;
} drift_str;

/* drift_concat and the other `const char *` functions stop at the first NUL byte, which a
 * DynamoDB string may hold: to build text from strings read from items, keep their lengths
 * with drift_str (a value's `as.s`, DRIFT_STR("literal"), drift_str_of) and drift_join, then
 * drift_s_str and drift_log_str. (Error messages a migration returns end at a NUL byte.) */
/* A drift_str of a string literal, its length known at compile time. */
#define DRIFT_STR(literal) ((drift_str){(literal), sizeof(literal) - 1})
/* A drift_str of a NUL-terminated string. */
drift_str drift_str_of(const char *text);
/* The concatenation of `count` strings, NUL bytes kept, in the region (ptr[len] is 0). */
drift_str drift_join(const drift_str *parts, size_t count);

/* Bytes with their length. */
typedef struct drift_bytes {
    const uint8_t *ptr;
    size_t len;
} drift_bytes;

typedef struct drift_value drift_value;
typedef struct drift_item drift_item;

/* One attribute value. Read the fields freely; build values with the functions below. */
struct drift_value {
    drift_type type;
    union {
        drift_str s;   /* S and N */
        drift_bytes b; /* B */
        bool boolean;  /* BOOL */
        struct {
            drift_str *items;
            size_t len;
        } strings; /* SS and NS */
        struct {
            drift_bytes *items;
            size_t len;
        } binaries; /* BS */
        struct {
            drift_value **items;
            size_t len, cap;
        } list;          /* L */
        drift_item *map; /* M */
    } as;
};

/* One attribute of an item or entry of a map. */
typedef struct drift_entry {
    drift_str name;
    drift_value *value;
} drift_entry;

/* An item (also a key, a map's entries, placeholder values): attributes kept in name order
 * (bytewise), as the Rust SDK's BTreeMap keeps them, so that encodings are identical. */
struct drift_item {
    drift_entry *entries;
    size_t len, cap;
};

/* Builders (every result lives in the region). */
drift_value *drift_s(const char *text);
drift_value *drift_s_len(const char *text, size_t len);
drift_value *drift_s_str(drift_str text); /* its length kept, NUL bytes included */
drift_value *drift_n(const char *decimal); /* the text as is, e.g. "12.50" or "1E+3" */
drift_value *drift_n_i64(int64_t n);
drift_value *drift_n_u64(uint64_t n);
drift_value *drift_n_f64(double n); /* shortest text that reads back, as Rust prints f64 */
drift_value *drift_b(const void *bytes, size_t len);
drift_value *drift_bool(bool b);
drift_value *drift_null(void);
drift_value *drift_ss(const char *const *strings, size_t count);
drift_value *drift_ns(const char *const *numbers, size_t count);
drift_value *drift_bs(const drift_bytes *items, size_t count);
drift_value *drift_list(void);                                      /* empty L */
drift_value *drift_list_push(drift_value *list, drift_value *element); /* returns list */
drift_value *drift_map(drift_item *entries);                        /* M */
drift_value *drift_value_clone(const drift_value *value);

/* Reading. Every accessor returns NULL / false when the value is NULL or of another type. */
const char *drift_type_name(const drift_value *value); /* "S", "N", ..., "BOOL", "NULL", "L", "M" */
const char *drift_as_str(const drift_value *value);    /* S */
const char *drift_as_number(const drift_value *value); /* N: the decimal text */
bool drift_as_i64(const drift_value *value, int64_t *out); /* N holding an integer that fits */
bool drift_as_f64(const drift_value *value, double *out);  /* N, correctly rounded */
bool drift_as_bool(const drift_value *value, bool *out);
bool drift_as_bytes(const drift_value *value, drift_bytes *out);
bool drift_is_null(const drift_value *value);
const drift_item *drift_as_map(const drift_value *value);
size_t drift_list_len(const drift_value *value);
drift_value *drift_list_get(const drift_value *value, size_t index);
bool drift_value_equal(const drift_value *a, const drift_value *b);
/* DynamoDB's size of the value (what the 400 KB item limit counts). */
size_t drift_value_size(const drift_value *value);
/* The value as a test reads it: "text", 12, true, null, [..], {"k": ..}, {"SS": [..]},
 * {"B": "<base64>"} (as the Rust SDK's `readable`). */
const char *drift_readable(const drift_value *value);

drift_item *drift_item_new(void);
drift_item *drift_item_clone(const drift_item *item);
/* The top-level attribute `name`, or NULL. */
drift_value *drift_item_get(const drift_item *item, const char *name);
drift_value *drift_item_get_len(const drift_item *item, const char *name, size_t len);
/* The value at a document path such as "address.city" or "tags[0]", or NULL. */
const drift_value *drift_item_path(const drift_item *item, const char *path);
const char *drift_item_get_str(const drift_item *item, const char *name);
bool drift_item_get_i64(const drift_item *item, const char *name, int64_t *out);
bool drift_item_get_bool(const drift_item *item, const char *name, bool *out);
bool drift_item_has(const drift_item *item, const char *name);
/* Sets an attribute; returns the value it replaced, or NULL. The name is copied. */
drift_value *drift_item_set(drift_item *item, const char *name, drift_value *value);
drift_value *drift_item_set_len(drift_item *item, const char *name, size_t len, drift_value *value);
/* drift_item_set that returns the item, to build items in one expression. */
drift_item *drift_item_with(drift_item *item, const char *name, drift_value *value);
/* Removes an attribute; returns its value, or NULL. */
drift_value *drift_item_remove(drift_item *item, const char *name);
/* The item's primary key: the attributes named (partition key, then sort key), up to NULL.
 * Returns NULL and sets *key, or returns "item has no key attribute `<name>`". */
const char *drift_item_key(const drift_item *item, drift_item **key, const char *name, ...)
    DRIFT_SENTINEL;
const char *drift_item_key_of(const drift_item *item, const char *const *names, size_t count,
                              drift_item **key);
bool drift_item_equal(const drift_item *a, const drift_item *b);
size_t drift_item_size(const drift_item *item);

/* ------------------------------------------------------------------------------------------
 * Document paths: "address.city", "tags[0]", "a.b[2][0].c".
 * ---------------------------------------------------------------------------------------- */

typedef struct drift_segment {
    const char *name; /* a map key or attribute name; NULL for a list index */
    size_t name_len;
    size_t index;
} drift_segment;

typedef struct drift_path {
    drift_segment *segments;
    size_t len;
} drift_path;

/* Parses `text`; returns NULL, or why it is not a path, as the Rust SDK words it:
 * "invalid document path `a..b`: empty name". */
const char *drift_path_parse(const char *text, drift_path *out);
/* The value at `path` below `value` (path[0] is applied to `value` itself), or NULL. */
const drift_value *drift_value_at(const drift_value *value, const drift_segment *segments,
                                  size_t count);

/* ------------------------------------------------------------------------------------------
 * Actions: deferred writes a migration returns.
 * ---------------------------------------------------------------------------------------- */

typedef enum drift_action_kind { DRIFT_PUT, DRIFT_UPDATE, DRIFT_DELETE } drift_action_kind;

/* `#placeholder` → attribute name, kept in placeholder order. */
typedef struct drift_names {
    struct drift_name {
        const char *placeholder;
        const char *name;
    } *entries;
    size_t len, cap;
} drift_names;

typedef struct drift_update_parts drift_update_parts;

/* One action. Read the fields freely; change them through the functions below. */
typedef struct drift_action {
    drift_action_kind kind;
    drift_item *item;      /* put: the whole item; update and delete: the key */
    const char *table;     /* NULL: the migration's table */
    const char *condition; /* NULL: none */
    drift_names names;     /* placeholders of the expressions */
    drift_item *values;    /* `:placeholder` → value */
    bool upsert;           /* update only: may create a missing item */
    const char *expression;      /* update only: written with drift_expression() */
    drift_update_parts *parts;   /* update only: SET/REMOVE/ADD/DELETE added so far */
} drift_action;

/* The actions of one item, in order. */
typedef struct drift_actions {
    drift_action **items;
    size_t len, cap;
} drift_actions;

/* Writes `item` whole, replacing any item with its key. */
drift_action *drift_put(drift_item *item);
/* Changes the item with primary key `key`; add drift_set/drift_remove/...; unless
 * drift_upsert() is called, the update only applies if the item still exists. */
drift_action *drift_update(drift_item *key);
/* Removes the item with primary key `key`. */
drift_action *drift_delete(drift_item *key);
/* Appends `action` to `out`; returns `action` (keep changing it: it is lowered at the end). */
drift_action *drift_push(drift_actions *out, drift_action *action);

/* Every setter returns `action`. Strings are copied. */
drift_action *drift_table(drift_action *action, const char *table);
drift_action *drift_condition(drift_action *action, const char *expression);
drift_action *drift_name_placeholder(drift_action *action, const char *placeholder,
                                     const char *name);
drift_action *drift_value_placeholder(drift_action *action, const char *placeholder,
                                      drift_value *value);
/* Update clauses; `path` is a document path. Every name becomes a `#drift<N>` placeholder and
 * every value a `:drift<N>` one, numbered as the Rust SDK numbers them (byte-identical
 * actions); a name used twice keeps its placeholder. Do not spell your own placeholders so. */
drift_action *drift_set(drift_action *update, const char *path, drift_value *value);
drift_action *drift_remove(drift_action *update, const char *path);
drift_action *drift_add(drift_action *update, const char *path, drift_value *value);
drift_action *drift_delete_from_set(drift_action *update, const char *path, drift_value *value);
/* The whole update expression written by hand, with drift_*_placeholder; not mixed with the
 * clauses above. */
drift_action *drift_expression(drift_action *update, const char *expression);
drift_action *drift_upsert(drift_action *update);

/* The update expression, or NULL with *error set: a path that did not parse, no clause, or
 * clauses mixed with drift_expression(). */
const char *drift_update_expression(const drift_action *update, const char **error);
/* The update expression with its placeholders spelled out, for tests:
 * `SET email_lower = "ada@example.com", schema_version = 2 REMOVE name`; NULL with *error set
 * as above or on an undefined placeholder ("undefined value placeholder `:w`"). */
const char *drift_resolved(const drift_action *update, const char **error);

/* ------------------------------------------------------------------------------------------
 * The migration.
 * ---------------------------------------------------------------------------------------- */

/* What the migration is. Strings are read when info() returns. */
typedef struct drift_info {
    uint64_t number;
    const char *name;
    const char *description;           /* NULL: "" */
    const char *table;
    const char *const *other_tables;   /* NULL-terminated array, or NULL */
} drift_info;

/* migrate / rollback: append actions to `out` and return NULL, or return the item's error
 * message (the host then applies nothing of the whole migration). */
typedef const char *(*drift_migrate_fn)(drift_item *item, drift_actions *out);
typedef drift_info (*drift_info_fn)(void);

typedef struct drift_migration {
    drift_info_fn info;
    drift_migrate_fn migrate;
    drift_migrate_fn rollback; /* NULL: "this migration has no rollback" */
} drift_migration;

/* Registers the migration: exactly once per component. */
#define DRIFT_MIGRATION(info_fn, migrate_fn, rollback_fn)                                    \
    const drift_migration drift_registered_migration = {info_fn, migrate_fn, rollback_fn};

/* Returns the error message of `expression` (a call returning const char *) if it is not NULL. */
#define DRIFT_TRY(expression)                                                                 \
    do {                                                                                       \
        const char *drift_try_error_ = (expression);                                           \
        if (drift_try_error_ != NULL) return drift_try_error_;                                 \
    } while (0)

/* Runs `migrate` (or `rollback`) on `item` as the export does, natively: returns NULL and the
 * actions, or the error message; each update's expression is checked as when lowering. */
const char *drift_run(drift_migrate_fn fn, drift_item *item, drift_actions *out);

/* ------------------------------------------------------------------------------------------
 * Log: to the host's log, tagged with the migration and the item's key (natively: stderr).
 * ---------------------------------------------------------------------------------------- */

typedef enum drift_level {
    DRIFT_TRACE,
    DRIFT_DEBUG,
    DRIFT_INFO,
    DRIFT_WARN,
    DRIFT_ERROR
} drift_level;

void drift_log(drift_level level, const char *message);
void drift_log_trace(const char *message);
void drift_log_debug(const char *message);
void drift_log_info(const char *message);
void drift_log_warn(const char *message);
void drift_log_error(const char *message);
/* A message with its length (NUL bytes kept). */
void drift_log_str(drift_level level, drift_str message);

/* ------------------------------------------------------------------------------------------
 * Immediate DynamoDB operations (run at once, during the scan; only the tables in info()).
 * Offline (drift-host exec) and natively every call is refused.
 * ---------------------------------------------------------------------------------------- */

typedef enum drift_db_status {
    DRIFT_DB_OK,
    DRIFT_DB_CONDITIONAL_CHECK_FAILED, /* the condition did not hold; nothing written */
    DRIFT_DB_REFUSED,                  /* undeclared table, offline run, bad argument */
    DRIFT_DB_FAILED                    /* DynamoDB failed after the host's retries */
} drift_db_status;

/* The status as the Rust SDK words it: "condition check failed", "refused: <why>",
 * "DynamoDB failed: <why>" (NULL for DRIFT_DB_OK). */
const char *drift_db_message(drift_db_status status, const char *why);

/* Reads the item with key `key` (strongly consistent); *found is NULL when there is none.
 * `why`, when not NULL, receives the host's reason on failure. */
drift_db_status drift_db_get(const char *table, const drift_item *key, drift_item **found,
                             const char **why);
/* Writes `action` now (a put, update or delete built as above, with its condition and
 * placeholders; its table defaults to the migration's). An update's upsert flag does not
 * apply: an immediate update creates a missing item unless its condition says otherwise. */
drift_db_status drift_db_write(const drift_action *action, const char **why);

/* A query (DynamoDB Query): build with drift_query_new and the setters. */
typedef struct drift_query {
    const char *table;
    const char *index;         /* NULL: the table */
    const char *key_condition; /* e.g. "#pk = :pk" */
    const char *filter;        /* NULL: none */
    drift_names names;
    drift_item *values;
    uint32_t limit;            /* 0: the host's cap */
    bool descending;
} drift_query;

drift_query *drift_query_new(const char *table, const char *key_condition);
drift_query *drift_query_index(drift_query *query, const char *index);
drift_query *drift_query_filter(drift_query *query, const char *filter);
drift_query *drift_query_name(drift_query *query, const char *placeholder, const char *name);
drift_query *drift_query_value(drift_query *query, const char *placeholder, drift_value *value);
drift_query *drift_query_limit(drift_query *query, uint32_t limit);
drift_query *drift_query_descending(drift_query *query);

/* One page: items after `start` (NULL: from the beginning); *last_key is where the next page
 * starts (NULL when there is none). */
drift_db_status drift_db_query_page(const drift_query *query, const drift_item *start,
                                    drift_item ***items, size_t *count, drift_item **last_key,
                                    const char **why);
/* Every page. */
drift_db_status drift_db_query_all(const drift_query *query, drift_item ***items,
                                   size_t *count, const char **why);

#ifdef __cplusplus
}
#endif

#endif /* DRIFT_H */
