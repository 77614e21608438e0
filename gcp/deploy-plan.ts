/**
 * The gcloud commands that deploy the GCP entry point (gcp/index.ts, built into dist/gcp by
 * `npm run build`). Pure: options in, argv arrays out, so the exact commands are specified by
 * tests and shown by `--dry-run` without a Google account. gcp/deploy.ts runs them.
 *
 * State stays in the one DynamoDB table in AWS. The function signs its AWS calls either keyless
 * (`--aws-role-arn`: its Google identity traded for the role's temporary credentials) or with a
 * static key that Secret Manager exposes as environment variables (docs/deploy-gcp.md).
 */
import { ConfigError } from '../shared/domain/errors.js';
import { CONFIG_ENV } from '../shared/adapters/config-file.js';
import { TABLE_ENV } from '../shared/adapters/dynamodb/table.js';
import { AUDIENCE_ENV, ROLE_ARN_ENV, ROLE_ARN_PATTERN } from '../shared/runtime/gcp-aws-credentials.js';

/** What scripts/build.ts writes and what the function's working directory (/workspace) holds. */
export const GCP_SOURCE_DIR = 'dist/gcp';
export const GCP_BUNDLED_CONFIG = 'crossfade.json';
/** The name gcp/index.ts registers with functions-framework. */
export const GCP_ENTRY_POINT = 'api';
/** The CloudEvent function gcp/index.ts registers for the scheduled reconciliation. */
export const GCP_RECONCILE_ENTRY_POINT = 'reconcile';
export const GCP_NOTIFY_ENTRY_POINT = 'notify';
const SECRET_VERSION = 'latest';

