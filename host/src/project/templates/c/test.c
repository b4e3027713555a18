/* {{name}}'s unit tests, native (`./build.sh test`); `drift-host test` runs cases/ on the
 * built component. */
#include <stdio.h>
#include <string.h>

#include "{{name}}.h"

static int failures;

static void check(int ok, const char *what, int line) {
    if (!ok) {
        failures++;
        fprintf(stderr, "test.c:%d: %s\n", line, what);
    }
}
#define CHECK(cond) check((cond), #cond, __LINE__)

static bool same(const char *actual, const char *expected) {
    return actual != NULL && strcmp(actual, expected) == 0;
}

static drift_item *sample(bool stamped) {
    drift_item *item = drift_item_new();
{{c_sample_keys}}    drift_item_set(item, "name", drift_s("Ada"));
    if (stamped) drift_item_set(item, "migrated_by", drift_s("{{name}}"));
    return item;
}

int main(void) {
    CHECK({{name}}_info().number == {{number}});

    drift_actions actions = {0};
    CHECK(drift_run({{name}}_migrate, sample(false), &actions) == NULL);
    CHECK(actions.len == 1 && same(drift_resolved(actions.items[0], NULL), "SET migrated_by = \"{{name}}\""));

    drift_actions back = {0};
    CHECK(drift_run({{name}}_rollback, sample(true), &back) == NULL);
    CHECK(back.len == 1 && same(drift_resolved(back.items[0], NULL), "REMOVE migrated_by"));

    drift_actions none = {0};
    CHECK(drift_run({{name}}_rollback, sample(false), &none) == NULL);
    CHECK(none.len == 0);

    if (failures == 0) printf("{{name}}: all tests passed\n");
    return failures ? 1 : 0;
}
