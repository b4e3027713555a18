/* Shared by the SDK's sources; not part of the public API. */
#ifndef DRIFT_INTERNAL_H
#define DRIFT_INTERNAL_H

#include <string.h>

#include "drift.h"

/* Stops the instance: out of memory or a broken invariant. */
_Noreturn void drift_trap(void);

/* Grows (or moves) a region block of `old_size` bytes to `new_size` bytes. */
void *drift_region_grow(void *block, size_t old_size, size_t new_size);

/* Ensures room for one more element in a region array (items, len, cap). */
#define DRIFT_RESERVE(items, len, cap)                                                        \
    do {                                                                                       \
        if ((len) == (cap)) {                                                                  \
            size_t new_cap_ = (cap) ? (cap) * 2 : 4;                                           \
            (items) = drift_region_grow((items), (cap) * sizeof(*(items)),                     \
                                        new_cap_ * sizeof(*(items)));                          \
            (cap) = new_cap_;                                                                  \
        }                                                                                      \
    } while (0)

/* A growable text in the region. */
typedef struct drift_buf {
    char *ptr;
    size_t len, cap;
} drift_buf;

void drift_buf_mem(drift_buf *buf, const char *bytes, size_t len);
void drift_buf_str(drift_buf *buf, const char *text);
void drift_buf_char(drift_buf *buf, char c);
void drift_buf_u64(drift_buf *buf, uint64_t n);
/* The text, NUL-terminated (the buffer stays usable). */
const char *drift_buf_text(drift_buf *buf);

/* Bytewise order of names, shorter first on a common prefix (Rust's str order). */
int drift_name_cmp(const char *a, size_t a_len, const char *b, size_t b_len);

/* The entry index of `name`, or where it would go (*found says which). */
size_t drift_item_find(const drift_item *item, const char *name, size_t len, bool *found);
/* Inserts a new attribute at `at` (from drift_item_find); the name is taken as is. */
void drift_item_insert_at(drift_item *item, size_t at, drift_str name, drift_value *value);

/* Placeholder maps (drift_names), kept in placeholder order. */
const char *drift_names_get(const drift_names *names, const char *placeholder);
void drift_names_put(drift_names *names, const char *placeholder, const char *name);

/* A region string of `len` bytes, NUL-terminated. */
drift_str drift_str_copy(const char *text, size_t len);

/* Number text helpers (number.c). */
bool drift_parse_i64(const char *text, size_t len, int64_t *out);
bool drift_parse_usize(const char *text, size_t len, size_t *out);
bool drift_parse_f64(const char *text, size_t len, double *out);
const char *drift_format_f64(double n);

/* The registered migration (DRIFT_MIGRATION). A wasm build without one fails to link; natively
 * the symbol is weak, so that tests link without one. */
#if defined(__wasm__)
extern const drift_migration drift_registered_migration;
#define DRIFT_HAS_MIGRATION() 1
#else
extern const drift_migration drift_registered_migration __attribute__((weak));
#define DRIFT_HAS_MIGRATION() (&drift_registered_migration != NULL)
#endif

#endif
