// The module drift-host loads: the SDK's exports, and this migration's three functions.

import { register } from "@drift/sdk/assembly/index";
import { info, migrate, rollback } from "./migration";
export * from "@drift/sdk/assembly/exports";

register(info, migrate, rollback);
