/**
 * How a failed command ends: one line on stderr, `crossfade: <message>` (with the API's code when
 * the API refused), and the exit code a pipeline branches on (cli/exit-codes.ts, docs/cli.md).
 */
import { ConfigError, ConflictError, DependencyUnavailableError, NotFoundError, ValidationError } from '../shared/domain/errors.js';
import { ApiError } from './api.js';
import { ExitCode } from './exit-codes.js';

/** The command line, or a file it names, is wrong: exit 2 before anything is sent. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function exitCodeOfError(error: unknown): ExitCode {
  // A 403 of the business rules is a refusal of the request as it stands, not of the credentials.
  if (error instanceof ApiError) return error.code === 'POLICY_DENIED' ? ExitCode.Refused : exitCodeOfStatusCode(error.statusCode);
  if (error instanceof DependencyUnavailableError) return ExitCode.Unreachable;
  if (error instanceof UsageError || error instanceof ValidationError || error instanceof ConfigError) return ExitCode.Usage;
  // The live view throws the API's refusals as crossfade's own errors (cli/watch/reads.ts).
  if (error instanceof NotFoundError || error instanceof ConflictError) return ExitCode.Refused;
  // Anything else is a bug of the CLI's or an answer it cannot read: not the pipeline's to retry blindly.
  return ExitCode.Unreachable;
}

/** 400 → 2 (fix the request); 404, 405, 409, 422 → 5 (refused as it stands); 401, 403, 429, 5xx → 4. */
export function exitCodeOfStatusCode(statusCode: number): ExitCode {
  if (statusCode === 400 || statusCode === 413 || statusCode === 415) return ExitCode.Usage;
  if (statusCode === 404 || statusCode === 405 || statusCode === 409 || statusCode === 422) return ExitCode.Refused;
  return ExitCode.Unreachable;
}

/** The one line for stderr (no trailing newline). */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    const hint = error.statusCode === 401 ? ' (check --token, CROSSFADE_TOKEN or the context\'s token)' : '';
    return `crossfade: ${error.message} (${error.code}${error.field ? `, field ${error.field}` : ''})${hint}`;
  }
  const message = error instanceof Error ? error.message : String(error);
  return `crossfade: ${message.split('\n')[0]}`;
}
