// Immediate DynamoDB reads while an item is migrated: `getItem` on the tables the migration
// declared. (The Rust SDK also has query and immediate writes; prefer actions for writes.)

import { Item } from "./value";
import { alloc_for_import, liftItem, releaseInbound, storeItem, storeString } from "./abi";

@external("drift:migration/dynamodb@0.1.0", "get-item")
declare function hostGetItem(
  table: usize, tableLen: usize,
  attrs: usize, attrsLen: usize, nodes: usize, nodesLen: usize,
  ret: usize,
): void;

/** The outcome of an immediate read. */
export class Lookup {
  /** The item, or null if there is none (or the call failed). */
  item: Item | null = null;
  /** Why the call failed, or null. */
  error: string | null = null;
}

const DB_ERRORS: string[] = ["condition check failed", "refused: ", "DynamoDB failed: "];

/** Reads the item with primary key `key` from `table` (strongly consistent). */
export function getItem(table: string, key: Item): Lookup {
  const args = alloc_for_import(8 + 16);
  storeString(args, table);
  storeItem(args + 8, key.entries);
  const ret = alloc_for_import(24);
  hostGetItem(
    load<u32>(args), load<u32>(args, 4),
    load<u32>(args, 8), load<u32>(args, 12), load<u32>(args, 16), load<u32>(args, 20),
    ret,
  );
  const out = new Lookup();
  if (load<u8>(ret) == 0) {
    if (load<u8>(ret, 4) == 1) {
      out.item = liftItem(load<u32>(ret, 8), load<u32>(ret, 12), load<u32>(ret, 16), load<u32>(ret, 20));
    }
  } else {
    const tag = load<u8>(ret, 4);
    out.error = DB_ERRORS[tag] + (tag == 0 ? "" : String.UTF8.decodeUnsafe(load<u32>(ret, 8), load<u32>(ret, 12)));
  }
  releaseInbound();
  return out;
}
