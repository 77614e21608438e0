/**
 * The local stack (local/stack.ts) started in this process on a port of its own, over one of two
 * stores: the embedded one `npm start` uses (dynalite persisting to LevelDB), or DynamoDB Local
 * (Java). Each start gets a fresh temporary data directory, admin token and table, and stop()
 * removes everything it started, so a failed bench leaves no process and no state behind.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalStack } from '../../local/stack.js';
import { startDynamoDbLocal } from '../../test/support/dynamodb-local.js';

export interface ApiBackend {
  name: string;
  /** The store as the stack describes it. */
  store: string;
  url: string;
  adminToken: string;
  stop(): Promise<void>;
}

/** The clusters deploymentBody() targets. Written to a file of our own so a crossfade.yaml in the working directory cannot change what is measured. */
const BENCH_CONFIG = {
  clusters: [
    { name: 'eks-use1', cloud: 'aws', region: 'us-east-1' },
    { name: 'gke-usc1', cloud: 'gcp', project: 'crossfade-bench', location: 'us-central1' },
  ],
};

/** @param extraConfig more top-level keys of the configuration (a scenario's analysis providers, policy rules). */
async function prepareDataDir(extraConfig: Record<string, unknown> = {}): Promise<{ dataDir: string; env: Record<string, string | undefined> }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'crossfade-bench-'));
  const configPath = join(dataDir, 'crossfade.json');
  await writeFile(configPath, JSON.stringify({ ...BENCH_CONFIG, ...extraConfig }));
  const env: Record<string, string | undefined> = {
    ...process.env,
    CROSSFADE_LOG_LEVEL: 'silent',
    CROSSFADE_CONFIG: configPath,
    CROSSFADE_ADMIN_TOKEN: randomBytes(20).toString('hex'),
  };
  delete env['CROSSFADE_DYNAMODB_ENDPOINT'];
  return { dataDir, env };
}

export async function startEmbeddedBackend(extraConfig: Record<string, unknown> = {}): Promise<ApiBackend> {
  const { dataDir, env } = await prepareDataDir(extraConfig);
  try {
    // persist: true is what `npm start` runs: dynalite on LevelDB under the data directory.
    const stack = await startLocalStack({ env, dataDir, port: 0, persist: true });
    return {
      name: 'embedded',
      store: stack.storeDescription.replace(dataDir, '<tmp>'),
      url: stack.url,
      adminToken: stack.adminToken,
      async stop() {
        try {
          await stack.stop();
        } finally {
          await rm(dataDir, { recursive: true, force: true });
        }
      },
    };
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}

/** Why DynamoDB Local cannot run here, or undefined when Java answers. */
export function dynamoDbLocalUnavailable(): string | undefined {
  const probe = spawnSync('java', ['-version'], { stdio: 'ignore' });
  if (probe.error) return `java not found (${(probe.error as NodeJS.ErrnoException).code ?? probe.error.message}): DynamoDB Local needs Java 17+`;
  if (probe.status !== 0) return `\`java -version\` exited with ${probe.status}`;
  return undefined;
}

/** Credentials DynamoDB Local accepts; it scopes tables by access key, any key works. */
const FAKE_AWS = { AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKE', AWS_SECRET_ACCESS_KEY: 'fakesecretfakesecret', AWS_REGION: 'us-east-1' };

export async function startDynamoDbLocalBackend(): Promise<ApiBackend> {
  const { dataDir, env } = await prepareDataDir();
  let dynamo;
  try {
    dynamo = await startDynamoDbLocal();
    const stack = await startLocalStack({
      env: { ...env, ...FAKE_AWS, CROSSFADE_DYNAMODB_ENDPOINT: dynamo.endpoint, CROSSFADE_TABLE: `crossfade-bench-${randomUUID().slice(0, 8)}` },
      dataDir,
      port: 0,
    });
    const started = dynamo;
    return {
      name: 'dynamodb-local',
      store: 'DynamoDB Local (in memory, Java)',
      url: stack.url,
      adminToken: stack.adminToken,
      async stop() {
        try {
          await stack.stop();
        } finally {
          await started.stop();
          await rm(dataDir, { recursive: true, force: true });
        }
      },
    };
  } catch (error) {
    await dynamo?.stop();
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}
