/**
 * serverless.yml, as AWS would receive it: `serverless package` (osls) runs offline with fake
 * credentials, and these specifications read the CloudFormation template and the zips it wrote.
 * The bundles come from `npm run build` (npm test runs it before vitest).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TTL_ATTRIBUTE, tableDefinition } from '../../shared/adapters/dynamodb/table.js';
import { FUNCTION_NAMES, FUNCTIONS, type FunctionName } from '../support/function-roles.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const STAGE = 'test';
const SERVICE = 'crossfade';


interface Resource {
  Type: string;
  Properties?: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}
interface Statement {
  Effect?: string;
  Action?: unknown;
  NotAction?: unknown;
  Resource?: unknown;
}

let outDir = '';
let homeDir = '';
let resources: Record<string, Resource> = {};

beforeAll(async () => {
  const missing = FUNCTION_NAMES.map((fn) => `dist/aws/${fn}/index.mjs`).filter((f) => !existsSync(path.join(ROOT, f)));
  if (missing.length > 0) {
    throw new Error(`missing Lambda bundle(s) ${missing.join(', ')}: run \`npm run build\` first`);
  }
  outDir = await mkdtemp(path.join(tmpdir(), 'crossfade-sls-package-'));
  homeDir = await mkdtemp(path.join(tmpdir(), 'crossfade-sls-home-'));
  // A built-from-scratch environment: no real credentials, profile or config reach the framework.
  const env = {
    PATH: process.env['PATH'] ?? '',
    HOME: homeDir,
    AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKE',
    AWS_SECRET_ACCESS_KEY: 'fakesecret',
    AWS_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
  };
  // process.execPath: the same Node 22 that runs vitest, whatever `node` is first on PATH.
  const args = [path.join(ROOT, 'node_modules/.bin/serverless'), 'package', '--package', outDir, '--stage', STAGE, '--region', 'us-east-1'];
  await new Promise<void>((resolve, reject) => {
    execFile(process.execPath, args, { cwd: ROOT, env, timeout: 120_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`serverless package failed (${error.message})\n--- stdout\n${stdout}\n--- stderr\n${stderr}`));
      else resolve();
    });
  });
  const template = JSON.parse(await readFile(path.join(outDir, 'cloudformation-template-update-stack.json'), 'utf8')) as {
    Resources: Record<string, Resource>;
  };
  resources = template.Resources;
}, 150_000);

afterAll(async () => {
  for (const dir of [outDir, homeDir]) if (dir) await rm(dir, { recursive: true, force: true });
});

describe('serverless.yml, packaged', () => {
  it('runs reconciliation on a schedule (EventBridge), every 5 minutes, through the reconcile function', () => {
    const rules = ofType('AWS::Events::Rule').filter(([, rule]) => JSON.stringify(rule.Properties?.['Targets']).includes('ReconcileLambdaFunction'));
    expect(rules).toHaveLength(1);
    expect(rules[0]![1].Properties?.['ScheduleExpression']).toBe('rate(5 minutes)');
  });

  it('delivers notifications every minute through the notify function, which may put events on the configured bus only', () => {
    const rules = ofType('AWS::Events::Rule').filter(([, rule]) => JSON.stringify(rule.Properties?.['Targets']).includes('NotifyLambdaFunction'));
    expect(rules).toHaveLength(1);
    expect(rules[0]![1].Properties?.['ScheduleExpression']).toBe('rate(1 minute)');
    expect(ofType('AWS::Events::Rule')).toHaveLength(2);
    const puts = FUNCTION_NAMES.flatMap((fn) => statementsOf(roleOf(fn)).filter((s) => actions(s).includes('events:PutEvents')).map((s) => [fn, s] as const));
    expect(puts.map(([fn]) => fn)).toEqual(['notify']);
    expect(actions(puts[0]![1])).toEqual(['events:PutEvents']);
    expect(puts[0]![1].Resource).toEqual({ 'Fn::Sub': 'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default' });
  });

  describe('the state table', () => {
    const expected = tableDefinition('x');
    const table = () => resource('StateTable', 'AWS::DynamoDB::Table');

    it('has exactly the keys and indexes of tableDefinition()', () => {
      const props = table().Properties ?? {};
      expect(props['TableName']).toBe(`${SERVICE}-${STAGE}`);
      expect(props['BillingMode']).toBe('PAY_PER_REQUEST');
      expect(props['BillingMode']).toBe(expected.BillingMode);
      expect(props['KeySchema']).toEqual(expected.KeySchema);
      expect(byName(props['AttributeDefinitions'], 'AttributeName')).toEqual(byName(expected.AttributeDefinitions, 'AttributeName'));
      expect(byName(props['GlobalSecondaryIndexes'], 'IndexName')).toEqual(byName(expected.GlobalSecondaryIndexes, 'IndexName'));
    });

    it('expires idempotency records on the TTL attribute', () => {
      expect(table().Properties?.['TimeToLiveSpecification']).toEqual({ AttributeName: TTL_ATTRIBUTE, Enabled: true });
    });

    it('is protected: point-in-time recovery, deletion protection, encryption, retained by the stack', () => {
      const t = table();
      expect(t.Properties?.['PointInTimeRecoverySpecification']).toEqual({ PointInTimeRecoveryEnabled: true });
      expect(t.Properties?.['DeletionProtectionEnabled']).toBe(true);
      expect(t.Properties?.['SSESpecification']).toMatchObject({ SSEEnabled: true });
      expect(t.DeletionPolicy).toBe('Retain');
      expect(t.UpdateReplacePolicy).toBe('Retain');
    });
  });

  it('defines the canary state machine from shared/workflow/canary.asl.json, its tasks calling the canary function', async () => {
    const machine = resource('CanaryStateMachine', 'AWS::StepFunctions::StateMachine');
    const text = JSON.stringify(machine.Properties?.['DefinitionString']);
    const definition = JSON.parse(await readFile(path.join(ROOT, 'shared/workflow/canary.asl.json'), 'utf8')) as { States: Record<string, unknown> };
    for (const state of Object.keys(definition.States)) expect(text).toContain(state);
    expect(text).toContain('CanaryLambdaFunction');
    expect(text).toContain('waitForTaskToken');
  });

  it('lets the state machine start only itself (a run continuing as a new execution), and the sweep only start and describe its executions', () => {
    const machine = resource('CanaryStateMachine', 'AWS::StepFunctions::StateMachine');
    const roleId = (machine.Properties?.['RoleArn'] as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const machineStatements = statementsOf(roleId).filter((s) => actions(s).some((a) => a.startsWith('states:')));
    const starts = machineStatements.filter((s) => actions(s).includes('states:StartExecution'));
    expect(starts.length).toBeGreaterThan(0);
    for (const statement of starts) expect(JSON.stringify(statement.Resource)).not.toContain('"*"');
    expect(JSON.stringify(starts.map((s) => s.Resource))).toContain(`stateMachine:${SERVICE}-${STAGE}-canary`);

    const sweep = statementsOf(roleOf('reconcile')).filter((s) => actions(s).some((a) => a.startsWith('states:')));
    expect(sweep.find((s) => actions(s).includes('states:StartExecution'))?.Resource).toEqual({ Ref: 'CanaryStateMachine' });
    expect(JSON.stringify(sweep.find((s) => actions(s).includes('states:DescribeExecution'))?.Resource)).toContain(':execution:${CanaryStateMachine.Name}:*');
  });

  it('lets the reconcile function invoke itself, and nothing else, to go on with a run in shards', () => {
    const invokes = statementsOf(roleOf('reconcile')).filter((s) => actions(s).some((a) => a.startsWith('lambda:')));
    expect(invokes.flatMap((s) => actions(s))).toEqual(['lambda:InvokeFunction']);
    expect(JSON.stringify(invokes[0]?.Resource)).toContain(`:function:${SERVICE}-${STAGE}-reconcile`);
    for (const fn of FUNCTION_NAMES.filter((name) => name !== 'reconcile')) expect(statementsOf(roleOf(fn)).some((s) => actions(s).some((a) => a.startsWith('lambda:')))).toBe(false);
  });

  describe.each(FUNCTION_NAMES)('function %s', (fn) => {
    it('is a Node 22 arm64 Lambda with its own handler, limits and environment', () => {
      const props = lambda(fn).props;
      expect(props['Runtime']).toBe('nodejs22.x');
      expect(props['Architectures']).toEqual(['arm64']);
      expect(props['MemorySize']).toBe(512);
      expect(props['Timeout']).toBe(FUNCTIONS[fn].timeoutSeconds);
      expect(props['Handler']).toBe(`dist/aws/${fn}/index.handler`);
      expect(props['Environment']).toEqual({
        Variables: {
          CROSSFADE_TABLE: { Ref: 'StateTable' },
          CROSSFADE_CONFIG: `./dist/aws/${fn}/crossfade.json`,
          NODE_OPTIONS: '--enable-source-maps',
          // Only the function that starts runs and wakes gates knows the state machine.
          ...(fn === 'deployments' || fn === 'reconcile' ? { CROSSFADE_STATE_MACHINE_ARN: { Ref: 'CanaryStateMachine' } } : {}),
        },
      });
    });

    it('runs as its own role, trusted by Lambda only, writing logs only to its own log group', () => {
      const roleId = roleOf(fn);
      const otherRoles = FUNCTION_NAMES.filter((other) => other !== fn).map(roleOf);
      expect(otherRoles).not.toContain(roleId);
      const role = resource(roleId, 'AWS::IAM::Role');
      expect(role.Properties?.['AssumeRolePolicyDocument']).toMatchObject({
        Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      });

      const logGroupId = `${logicalName(fn)}LogGroup`;
      expect(resource(logGroupId, 'AWS::Logs::LogGroup').Properties).toEqual({
        LogGroupName: `/aws/lambda/${SERVICE}-${STAGE}-${fn}`,
        RetentionInDays: 30,
      });
      const logStatements = statementsOf(roleId).filter((s) => actions(s).some((a) => a.startsWith('logs:')));
      expect(logStatements.length).toBeGreaterThan(0);
      for (const s of logStatements) {
        expect(s.Effect).toBe('Allow');
        expect(s.Resource).toEqual({ 'Fn::GetAtt': [logGroupId, 'Arn'] });
      }
    });

    it('may call exactly its DynamoDB actions, on the table and its indexes only', () => {
      const statements = statementsOf(roleOf(fn));
      expect(statements.every((s) => s.NotAction === undefined)).toBe(true);
      expect(statements.flatMap(actions).filter((a) => a === '*' || a.endsWith(':*'))).toEqual([]);

      const dynamo = statements.filter((s) => actions(s).some(isDynamoDbAction));
      expect(dynamo.flatMap(actions).filter(isDynamoDbAction).sort()).toEqual([...FUNCTIONS[fn].dynamodbActions].sort());
      for (const s of dynamo) {
        expect(s.Effect).toBe('Allow');
        const table = { 'Fn::GetAtt': ['StateTable', 'Arn'] };
        const spec = FUNCTIONS[fn] as { tableOnly?: boolean };
        // Deletes are of single items by key: the table only, never an index, as its own statement.
        if (actions(s).includes('dynamodb:DeleteItem') && s.Resource !== undefined && !Array.isArray(s.Resource)) {
          expect(actions(s)).toEqual(['dynamodb:DeleteItem']);
          expect(s.Resource).toEqual(table);
          continue;
        }
        expect(s.Resource).toEqual(spec.tableOnly ? [table] : [table, { 'Fn::Sub': '${StateTable.Arn}/index/*' }]);
      }
    });

    it('is packaged alone: its zip holds only dist/aws/' + fn + '/', async () => {
      const entries = zipEntryNames(await readFile(path.join(outDir, `${fn}.zip`)));
      expect(entries).toContain(`dist/aws/${fn}/index.mjs`);
      expect(entries).toContain(`dist/aws/${fn}/crossfade.json`);
      expect(entries.filter((e) => !e.startsWith(`dist/aws/${fn}/`))).toEqual([]);
    });
  });

  describe('the HTTP API', () => {
    const routes = FUNCTION_NAMES.flatMap((fn) => FUNCTIONS[fn].routes.map((route) => [route, fn] as const));

    it.each(routes)('routes %s to %s', (routeKey, fn) => {
      const found = ofType('AWS::ApiGatewayV2::Route').filter(([, r]) => r.Properties?.['RouteKey'] === routeKey);
      expect(found).toHaveLength(1);
      const route = found[0]![1];
      expect(route.Properties?.['AuthorizationType'] ?? 'NONE').toBe('NONE');
      const target = route.Properties?.['Target'] as { 'Fn::Join': [string, [string, { Ref: string }]] };
      expect(target['Fn::Join'][0]).toBe('/');
      expect(target['Fn::Join'][1][0]).toBe('integrations');
      const integration = resource(target['Fn::Join'][1][1].Ref, 'AWS::ApiGatewayV2::Integration');
      expect(integration.Properties).toMatchObject({
        IntegrationType: 'AWS_PROXY',
        PayloadFormatVersion: '2.0',
        IntegrationUri: { 'Fn::GetAtt': [lambda(fn).id, 'Arn'] },
      });
    });

    it('serves no other route', () => {
      const keys = ofType('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties?.['RouteKey']);
      expect(keys.sort()).toEqual(routes.map(([route]) => route).sort());
    });

    it('has no authorizer and no CORS, and keeps the default endpoint', () => {
      expect(ofType('AWS::ApiGatewayV2::Authorizer')).toEqual([]);
      const apis = ofType('AWS::ApiGatewayV2::Api');
      expect(apis).toHaveLength(1);
      expect(apis[0]![1].Properties?.['CorsConfiguration']).toBeUndefined();
      expect(apis[0]![1].Properties?.['DisableExecuteApiEndpoint']).toBe(false);
    });
  });

  describe('IAM across the whole template', () => {
    it('grants no DynamoDB action on Resource "*"', () => {
      const all = ofType('AWS::IAM::Role', 'AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy').flatMap(([, r]) => statementsIn(r));
      expect(all.length).toBeGreaterThan(0);
      const offending = all.filter(
        (s) => (actions(s).some((a) => isDynamoDbAction(a) || a === '*') || s.NotAction !== undefined) && asList(s.Resource).includes('*'),
      );
      expect(offending).toEqual([]);
    });

    it('has no shared framework role, and every Lambda in the template is one listed here', () => {
      expect(resources['IamRoleLambdaExecution']).toBeUndefined();
      const deployed = ofType('AWS::Lambda::Function').map(([, r]) => r.Properties?.['FunctionName']);
      expect(deployed.sort()).toEqual(FUNCTION_NAMES.map((fn) => `${SERVICE}-${STAGE}-${fn}`).sort());
      expect(new Set(FUNCTION_NAMES.map(roleOf)).size).toBe(FUNCTION_NAMES.length);
    });
  });
});

// --- helpers -------------------------------------------------------------------------------------

function resource(id: string, type: string): Resource {
  const r = resources[id];
  if (!r) throw new Error(`template has no resource ${id}`);
  expect(r.Type, `type of ${id}`).toBe(type);
  return r;
}

function ofType(...types: string[]): [string, Resource][] {
  return Object.entries(resources).filter(([, r]) => types.includes(r.Type));
}

/** The framework's logical name for a function: `health` -> `Health`. */
function logicalName(fn: string): string {
  return fn.charAt(0).toUpperCase() + fn.slice(1);
}

