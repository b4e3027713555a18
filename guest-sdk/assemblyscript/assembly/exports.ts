// Re-export this from your migration's entry file: `export * from "@drift/sdk/assembly/exports";`
export { info, migrate, rollback, cabi_realloc, cabi_post_info, cabi_post_migrate, cabi_post_rollback } from "./abi";
