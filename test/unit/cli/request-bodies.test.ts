import { describe, expect, it } from 'vitest';
import { deploymentBody, parseRegisterTarget, parseStep, readBodyFile, registrationBody } from '../../../cli/request-bodies.js';

describe('deploy flags → the POST /v1/deployments body', () => {
  it('reads every step form', () => {
    expect(['5', '25%', '5%@gcp,eks-use1', 'pause', 'pause:5m', 'analysis:http-golden-signals:1m:5'].map(parseStep)).toEqual([
      { setWeight: 5 },
      { setWeight: 25 },
      { setWeight: 5, wave: ['gcp', 'eks-use1'] },
      { pause: {} },
      { pause: { duration: '5m' } },
      { analysis: { template: 'http-golden-signals', interval: '1m', count: 5 } },
    ]);
    for (const bad of ['', 'sideways', 'pause:', 'analysis:t:1m', 'analysis:t:1m:x', '5%%']) expect(() => parseStep(bad), bad).toThrow(/--step .* is not|--step .*: the analysis must be/);
  });

  it('builds the body from flags alone', () => {
    expect(deploymentBody(undefined, { service: 'checkout', version: 'v42', baseline: 'v41', environment: 'prod', step: ['5%@gcp', 'pause', '100'], target: ['aws:eks-use1'], reason: 'why', deregisterBaseline: true })).toEqual({
      service: 'checkout',
      environment: 'prod',
      canary: { version: 'v42' },
      baseline: { version: 'v41' },
      targets: [{ cloud: 'aws', cluster: 'eks-use1' }],
      steps: [{ setWeight: 5, wave: ['gcp'] }, { pause: {} }, { setWeight: 100 }],
      onPromotion: { deregisterBaseline: true },
      reason: 'why',
    });
  });

  it('flags override the file: a flag for the plan replaces its steps or strategy whole, other fields stay', () => {
    const file = { service: 'checkout', canary: { version: 'v1' }, strategy: 'linear-10', analysis: { template: 't', interval: '1m', count: 1 }, spinnaker: { executionId: 'e', stageId: 's' } };
    expect(deploymentBody(file, { version: 'v2', step: ['50', '100'] })).toEqual({ service: 'checkout', canary: { version: 'v2' }, steps: [{ setWeight: 50 }, { setWeight: 100 }], spinnaker: { executionId: 'e', stageId: 's' } });
    expect(deploymentBody(file, { analysis: 'golden:30s:2' })).toMatchObject({ strategy: 'linear-10', analysis: { template: 'golden', interval: '30s', count: 2 } });
    expect(deploymentBody(file, {})).toEqual(file);
  });

  it('says what is missing', () => {
    expect(() => deploymentBody(undefined, { version: 'v2', step: ['5'] })).toThrow('deploy needs a service');
    expect(() => deploymentBody(undefined, { service: 's', step: ['5'] })).toThrow('deploy needs the canary version');
    expect(() => deploymentBody(undefined, { service: 's', version: 'v2' })).toThrow('deploy needs a plan');
    expect(() => deploymentBody(undefined, { service: 's', version: 'v2' }, 'policy check')).toThrow('policy check needs a plan: --step');
    expect(() => deploymentBody(undefined, { service: 's', version: 'v2', strategy: 'linear-10', target: ['eks-use1'] })).toThrow('--target eks-use1 is not <cloud>:<cluster>');
  });

  it('reads a YAML or JSON file holding an object', () => {
    expect(readBodyFile('f', () => 'service: checkout\ncanary: {version: v2}\n')).toEqual({ service: 'checkout', canary: { version: 'v2' } });
    expect(readBodyFile('f', () => '{"service": "checkout"}')).toEqual({ service: 'checkout' });
    expect(() => readBodyFile('f', () => '- a list')).toThrow('--file f must hold an object');
    expect(() => readBodyFile('f', () => 'a: [')).toThrow('--file f: neither YAML nor JSON');
    expect(() => readBodyFile('/nonexistent/x.yaml')).toThrow('--file /nonexistent/x.yaml: ENOENT');
  });
});

describe('register flags → the PUT body', () => {
  it('reads a target with endpoints (IPv4, IPv6, zones) and defaults kubernetesService to the service', () => {
    expect(parseRegisterTarget('cloud=gcp,cluster=gke-usc1,namespace=shop,port=8080,endpoint=10.8.0.1:8080@us-central1-a,endpoint=[fd00::1]:9090', 'checkout')).toEqual({
      cloud: 'gcp',
      cluster: 'gke-usc1',
      namespace: 'shop',
      kubernetesService: 'checkout',
      port: 8080,
      endpoints: [
        { address: '10.8.0.1', port: 8080, zone: 'us-central1-a' },
        { address: 'fd00::1', port: 9090 },
      ],
    });
    expect(parseRegisterTarget('cloud=aws,cluster=eks-use1,namespace=shop,port=80,kubernetesService=web', 'checkout')).toEqual({ cloud: 'aws', cluster: 'eks-use1', namespace: 'shop', kubernetesService: 'web', port: 80 });
  });

  it('names the part it cannot read', () => {
    expect(() => parseRegisterTarget('cloud=aws,cluster=c,namespace=n', 's')).toThrow('port= is required');
    expect(() => parseRegisterTarget('cloud=aws,cluster=c,namespace=n,port=x', 's')).toThrow('port x is not a number');
    expect(() => parseRegisterTarget('cloud=aws,cluster=c,namespace=n,port=1,zone=a', 's')).toThrow('"zone=a" is not one of');
    expect(() => parseRegisterTarget('cloud=aws,cloud=gcp,cluster=c,namespace=n,port=1', 's')).toThrow('cloud is given twice');
    expect(() => parseRegisterTarget('cloud=aws,cluster=c,namespace=n,port=1,endpoint=fd00::1:80', 's')).toThrow('endpoint=fd00::1:80 is not');
  });

  it('replaces the file\'s targets with the flags\' and needs one or the other', () => {
    expect(registrationBody({ targets: [{ cloud: 'aws' }] }, ['cloud=gcp,cluster=c,namespace=n,port=1'], 's')).toEqual({ targets: [{ cloud: 'gcp', cluster: 'c', namespace: 'n', kubernetesService: 's', port: 1 }] });
    expect(registrationBody({ targets: [] }, undefined, 's')).toEqual({ targets: [] });
    expect(() => registrationBody(undefined, [], 's')).toThrow('register needs where the version runs');
  });
});
