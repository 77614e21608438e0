#!/usr/bin/env node
// `npx crossfade …` from a checkout after `npm ci`, no build: tsx's loader compiles cli/main.ts on
// the fly (docs/cli.md). The exit code waits for stdout to drain, so a piped document is never cut.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
const code = await main(process.argv.slice(2));
process.stdout.write('', () => process.exit(code));