/** Found by its deployed name, not by the framework's naming scheme. */
function lambda(fn: FunctionName): { id: string; props: Record<string, unknown> } {
  const found = ofType('AWS::Lambda::Function').filter(([, r]) => r.Properties?.['FunctionName'] === `${SERVICE}-${STAGE}-${fn}`);
  expect(found, `AWS::Lambda::Function ${fn}`).toHaveLength(1);
  const [id, r] = found[0]!;
  return { id, props: r.Properties ?? {} };
}

/** The logical id of the role the function runs as (serverless.yml: `role: <Id>`). */
function roleOf(fn: FunctionName): string {
  const role = lambda(fn).props['Role'] as { 'Fn::GetAtt'?: [string, string] } | undefined;
  const getAtt = role?.['Fn::GetAtt'];
  if (!getAtt || getAtt[1] !== 'Arn') throw new Error(`function ${fn} does not name a role in this template: ${JSON.stringify(role)}`);
  return getAtt[0];
}

/** Inline statements of a role, plus those of every AWS::IAM::Policy / ManagedPolicy attached to it. */
function statementsOf(roleId: string): Statement[] {
  const attached = ofType('AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy').filter(([, p]) =>
    asList(p.Properties?.['Roles']).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleId })),
  );
  return [resource(roleId, 'AWS::IAM::Role'), ...attached.map(([, p]) => p)].flatMap(statementsIn);
}

