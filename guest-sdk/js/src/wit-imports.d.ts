// The WIT world's `dynamodb` interface as an ES module, which the engine (componentize-qjs)
// resolves when it builds the component. Only the engine glue imports it.
declare module "drift:migration/dynamodb@0.1.0" {
  export function getItem(table: string, key: unknown): unknown;
  export function putItem(table: string, item: unknown, condition: string | undefined, attributes: unknown): void;
  export function updateItem(
    table: string,
    key: unknown,
    updateExpression: string,
    condition: string | undefined,
    attributes: unknown,
  ): void;
  export function deleteItem(table: string, key: unknown, condition: string | undefined, attributes: unknown): void;
  export function query(input: unknown): unknown;
}

// The world's `log` import as componentize-js (SpiderMonkey) binds it: the default export of `log`.
declare module "log" {
  export default function log(level: "trace" | "debug" | "info" | "warn" | "error", message: string): void;
}
