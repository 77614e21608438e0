/** One DynamoDB Local for the whole run: a JVM takes ~3 s to start and 230 MB to keep. */
import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from './dynamodb-local.js';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoDbLocalEndpoint: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';
  const local = await startDynamoDbLocal();
  project.provide('dynamoDbLocalEndpoint', local.endpoint);
  return () => local.stop();
}
