/* Native stand-ins for the wasm-only parts of the generated bindings (migration.c):
 * the host's imports, and the symbol that pulls in the component-type object.
 *
 * Every DynamoDB import answers `refused` (as drift-host exec does offline), with a message
 * malloc'd as cabi_realloc would allocate it; `log` prints to stderr. The last call of each is
 * kept for the tests (native_last_log, native_last_db).
 *
 * The signatures are those wit-bindgen 0.63 lowers wit/migration.wit to: a change of the
 * world's imports changes them (the compiler then reports a conflicting declaration). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char native_last_log[512];
size_t native_last_log_len;
int native_last_level = -1;
char native_last_db[512];

void __component_type_object_force_link_migration(void) {}

void __wasm_import_migration_log(int32_t level, uint8_t *message, size_t len) {
    static const char *const names[] = {"trace", "debug", "info", "warn", "error"};
    native_last_level = level;
    size_t n = len < sizeof native_last_log - 1 ? len : sizeof native_last_log - 1;
    memcpy(native_last_log, message, n);
    native_last_log[n] = 0;
    native_last_log_len = n;
    fprintf(stderr, "[%s] %.*s\n", level >= 0 && level < 5 ? names[level] : "?", (int)len,
            (const char *)message);
}

/* result<_, db-error> (and the other results): is_err at 0, the error's tag at one word, its
 * string at two and three words. */
static void refuse(uint8_t *ret, const char *call, const uint8_t *table, size_t table_len) {
    static const char why[] = "immediate DynamoDB operations need the drift-host runtime";
    snprintf(native_last_db, sizeof native_last_db, "%s %.*s", call, (int)table_len,
             (const char *)table);
    char *message = malloc(sizeof why - 1);
    memcpy(message, why, sizeof why - 1);
    ret[0] = 1;
    ret[sizeof(void *)] = 1; /* refused */
    *(char **)(ret + 2 * sizeof(void *)) = message;
    *(size_t *)(ret + 3 * sizeof(void *)) = sizeof why - 1;
}

void __wasm_import_drift_migration_dynamodb_get_item(uint8_t *table, size_t table_len,
                                                     uint8_t *attributes, size_t attributes_len,
                                                     uint8_t *nodes, size_t nodes_len,
                                                     uint8_t *ret) {
    (void)attributes, (void)attributes_len, (void)nodes, (void)nodes_len;
    refuse(ret, "get-item", table, table_len);
}

void __wasm_import_drift_migration_dynamodb_put_item(
    uint8_t *table, size_t table_len, uint8_t *a1, size_t a2, uint8_t *a3, size_t a4, int32_t a5,
    uint8_t *a6, size_t a7, uint8_t *a8, size_t a9, uint8_t *a10, size_t a11, uint8_t *a12,
    size_t a13, uint8_t *ret) {
    (void)a1, (void)a2, (void)a3, (void)a4, (void)a5, (void)a6, (void)a7, (void)a8, (void)a9;
    (void)a10, (void)a11, (void)a12, (void)a13;
    refuse(ret, "put-item", table, table_len);
}

void __wasm_import_drift_migration_dynamodb_delete_item(
    uint8_t *table, size_t table_len, uint8_t *a1, size_t a2, uint8_t *a3, size_t a4, int32_t a5,
    uint8_t *a6, size_t a7, uint8_t *a8, size_t a9, uint8_t *a10, size_t a11, uint8_t *a12,
    size_t a13, uint8_t *ret) {
    (void)a1, (void)a2, (void)a3, (void)a4, (void)a5, (void)a6, (void)a7, (void)a8, (void)a9;
    (void)a10, (void)a11, (void)a12, (void)a13;
    refuse(ret, "delete-item", table, table_len);
}

/* update-item and query pass their arguments in memory: the table string comes first. */
void __wasm_import_drift_migration_dynamodb_update_item(uint8_t *args, uint8_t *ret) {
    refuse(ret, "update-item", *(uint8_t **)args, *(size_t *)(args + sizeof(void *)));
}

void __wasm_import_drift_migration_dynamodb_query(uint8_t *args, uint8_t *ret) {
    refuse(ret, "query", *(uint8_t **)args, *(size_t *)(args + sizeof(void *)));
}
