/**
 * What every TrafficRouter refuses before it contacts any proxy (ports/traffic-router.ts): a
 * service name that is not a DNS-1123 label, a version name that is not safe inside proxy config or
 * is listed twice, an invalid or repeated endpoint, an invalid split, a version with a share above
 * 0% that has no endpoints. One check, so both proxy kinds refuse the same arguments with the same
 * field and rule.
 */
import { ValidationError } from './errors.js';
import { checkEndpoint, checkSplit, type Endpoint, type Split } from './mesh.js';
import { isServiceName, SERVICE_NAME_RULE, VERSION_PATTERN, VERSION_RULE } from './names.js';

/** One registered version's endpoints, as a router is given them (ports/traffic-router.ts VersionEndpoints). */
export interface BackendVersion {
  version: string;
  endpoints: readonly Endpoint[];
}

export function checkRouterArguments(service: string, backend: readonly BackendVersion[], split: Split): void {
  if (!isServiceName(service)) throw new ValidationError(`service "${service}" must be ${SERVICE_NAME_RULE}`, 'service', 'service-name');
  backend.forEach(({ version, endpoints }, i) => {
    if (!VERSION_PATTERN.test(version)) throw new ValidationError(`backend[${i}].version "${version}" must be ${VERSION_RULE}`, `backend[${i}].version`, 'version-name');
    if (backend.findIndex((other) => other.version === version) !== i) throw new ValidationError(`version ${version} is listed twice`, `backend[${i}].version`, 'version-unique');
    const seen = new Set<string>();
    endpoints.forEach((endpoint, j) => {
      checkEndpoint(endpoint, `backend[${i}].endpoints[${j}]`);
      const key = `${endpoint.address}|${endpoint.port}`;
      if (seen.has(key)) throw new ValidationError(`${endpoint.address}:${endpoint.port} is listed twice for version ${version}`, `backend[${i}].endpoints[${j}]`, 'endpoint-unique');
      seen.add(key);
    });
  });
  checkSplit(split);
  for (const [version, percent] of Object.entries(split)) {
    if (percent > 0 && !backend.some((b) => b.version === version && b.endpoints.length > 0)) {
      throw new ValidationError(`weights.${version} is ${percent}% but version ${version} has no endpoints to serve it`, `weights.${version}`, 'version-has-endpoints');
    }
  }
}
