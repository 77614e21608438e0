/**
 * What a `crossfade deploy --wait --spinnaker-output` run prints for Spinnaker's "Run Job
 * (Manifest)" stage, as pure functions of the deployment it followed and of the command's failure
 * (docs/spinnaker-run-job.md). Clouddriver reads the pod's log (`kubectl logs`) and keeps:
 * - `SPINNAKER_CONFIG_JSON=<object>` lines, the marker first on the line, the object on that one
 *   line; its keys and typed values are merged as they are. One malformed line voids the whole log's
 *   outputs, so we print exactly one, from JSON.stringify.
 * - `SPINNAKER_PROPERTY_<KEY>=<value>` lines, keys lower-cased, values trimmed strings. Released
 *   Clouddriver splits such a line at every `=` and drops it unless exactly two non-empty parts
 *   remain, so a value with `=` in it, or an empty one, is lost: we print only values that survive
 *   every version (the object carries everything anyway).
 * A successful Job must print at least one of them or the stage fails ("Expected properties file …
 * missing, empty or invalid"), so the object is printed on every end, failures included.
 */
import type { StatusDocument } from '../shared/http/status-document.js';

export const CONFIG_JSON_MARKER = 'SPINNAKER_CONFIG_JSON=';
export const PROPERTY_MARKER = 'SPINNAKER_PROPERTY_';
/** Kubernetes keeps at most 4096 bytes of a termination message; a short reason needs far fewer. */
export const TERMINATION_MESSAGE_MAX_BYTES = 1024;

/** Every judgment of one analysis step, in order. */
export interface AnalysisScores {
  stepIndex: number;
  scores: number[];
  classifications: string[];
}

/** The failure of the command itself (refused, unreachable), as far as the outputs tell it. */
export interface CommandFailure {
  name: string;
  message: string;
  /** The API's HTTP status and error code, when the API answered (cli/api.ts ApiError). */
  statusCode?: number;
  code?: string;
}

/** The object of the SPINNAKER_CONFIG_JSON line. Deployment fields only when a deployment was followed. */
export interface RunJobOutputs {
  deploymentId?: string;
  service?: string;
  baseline?: string | null;
  canary?: string;
  status?: string;
  phase?: string;
  progress?: string;
  statusUrl?: string;
  /** Per cloud, per version, the percentage of traffic when the command stopped following (final once ended). */
  weights?: StatusDocument['weights'];
  /** Per cloud, the canary's share of `weights`, for one-key reads in SpEL. */
  canaryPercent?: Record<string, number>;
  /** The deployment's `result` (outcome, reason, …) without its weights and judgments, which are given above and below. */
  result?: Record<string, unknown> | null;
  analyses?: AnalysisScores[];
  error?: CommandFailure;
}

/** Whether this end fails the Job: anything but a followed deployment that SUCCEEDED. */
export function isFailedEnd(ended: StatusDocument | undefined, failure: Error | undefined): boolean {
  return failure !== undefined || ended === undefined || ended.status !== 'SUCCEEDED';
}

export function runJobOutputs(ended: StatusDocument | undefined, failure: Error | undefined): RunJobOutputs {
  const outputs: RunJobOutputs = {};
  if (ended !== undefined) {
    const { weights, judgments, ...rest } = ended.result ?? {};
    void weights; // the document's own weights are the final ones
    Object.assign(outputs, {
      deploymentId: ended.id,
      service: ended.service,
      baseline: ended.baseline,
      canary: ended.canary,
      status: ended.status,
      phase: ended.phase,
      progress: ended.progress,
      statusUrl: ended.statusUrl,
      weights: ended.weights,
      canaryPercent: canaryPercentOf(ended),
      result: ended.result === null ? null : rest,
      analyses: analysesOf(judgments),
    });
  }
  if (failure !== undefined) outputs.error = commandFailureOf(failure);
  return outputs;
}

/** The lines to print: the one CONFIG_JSON line, then the simple values as properties. */
export function spinnakerOutputLines(ended: StatusDocument | undefined, failure: Error | undefined): string[] {
  const outputs = runJobOutputs(ended, failure);
  return [configJsonLine(outputs), ...propertyLines(simpleProperties(outputs))];
}

/**
 * The object on one line. JSON.stringify escapes every line break, and a key or value holding
 * `SPINNAKER_PROPERTY_` (a reason quoting a log, say) has its `_` escaped as `\u005f`: the same
 * text once parsed, but no property marker on the line, which Clouddriver would otherwise also
 * read as a property named `spinnaker_config_json`.
 */
export function configJsonLine(outputs: object): string {
  const json = JSON.stringify(outputs).replaceAll(PROPERTY_MARKER, 'SPINNAKER_PROPERTY\\u005f');
  return `${CONFIG_JSON_MARKER}${json}`;
}

