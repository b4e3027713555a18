/* Example migration `users_v2` over the `users` table (partition key `id`), in C: the same
 * migration as example-migrations/users_v2 (Rust), action for action.
 *
 * - `email_lower` = lowercase(`email`): lets the application look users up by email
 *   without caring about case;
 * - `schema_version` = 2;
 * - `name` is renamed to `full_name`.
 *
 * A user without an `email` is an error: the whole migration then applies nothing.
 * Users already at schema version 2 are left alone, so the migration can be run over a
 * partially migrated table. `rollback` restores version-1 users exactly.
 */
#include "users_v2.h"

drift_info users_v2_info(void) {
    return (drift_info){
        .number = 2,
        .name = "users_v2",
        .table = "users",
        .description = "Add email_lower and schema_version 2; rename name to full_name.",
    };
}

static bool at_version_2(const drift_item *user) {
    int64_t version;
    return drift_item_get_i64(user, "schema_version", &version) && version == 2;
}

const char *users_v2_migrate(drift_item *user, drift_actions *out) {
    if (at_version_2(user)) return NULL;
    const drift_value *email = drift_item_get(user, "email");
    if (email == NULL) return "user has no `email` attribute";
    if (email->type != DRIFT_S) {
        return drift_concat("user's `email` is of type ", drift_type_name(email),
                            ", expected a string (S)", NULL);
    }
    drift_item *key;
    DRIFT_TRY(drift_item_key(user, &key, "id", NULL));
    drift_action *change = drift_push(out, drift_update(key));
    size_t lower_len;
    const char *lower = drift_to_lower_len(email->as.s.ptr, email->as.s.len, &lower_len);
    drift_set(change, "email_lower", drift_s_len(lower, lower_len));
    drift_set(change, "schema_version", drift_n_i64(2));
    drift_value *name = drift_item_get(user, "name");
    if (name != NULL) {
        drift_set(change, "full_name", name);
        drift_remove(change, "name");
    }
    return NULL;
}

const char *users_v2_rollback(drift_item *user, drift_actions *out) {
    if (!at_version_2(user)) return NULL;
    drift_item *key;
    DRIFT_TRY(drift_item_key(user, &key, "id", NULL));
    drift_action *change = drift_push(out, drift_update(key));
    drift_remove(change, "email_lower");
    drift_remove(change, "schema_version");
    drift_value *full_name = drift_item_get(user, "full_name");
    if (full_name != NULL) {
        drift_set(change, "name", full_name);
        drift_remove(change, "full_name");
    }
    return NULL;
}

DRIFT_MIGRATION(users_v2_info, users_v2_migrate, users_v2_rollback)
