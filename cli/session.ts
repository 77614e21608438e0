/**
 * What every command gets: where to print, in which format and colours, and the API — reached
 * lazily, so a command that needs no crossfade (`config …`) never asks for one.
 */
import type { Writable } from 'node:stream';
import { parseDurationSeconds } from '../shared/domain/duration.js';
import { Api } from './api.js';
import { resolveConnection, type ConnectionFlags } from './connection.js';
import { UsageError } from './failure.js';
import { colorsFor, parseFormat, render, type Colors, type Format } from './output.js';
import { HttpTransport } from './transport/http.js';
import type { Transport } from './transport/transport.js';
import { transportVia } from './transport/via.js';

export interface Io {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  /** Stops a command that follows a deployment; default: aborted on SIGINT/SIGTERM. */
  signal?: AbortSignal;
}

export interface GlobalFlags extends ConnectionFlags {
  output: string;
  color: boolean;
}

export class Session {
  readonly format: Format;
  readonly colors: Colors;
  private api: Api | undefined;

  constructor(
    readonly io: Io,
    private readonly flags: GlobalFlags,
  ) {
    this.format = parseFormat(flags.output);
    this.colors = colorsFor(io.stdout.isTTY === true, io.env, flags.color);
  }

  /** The API, through the transport the flags, environment or context choose. */
  connect(): Api {
    if (this.api) return this.api;
    const connection = resolveConnection(this.flags, this.io.env);
    for (const warning of connection.warnings) this.io.stderr.write(`crossfade: ${warning}\n`);
    const { endpoint } = connection;
    let transport: Transport;
    if (endpoint.kind === 'via') {
      transport = transportVia(endpoint.via, { env: this.io.env });
    } else {
      try {
        transport = new HttpTransport({ url: endpoint.url, token: endpoint.token });
      } catch (error) {
        throw new UsageError(`${connection.source}: ${(error as Error).message}`);
      }
    }
    this.api = new Api(transport);
    return this.api;
  }

  /**
   * Aborted when the command should stop following a deployment. Without one given, the first
   * SIGINT/SIGTERM aborts it, and only commands that follow ask for it: any other is ended by the signal as usual.
   */
  get signal(): AbortSignal {
    if (this.io.signal) return this.io.signal;
    const stop = new AbortController();
    process.once('SIGINT', () => stop.abort());
    process.once('SIGTERM', () => stop.abort());
    this.io.signal = stop.signal;
    return stop.signal;
  }

  print(document: unknown, table: () => string): void {
    this.io.stdout.write(render(document, this.format, table));
  }

  /** A line for people on stderr (progress, hints): stdout keeps only the document. */
  note(line: string): void {
    this.io.stderr.write(`${line}\n`);
  }
}

/** `--interval`/`--timeout` values: a duration (`2s`, `5m`, `1h30m`) or milliseconds (`500ms`). */
export function durationMs(text: string, flag: string): number {
  const ms = /^(\d{1,9})ms$/.exec(text);
  if (ms && Number(ms[1]) > 0) return Number(ms[1]);
  const seconds = parseDurationSeconds(text);
  if (seconds === undefined) throw new UsageError(`${flag} ${text} is not a duration such as 500ms, 2s, 5m or 1h30m`);
  return seconds * 1000;
}

/** A whole number in [min, max] for `flag`. */
export function wholeNumber(text: string, flag: string, min: number, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, not ${text}`);
  return Number(text);
}
