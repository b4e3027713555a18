/* The users_v2 migration's three functions, for the native unit tests (test.c). */
#ifndef USERS_V2_H
#define USERS_V2_H

#include "drift.h"

drift_info users_v2_info(void);
const char *users_v2_migrate(drift_item *user, drift_actions *out);
const char *users_v2_rollback(drift_item *user, drift_actions *out);

#endif
