/**
 * `--via lambda:<function-prefix>` / `--via gcp:<url>`: the transports that need no HTTP endpoint of
 * crossfade's own (docs/cli.md "Direct invocation"). Placeholder until they land.
 */
import { ValidationError } from '../../shared/domain/errors.js';
import type { Transport } from './transport.js';

export interface ViaOptions {
  /** Environment of the CLI process (AWS_REGION, credentials, GOOGLE_APPLICATION_CREDENTIALS ...). */
  env: NodeJS.ProcessEnv;
}

export function transportVia(via: string, _options: ViaOptions): Transport {
  throw new ValidationError(`--via ${via} is not supported yet`, 'via', 'via-scheme');
}
