/**
 * A small long-running state-of-the-world ADS server
 * (`envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources`) for Envoy
 * over gRPC and proxyless gRPC clients, serving one snapshot per proxy group (docs/dataplane.md). Functions cannot hold its streams, so it runs as its own process
 * (`crossfade xds-server`).
 *
 * Protocol rules kept: per stream and type a nonce and a subscription; a request carrying a stale
 * nonce is ignored; nothing is sent when neither the version nor the subscribed names changed (an
 * ACK is never answered, a NACKed version is never resent); a new snapshot is pushed CDS → EDS →
 * LDS → RDS; EDS and RDS responses to a subscription already answered carry only the resources
 * that changed (the rest the client keeps; after a NACK, all of them again). Every ACK and NACK
 * goes to `onAck`/`onNack` so it can be stored. Delta xDS is not
 * served (gRPC answers UNIMPLEMENTED): grpc-js-xds does not use it, Envoy can be set to SotW.
 *
 * The rules themselves (is a snapshot publishable, which group does a node belong to) live in the
 * pure engine (engine/envoy/consistency.ts, engine/envoy/discovery.ts) and come in as `rules`:
 * adapters may not import the engine.
 */
import * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { ValidationError } from '../../domain/errors.js';
import type { Logger } from '../../ports/logger.js';
import { encodeResource, messageType, type AnyMessage, type JsonRecord } from './proto.js';

/** engine/envoy/snapshot.ts `Snapshot`, restated structurally (the engine's type is assignable to it). */
export interface ServedSnapshot {
  readonly group: string;
  readonly resources: Readonly<Record<string, readonly { readonly name: string; readonly resource: JsonRecord }[]>>;
  readonly versions: Readonly<Record<string, string>>;
}

export interface AdsRules {
  /** Throws (a ValidationError naming the resource) unless the snapshot may be published: engine `assertConsistent`. */
  checkSnapshot(snapshot: ServedSnapshot): void;
  /** The proxy group a node belongs to, undefined when none: engine `groupOfNode` bound to the configured groups. */
  groupOfNode(node: { id: string; cluster: string }): string | undefined;
}

export interface XdsAck {
  nodeId: string;
  group: string;
  typeUrl: string;
  /** The version the node now runs: ACKed on this stream, or reported on a new stream's first request. */
  version: string;
}

export interface XdsNack {
  nodeId: string;
  group: string;
  typeUrl: string;
  /** The version the node keeps running ('' when it never accepted one). */
  version: string;
  rejectedVersion: string;
  /** `error_detail.message`, as the client wrote it. */
  message: string;
}

export interface KnownNode {
  nodeId: string;
  group: string;
  /** Open streams; 0 once the node disconnected (its versions are kept: they survive reconnects). */
  streams: number;
  acked: Readonly<Record<string, string>>;
  nacked: Readonly<Record<string, { rejectedVersion: string; message: string }>>;
}

export interface AdsServerOptions {
  /** Default 127.0.0.1: listening wider is a deliberate choice. */
  host?: string;
  /** 0 picks a free port; `start()` returns the one bound. */
  port: number;
  rules: AdsRules;
  onAck?: (ack: XdsAck) => void;
  onNack?: (nack: XdsNack) => void;
  logger?: Logger;
}

const CDS = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
const EDS = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment';
const LDS = 'type.googleapis.com/envoy.config.listener.v3.Listener';
const RDS = 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration';
/** Make-before-break (go-control-plane's ResponseType order). */
const PUSH_ORDER = [CDS, EDS, LDS, RDS];
/** For LDS and CDS an empty name list means every resource (Envoy); for EDS and RDS, none. */
const WILDCARD_TYPES = new Set([LDS, CDS]);
/**
 * Types whose state-of-the-world responses need carry only the resources that changed: a client
 * keeps the EDS and RDS resources a response leaves out (the xDS protocol; LDS and CDS responses
 * must be whole, what they leave out is deleted).
 */
const PARTIAL_TYPES = new Set([EDS, RDS]);
const METHOD = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';

interface DecodedRequest {
  version_info: string;
  node?: { id?: string; cluster?: string } | null;
  resource_names: string[];
  type_url: string;
  response_nonce: string;
  error_detail?: { message?: string } | null;
}

interface TypeState {
  names: ReadonlySet<string> | 'all';
  lastNonce: string | undefined;
  sentVersion: string | undefined;
  sentNames: string | undefined;
  /** EDS and RDS: each subscribed resource's JSON as last sent on this stream; undefined: send them all next time. */
  sentResources?: Map<string, string>;
}

interface Stream {
  call: grpc.ServerDuplexStream<DecodedRequest, unknown>;
  node: { id: string; group: string } | undefined;
  nonce: number;
  types: Map<string, TypeState>;
}

interface NodeRecord {
  group: string;
  streams: number;
  acked: Record<string, string>;
  nacked: Record<string, { rejectedVersion: string; message: string }>;
}