function statementsIn(r: Resource): Statement[] {
  const documents =
    r.Type === 'AWS::IAM::Role'
      ? asList(r.Properties?.['Policies']).map((p) => (p as { PolicyDocument?: unknown }).PolicyDocument)
      : [r.Properties?.['PolicyDocument']];
  return documents.flatMap((d) => asList((d as { Statement?: unknown } | undefined)?.Statement) as Statement[]);
}

function actions(s: Statement): string[] {
  return asList(s.Action).filter((a): a is string => typeof a === 'string');
}

function isDynamoDbAction(action: string): boolean {
  return action.toLowerCase().startsWith('dynamodb:');
}

function asList(value: unknown): unknown[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function byName(list: unknown, key: string): unknown[] {
  return [...(list as Record<string, string>[])].sort((a, b) => String(a[key]).localeCompare(String(b[key])));
}

/**
 * The entry names of a zip, read from its central directory (no `unzip` needed on CI).
 * https://pkware.cachefly.net/webdocs/casestudies/APPNOTE.TXT sections 4.3.12 and 4.3.16.
 */
function zipEntryNames(zip: Buffer): string[] {
  const EOCD = 0x06054b50;
  const CENTRAL_HEADER = 0x02014b50;
  // The end record is 22 bytes plus a comment of up to 65,535 bytes, so search backwards.
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip: no end of central directory record');
  const count = zip.readUInt16LE(eocd + 10);
  let offset = zip.readUInt32LE(eocd + 16);
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(offset) !== CENTRAL_HEADER) throw new Error(`bad central directory header at ${offset}`);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    names.push(zip.toString('utf8', offset + 46, offset + 46 + nameLength));
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return names;
}
