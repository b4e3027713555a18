// The component's entry file: the migration, wrapped by the QuickJS engine glue. Tests import
// ./migration.js directly and never load this file.
import * as migration from "./migration.js";
import { exportMigration } from "@drift/sdk-js/quickjs";

export const { info, migrate, rollback } = exportMigration(migration);
