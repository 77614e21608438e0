/**
 * The CLI's exit codes, so a pipeline can branch on them (docs/cli.md "Exit codes"). A command that
 * follows a deployment to its end exits with its status's code; any other command exits 0 when the
 * API accepted it.
 */
import type { DeploymentStatus } from '../shared/domain/deployment.js';

export const ExitCode = {
  /** Done; a followed deployment SUCCEEDED. */
  Ok: 0,
  /** A followed deployment ended TERMINAL (rolled back, or failed). */
  Terminal: 1,
  /** The command line or a file it names is wrong, or the API refused the request as invalid (400). */
  Usage: 2,
  /** A followed deployment ended CANCELED. */
  Canceled: 3,
  /** crossfade could not be reached or did not accept the credentials (401, 403, network, 5xx). */
  Unreachable: 4,
  /** The API refused the request: unknown id (404), conflict (409), unprocessable (422), the policy rules (403 POLICY_DENIED; `policy check` denied). */
  Refused: 5,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export function exitCodeOfStatus(status: DeploymentStatus): ExitCode {
  if (status === 'SUCCEEDED') return ExitCode.Ok;
  if (status === 'CANCELED') return ExitCode.Canceled;
  if (status === 'TERMINAL') return ExitCode.Terminal;
  // NOT_STARTED / RUNNING: the command stopped following it (a --timeout), nothing ended.
  return ExitCode.Unreachable;
}
