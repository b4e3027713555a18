/* users_v2's unit tests, native (./build.sh test): the same as the Rust version's. */
#include <stdio.h>
#include <string.h>

#include "users_v2.h"

static int failures;

#define CHECK_STR(actual, expected)                                                           \
    do {                                                                                       \
        const char *a_ = (actual), *e_ = (expected);                                           \
        if (a_ == NULL || e_ == NULL ? a_ != e_ : strcmp(a_, e_) != 0) {                       \
            failures++;                                                                        \
            fprintf(stderr, "%s:%d: %s\n    got      %s\n    expected %s\n", __FILE__,         \
                    __LINE__, #actual, a_ ? a_ : "(null)", e_ ? e_ : "(null)");               \
        }                                                                                      \
    } while (0)

#define CHECK(cond)                                                                           \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            failures++;                                                                        \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);          \
        }                                                                                      \
    } while (0)

/* The one update of `actions`, or NULL. */
static const drift_action *the_update(const drift_actions *actions) {
    if (actions->len != 1 || actions->items[0]->kind != DRIFT_UPDATE) {
        failures++;
        fprintf(stderr, "expected one update, got %zu actions\n", actions->len);
        return NULL;
    }
    return actions->items[0];
}

static drift_item *item(const char *id, const char *email, const char *name) {
    drift_item *user = drift_item_new();
    if (id) drift_item_set(user, "id", drift_s(id));
    if (email) drift_item_set(user, "email", drift_s(email));
    if (name) drift_item_set(user, "name", drift_s(name));
    return user;
}

static void migrates_a_version_one_user(void) {
    drift_actions actions = {0};
    CHECK(drift_run(users_v2_migrate, item("u1", "Ada@Example.COM", "Ada Lovelace"), &actions) == NULL);
    const drift_action *update = the_update(&actions);
    if (update == NULL) return;
    CHECK(drift_item_equal(update->item, item("u1", NULL, NULL)));
    CHECK_STR(drift_resolved(update, NULL),
              "SET email_lower = \"ada@example.com\", schema_version = 2, full_name = \"Ada Lovelace\" "
              "REMOVE name");
    /* What tests/data/users_v2.migrate.jsonl and the Rust and AssemblyScript versions give. */
    CHECK_STR(drift_update_expression(update, NULL),
              "SET #drift0 = :drift0, #drift1 = :drift1, #drift2 = :drift2 REMOVE #drift3");
    CHECK(!update->upsert);
    drift_reset();
}

static void a_user_without_a_name_only_gains_attributes(void) {
    drift_actions actions = {0};
    CHECK(drift_run(users_v2_migrate, item("u3", "Kurt.G\xc3\xb6" "del@IAS.edu", NULL), &actions) == NULL);
    const drift_action *update = the_update(&actions);
    if (update == NULL) return;
    CHECK_STR(drift_resolved(update, NULL),
              "SET email_lower = \"kurt.g\xc3\xb6" "del@ias.edu\", schema_version = 2");
    drift_reset();
}

static void user_without_email_is_an_error(void) {
    drift_actions actions = {0};
    CHECK_STR(drift_run(users_v2_migrate, item("u1", NULL, NULL), &actions),
              "user has no `email` attribute");
    drift_item *numeric = item("u1", NULL, NULL);
    drift_item_set(numeric, "email", drift_n_i64(3));
    CHECK_STR(drift_run(users_v2_migrate, numeric, &actions),
              "user's `email` is of type N, expected a string (S)");
    CHECK_STR(drift_run(users_v2_migrate, item(NULL, "a@b", NULL), &actions),
              "item has no key attribute `id`");
    drift_reset();
}

static void version_two_users_are_left_alone_and_rolled_back(void) {
    drift_item *user = item("u1", "a@b", NULL);
    drift_item_set(user, "email_lower", drift_s("a@b"));
    drift_item_set(user, "schema_version", drift_n_i64(2));
    drift_item_set(user, "full_name", drift_s("A"));
    drift_actions migrated = {0}, rolled_back = {0};
    CHECK(drift_run(users_v2_migrate, drift_item_clone(user), &migrated) == NULL);
    CHECK(migrated.len == 0);
    CHECK(drift_run(users_v2_rollback, user, &rolled_back) == NULL);
    const drift_action *update = the_update(&rolled_back);
    if (update == NULL) return;
    CHECK_STR(drift_resolved(update, NULL),
              "SET name = \"A\" REMOVE email_lower, schema_version, full_name");
    CHECK_STR(drift_update_expression(update, NULL),
              "SET #drift2 = :drift0 REMOVE #drift0, #drift1, #drift3");
    drift_reset();
}

static void info_names_the_migration(void) {
    drift_info info = users_v2_info();
    CHECK(info.number == 2);
    CHECK_STR(info.name, "users_v2");
    CHECK_STR(info.table, "users");
    CHECK_STR(info.description, "Add email_lower and schema_version 2; rename name to full_name.");
}

int main(void) {
    migrates_a_version_one_user();
    a_user_without_a_name_only_gains_attributes();
    user_without_email_is_an_error();
    version_two_users_are_left_alone_and_rolled_back();
    info_names_the_migration();
    printf("users_v2 (C): %s\n", failures ? "FAILED" : "all tests passed");
    return failures ? 1 : 0;
}
