/**
 * How crossfade is deployed to GCP: the gcloud commands gcp/deploy-plan.ts builds, and the
 * `deploy:gcp` command line around them. The CLI specifications run gcp/deploy.ts as a child
 * process with --dry-run; they need dist/gcp from `npm run build` (npm test runs it first).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../shared/domain/errors.js';
import { deployCommands, dictFlagValue, shellLine, shellQuote, validateDeployOptions, type DeployOptionsInput } from '../../../gcp/deploy-plan.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function deployArgv(input: DeployOptionsInput): string[] {
  const [deploy] = deployCommands(input);
  if (deploy === undefined) throw new Error('no deploy command');
  return deploy;
}

function flag(argv: readonly string[], name: string): string | undefined {
  return argv.find((arg) => arg.startsWith(`${name}=`))?.slice(name.length + 1);
}

function configErrorOf(input: DeployOptionsInput): ConfigError {
  try {
    deployCommands(input);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(input)}`);
}

describe('deployCommands', () => {
  const typical: DeployOptionsInput = {
    project: 'acme-delivery-prod',
    region: 'europe-west1',
    functionName: 'crossfade-eu',
    table: 'crossfade-eu',
    awsRegion: 'eu-west-1',
    serviceAccount: 'crossfade@acme-delivery-prod.iam.gserviceaccount.com',
    minInstances: 1,
    maxInstances: 5,
  };

  it('deploys dist/gcp as a public 2nd-gen HTTP function running the `api` entry point on Node.js 22', () => {
    expect(deployArgv(typical)).toEqual([
      'gcloud', 'functions', 'deploy', 'crossfade-eu',
      '--gen2',
      '--runtime=nodejs22',
      '--region=europe-west1',
      '--project=acme-delivery-prod',
      '--source=dist/gcp',
      '--entry-point=api',
      '--trigger-http',
      '--allow-unauthenticated',
      '--memory=512Mi',
      '--timeout=10s',
      '--min-instances=1',
      '--max-instances=5',
      '--set-env-vars=CROSSFADE_TABLE=crossfade-eu,AWS_REGION=eu-west-1,CROSSFADE_CONFIG=crossfade.json,NODE_OPTIONS=--enable-source-maps',
      '--set-secrets=AWS_ACCESS_KEY_ID=crossfade-aws-access-key-id:latest,AWS_SECRET_ACCESS_KEY=crossfade-aws-secret-access-key:latest',
      '--service-account=crossfade@acme-delivery-prod.iam.gserviceaccount.com',
    ]);
  });

  it('then describes the function to print its URL', () => {
    expect(deployCommands(typical)[3]).toEqual([
      'gcloud', 'functions', 'describe', 'crossfade-eu', '--gen2', '--region=europe-west1', '--project=acme-delivery-prod', '--format=value(serviceConfig.uri)',
    ]);
    expect(deployCommands(typical)).toHaveLength(4);
  });

  it('needs only the project: everything else has a default', () => {
    const argv = deployArgv({ project: 'my-project-123' });
    expect(argv.slice(0, 4)).toEqual(['gcloud', 'functions', 'deploy', 'crossfade-api']);
    expect(flag(argv, '--region')).toBe('us-central1');
    expect(flag(argv, '--min-instances')).toBe('0');
    expect(flag(argv, '--max-instances')).toBe('20');
    expect(flag(argv, '--set-env-vars')).toBe('CROSSFADE_TABLE=crossfade-prod,AWS_REGION=us-east-1,CROSSFADE_CONFIG=crossfade.json,NODE_OPTIONS=--enable-source-maps');
    expect(flag(argv, '--set-secrets')).toBe('AWS_ACCESS_KEY_ID=crossfade-aws-access-key-id:latest,AWS_SECRET_ACCESS_KEY=crossfade-aws-secret-access-key:latest');
    expect(argv.some((arg) => arg.startsWith('--service-account'))).toBe(false);
  });

  it('names other secrets when asked, and sets CROSSFADE_LOG_LEVEL only when a level is given', () => {
    const argv = deployArgv({ project: 'my-project-123', accessKeyIdSecret: 'aws-id', secretAccessKeySecret: 'aws-key', logLevel: 'warn' });
    expect(flag(argv, '--set-secrets')).toBe('AWS_ACCESS_KEY_ID=aws-id:latest,AWS_SECRET_ACCESS_KEY=aws-key:latest');
    expect(flag(argv, '--set-env-vars')).toMatch(/,CROSSFADE_LOG_LEVEL=warn$/);
  });

  it('keyless (--aws-role-arn): both functions get the role and audience, no key, and lose a key an earlier deploy bound', () => {
    const role = 'arn:aws:iam::123456789012:role/crossfade-gcp';
    const [api, reconcile] = deployCommands({ project: 'my-project-123', awsRoleArn: role, awsAudience: 'crossfade-aws' });
    for (const argv of [api!, reconcile!]) {
      expect(flag(argv, '--set-env-vars')).toBe(
        `CROSSFADE_TABLE=crossfade-prod,AWS_REGION=us-east-1,CROSSFADE_CONFIG=crossfade.json,NODE_OPTIONS=--enable-source-maps,CROSSFADE_AWS_ROLE_ARN=${role},CROSSFADE_AWS_AUDIENCE=crossfade-aws`,
      );
      expect(argv).toContain('--clear-secrets');
      expect(argv.some((arg) => arg.startsWith('--set-secrets'))).toBe(false);
    }
    // Without an audience the function's default (sts.amazonaws.com) applies: nothing is set.
    expect(flag(deployArgv({ project: 'my-project-123', awsRoleArn: role }), '--set-env-vars')).not.toContain('CROSSFADE_AWS_AUDIENCE');
  });
});

describe('dictFlagValue (gcloud dict flags)', () => {
  it('joins KEY=value pairs with commas when no value holds one', () => {
    expect(dictFlagValue({ A: 'one', B: 'x=y' })).toBe('A=one,B=x=y');
  });

  it("switches to gcloud's ^DELIM^ escaping when a value holds a comma, with a delimiter no value holds", () => {
    expect(dictFlagValue({ A: 'one,two', B: 'three' })).toBe('^|^A=one,two|B=three');
    expect(dictFlagValue({ A: 'one,two', B: 'a|b' })).toBe('^@^A=one,two@B=a|b');
  });

  it('refuses values that leave it no delimiter', () => {
    expect(() => dictFlagValue({ A: ',|@:;~#+%' })).toThrow(ConfigError);
  });
});

describe('validation: each error names the flag to fix', () => {
  it.each<[string, DeployOptionsInput, string, RegExp]>([
    ['a missing project', {}, 'project', /^--project is required/],
    ['an empty project', { project: '' }, 'project', /^--project is required/],
    ['a malformed project id', { project: 'My_Project' }, 'project', /^--project must be .* got "My_Project"$/],
    ['a bad region', { project: 'my-project-123', region: 'us central' }, 'region', /^--region must be a Google Cloud region such as us-central1, got "us central"$/],
    ['a bad function name', { project: 'my-project-123', functionName: '9lives' }, 'functionName', /^--function must be /],
    ['a bad AWS region', { project: 'my-project-123', awsRegion: 'useast1' }, 'awsRegion', /^--aws-region must be an AWS region/],
    ['a bad table name', { project: 'my-project-123', table: 'a b' }, 'table', /^--table must be a DynamoDB table name/],
    ['a bad service account', { project: 'my-project-123', serviceAccount: 'someone@example.com' }, 'serviceAccount', /^--service-account must be a service account email/],
    ['min above max', { project: 'my-project-123', minInstances: 5, maxInstances: 2 }, 'minInstances', /^--min-instances \(5\) must not exceed --max-instances \(2\)$/],
    ['min above the default max', { project: 'my-project-123', minInstances: 21 }, 'minInstances', /^--min-instances \(21\) must not exceed --max-instances \(20\)$/],
    ['a fractional min', { project: 'my-project-123', minInstances: 1.5 }, 'minInstances', /^--min-instances must be a whole number ≥ 0, got 1\.5$/],
    ['a negative max', { project: 'my-project-123', maxInstances: -1 }, 'maxInstances', /^--max-instances must be a whole number ≥ 0, got -1$/],
    ['a NaN max', { project: 'my-project-123', maxInstances: Number.NaN }, 'maxInstances', /^--max-instances must be a whole number ≥ 0/],
    ['an unknown log level', { project: 'my-project-123', logLevel: 'debug' as never }, 'logLevel', /^--log-level must be one of info, warn, error, silent/],
    ['a role that is not a role ARN', { project: 'my-project-123', awsRoleArn: 'crossfade-gcp' }, 'awsRoleArn', /^--aws-role-arn must be an IAM role ARN .* got "crossfade-gcp"$/],
    ['an audience with a space', { project: 'my-project-123', awsRoleArn: 'arn:aws:iam::123456789012:role/r', awsAudience: 'a b' }, 'awsAudience', /^--aws-audience must be up to 256 printable characters without spaces, got "a b"$/],
    ['a role and a key secret', { project: 'my-project-123', awsRoleArn: 'arn:aws:iam::123456789012:role/r', secretAccessKeySecret: 'k' }, 'awsRoleArn', /^--secret-access-key-secret does not go with --aws-role-arn: with a role the function holds no AWS key \(choose one\)$/],
    ['an audience without a role', { project: 'my-project-123', awsAudience: 'crossfade-aws' }, 'awsAudience', /^--aws-audience needs --aws-role-arn/],
  ])('rejects %s', (_, input, key, message) => {
    const error = configErrorOf(input);
    expect(error.key).toBe(key);
    expect(error.message).toMatch(message);
  });

  it('accepts the edges: 6- and 30-character project ids, min equal to max, zero instances', () => {
    expect(validateDeployOptions({ project: 'abcdef' }).project).toBe('abcdef');
    expect(validateDeployOptions({ project: 'a'.repeat(30) }).project).toHaveLength(30);
    expect(validateDeployOptions({ project: 'my-project-123', minInstances: 3, maxInstances: 3 }).maxInstances).toBe(3);
    expect(validateDeployOptions({ project: 'my-project-123', minInstances: 0, maxInstances: 0 }).maxInstances).toBe(0);
    expect(() => validateDeployOptions({ project: 'a'.repeat(31) })).toThrow(/--project must be/);
  });
});

describe('shell quoting (what --dry-run prints)', () => {
  it('leaves plain words alone and single-quotes the rest', () => {
    expect(shellQuote('--region=us-central1')).toBe('--region=us-central1');
    expect(shellQuote('--format=value(serviceConfig.uri)')).toBe("'--format=value(serviceConfig.uri)'");
    expect(shellQuote('^|^A=1,2|B=3')).toBe("'^|^A=1,2|B=3'");
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote('')).toBe("''");
  });

  it('prints one command per line', () => {
    expect(shellLine(['gcloud', 'functions', 'describe', 'f', '--format=value(x)'])).toBe("gcloud functions describe f '--format=value(x)'");
  });
});

describe('npm run deploy:gcp (gcp/deploy.ts)', () => {
  const tsx = path.join(ROOT, 'node_modules', '.bin', 'tsx');

  function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(tsx, ['gcp/deploy.ts', ...args], { cwd: ROOT }, (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      });
    });
  }

  it('--dry-run prints the gcloud commands and runs nothing', async () => {
    if (!existsSync(path.join(ROOT, 'dist', 'gcp', 'index.mjs'))) {
      throw new Error('dist/gcp/index.mjs is missing: run `npm run build` first (npm test does)');
    }
    const { code, stdout, stderr } = await runCli(['--project', 'my-project-123', '--dry-run']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^gcloud functions deploy crossfade-api --gen2 --runtime=nodejs22 --region=us-central1 --project=my-project-123 --source=dist\/gcp --entry-point=api /);
    expect(lines[1]).toMatch(/^gcloud functions deploy crossfade-api-reconcile --gen2 --runtime=nodejs22 .* --entry-point=reconcile --trigger-topic=crossfade-api-reconcile /);
    expect(lines[2]).toMatch(/^gcloud functions deploy crossfade-api-notify --gen2 --runtime=nodejs22 .* --entry-point=notify --trigger-topic=crossfade-api-notify .*--timeout=60s --max-instances=1 /);
    expect(lines[3]).toBe("gcloud functions describe crossfade-api --gen2 --region=us-central1 --project=my-project-123 '--format=value(serviceConfig.uri)'");
  });

  it('without --project exits 2 with one line that says so, and no stack trace', async () => {
    const { code, stdout, stderr } = await runCli(['--dry-run']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe('deploy:gcp: --project is required (the Google Cloud project id to deploy into)\n');
  });

  it('rejects a non-numeric instance count and an unknown flag the same way', async () => {
    const fractional = await runCli(['--project', 'my-project-123', '--max-instances', '2.5', '--dry-run']);
    expect(fractional.code).toBe(2);
    expect(fractional.stderr).toBe('deploy:gcp: --max-instances must be a whole number ≥ 0, got "2.5"\n');
    const unknown = await runCli(['--projct', 'my-project-123']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^deploy:gcp: Unknown option '--projct'.*\(see --help\)\n$/);
  });
});
