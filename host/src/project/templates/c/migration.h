/* Migration {{number}} `{{name}}`: its three functions, for the native unit tests (test.c). */
#ifndef {{upper_name}}_H
#define {{upper_name}}_H

#include "drift.h"

drift_info {{name}}_info(void);
const char *{{name}}_migrate(drift_item *item, drift_actions *out);
const char *{{name}}_rollback(drift_item *item, drift_actions *out);

#endif
