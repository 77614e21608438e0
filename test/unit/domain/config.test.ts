/** crossfade.yaml, validated whole at start-up (shared/domain/config.ts). */
import { describe, expect, it } from 'vitest';
import { embeddedDefaults, parseConfig, tokenEntries } from '../../../shared/domain/config.js';
import { ConfigError } from '../../../shared/domain/errors.js';

const SOURCE = 'crossfade.yaml';
const SHA = 'a'.repeat(64);
const aws = { name: 'eks-use1', cloud: 'aws', region: 'us-east-1' };
const gcp = { name: 'gke-usc1', cloud: 'gcp', project: 'crossfade-local', location: 'us-central1' };

/** What a document that leaves them out gets: no proxy groups, tokens, providers or templates; the canary's default timings. */
const DEFAULTED = {
  proxyGroups: [],
  mesh: { allowedEndpointCidrs: [], alwaysVisible: [] },
  tokens: [],
  identity: { aws: { audience: 'crossfade', stsEndpoints: [] } },
  iamPrincipals: [],
  googlePrincipals: [],
  analysis: { providers: [], templates: [] },
  canary: { lockLeaseSeconds: 1800 },
  policy: { rules: [], external: [], recheckSeconds: 60 },
  outbound: { allowedHosts: ['*'] },
  notifications: { webhooks: [], delivery: { maxAttempts: 6, backoffBaseMs: 1000, backoffMaxMs: 300_000, timeoutMs: 5000 } },
};

/** An analysis template with every field given, so the parsed document equals it. */
const template = {
  name: 'http-golden-signals',
  stepSeconds: 10,
  thresholds: { pass: 95, marginal: 75 },
  groupWeights: { errors: 60, latency: 40 },
  metrics: [
    { name: 'error-ratio', group: 'errors', provider: 'prometheus', query: 'sum(rate(errors{version="{{version}}"}[30s]))', direction: 'increase', critical: true, noData: 'wait', spreadCheck: false },
    { name: 'latency-p99', group: 'latency', provider: 'cloudwatch-use1', query: 'p99', direction: 'increase', critical: false, noData: 'ignore', spreadCheck: true, allowedIncrease: 1.1 },
  ],
};

