// The component's entry file: the migration (./migration.ts, see ../README.md), wrapped by the
// QuickJS engine glue.
import * as migration from "./migration.js";
import { exportMigration } from "@drift/sdk-js/quickjs";

export const { info, migrate, rollback } = exportMigration(migration);
