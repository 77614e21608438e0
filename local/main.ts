/** `npm start`: the whole orchestrator on this machine, no cloud account, no Java. */
import { startLocalStack, PortInUseError } from './stack.js';

async function main(): Promise<void> {
  let stack;
  try {
    stack = await startLocalStack({ env: process.env });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`crossfade: ${error instanceof PortInUseError ? message : `cannot start: ${message}`}`);
    process.exit(1);
  }
  console.log(`crossfade listening on ${stack.url}`);
  console.log(`  state:  ${stack.storeDescription}`);
  console.log(`  config: ${stack.configSource}`);
  if (stack.adminTokenSource === 'generated') console.log(`  admin token (saved to ${stack.adminTokenPath}): ${stack.adminToken}`);
  else if (stack.adminTokenSource === 'file') console.log(`  admin token: in ${stack.adminTokenPath}`);
  else console.log('  admin token: from CROSSFADE_ADMIN_TOKEN');
  const { started, restarted } = stack.resumed.summary;
  if (started + restarted > 0) console.log(`  resumed: ${started + restarted} unfinished run${started + restarted === 1 ? '' : 's'} from their stored state`);
  for (const { reason } of stack.unverifiedGroups) console.log(`  unverified: ${reason}`);
  if (stack.unverifiedGroups.length > 0) console.log('    (traffic steps write and publish their splits, but no proxy confirms them: list proxies in crossfade.yaml)');
  console.log(`  try: curl ${stack.url}/healthz`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`crossfade: ${signal} received, stopping`);
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    stack.stop().then(
      () => process.exit(0),
      (error: Error) => {
        console.error(`crossfade: unclean stop: ${error.message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

void main();
