/**
 * One row of `policy/create` in a Node process of its own (create.ts): `tsx create-row.ts <row>`
 * prints the row's latencies and failures as one JSON line, then exits.
 */
import { measureRow } from './create.js';

const row = Number(process.argv[2]);
await measureRow(
  row,
  (message) => process.stderr.write(`bench policy/${message}\n`),
  (result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    // The figures are out: a stopped store's late callback must not turn them into a failure.
    process.on('uncaughtException', () => process.exit(0));
  },
);
process.exit(0);