const silent: Logger = { info: () => {}, warn: () => {}, error: () => {}, child: () => silent };

export class AdsServer {
  private readonly server = new grpc.Server();
  private readonly snapshots = new Map<string, ServedSnapshot>();
  private readonly streams = new Set<Stream>();
  private readonly nodes = new Map<string, NodeRecord>();
  /** Encoding is the costly part of a push; a snapshot's resources are frozen, so each is encoded once. */
  private readonly encoded = new WeakMap<object, AnyMessage>();
  /** And its JSON, to tell which EDS and RDS resources changed since a stream's last response. */
  private readonly texts = new WeakMap<object, string>();
  private readonly logger: Logger;

  constructor(private readonly options: AdsServerOptions) {
    this.logger = options.logger ?? silent;
  }

  /** Binds and serves; resolves with the address bound. Rejects with gRPC's error when the address cannot be bound. */
  async start(): Promise<{ host: string; port: number }> {
    const request = messageType('envoy.service.discovery.v3.DiscoveryRequest');
    const response = messageType('envoy.service.discovery.v3.DiscoveryResponse');
    this.server.addService(adsDefinition(request, response), { StreamAggregatedResources: (call: Stream['call']) => this.accept(call) });
    const host = this.options.host ?? '127.0.0.1';
    const port = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync(`${host}:${this.options.port}`, grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound)));
    });
    this.logger.info('xds server listening', { host, port });
    return { host, port };
  }

  /** Ends every stream (clients reconnect elsewhere or later) and stops; forces it after `graceMs`. Idempotent. */
  async stop(graceMs = 2000): Promise<void> {
    for (const stream of this.streams) stream.call.end();
    this.streams.clear();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /**
   * Publishes `snapshot` for `group` and pushes it to the group's open streams, CDS → EDS → LDS → RDS.
   * Throws ValidationError, and publishes nothing, when the snapshot is for another group or the
   * rules refuse it (inconsistent): nothing half-built reaches a proxy.
   */
  setSnapshot(group: string, snapshot: ServedSnapshot): void {
    if (snapshot.group !== group) throw new ValidationError(`snapshot is for proxy group ${snapshot.group}, not ${group}`, 'group', 'same-group');
    this.options.rules.checkSnapshot(snapshot);
    this.snapshots.set(group, snapshot);
    this.logger.info('xds snapshot published', { group, versions: snapshot.versions });
    for (const stream of this.streams) {
      if (stream.node?.group !== group) continue;
      for (const typeUrl of PUSH_ORDER) if (stream.types.has(typeUrl)) this.respond(stream, typeUrl);
    }
  }

  /** The nodes seen since start, with the version each runs per type and its last NACK per type. */
  knownNodes(): KnownNode[] {
    return [...this.nodes].map(([nodeId, n]) => ({ nodeId, group: n.group, streams: n.streams, acked: { ...n.acked }, nacked: { ...n.nacked } }));
  }

  private accept(call: Stream['call']): void {
    const stream: Stream = { call, node: undefined, nonce: 0, types: new Map() };
    this.streams.add(stream);
    let closed = false;
    const close = (): void => {
      if (closed) return;
      closed = true;
      this.streams.delete(stream);
      const record = stream.node && this.nodes.get(stream.node.id);
      if (record) record.streams -= 1;
    };
    call.on('data', (request: DecodedRequest) => this.onRequest(stream, request));
    call.on('end', () => {
      close();
      call.end();
    });
    call.on('cancelled', close);
    call.on('error', close);
    call.on('close', close);
  }

  private onRequest(stream: Stream, request: DecodedRequest): void {
    if (!stream.node && !this.identify(stream, request)) return;
    const node = stream.node!;
    const typeUrl = request.type_url;
    if (!PUSH_ORDER.includes(typeUrl)) {
      this.logger.warn('xds request for a type this server does not serve', { node: node.id, typeUrl });
      return;
    }
    const state = stream.types.get(typeUrl) ?? { names: new Set<string>(), lastNonce: undefined, sentVersion: undefined, sentNames: undefined };
    const nonce = request.response_nonce;
    // A request answering an older response is stale: its subscription is not current (Envoy issue 10363).
    if (nonce !== '' && nonce !== state.lastNonce) return;
    state.names = request.resource_names.length === 0 && WILDCARD_TYPES.has(typeUrl) ? 'all' : new Set(request.resource_names);
    if (nonce !== '') {
      if (request.error_detail) {
        // The client kept its last good resources, not what was sent: the next response carries them all.
        state.sentResources = undefined;
        this.recordNack(node, typeUrl, request.version_info, state.sentVersion ?? '', request.error_detail.message ?? '');
      }
      else this.recordAck(node, typeUrl, request.version_info);
    } else if (request.version_info !== '' && state.sentVersion === undefined) {
      // A new stream from a node that already runs a version: it need not be sent again.
      this.recordAck(node, typeUrl, request.version_info);
      state.sentVersion = request.version_info;
      state.sentNames = namesKey(state.names);
    }
    stream.types.set(typeUrl, state);
    this.respond(stream, typeUrl);
  }

  /** Finds the stream's node and group from its first request; ends the stream when it cannot. */
  private identify(stream: Stream, request: DecodedRequest): boolean {
    const id = request.node?.id ?? '';
    const group = this.options.rules.groupOfNode({ id, cluster: request.node?.cluster ?? '' });
    if (id === '' || group === undefined) {
      const details = id === '' ? 'the first DiscoveryRequest of a stream must carry node.id' : `node ${id} belongs to no Envoy proxy group (proxyGroups[].proxies[].nodeId, or node.cluster = a group name)`;
      this.logger.warn('xds stream refused', { node: id, details });
      stream.call.emit('error', { code: id === '' ? grpc.status.INVALID_ARGUMENT : grpc.status.NOT_FOUND, details });
      return false;
    }
    stream.node = { id, group };
    const record = this.nodes.get(id) ?? { group, streams: 0, acked: {}, nacked: {} };
    record.group = group;
    record.streams += 1;
    this.nodes.set(id, record);
    return true;
  }

  /** Sends the type's resources unless the stream already has this version and these names. */
  private respond(stream: Stream, typeUrl: string): void {
    const snapshot = stream.node && this.snapshots.get(stream.node.group);
    const state = stream.types.get(typeUrl);
    if (!snapshot || !state) return;
    const version = snapshot.versions[typeUrl] ?? '';
    const names = namesKey(state.names);
    if (version === state.sentVersion && names === state.sentNames) return;
    const wanted = state.names;
    let resources = (snapshot.resources[typeUrl] ?? []).filter((r) => wanted === 'all' || wanted.has(r.name));
    if (PARTIAL_TYPES.has(typeUrl)) {
      // Only what changed since this stream's last response, and what the client newly subscribes:
      // `before` holds only the names subscribed then, so a name added since (or dropped and asked
      // for again, which the client forgot) is sent whatever it holds.
      const sent = new Map(resources.map((r) => [r.name, this.json(r.resource)]));
      const before = state.sentResources;
      if (before) resources = resources.filter((r) => before.get(r.name) !== sent.get(r.name));
      state.sentResources = sent;
    }
    const nonce = String(++stream.nonce);
    Object.assign(state, { lastNonce: nonce, sentVersion: version, sentNames: names });
    stream.call.write({ version_info: version, resources: resources.map((r) => this.encode(r.resource)), type_url: typeUrl, nonce });
  }

  private json(resource: JsonRecord): string {
    let text = this.texts.get(resource);
    if (text === undefined) {
      text = JSON.stringify(resource);
      this.texts.set(resource, text);
    }
    return text;
  }

  private encode(resource: JsonRecord): AnyMessage {
    let any = this.encoded.get(resource);
    if (!any) {
      any = encodeResource(resource);
      this.encoded.set(resource, any);
    }
    return any;
  }

  private recordAck(node: { id: string; group: string }, typeUrl: string, version: string): void {
    const record = this.nodes.get(node.id);
    if (record) {
      record.acked[typeUrl] = version;
      delete record.nacked[typeUrl];
    }
    this.options.onAck?.({ nodeId: node.id, group: node.group, typeUrl, version });
  }

  private recordNack(node: { id: string; group: string }, typeUrl: string, version: string, rejectedVersion: string, message: string): void {
    const record = this.nodes.get(node.id);
    if (record) record.nacked[typeUrl] = { rejectedVersion, message };
    this.logger.warn('xds NACK', { node: node.id, group: node.group, typeUrl, version, rejectedVersion, message });
    this.options.onNack?.({ nodeId: node.id, group: node.group, typeUrl, version, rejectedVersion, message });
  }
}

export function createAdsServer(options: AdsServerOptions): AdsServer {
  return new AdsServer(options);
}

function namesKey(names: ReadonlySet<string> | 'all'): string {
  return names === 'all' ? '*' : JSON.stringify([...names].sort());
}

/** The one ADS method, (de)serialized with the protobufjs types of the shipped protos (no second proto load). */
function adsDefinition(request: protobuf.Type, response: protobuf.Type): grpc.ServiceDefinition {
  return {
    StreamAggregatedResources: {
      path: METHOD,
      requestStream: true,
      responseStream: true,
      requestSerialize: (value: object) => Buffer.from(request.encode(value).finish()),
      requestDeserialize: (bytes: Buffer) => request.toObject(request.decode(bytes), { defaults: true, arrays: true }),
      responseSerialize: (value: object) => Buffer.from(response.encode(value).finish()),
      responseDeserialize: (bytes: Buffer) => response.toObject(response.decode(bytes), { defaults: true, arrays: true }),
    },
  };
}