/** `SPINNAKER_PROPERTY_<KEY>=<value>` for each value every Clouddriver version reads back unchanged; the others are left out. */
export function propertyLines(properties: Record<string, string | undefined>): string[] {
  return Object.entries(properties)
    .filter((entry): entry is [string, string] => entry[1] !== undefined && isPortablePropertyValue(entry[1]))
    .map(([key, value]) => `${PROPERTY_MARKER}${key.toUpperCase()}=${value}`);
}

/** Non-empty, no `=`, no line break, nothing a trim would remove. */
export function isPortablePropertyValue(value: string): boolean {
  return /^[^=\s](?:[^=\r\n]*[^=\s])?$/.test(value);
}

/** Property keys, lower-case as Clouddriver stores them, prefixed so they never overwrite a key of the object. */
function simpleProperties(outputs: RunJobOutputs): Record<string, string | undefined> {
  const perCloud = Object.entries(outputs.canaryPercent ?? {}).map(([cloud, percent]) => [`crossfade_canary_percent_${cloud}`, String(percent)]);
  const outcome = outputs.result?.['outcome'];
  return {
    crossfade_deployment_id: outputs.deploymentId,
    crossfade_service: outputs.service,
    crossfade_status: outputs.status,
    crossfade_phase: outputs.phase,
    crossfade_outcome: typeof outcome === 'string' ? outcome : undefined,
    crossfade_canary: outputs.canary,
    crossfade_baseline: outputs.baseline ?? undefined,
    ...Object.fromEntries(perCloud),
    crossfade_error: outputs.error?.code ?? outputs.error?.name,
  };
}

/** A short reason for `/dev/termination-log` (what Spinnaker shows for a failed Job); undefined when the Job succeeded. */
export function terminationMessage(ended: StatusDocument | undefined, failure: Error | undefined): string | undefined {
  if (!isFailedEnd(ended, failure)) return undefined;
  const deployment = ended === undefined ? undefined : `deployment ${ended.id} of ${ended.service}`;
  let message: string;
  if (failure !== undefined) {
    const failed = commandFailureOf(failure);
    const answered = failed.statusCode === undefined ? '' : ` (HTTP ${failed.statusCode}${failed.code ? ` ${failed.code}` : ''})`;
    message = `crossfade deploy failed${deployment ? ` following ${deployment}` : ''}: ${failed.message}${answered}`;
  } else if (ended === undefined) {
    message = 'crossfade deploy ended without a deployment to report';
  } else if (ended.status === 'TERMINAL' || ended.status === 'CANCELED') {
    const reason = ended.result?.['reason'];
    message = `${deployment} ended ${ended.status} (${ended.phase}): ${typeof reason === 'string' ? reason : ended.progress}`;
  } else {
    message = `stopped following ${deployment} while ${ended.status}: ${ended.progress}`;
  }
  return truncateUtf8(message, TERMINATION_MESSAGE_MAX_BYTES);
}

function canaryPercentOf(doc: StatusDocument): Record<string, number> {
  return Object.fromEntries(Object.entries(doc.weights).map(([cloud, versions]) => [cloud, versions?.[doc.canary] ?? 0]));
}

/** The result's judgments (JudgmentSummary), grouped by analysis step in the order they were made. */
function analysesOf(judgments: unknown): AnalysisScores[] {
  const byStep = new Map<number, AnalysisScores>();
  for (const judgment of Array.isArray(judgments) ? judgments : []) {
    const { stepIndex, score, classification } = (judgment ?? {}) as Record<string, unknown>;
    if (typeof stepIndex !== 'number' || typeof score !== 'number') continue;
    const analysis = byStep.get(stepIndex) ?? { stepIndex, scores: [], classifications: [] };
    analysis.scores.push(score);
    analysis.classifications.push(typeof classification === 'string' ? classification : 'unknown');
    byStep.set(stepIndex, analysis);
  }
  return [...byStep.values()];
}

/** Name and message of any error; the HTTP status and the API's code when it carries them (the CLI's ApiError does). */
function commandFailureOf(error: Error): CommandFailure {
  const { statusCode, code } = error as Error & { statusCode?: unknown; code?: unknown };
  return {
    name: error.name,
    message: error.message.split('\n')[0]!,
    ...(typeof statusCode === 'number' ? { statusCode } : {}),
    ...(typeof code === 'string' ? { code } : {}),
  };
}

/** At most `maxBytes` of UTF-8, cut at a character boundary, an ellipsis marking the cut. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  const ellipsis = '…';
  let bytes = Buffer.byteLength(ellipsis);
  let cut = '';
  for (const char of text) {
    bytes += Buffer.byteLength(char);
    if (bytes > maxBytes) break;
    cut += char;
  }
  return cut + ellipsis;
}
