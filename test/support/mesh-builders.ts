/** Small builders of mesh data for specifications: endpoints, a cluster per cloud, a registered version. */
import { createHash } from 'node:crypto';
import { parseCidr, type Cidr } from '../../shared/domain/endpoint-address.js';
import type { ClusterEndpoints, Endpoint, RegisteredVersion } from '../../shared/domain/mesh.js';

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

export const ep = (address: string, zone: string | null = null, port = 8080): Endpoint => ({ address, port, zone });
export const aws = (...endpoints: Endpoint[]): ClusterEndpoints => ({ cloud: 'aws', cluster: 'eks-use1', region: 'us-east-1', endpoints });
export const gcp = (...endpoints: Endpoint[]): ClusterEndpoints => ({ cloud: 'gcp', cluster: 'gke-usc1', region: 'us-central1', endpoints });

export const registered = (service: string, version: string, ...clusters: ClusterEndpoints[]): RegisteredVersion => ({
  service,
  version,
  clusters,
  registeredAt: '2025-01-01T00:00:00.000Z',
  registeredBy: 'test',
  revision: 1,
});

/** crossfade.yaml `mesh.allowedEndpointCidrs` for rigs whose backends listen on 127.0.0.1 (registration refuses loopback otherwise). */
export const LOOPBACK_CIDRS = ['127.0.0.0/8'];
export const ALLOW_LOOPBACK: readonly Cidr[] = LOOPBACK_CIDRS.map((text) => parseCidr(text)!);