export const LOG_LEVELS = ['info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** What a caller may leave out; every field is checked by validateDeployOptions. */
export interface DeployOptionsInput {
  project?: string;
  region?: string;
  functionName?: string;
  table?: string;
  awsRegion?: string;
  serviceAccount?: string;
  awsRoleArn?: string;
  awsAudience?: string;
  minInstances?: number;
  maxInstances?: number;
  accessKeyIdSecret?: string;
  secretAccessKeySecret?: string;
  logLevel?: LogLevel;
}

export interface DeployOptions {
  project: string;
  region: string;
  functionName: string;
  table: string;
  awsRegion: string;
  serviceAccount: string | undefined;
  /** Keyless: the role the function assumes with its Google identity; then no key secrets. */
  awsRoleArn: string | undefined;
  awsAudience: string | undefined;
  minInstances: number;
  maxInstances: number;
  accessKeyIdSecret: string;
  secretAccessKeySecret: string;
  logLevel: LogLevel | undefined;
}

export const DEPLOY_DEFAULTS = {
  region: 'us-central1',
  functionName: 'crossfade-api',
  table: 'crossfade-prod',
  awsRegion: 'us-east-1',
  minInstances: 0,
  maxInstances: 20,
  accessKeyIdSecret: 'crossfade-aws-access-key-id',
  secretAccessKeySecret: 'crossfade-aws-secret-access-key',
} as const;

/** Each option's rule and the flag that sets it, so an error names what the operator typed. */
const RULES = {
  project: { flag: '--project', pattern: /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, says: '6-30 lowercase letters, digits or hyphens, starting with a letter and not ending with a hyphen' },
  region: { flag: '--region', pattern: /^[a-z]+-[a-z]+[0-9]{1,2}$/, says: 'a Google Cloud region such as us-central1' },
  functionName: { flag: '--function', pattern: /^[a-z][a-z0-9-]{0,62}$/, says: 'up to 63 lowercase letters, digits or hyphens, starting with a letter' },
  // DynamoDB's own rule for table names.
  table: { flag: '--table', pattern: /^[A-Za-z0-9_.-]{3,255}$/, says: 'a DynamoDB table name (3-255 letters, digits, _ . -)' },
  awsRegion: { flag: '--aws-region', pattern: /^[a-z]{2}(-gov)?-[a-z]+-[0-9]{1,2}$/, says: 'an AWS region such as us-east-1' },
  serviceAccount: { flag: '--service-account', pattern: /^[a-z0-9-]+@[a-z0-9.-]+\.gserviceaccount\.com$/, says: 'a service account email (…@….iam.gserviceaccount.com)' },
  awsRoleArn: { flag: '--aws-role-arn', pattern: ROLE_ARN_PATTERN, says: 'an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)' },
  awsAudience: { flag: '--aws-audience', pattern: /^[\x21-\x7e]{1,256}$/, says: 'up to 256 printable characters without spaces' },
  accessKeyIdSecret: { flag: '--access-key-id-secret', pattern: /^[A-Za-z0-9_-]{1,255}$/, says: 'a Secret Manager secret id' },
  secretAccessKeySecret: { flag: '--secret-access-key-secret', pattern: /^[A-Za-z0-9_-]{1,255}$/, says: 'a Secret Manager secret id' },
} as const;

export function validateDeployOptions(input: DeployOptionsInput): DeployOptions {
  if (input.project === undefined || input.project === '') {
    throw new ConfigError('--project is required (the Google Cloud project id to deploy into)', 'project');
  }
  const options: DeployOptions = {
    project: input.project,
    region: input.region ?? DEPLOY_DEFAULTS.region,
    functionName: input.functionName ?? DEPLOY_DEFAULTS.functionName,
    table: input.table ?? DEPLOY_DEFAULTS.table,
    awsRegion: input.awsRegion ?? DEPLOY_DEFAULTS.awsRegion,
    serviceAccount: input.serviceAccount,
    awsRoleArn: input.awsRoleArn,
    awsAudience: input.awsAudience,
    minInstances: input.minInstances ?? DEPLOY_DEFAULTS.minInstances,
    maxInstances: input.maxInstances ?? DEPLOY_DEFAULTS.maxInstances,
    accessKeyIdSecret: input.accessKeyIdSecret ?? DEPLOY_DEFAULTS.accessKeyIdSecret,
    secretAccessKeySecret: input.secretAccessKeySecret ?? DEPLOY_DEFAULTS.secretAccessKeySecret,
    logLevel: input.logLevel,
  };
  for (const [key, rule] of Object.entries(RULES) as [keyof typeof RULES, (typeof RULES)[keyof typeof RULES]][]) {
    const value = options[key];
    if (value !== undefined && !rule.pattern.test(value)) {
      throw new ConfigError(`${rule.flag} must be ${rule.says}, got ${JSON.stringify(value)}`, key);
    }
  }
  checkAwsCredentials(input);
  checkInstances('--min-instances', 'minInstances', options.minInstances);
  checkInstances('--max-instances', 'maxInstances', options.maxInstances);
  if (options.minInstances > options.maxInstances) {
    throw new ConfigError(`--min-instances (${options.minInstances}) must not exceed --max-instances (${options.maxInstances})`, 'minInstances');
  }
  if (options.logLevel !== undefined && !LOG_LEVELS.includes(options.logLevel)) {
    throw new ConfigError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(options.logLevel)}`, 'logLevel');
  }
  return options;
}

/** Keyless or a static key, never both: a role with key secrets beside it would leave a key to leak. */
function checkAwsCredentials(input: DeployOptionsInput): void {
  if (input.awsRoleArn !== undefined && (input.accessKeyIdSecret !== undefined || input.secretAccessKeySecret !== undefined)) {
    const flag = input.accessKeyIdSecret !== undefined ? '--access-key-id-secret' : '--secret-access-key-secret';
    throw new ConfigError(`${flag} does not go with --aws-role-arn: with a role the function holds no AWS key (choose one)`, 'awsRoleArn');
  }
  if (input.awsAudience !== undefined && input.awsRoleArn === undefined) {
    throw new ConfigError('--aws-audience needs --aws-role-arn (it is the audience of the ID token traded for the role)', 'awsAudience');
  }
}

function checkInstances(flag: string, key: string, value: number): void {
  if (!Number.isInteger(value) || value < 0) {
    throw new ConfigError(`${flag} must be a whole number ≥ 0, got ${JSON.stringify(value)}`, key);
  }
}

/** The environment the function reads (shared/runtime/deps.ts), in a stable order. */
export function functionEnvironment(options: DeployOptions): Record<string, string> {
  return {
    [TABLE_ENV]: options.table,
    AWS_REGION: options.awsRegion,
    // Relative to the function's working directory, /workspace, which holds dist/gcp's files.
    [CONFIG_ENV]: GCP_BUNDLED_CONFIG,
    NODE_OPTIONS: '--enable-source-maps',
    ...(options.awsRoleArn === undefined ? {} : { [ROLE_ARN_ENV]: options.awsRoleArn }),
    ...(options.awsAudience === undefined ? {} : { [AUDIENCE_ENV]: options.awsAudience }),
    ...(options.logLevel === undefined ? {} : { CROSSFADE_LOG_LEVEL: options.logLevel }),
  };
}

/**
 * gcloud splits a dict flag's value on commas, so a value containing one would become two entries.
 * `^DELIM^` at the start of the value switches the separator (`gcloud topic escaping`); we pick the
 * first candidate that occurs in no key or value, and use plain commas when nothing needs escaping.
 */
const DELIMITER_CANDIDATES = ['|', '@', ':', ';', '~', '#', '+', '%'];

export function dictFlagValue(entries: Record<string, string>): string {
  const pairs = Object.entries(entries).map(([key, value]) => `${key}=${value}`);
  if (!pairs.some((pair) => pair.includes(','))) return pairs.join(',');
  const delimiter = DELIMITER_CANDIDATES.find((candidate) => !pairs.some((pair) => pair.includes(candidate)));
  if (delimiter === undefined) {
    throw new ConfigError(`cannot pass ${Object.keys(entries).join(', ')} to gcloud: the values use every delimiter gcloud's ^DELIM^ escaping could switch to`);
  }
  return `^${delimiter}^${pairs.join(delimiter)}`;
}