/** The ConfigError parseConfig throws for `document`; fails the test when it accepts it. */
function configErrorOf(document: unknown): ConfigError {
  try {
    parseConfig(document, SOURCE);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError, but the document was accepted');
}

/** Every error names the key, and its message starts with `<source>: <key>`. */
function expectNamesKey(error: ConfigError, key: string): void {
  expect(error.key).toBe(key);
  expect(error.message.startsWith(`${SOURCE}: ${key}`)).toBe(true);
}

describe('parseConfig', () => {
  it('accepts a minimal document like the embedded one, filling in the defaults', () => {
    expect(parseConfig({ clusters: [aws, gcp] }, SOURCE)).toEqual({ clusters: [aws, gcp], ...DEFAULTED });
  });

  it('accepts the embedded defaults themselves', () => {
    expect(parseConfig(embeddedDefaults, SOURCE)).toEqual(embeddedDefaults);
  });

  it('an empty document (or an empty YAML file, null) is a configuration with nothing in it', () => {
    expect(parseConfig({}, SOURCE)).toEqual({ clusters: [], ...DEFAULTED });
    expect(parseConfig(null, SOURCE)).toEqual({ clusters: [], ...DEFAULTED });
  });

  it('accepts a full document: proxy groups of both kinds, tokens, a public base URL, providers of each kind, a template, canary timings, a rule of each kind', () => {
    const document = {
      publicBaseUrl: 'https://crossfade.example.com',
      clusters: [{ ...aws, eksClusterName: 'prod-use1' }, gcp],
      proxyGroups: [
        { name: 'envoy-aws-use1', kind: 'envoy', cloud: 'aws', region: 'us-east-1', proxies: [{ nodeId: 'envoy-1' }], xds: { api: 'rest', clusterName: 'xds.example.com', refreshDelaySeconds: 10, requestTimeoutSeconds: 8 } },
        { name: 'envoy-gcp-grpc', kind: 'envoy', cloud: 'gcp', region: 'us-central1', proxies: [], xds: { api: 'ads' } },
        { name: 'sidecars-checkout', kind: 'envoy', cloud: 'aws', region: 'us-east-1', proxies: [], xds: { api: 'ads' }, sidecarOf: 'checkout' },
        { name: 'haproxy-gcp', kind: 'haproxy', cloud: 'gcp', region: 'us-central1', proxies: [{ name: 'hap-1', runtimeApi: '10.0.0.5:9999' }] },
      ],
      mesh: { allowedEndpointCidrs: ['127.0.0.0/8', 'fd00::/8', '169.254.169.254/32'], alwaysVisible: ['auth'] },
      tokens: [
        { id: 'checkout-pipeline', sha256: SHA, scopes: ['deploy:checkout*', 'read:*'] },
        { id: 'envoy-aws', sha256: 'b'.repeat(64), scopes: ['xds:envoy-aws-*'] },
      ],
      identity: {
        aws: { audience: 'crossfade-prod', stsEndpoints: ['https://vpce-0a1b2c3d.sts.us-east-1.vpce.amazonaws.com'] },
        google: { audience: 'https://crossfade-api-abc123-uc.a.run.app', certsUrl: 'https://www.googleapis.com/oauth2/v3/certs' },
      },
      iamPrincipals: [{ arn: 'arn:aws:iam::111122223333:role/spinnaker-deployer', scopes: ['deploy:checkout*'] }],
      googlePrincipals: [{ email: 'deployer@crossfade-local.iam.gserviceaccount.com', scopes: ['read:*'] }],
      analysis: {
        providers: [
          { name: 'prometheus', kind: 'prometheus', url: 'http://prometheus.monitoring:9090', bearerTokenEnv: 'PROMETHEUS_TOKEN' },
          { name: 'cloudwatch-use1', kind: 'cloudwatch', region: 'us-east-1' },
          { name: 'monitoring', kind: 'cloud-monitoring', project: 'crossfade-local' },
        ],
        templates: [template],
      },
      canary: { lockLeaseSeconds: 3600 },
      policy: {
        recheckSeconds: 30,
        rules: [
          { name: 'year-end', kind: 'freeze-window', services: ['*'], environments: ['prod'], timeZone: 'Europe/Berlin', once: { start: '2026-12-24T00:00', end: '2026-12-27T00:00' } },
          { name: 'weekend', kind: 'freeze-window', services: ['checkout*'], environments: ['*'], timeZone: 'America/New_York', weekly: { from: { day: 'Fri', time: '16:00' }, to: { day: 'Mon', time: '08:00' } } },
          { name: 'office-hours', kind: 'deploy-window', services: ['*'], environments: ['prod'], timeZone: 'Australia/Sydney', days: ['Mon', 'Tue', 'Wed'], from: '09:00', to: '17:00' },
          { name: 'three-at-once', kind: 'concurrency-cap', services: ['*'], environments: ['*'], max: 3, per: 'proxy-group' },
          { name: 'prod-analysis', kind: 'required-analysis', services: ['*'], environments: ['prod'], minJudgments: 5 },
          { name: 'staging-first', kind: 'promotion-order', services: ['*'], environments: ['prod'], after: 'staging' },
          { name: 'two-people', kind: 'four-eyes', services: ['payments-*'], environments: ['prod', 'prod-*'] },
          { name: 'auth-healthy', kind: 'dependency-health', services: ['checkout'], environments: ['*'], dependsOn: ['auth', 'inventory'] },
        ],
        external: [
          { name: 'change-board', url: 'https://rules.example.com/v1/judge', secret: { env: 'RULES_SECRET' }, timeoutMs: 2000, failOpen: false, services: ['*'], environments: ['prod'] },
          { name: 'risk', url: 'https://risk.example.com/', secret: { awsSecretsManager: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:risk-AbCdEf' }, timeoutMs: 500, failOpen: true, services: ['payments-*'], environments: ['*'] },
        ],
      },
      outbound: { allowedHosts: ['prometheus.monitoring', '*.example.com', '127.0.0.1'] },
      notifications: {
        webhooks: [{ name: 'ops', url: 'https://hooks.example.com/crossfade', secret: { env: 'OPS_HOOK_SECRET' }, format: 'slack', events: ['promoted', 'rolled-back'], services: ['checkout*'] }],
        eventBridge: { busName: 'deploys', region: 'us-east-1', endpoint: 'https://events.example.com', source: 'crossfade' },
        pubsub: { project: 'my-project', topic: 'deploys', apiEndpoint: 'http://127.0.0.1:8085' },
        delivery: { maxAttempts: 4, backoffBaseMs: 500, backoffMaxMs: 60_000, timeoutMs: 3000 },
      },
    };
    expect(parseConfig(document, SOURCE)).toEqual(document);
  });

  it('an Envoy group without xds polls the discovery function over REST, with the documented defaults', () => {
    const [group] = parseConfig({ proxyGroups: [{ name: 'envoy-aws-use1', kind: 'envoy', cloud: 'aws', region: 'us-east-1' }] }, SOURCE).proxyGroups;
    expect(group).toMatchObject({ xds: { api: 'rest', clusterName: 'crossfade_xds', refreshDelaySeconds: 5, requestTimeoutSeconds: 5 } });
    const [partial] = parseConfig({ proxyGroups: [{ name: 'e', kind: 'envoy', cloud: 'aws', region: 'us-east-1', xds: { api: 'rest', refreshDelaySeconds: 30 } }] }, SOURCE).proxyGroups;
    expect(partial).toMatchObject({ xds: { api: 'rest', clusterName: 'crossfade_xds', refreshDelaySeconds: 30, requestTimeoutSeconds: 5 } });
  });

  it.each([
    ['REST settings on an ADS group', { api: 'ads', clusterName: 'x' }, 'proxyGroups[0].xds.clusterName'],
    ['an api that is neither rest nor ads', { api: 'delta' }, 'proxyGroups[0].xds.api'],
    ['a refresh delay of 0 s', { api: 'rest', refreshDelaySeconds: 0 }, 'proxyGroups[0].xds.refreshDelaySeconds'],
    ['a request timeout above 60 s', { api: 'rest', requestTimeoutSeconds: 61 }, 'proxyGroups[0].xds.requestTimeoutSeconds'],
    ['a cluster name with a space', { api: 'rest', clusterName: 'xds cluster' }, 'proxyGroups[0].xds.clusterName'],
  ])('refuses %s, naming the key', (_name, xds, key) => {
    expectNamesKey(configErrorOf({ proxyGroups: [{ name: 'e', kind: 'envoy', cloud: 'aws', region: 'us-east-1', xds }] }), key);
  });

  it.each([
    ['sidecarOf that is no service name', { proxyGroups: [{ name: 'e', kind: 'envoy', cloud: 'aws', region: 'us-east-1', sidecarOf: 'Checkout' }] }, 'proxyGroups[0].sidecarOf'],
    ['sidecarOf on an HAProxy group', { proxyGroups: [{ name: 'h', kind: 'haproxy', cloud: 'aws', region: 'us-east-1', sidecarOf: 'checkout' }] }, 'proxyGroups[0].sidecarOf'],
    ['mesh.alwaysVisible naming no service', { mesh: { alwaysVisible: ['auth', 'not_a_service'] } }, 'mesh.alwaysVisible[1]'],
  ])('refuses %s, naming the key', (_name, document, key) => {
    expectNamesKey(configErrorOf(document), key);
  });

  it.each([
    ['an address without a prefix', '127.0.0.1'],
    ['a prefix longer than the address', '10.0.0.0/33'],
    ['bits set after the prefix', '127.0.0.1/8'],
    ['an IPv6 network with bits after the prefix', 'fd00::1/8'],
    ['a host name', 'localhost/8'],
  ])('refuses mesh.allowedEndpointCidrs holding %s, naming the entry and the rule', (_name, cidr) => {
    const error = configErrorOf({ mesh: { allowedEndpointCidrs: ['10.0.0.0/8', cidr] } });
    expectNamesKey(error, 'mesh.allowedEndpointCidrs[1]');
    expect(error.message).toContain('CIDR notation');
  });

  it('a bad AWS region names clusters[0].region', () => {
    const error = configErrorOf({ clusters: [{ ...aws, region: 'useast1' }] });
    expectNamesKey(error, 'clusters[0].region');
    expect(error.message).toContain('us-east-1');
  });

  it('an unknown key is named, and said not to be a known field', () => {
    const error = configErrorOf({ clusters: [{ ...aws, zone: 'us-east-1a' }] });
    expectNamesKey(error, 'clusters[0].zone');
    expect(error.message).toBe(`${SOURCE}: clusters[0].zone is not a known field`);
  });

  it('an unknown top-level key is named too', () => {
    expectNamesKey(configErrorOf({ cluster: [aws] }), 'cluster');
  });

  it('a cloud that is neither aws nor gcp names the discriminator', () => {
    expectNamesKey(configErrorOf({ clusters: [aws, { ...aws, name: 'aks-eu1', cloud: 'azure' }] }), 'clusters[1].cloud');
  });

  it('a token sha256 that is not 64 lower-case hex characters names tokens[0].sha256', () => {
    for (const sha256 of ['abc', SHA.toUpperCase(), `${SHA}0`]) {
      expectNamesKey(configErrorOf({ tokens: [{ id: 'x', sha256, scopes: ['admin'] }] }), 'tokens[0].sha256');
    }
  });

  it('a scope that is not admin, deploy:<glob> or read:<glob> names tokens[0].scopes[0]', () => {
    const error = configErrorOf({ tokens: [{ id: 'x', sha256: SHA, scopes: ['write:checkout'] }] });
    expectNamesKey(error, 'tokens[0].scopes[0]');
    expect(error.message).toContain('deploy:<service-glob>');
  });

  it('a token without scopes is refused', () => {
    expectNamesKey(configErrorOf({ tokens: [{ id: 'x', sha256: SHA, scopes: [] }] }), 'tokens[0].scopes');
  });

  it('a wrong type says what it must be', () => {
    const error = configErrorOf({ clusters: 'eks-use1' });
    expectNamesKey(error, 'clusters');
    expect(error.message).toContain('must be an array, not a string');
  });

  it('a cluster name defined twice names the second one', () => {
    const error = configErrorOf({ clusters: [aws, { ...gcp, name: 'eks-use1' }] });
    expect(error.key).toMatch(/^clusters\[1\]/);
    expect(error.message.startsWith(`${SOURCE}: ${error.key}`)).toBe(true);
    expect(error.message).toContain('"eks-use1" is defined twice');
  });

  it('a token id defined twice is refused', () => {
    const error = configErrorOf({ tokens: [{ id: 'x', sha256: SHA, scopes: ['admin'] }, { id: 'x', sha256: 'b'.repeat(64), scopes: ['admin'] }] });
    expect(error.key).toMatch(/^tokens\[1\]/);
    expect(error.message).toContain('defined twice');
  });

  it('a publicBaseUrl ending in "/" is refused', () => {
    const error = configErrorOf({ publicBaseUrl: 'https://crossfade.example.com/' });
    expectNamesKey(error, 'publicBaseUrl');
    expect(error.message).toContain('must not end with "/"');
  });

  it('a publicBaseUrl that is not http(s) is refused', () => {
    expectNamesKey(configErrorOf({ publicBaseUrl: 'ftp://crossfade.example.com' }), 'publicBaseUrl');
  });

  describe('outbound', () => {
    const provider = (url: string) => ({ analysis: { providers: [{ name: 'prom', kind: 'prometheus', url }] } });

    it.each([
      ['http://169.254.169.254/latest/meta-data', /cloud-metadata/],
      ['http://169.254.10.1:9090', /link-local/],
      ['http://[fe80::1]:9090', /link-local/],
      ['http://metadata.google.internal/computeMetadata/v1', /cloud-metadata/],
      ['http://0.0.0.0:9090', /unspecified/],
    ])('a provider at %s is refused at start, naming its key', (url, rule) => {
      const error = configErrorOf(provider(url));
      expectNamesKey(error, 'analysis.providers[0].url');
      expect(error.message).toMatch(rule);
    });

    it('a host outside outbound.allowedHosts is refused; one it matches is accepted, loopback included', () => {
      const allowlist = { outbound: { allowedHosts: ['*.example.com', '127.0.0.1'] } };
      expectNamesKey(configErrorOf({ ...provider('https://prometheus.elsewhere.net'), ...allowlist }), 'analysis.providers[0].url');
      expect(parseConfig({ ...provider('https://prom.eu.example.com'), ...allowlist }, SOURCE).outbound.allowedHosts).toEqual(['*.example.com', '127.0.0.1']);
      expect(parseConfig({ ...provider('http://127.0.0.1:9090'), ...allowlist }, SOURCE).analysis.providers).toHaveLength(1);
    });

    it('a link-local host is allowed only when allowedHosts names it exactly, never through a glob', () => {
      expectNamesKey(configErrorOf({ ...provider('http://169.254.10.1:9090'), outbound: { allowedHosts: ['*', '169.254.*'] } }), 'analysis.providers[0].url');
      expect(parseConfig({ ...provider('http://169.254.10.1:9090'), outbound: { allowedHosts: ['*', '169.254.10.1'] } }, SOURCE).analysis.providers).toHaveLength(1);
    });

    it('credentials in a URL are refused', () => {
      expectNamesKey(configErrorOf(provider('https://user:secret@prom.example.com')), 'analysis.providers[0].url');
    });
  });

  describe('clock', () => {
    it('takes an instant with a zone, and refuses one without', () => {
      expect(parseConfig({ clock: { startsAt: '2026-12-24T06:59:30Z' } }, SOURCE).clock).toEqual({ startsAt: '2026-12-24T06:59:30Z' });
      expectNamesKey(configErrorOf({ clock: { startsAt: '2026-12-24T06:59:30' } }), 'clock.startsAt');
    });
  });

  describe('analysis', () => {
    const prometheus = { name: 'prometheus', kind: 'prometheus', url: 'http://127.0.0.1:9090' };

    it('a metric fills in its defaults: group default, direction either, not critical, no data ignored, no spread check', () => {
      const config = parseConfig({ analysis: { providers: [prometheus], templates: [{ name: 't', metrics: [{ name: 'm', provider: 'prometheus', query: 'up' }] }] } }, SOURCE);
      expect(config.analysis.templates[0]).toEqual({
        name: 't',
        stepSeconds: 10,
        thresholds: { pass: 95, marginal: 75 },
        groupWeights: {},
        metrics: [{ name: 'm', group: 'default', provider: 'prometheus', query: 'up', direction: 'either', critical: false, noData: 'ignore', spreadCheck: false }],
      });
    });

    it('a template whose metric names a provider that is not configured names the metric’s provider', () => {
      const error = configErrorOf({ analysis: { providers: [prometheus], templates: [{ ...template, name: 'errors-only', groupWeights: {}, metrics: [template.metrics[0]] }, template] } });
      expectNamesKey(error, 'analysis.templates[1].metrics[1].provider');
      expect(error.message).toContain('cloudwatch-use1');
    });

    it('a query with a placeholder queryFor does not fill names the metric’s query: ConfigError at start-up, not a failed judgment', () => {
      const typo = { ...template.metrics[0], name: 'typo', query: 'sum(rate(errors{version="{{ver}}"}[30s]))' };
      const error = configErrorOf({ analysis: { providers: [prometheus], templates: [{ name: 't', metrics: [template.metrics[0], typo] }] } });
      expectNamesKey(error, 'analysis.templates[0].metrics[1].query');
      expect(error.message).toContain('{{ver}}');
    });

    it('a placeholder typo in a baselineQuery or canaryQuery names that key', () => {
      const typo = { ...template.metrics[0], canaryQuery: 'errors{version="{{ version }}"}' };
      expectNamesKey(configErrorOf({ analysis: { providers: [prometheus], templates: [{ name: 't', metrics: [typo] }] } }), 'analysis.templates[0].metrics[0].canaryQuery');
    });

    it('a template without metrics is refused', () => {
      expectNamesKey(configErrorOf({ analysis: { providers: [prometheus], templates: [{ name: 't', metrics: [] }] } }), 'analysis.templates[0].metrics');
    });

    it('a template name defined twice is refused', () => {
      const one = { name: 't', metrics: [{ name: 'm', provider: 'prometheus', query: 'up' }] };
      const error = configErrorOf({ analysis: { providers: [prometheus], templates: [one, one] } });
      expect(error.key).toMatch(/^analysis\.templates\[1\]/);
      expect(error.message).toContain('defined twice');
    });

    it('an iamPrincipals entry that is not an IAM ARN names its arn and the rule', () => {
      const error = configErrorOf({ iamPrincipals: [{ arn: 'arn:aws:iam::*:role/deploy*', scopes: ['admin'] }] });
      expectNamesKey(error, 'iamPrincipals[0].arn');
      expect(error.message).toContain('must be an IAM role or user ARN');
    });

    it('googlePrincipals without identity.google (the audience) names identity.google', () => {
      expectNamesKey(configErrorOf({ googlePrincipals: [{ email: 'a@b.iam.gserviceaccount.com', scopes: ['admin'] }] }), 'identity.google');
    });

    it('a lease under a minute names canary.lockLeaseSeconds', () => {
      expectNamesKey(configErrorOf({ canary: { lockLeaseSeconds: 30 } }), 'canary.lockLeaseSeconds');
    });

    it('the wait chunk of earlier releases is gone (one hold per pause): naming it is an error that names it', () => {
      expect(configErrorOf({ canary: { waitChunkSeconds: 10 } }).message).toContain('waitChunkSeconds');
    });
  });
});

describe('tokenEntries', () => {
  it('parses each token’s scopes', () => {
    const config = parseConfig({ tokens: [{ id: 'pipeline', sha256: SHA, scopes: ['admin', 'deploy:checkout*', 'read:*'] }] }, SOURCE);
    expect(tokenEntries(config)).toEqual([
      {
        id: 'pipeline',
        sha256: SHA,
        scopes: [{ kind: 'admin' }, { kind: 'deploy', serviceGlob: 'checkout*' }, { kind: 'read', serviceGlob: '*' }],
      },
    ]);
  });

  it('no tokens, no entries', () => {
    expect(tokenEntries(parseConfig({}, SOURCE))).toEqual([]);
  });
});
