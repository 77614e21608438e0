/** Request bodies the HTTP tests start from: docs/api.md's own example, with variations. */
export function deploymentBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    service: 'checkout',
    baseline: { version: 'v41' },
    canary: { version: 'v42' },
    targets: [
      { cloud: 'aws', cluster: 'eks-use1' },
      { cloud: 'gcp', cluster: 'gke-usc1' },
    ],
    steps: [
      { setWeight: 5, wave: ['gcp'] },
      { pause: { duration: '5m' } },
      { analysis: { template: 'http-golden-signals', interval: '1m', count: 5 } },
      { setWeight: 25 },
      { pause: {} },
      { setWeight: 100 },
    ],
    spinnaker: { executionId: '01HEXAMPLE', stageId: '3', application: 'checkout', pipeline: 'deploy-prod' },
    ...overrides,
  };
}
