/**
 * `--via lambda:<function-prefix>` / `--via gcp:<url>`: the transports that need no HTTP endpoint of
 * crossfade's own (docs/direct-invocation.md).
 * - `lambda:crossfade-prod` invokes `crossfade-prod-<function>` in AWS_REGION (or AWS_DEFAULT_REGION)
 *   with the SDK's credentials; CROSSFADE_AWS_AUDIENCE is the functions' identity.aws.audience
 *   (default `crossfade`); CROSSFADE_STS_ENDPOINT and AWS_ENDPOINT_URL_LAMBDA point elsewhere than
 *   the regional endpoints (a VPC endpoint; tests).
 * - `gcp:https://…` calls the Cloud Function at that URL with an ID token from the application
 *   default credentials.
 */
import { ValidationError } from '../../shared/domain/errors.js';
import { createGcpTransport } from './gcp.js';
import { createLambdaTransport } from './lambda.js';
import type { Transport } from './transport.js';

export interface ViaOptions {
  /** Environment of the CLI process (AWS_REGION, credentials, GOOGLE_APPLICATION_CREDENTIALS ...). */
  env: NodeJS.ProcessEnv;
}

const FUNCTION_PREFIX = /^[A-Za-z0-9_-]{1,50}$/;

export function transportVia(via: string, options: ViaOptions): Transport {
  const colon = via.indexOf(':');
  const scheme = colon < 0 ? via : via.slice(0, colon);
  const rest = colon < 0 ? '' : via.slice(colon + 1);
  const { env } = options;
  if (scheme === 'lambda') {
    if (!FUNCTION_PREFIX.test(rest)) throw new ValidationError(`--via ${via}: give the functions' prefix, e.g. lambda:crossfade-prod (letters, digits, "-", "_")`, 'via', 'lambda-prefix');
    return createLambdaTransport({
      functionPrefix: rest,
      region: env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'] ?? 'us-east-1',
      ...(env['CROSSFADE_AWS_AUDIENCE'] ? { audience: env['CROSSFADE_AWS_AUDIENCE'] } : {}),
      ...(env['CROSSFADE_STS_ENDPOINT'] ? { stsEndpoint: env['CROSSFADE_STS_ENDPOINT'] } : {}),
      ...(env['AWS_ENDPOINT_URL_LAMBDA'] ? { lambdaEndpoint: env['AWS_ENDPOINT_URL_LAMBDA'] } : {}),
    });
  }
  if (scheme === 'gcp') return createGcpTransport({ url: rest });
  throw new ValidationError(`--via ${via}: must be lambda:<function-prefix> or gcp:<function URL>`, 'via', 'via-scheme');
}
