/* Migration {{number}} `{{name}}` over the table `{{table}}` (key: {{key_list}}).
 *
 * As written by `drift-host new`, it stamps every item with `migrated_by = "{{name}}"`, and
 * `rollback` takes the stamp away again: replace both with what this migration changes.
 * Returning a message fails the item (and then the run applies nothing). The SDK owns every
 * value and item it hands out: nothing here is freed by hand. No stdio in a guest.
 */
#include <string.h>

#include "{{name}}.h"

drift_info {{name}}_info(void) {
    return (drift_info){
        .number = {{number}},
        .name = "{{name}}",
        .table = "{{table}}",
        .description = "Stamps every item with migrated_by = {{name}}.",
    };
}

const char *{{name}}_migrate(drift_item *item, drift_actions *out) {
    drift_item *key;
    DRIFT_TRY(drift_item_key(item, &key, {{key_literals}}, NULL));
    drift_action *stamp = drift_push(out, drift_update(key));
    drift_set(stamp, "migrated_by", drift_s("{{name}}"));
    return NULL;
}

const char *{{name}}_rollback(drift_item *item, drift_actions *out) {
    const char *stamp = drift_item_get_str(item, "migrated_by");
    if (stamp == NULL || strcmp(stamp, "{{name}}") != 0) return NULL;
    drift_item *key;
    DRIFT_TRY(drift_item_key(item, &key, {{key_literals}}, NULL));
    drift_remove(drift_push(out, drift_update(key)), "migrated_by");
    return NULL;
}

DRIFT_MIGRATION({{name}}_info, {{name}}_migrate, {{name}}_rollback)
