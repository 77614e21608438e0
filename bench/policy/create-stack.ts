/**
 * One configuration of `policy/create` as a service in a Node process of its own (create.ts):
 * `tsx create-stack.ts <row>` starts that configuration's stack, prints its URL and token, serves
 * the parent's creates until told to stop, then prints what its rules service saw.
 */
import { serveAsChild } from '../lib/child-service.js';
import { startConfiguration } from './create.js';

await serveAsChild(() => startConfiguration(Number(process.argv[2]), (message) => process.stderr.write(`bench policy/${message}\n`)));
