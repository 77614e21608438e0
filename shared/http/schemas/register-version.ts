/** The body of `PUT /v1/services/{service}/versions/{version}` (docs/api.md "Mesh registration"). */
import * as z from 'zod/mini';
import { cloudNames, type CloudName } from '../../domain/cloud.js';
import type { RegistrationTarget } from '../../usecases/register-version.js';
import { reasonField } from './reason.js';
import { parseWith } from './zod-errors.js';

const MAX_TARGETS = 20;
const MAX_ENDPOINTS = 2000;

const port = z.int().check(z.minimum(1, 'must be from 1 to 65535'), z.maximum(65535, 'must be from 1 to 65535'));
const label = (max: number) => z.string().check(z.regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS-1123 label'), z.maxLength(max, `must be at most ${max} characters`));

const body = z.strictObject({
  targets: z
    .array(
      z.strictObject({
        cloud: z.enum(cloudNames as [CloudName, ...CloudName[]]),
        cluster: label(63),
        namespace: label(63),
        kubernetesService: label(63),
        port,
        endpoints: z.optional(
          z
            .array(z.strictObject({ address: z.string().check(z.maxLength(45, 'must be an IP address')), port, zone: z.optional(z.nullable(label(63))) }))
            .check(z.maxLength(MAX_ENDPOINTS, `must list at most ${MAX_ENDPOINTS} endpoints`)),
        ),
      }),
    )
    .check(z.minLength(1, 'must name at least one cluster'), z.maxLength(MAX_TARGETS, `must name at most ${MAX_TARGETS} clusters`)),
  reason: reasonField,
});

export function parseRegisterVersionBody(value: Record<string, unknown>): { targets: RegistrationTarget[]; reason: string | null } {
  const parsed = parseWith(body, value);
  const targets = parsed.targets.map((target) => ({
    ...target,
    endpoints: target.endpoints?.map((endpoint) => ({ address: endpoint.address, port: endpoint.port, zone: endpoint.zone ?? null })),
  }));
  return { targets, reason: parsed.reason ?? null };
}