/** `gcloud functions deploy`, then `gcloud functions describe` to print the function's URL. */
export function deployCommands(input: DeployOptionsInput): string[][] {
  const options = validateDeployOptions(input);
  const scope = [`--region=${options.region}`, `--project=${options.project}`];
  // Secrets in env vars are read when an instance starts: with `latest`, rotating a key is adding a
  // secret version, then redeploying so that every instance starts again with it. Keyless, the
  // function gets no secret, and a key bound by an earlier deploy is unbound.
  const secrets = options.awsRoleArn !== undefined
    ? '--clear-secrets'
    : `--set-secrets=${dictFlagValue({ AWS_ACCESS_KEY_ID: `${options.accessKeyIdSecret}:${SECRET_VERSION}`, AWS_SECRET_ACCESS_KEY: `${options.secretAccessKeySecret}:${SECRET_VERSION}` })}`;
  const deploy = [
    'gcloud', 'functions', 'deploy', options.functionName,
    '--gen2',
    '--runtime=nodejs22',
    ...scope,
    `--source=${GCP_SOURCE_DIR}`,
    `--entry-point=${GCP_ENTRY_POINT}`,
    '--trigger-http',
    // Public invocation; crossfade's bearer tokens (shared/http/auth.ts) do the authentication.
    // Requiring IAM would need a Google-signed ID token on every call, and Spinnaker's webhook
    // stage only sends static headers: it cannot mint a token that expires after an hour.
    '--allow-unauthenticated',
    // 512 MiB and 10 s, as on AWS: inside Spinnaker's read timeout, and enough for one request.
    '--memory=512Mi',
    '--timeout=10s',
    `--min-instances=${options.minInstances}`,
    `--max-instances=${options.maxInstances}`,
    // --set-env-vars replaces the whole environment, so a redeploy leaves nothing stale behind.
    `--set-env-vars=${dictFlagValue(functionEnvironment(options))}`,
    secrets,
    ...(options.serviceAccount === undefined ? [] : [`--service-account=${options.serviceAccount}`]),
  ];
  // A scheduled entry point: a CloudEvent function on a Pub/Sub topic of its own, which gcloud
  // creates when it is missing; Cloud Scheduler publishes to it (docs/deploy-gcp.md gives the
  // one-time `gcloud scheduler jobs create pubsub` commands). One instance at a time.
  const scheduled = (suffix: string, entryPoint: string, timeout: string) => [
    'gcloud', 'functions', 'deploy', `${options.functionName}-${suffix}`,
    '--gen2',
    '--runtime=nodejs22',
    ...scope,
    `--source=${GCP_SOURCE_DIR}`,
    `--entry-point=${entryPoint}`,
    `--trigger-topic=${options.functionName}-${suffix}`,
    '--memory=512Mi',
    `--timeout=${timeout}`,
    '--max-instances=1',
    `--set-env-vars=${dictFlagValue(functionEnvironment(options))}`,
    secrets,
    ...(options.serviceAccount === undefined ? [] : [`--service-account=${options.serviceAccount}`]),
  ];
  // The reconciliation (gcp/index.ts `reconcile`): every service of the mesh in one run, discovery
  // and proxies, like the AWS scheduled run.
  const reconcile = scheduled('reconcile', GCP_RECONCILE_ENTRY_POINT, '300s');
  // Notification delivery (gcp/index.ts `notify`, docs/notifications.md): every minute, under a minute.
  const notify = scheduled('notify', GCP_NOTIFY_ENTRY_POINT, '60s');
  const describe = ['gcloud', 'functions', 'describe', options.functionName, '--gen2', ...scope, '--format=value(serviceConfig.uri)'];
  return [deploy, reconcile, notify, describe];
}

/** One command as a POSIX shell line: words with anything beyond a safe set are single-quoted. */
export function shellLine(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}

export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_./:=@%+,-]+$/.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
