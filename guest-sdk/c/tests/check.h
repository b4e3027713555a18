/* What the C SDK's native test files share: the CHECK macros and their counters, what
 * tests/native_stubs.c records, and the tests each file defines for main (test_sdk.c). */
#ifndef DRIFT_TEST_CHECK_H
#define DRIFT_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

#include "drift.h"

extern int failures, checks;

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

/* The item key {"id": "u1"} (test_sdk.c). */
drift_item *key(void);

/* test_glue.c: the export glue, log and immediate operations. */
void arena_round_trips_in_preorder_and_name_order(void);
void rejects_bad_arenas(void);
void errors_and_checks_come_back_as_the_items_error(void);
void info_is_lowered_whole(void);
void log_goes_to_the_host(void);
void natively_every_db_call_is_refused(void);

#endif
