/**
 * Envoy's protos, as shipped with @grpc/grpc-js-xds (deps/: envoy-api, xds, googleapis,
 * protoc-gen-validate), loaded once and lazily with protobufjs, and a proto3-JSON bridge: resources
 * in Envoy's JSON form ↔ `google.protobuf.Any` bytes.
 *
 * protobufjs' `fromObject` is not a proto3-JSON parser (no Duration strings, no bare wrapper values,
 * no lowerCamelCase names, unknown enum names silently dropped), and `verify` rejects enum names
 * (docs/dataplane.md). So a small reflection walker translates JSON into what `fromObject` takes,
 * refusing unknown fields and enum names instead of dropping them, and back.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join } from 'node:path';
import protobuf from 'protobufjs';
import { ValidationError } from '../../domain/errors.js';

export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };
export type JsonRecord = { readonly [key: string]: Json };

/** google.protobuf.Any as protobufjs and @grpc/grpc-js carry it. */
export interface AnyMessage {
  type_url: string;
  value: Uint8Array;
}

const ENTRY_FILES = [
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/service/discovery/v3/ads.proto',
];

let loaded: protobuf.Root | undefined;

/** The Envoy protos, loaded on first use (about 0.3 s), then shared. */
export function envoyProtos(): protobuf.Root {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  const deps = join(dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
  // google/protobuf/descriptor.proto ships with protobufjs; the other well-known types are built in.
  const includeDirs = [...['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => join(deps, d)), dirname(require.resolve('protobufjs/package.json'))];
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => {
    if (isAbsolute(target)) return target;
    return includeDirs.map((dir) => join(dir, target)).find((path) => existsSync(path)) ?? target;
  };
  root.loadSync(ENTRY_FILES, { keepCase: true });
  root.resolveAll();
  loaded = root;
  return root;
}

/** The message type named `fullName` (`envoy.service.discovery.v3.DiscoveryRequest`). */
export function messageType(fullName: string): protobuf.Type {
  return envoyProtos().lookupType(fullName);
}

/** A resource's proto3 JSON (with its `@type`) → Any. Throws ValidationError naming the first field it cannot place. */
export function encodeResource(resource: JsonRecord): AnyMessage {
  return toAny(resource, '$');
}

/** Any → the resource's proto3 JSON, snake_case, with its `@type`. */
export function decodeResource(any: AnyMessage): JsonRecord {
  return anyToJson(any) as JsonRecord;
}

/** JSON → Any bytes → JSON: what a proxy would read back of `resource` (test helper for "no field lost"). */
export function roundTripResource(resource: JsonRecord): JsonRecord {
  const any = encodeResource(resource);
  return decodeResource({ type_url: any.type_url, value: Uint8Array.from(any.value) });
}

type Plain = Record<string, unknown>;

const WRAPPERS = new Set(['DoubleValue', 'FloatValue', 'Int64Value', 'UInt64Value', 'Int32Value', 'UInt32Value', 'BoolValue', 'StringValue', 'BytesValue'].map((n) => `.google.protobuf.${n}`));
/**
 * Well-known types whose JSON form is not an object of fields: inside an Any they sit under `value`.
 * (Timestamp and FieldMask keep their field form: no snapshot resource carries one.)
 */
const SPECIAL = new Set([...WRAPPERS, '.google.protobuf.Duration', '.google.protobuf.Struct', '.google.protobuf.Value', '.google.protobuf.ListValue']);

function lookupAnyType(typeUrl: string, path: string): protobuf.Type {
  try {
    return envoyProtos().lookupType(typeUrl.slice(typeUrl.lastIndexOf('/') + 1));
  } catch {
    throw new ValidationError(`${path}: @type ${typeUrl} is not a message of the loaded Envoy protos`, path, 'proto-type');
  }
}

function toAny(json: Json, path: string): AnyMessage {
  const record = asRecord(json, path);
  const typeUrl = record['@type'];
  if (typeof typeUrl !== 'string') throw new ValidationError(`${path}: an Any needs an @type`, `${path}.@type`, 'proto-type');
  const type = lookupAnyType(typeUrl, path);
  const { '@type': _typeUrl, ...fields } = record;
  const plain = SPECIAL.has(type.fullName) ? fromJson(type, fields['value'] ?? null, `${path}.value`) : fromJson(type, fields, path);
  return { type_url: typeUrl, value: type.encode(type.fromObject(plain as Plain)).finish() };
}

/** proto3 JSON → the plain object `Type.fromObject` understands. */
function fromJson(type: protobuf.Type, json: Json, path: string): unknown {
  const name = type.fullName;
  if (name === '.google.protobuf.Any') return toAny(json, path);
  if (WRAPPERS.has(name)) return { value: scalarFromJson(json) };
  if (name === '.google.protobuf.Duration') return durationFromJson(json, path);
  if (name === '.google.protobuf.Struct') return { fields: mapValues(asRecord(json, path), (v, k) => fromJson(type.lookupType('.google.protobuf.Value'), v, `${path}.${k}`)) };
  if (name === '.google.protobuf.ListValue') return { values: asArray(json, path).map((v, i) => fromJson(type.lookupType('.google.protobuf.Value'), v, `${path}[${i}]`)) };
  if (name === '.google.protobuf.Value') return valueFromJson(type, json, path);
  const record = asRecord(json, path);
  const plain: Plain = {};
  for (const [key, value] of Object.entries(record)) {
    const field = fieldByJsonName(type, key);
    if (!field) throw new ValidationError(`${path}.${key} is not a field of ${name.slice(1)}`, `${path}.${key}`, 'proto-field');
    if (value === null) continue;
    const at = `${path}.${key}`;
    field.resolve();
    if (field.map) plain[field.name] = mapValues(asRecord(value, at), (v, k) => fieldValueFromJson(field, v, `${at}.${k}`));
    else if (field.repeated) plain[field.name] = asArray(value, at).map((v, i) => fieldValueFromJson(field, v, `${at}[${i}]`));
    else plain[field.name] = fieldValueFromJson(field, value, at);
  }
  return plain;
}

function fieldValueFromJson(field: protobuf.Field, value: Json, path: string): unknown {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) return fromJson(resolved, value, path);
  if (resolved instanceof protobuf.Enum) {
    if ((typeof value === 'string' && Object.hasOwn(resolved.values, value)) || typeof value === 'number') return value;
    throw new ValidationError(`${path}: ${JSON.stringify(value)} is not a value of ${resolved.fullName.slice(1)}`, path, 'proto-enum');
  }
  return scalarFromJson(value);
}

/** Numbers may come as strings (int64 always does); bytes as base64, which fromObject decodes. */
function scalarFromJson(value: Json): unknown {
  if (value === 'NaN' || value === 'Infinity' || value === '-Infinity') return Number(value);
  return value;
}

function durationFromJson(json: Json, path: string): Plain {
  const match = typeof json === 'string' ? /^(-?)(\d+)(?:\.(\d{1,9}))?s$/.exec(json) : null;
  if (!match) throw new ValidationError(`${path}: a Duration is a string like "1.5s", got ${JSON.stringify(json)}`, path, 'proto-duration');
  const sign = match[1] === '-' ? -1 : 1;
  return { seconds: sign * Number(match[2]), nanos: sign * Number((match[3] ?? '').padEnd(9, '0')) };
}

function valueFromJson(type: protobuf.Type, json: Json, path: string): Plain {
  const kind = (name: string, value: unknown): Plain => ({ [fieldByJsonName(type, name)!.name]: value });
  if (json === null) return kind('null_value', 'NULL_VALUE');
  if (typeof json === 'number') return kind('number_value', json);
  if (typeof json === 'string') return kind('string_value', json);
  if (typeof json === 'boolean') return kind('bool_value', json);
  if (Array.isArray(json)) return kind('list_value', fromJson(type.lookupType('.google.protobuf.ListValue'), json, path));
  return kind('struct_value', fromJson(type.lookupType('.google.protobuf.Struct'), json, path));
}

const jsonNames = new WeakMap<protobuf.Type, Map<string, protobuf.Field>>();

/**
 * Envoy prints snake_case (the proto names); protojson also writes lowerCamelCase. Both are accepted.
 * (protobufjs' built-in google.protobuf types name their fields in lowerCamelCase whatever keepCase says.)
 */
function fieldByJsonName(type: protobuf.Type, key: string): protobuf.Field | undefined {
  let names = jsonNames.get(type);
  if (!names) {
    names = new Map();
    for (const field of type.fieldsArray) {
      for (const name of [field.name, camelCase(field.name), snakeCase(field.name)]) names.set(name, field);
    }
    jsonNames.set(type, names);
  }
  return names.get(key);
}

const camelCase = (name: string): string => name.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
const snakeCase = (name: string): string => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Any → proto3 JSON. An Any of a type the loaded protos lack keeps its bytes, base64. */
function anyToJson(any: AnyMessage): Json {
  let type: protobuf.Type;
  try {
    type = lookupAnyType(any.type_url, '$');
  } catch {
    return { '@type': any.type_url, value: Buffer.from(any.value).toString('base64') };
  }
  const inner = toJson(type, type.decode(any.value));
  return SPECIAL.has(type.fullName) ? { '@type': any.type_url, value: inner } : { '@type': any.type_url, ...(inner as JsonRecord) };
}

/** A decoded message → proto3 JSON: the fields set on the wire, snake_case, enums by name. */
function toJson(type: protobuf.Type, message: protobuf.Message): Json {
  const fields = message as unknown as Plain;
  const name = type.fullName;
  if (name === '.google.protobuf.Any') return anyToJson(fields as unknown as AnyMessage);
  if (WRAPPERS.has(name)) return scalarToJson(type.fields['value']!, fields['value'] ?? type.fields['value']!.defaultValue);
  if (name === '.google.protobuf.Duration') return durationToJson(fields);
  const out: Record<string, Json> = {};
  for (const field of type.fieldsArray) {
    if (!Object.hasOwn(fields, field.name)) continue;
    const value = fields[field.name];
    field.resolve();
    if (field.map) {
      const entries = Object.entries(value as Plain);
      if (entries.length > 0) out[snakeCase(field.name)] = Object.fromEntries(entries.map(([k, v]) => [k, fieldValueToJson(field, v)]));
    } else if (field.repeated) {
      if ((value as unknown[]).length > 0) out[snakeCase(field.name)] = (value as unknown[]).map((v) => fieldValueToJson(field, v));
    } else {
      out[snakeCase(field.name)] = fieldValueToJson(field, value);
    }
  }
  if (name === '.google.protobuf.Struct') return mapValues((out['fields'] ?? {}) as JsonRecord, (v) => v);
  if (name === '.google.protobuf.ListValue') return (out['values'] ?? []) as Json;
  if (name === '.google.protobuf.Value') return 'null_value' in out ? null : (Object.values(out)[0] ?? null);
  return out;
}

function fieldValueToJson(field: protobuf.Field, value: unknown): Json {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) return toJson(resolved, value as protobuf.Message);
  if (resolved instanceof protobuf.Enum) return resolved.valuesById[value as number] ?? (value as number);
  return scalarToJson(field, value);
}

const LONG_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);

function scalarToJson(field: protobuf.Field, value: unknown): Json {
  if (field.type === 'bytes') return Buffer.from(value as Uint8Array).toString('base64');
  if (LONG_TYPES.has(field.type)) return String(value);
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return value as Json;
}

function durationToJson(fields: Plain): string {
  const seconds = Number(String(fields['seconds'] ?? 0));
  const nanos = Number(fields['nanos'] ?? 0);
  const negative = seconds < 0 || nanos < 0;
  const fraction = Math.abs(nanos) === 0 ? '' : `.${String(Math.abs(nanos)).padStart(9, '0').replace(/(000)+$/, '')}`;
  return `${negative ? '-' : ''}${Math.abs(seconds)}${fraction}s`;
}

function asRecord(json: Json, path: string): JsonRecord {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new ValidationError(`${path} must be an object`, path, 'proto-object');
  return json as JsonRecord;
}

function asArray(json: Json, path: string): readonly Json[] {
  if (!Array.isArray(json)) throw new ValidationError(`${path} must be a list`, path, 'proto-list');
  return json;
}

function mapValues<T>(record: JsonRecord, convert: (value: Json, key: string) => T): Record<string, T> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, convert(value, key)]));
}
