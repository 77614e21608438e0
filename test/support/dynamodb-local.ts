/**
 * DynamoDB Local (the jar shipped inside the npm package amplify-dynamodb-simulator), started once
 * per test run by vitest's globalSetup and stopped by PID. It has no host flag and binds every
 * interface; tests reach it only on 127.0.0.1, and .ci/run runs the suite in a loopback-only
 * network namespace when it can.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { freePort } from './ports.js';
import { dirname, join } from 'node:path';
import { ListTablesCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';

export interface RunningDynamoDbLocal {
  endpoint: string;
  pid: number;
  stop(): Promise<void>;
}

export function dynamoDbLocalDirectory(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('amplify-dynamodb-simulator/package.json')), 'emulator');
}

export async function startDynamoDbLocal(): Promise<RunningDynamoDbLocal> {
  const directory = dynamoDbLocalDirectory();
  const port = await freePort();
  const child = spawn(
    'java',
    [`-Djava.library.path=${join(directory, 'DynamoDBLocal_lib')}`, '-jar', 'DynamoDBLocal.jar', '-inMemory', '-port', String(port), '-disableTelemetry'],
    { cwd: directory, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const spawnFailure = new Promise<never>((_, reject) => {
    child.once('error', (error) => reject(new Error(`cannot start DynamoDB Local (is Java 17 installed?): ${error.message}`)));
    child.once('exit', (code) => reject(new Error(`DynamoDB Local exited with ${code} before it answered: ${stderr.slice(-2000)}`)));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  await Promise.race([waitUntilAnswering(endpoint, 60_000), spawnFailure]);
  return { endpoint, pid: child.pid!, stop: () => stopProcess(child) };
}

async function waitUntilAnswering(endpoint: string, timeoutMs: number): Promise<void> {
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'AKIAFAKEFAKEFAKE', secretAccessKey: 'fakesecretfakesecret' }, maxAttempts: 1 });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      try {
        await client.send(new ListTablesCommand({}));
        return;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`DynamoDB Local did not answer on ${endpoint} within ${timeoutMs} ms`, { cause: error });
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  } finally {
    client.destroy();
  }
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    process.kill(child.pid!, 'SIGTERM');
  });
}
