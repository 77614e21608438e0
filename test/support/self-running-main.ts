/**
 * A stand-in for cli/main.ts in tests of the CLI bundle's entry (cli/bundle-entry.ts): the same
 * self-run check main.ts has, and a main that takes a while and records each run in the file its
 * first argument names, so a second run cannot hide behind the first one's process.exit.
 */
import { appendFileSync } from 'node:fs';

export async function main(argv: string[]): Promise<number> {
  appendFileSync(argv[0]!, 'run\n');
  await new Promise((resolve) => setTimeout(resolve, 300));
  return 7;
}

if (import.meta.url === `file://${process.argv[1]}`) void main(process.argv.slice(2)).then((code) => process.exit(code));
