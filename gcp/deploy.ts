/**
 * `npm run deploy:gcp -- --project P [--dry-run]`: deploys dist/gcp (from `npm run build`) as one
 * Cloud Function (2nd gen) with gcloud. The commands come from deploy-plan.ts; `--dry-run` prints
 * them instead of running them. See docs/deploy-gcp.md.
 *
 * Exit codes: 0 done; 1 a gcloud command failed (gcloud printed why); 2 bad flags, no build, no gcloud.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfigError } from '../shared/domain/errors.js';
import { DEPLOY_DEFAULTS, GCP_BUNDLED_CONFIG, GCP_SOURCE_DIR, LOG_LEVELS, deployCommands, shellLine, type DeployOptionsInput, type LogLevel } from './deploy-plan.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const USAGE = `Usage: npm run deploy:gcp -- --project <id> [options]

Deploys dist/gcp (npm run build) as the Cloud Function (2nd gen) that serves crossfade's HTTP API.

  --project <id>                  Google Cloud project (required)
  --region <region>               Cloud Functions region (default ${DEPLOY_DEFAULTS.region})
  --function <name>               function name (default ${DEPLOY_DEFAULTS.functionName})
  --table <name>                  DynamoDB table holding crossfade's state (default ${DEPLOY_DEFAULTS.table})
  --aws-region <region>           the table's AWS region (default ${DEPLOY_DEFAULTS.awsRegion})
  --service-account <email>       runtime service account (default: the project's default compute account)
  --aws-role-arn <arn>            keyless: the AWS role the function assumes with its Google identity
                                  (CROSSFADE_AWS_ROLE_ARN); no key secrets are bound
  --aws-audience <text>           the ID token's audience for that role (default sts.amazonaws.com)
  --min-instances <n>             instances kept warm (default ${DEPLOY_DEFAULTS.minInstances})
  --max-instances <n>             instance cap (default ${DEPLOY_DEFAULTS.maxInstances})
  --access-key-id-secret <id>     without --aws-role-arn: Secret Manager secret with the AWS access key id (default ${DEPLOY_DEFAULTS.accessKeyIdSecret})
  --secret-access-key-secret <id> without --aws-role-arn: Secret Manager secret with the AWS secret key (default ${DEPLOY_DEFAULTS.secretAccessKeySecret})
  --log-level <level>             CROSSFADE_LOG_LEVEL: ${LOG_LEVELS.join(', ')} (default: unset, which means info)
  --dry-run                       print the gcloud commands instead of running them
  --help                          show this text

Exit codes: 0 done, 1 a gcloud command failed, 2 bad flags, missing build or no gcloud.`;

/** An error worth one line to the operator: no stack trace. */
class UsageError extends Error {}

function parseFlags(argv: string[]): { help: boolean; dryRun: boolean; input: DeployOptionsInput } {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        project: { type: 'string' },
        region: { type: 'string' },
        function: { type: 'string' },
        table: { type: 'string' },
        'aws-region': { type: 'string' },
        'service-account': { type: 'string' },
        'aws-role-arn': { type: 'string' },
        'aws-audience': { type: 'string' },
        'min-instances': { type: 'string' },
        'max-instances': { type: 'string' },
        'access-key-id-secret': { type: 'string' },
        'secret-access-key-secret': { type: 'string' },
        'log-level': { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    // parseArgs' own message names the flag ("Unknown option '--projcet'"); send the rest to --help.
    throw new UsageError(`${(error as Error).message} (see --help)`);
  }
  const { values } = parsed;
  return {
    help: values.help,
    dryRun: values['dry-run'],
    input: {
      project: values.project,
      region: values.region,
      functionName: values.function,
      table: values.table,
      awsRegion: values['aws-region'],
      serviceAccount: values['service-account'],
      awsRoleArn: values['aws-role-arn'],
      awsAudience: values['aws-audience'],
      minInstances: count('--min-instances', values['min-instances']),
      maxInstances: count('--max-instances', values['max-instances']),
      accessKeyIdSecret: values['access-key-id-secret'],
      secretAccessKeySecret: values['secret-access-key-secret'],
      logLevel: values['log-level'] as LogLevel | undefined,
    },
  };
}

/** Digits only: Number() would accept '', ' 3', '0x10' and '1e1'. */
function count(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[0-9]+$/.test(text)) throw new ConfigError(`${flag} must be a whole number ≥ 0, got ${JSON.stringify(text)}`);
  return Number(text);
}

function checkBuilt(): void {
  const missing = ['index.mjs', GCP_BUNDLED_CONFIG].map((file) => join(GCP_SOURCE_DIR, file)).filter((file) => !existsSync(join(ROOT, file)));
  if (missing.length > 0) throw new UsageError(`${missing.join(' and ')} not found: run npm run build first`);
}

function run(argv: readonly string[]): Promise<void> {
  const [command = '', ...args] = argv;
  console.error(`+ ${shellLine(argv)}`);
  return new Promise((resolvePromise, reject) => {
    // --source is relative, so gcloud runs at the repository root whatever the caller's directory.
    const child = spawn(command, args, { cwd: ROOT, stdio: 'inherit' });
    child.once('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'ENOENT' ? new UsageError('gcloud not found: install the Google Cloud CLI, or use --dry-run to see the commands')  : new UsageError(`cannot run gcloud: ${error.message}`));
    });
    child.once('exit', (code, signal) => {
      if (code === 0) resolvePromise();
      else reject(new GcloudFailed(`${argv.slice(0, 3).join(' ')} ${signal === null ? `exited with code ${code}` : `was killed by ${signal}`}`));
    });
  });
}

class GcloudFailed extends Error {}

async function main(argv: string[]): Promise<number> {
  const { help, dryRun, input } = parseFlags(argv);
  if (help) {
    console.log(USAGE);
    return 0;
  }
  const commands = deployCommands(input);
  checkBuilt();
  if (dryRun) {
    console.log(commands.map(shellLine).join('\n'));
    return 0;
  }
  for (const command of commands) await run(command);
  return 0;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError || error instanceof ConfigError || error instanceof GcloudFailed) {
    console.error(`deploy:gcp: ${error.message}`);
    process.exitCode = error instanceof GcloudFailed ? 1 : 2;
  } else {
    throw error;
  }
}
