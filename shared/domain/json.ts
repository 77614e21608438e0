/** JSON values, as parsed and as stored: xDS resources are carried in this form (proto3 JSON). */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | JsonObject;
export type JsonObject = { readonly [key: string]: JsonValue };
