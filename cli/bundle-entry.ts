/**
 * The entry of the CLI bundle (dist/cli/crossfade.mjs, made by scripts/cli-bundle.ts), which the
 * Spinnaker run-job image runs: `main(argv)` once, then exit with its code once stdout drained (a
 * piped log must never lose its last line, which is where the run-job outputs are).
 *
 * cli/main.ts also runs itself when it is the script node was started with (`tsx cli/main.ts`), by
 * comparing its own URL with process.argv[1]. Bundled, its URL is the bundle's, the very script node
 * runs, so it would run every command a second time: the script path is hidden while it loads.
 */
const script = process.argv[1] ?? '';
process.argv[1] = process.execPath;
const { main } = await import('./main.js');
process.argv[1] = script;
const code = await main(process.argv.slice(2));
process.stdout.write('', () => process.exit(code));
