/**
 * The business rules' parts of the composition root: the external rules services of
 * crossfade.yaml `policy.external`, each with its signing secret (docs/policy.md).
 *
 * Environment:
 *   the variables `policy.external[i].secret.env` names   read once, here; a missing one stops the start
 *   AWS_ENDPOINT_URL_SECRETS_MANAGER                     a local Secrets Manager (tests); unset in the cloud
 */
import type { CrossfadeConfig } from '../domain/config.js';
import type { ConfiguredRulesService } from '../ports/external-rules.js';
import type { AwsCredentialsProvider } from '../adapters/clusters/eks.js';
import { HttpRulesService } from '../adapters/rules-service/http-rules-service.js';
import { secretSourceOf, secretsManagerClient } from '../adapters/secrets/secret-source.js';
import { regionFromEnv } from './core.js';

export function rulesServicesOf(config: CrossfadeConfig, env: Record<string, string | undefined>, awsCredentials?: AwsCredentialsProvider): ConfiguredRulesService[] {
  // One client per cold start, built (and its SDK imported) when a secret is first read.
  let client: ReturnType<typeof secretsManagerClient> | undefined;
  const secretsManager = () => (client ??= secretsManagerClient({ region: regionFromEnv(env), endpoint: env['AWS_ENDPOINT_URL_SECRETS_MANAGER'], credentials: awsCredentials }));
  return config.policy.external.map((endpoint, index) => ({
    endpoint,
    service: new HttpRulesService({
      name: endpoint.name,
      // Checked against `outbound` when the configuration was parsed.
      url: new URL(endpoint.url),
      timeoutMs: endpoint.timeoutMs,
      secret: secretSourceOf(endpoint.secret, `policy.external[${index}].secret`, { env, secretsManager }),
      outbound: config.outbound,
    }),
  }));
}
