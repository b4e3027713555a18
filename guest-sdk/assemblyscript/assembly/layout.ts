// Sizes and field offsets (bytes) of the drift:migration world's types in the canonical ABI on
// wasm32, as abi.ts and db.ts lay them out. Written by hand, so that the glue reads as the WIT
// does; tests/all/assemblyscript_abi.rs computes every one from wit/ and checks it, so that a
// change to the world cannot leave them behind. One `export const NAME: usize = N;` a line.

// (pointer, length) of a string or a list.
export const SLICE_SIZE: usize = 8;
export const SLICE_LEN: usize = 4;

// A variant's or option's payload comes after its tag.
export const VALUE_SIZE: usize = 12;
export const VALUE_PAYLOAD: usize = 4;
export const OPTION_STRING_SIZE: usize = 12;
export const OPTION_STRING_PAYLOAD: usize = 4;

// item: attributes (list<tuple<string, u32>>), then nodes (list<value>).
export const ITEM_SIZE: usize = 16;
export const ITEM_NODES: usize = 8;
export const ENTRY_SIZE: usize = 12;
export const ENTRY_NODE: usize = 8;
// A list value's elements: node indices.
export const INDEX_SIZE: usize = 4;

// expression-attributes: names (list<tuple<string, string>>), then values (an item).
export const EXPRESSION_ATTRIBUTES_SIZE: usize = 24;
export const EXPRESSION_ATTRIBUTES_VALUES: usize = 8;
export const NAME_PAIR_SIZE: usize = 16;
export const NAME_PAIR_SECOND: usize = 8;

// put-action and delete-action (alike): table, item or key, condition, attributes.
export const PUT_ACTION_ITEM: usize = 12;
export const PUT_ACTION_CONDITION: usize = 28;
export const PUT_ACTION_ATTRIBUTES: usize = 40;
// update-action: table, key, update-expression, condition, attributes, upsert.
export const UPDATE_ACTION_KEY: usize = 12;
export const UPDATE_ACTION_UPDATE_EXPRESSION: usize = 28;
export const UPDATE_ACTION_CONDITION: usize = 36;
export const UPDATE_ACTION_ATTRIBUTES: usize = 48;
export const UPDATE_ACTION_UPSERT: usize = 72;
// action: a variant of the three.
export const ACTION_SIZE: usize = 80;
export const ACTION_PAYLOAD: usize = 4;
// result<list<action>, string>.
export const ACTIONS_RESULT_SIZE: usize = 12;
export const ACTIONS_RESULT_PAYLOAD: usize = 4;

// info: number, name, description, table, other-tables.
export const INFO_SIZE: usize = 40;
export const INFO_NAME: usize = 8;
export const INFO_DESCRIPTION: usize = 16;
export const INFO_TABLE: usize = 24;
export const INFO_OTHER_TABLES: usize = 32;

// db-error: a variant whose payloads are strings.
export const DB_ERROR_PAYLOAD: usize = 4;

// get-item(table, key): its arguments laid out in memory, then lowered flat; its result
// (result<option<item>, db-error>) in a return area.
export const GET_ITEM_ARGS_SIZE: usize = 24;
export const GET_ITEM_ARGS_KEY: usize = 8;
export const GET_ITEM_RESULT_SIZE: usize = 24;
export const GET_ITEM_RESULT_PAYLOAD: usize = 4;
export const GET_ITEM_RESULT_ITEM: usize = 8;

// put-item and delete-item(table, item or key, condition, attributes): laid out in memory,
// then lowered flat; their result (result<_, db-error>) in a return area.
export const WRITE_ARGS_SIZE: usize = 60;
export const WRITE_ARGS_ITEM: usize = 8;
export const WRITE_ARGS_CONDITION: usize = 24;
export const WRITE_ARGS_ATTRIBUTES: usize = 36;
export const UNIT_RESULT_SIZE: usize = 16;
export const UNIT_RESULT_PAYLOAD: usize = 4;

// update-item(table, key, update-expression, condition, attributes): more than 16 flat values,
// so the arguments go through memory.
export const UPDATE_ITEM_ARGS_SIZE: usize = 68;
export const UPDATE_ITEM_ARGS_KEY: usize = 8;
export const UPDATE_ITEM_ARGS_UPDATE_EXPRESSION: usize = 24;
export const UPDATE_ITEM_ARGS_CONDITION: usize = 32;
export const UPDATE_ITEM_ARGS_ATTRIBUTES: usize = 44;

// query(input: query-input): through memory as well; its result
// (result<query-output, db-error>) in a return area.
export const QUERY_INPUT_SIZE: usize = 96;
export const QUERY_INPUT_INDEX: usize = 8;
export const QUERY_INPUT_KEY_CONDITION: usize = 20;
export const QUERY_INPUT_FILTER: usize = 28;
export const QUERY_INPUT_ATTRIBUTES: usize = 40;
export const QUERY_INPUT_LIMIT: usize = 64;
export const QUERY_INPUT_EXCLUSIVE_START_KEY: usize = 72;
export const QUERY_INPUT_DESCENDING: usize = 92;
export const OPTION_U32_PAYLOAD: usize = 4;
export const OPTION_ITEM_PAYLOAD: usize = 4;
export const QUERY_RESULT_SIZE: usize = 32;
export const QUERY_RESULT_PAYLOAD: usize = 4;
export const QUERY_OUTPUT_LAST_EVALUATED_KEY: usize = 8;
