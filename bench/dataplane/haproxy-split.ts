/**
 * Scenario `dataplane/haproxy-split`: one split change (90/10 → 50/50) on 1, 4 and 16 local HAProxy
 * instances of one proxy group, until every instance reads back the new weights — through the
 * Runtime API (HaproxyTrafficRouter: applySplit, then verifySplit until 'converged'), and the
 * classic way (rewrite each instance's haproxy.cfg, `reload` on its master CLI, read back until the
 * new worker serves the new weights).
 */
import type { Endpoint, ProxyGroup, Split } from '../../shared/domain/mesh.js';
import { serverWeightsFor } from '../../shared/domain/haproxy-weights.js';
import { haproxyBackendName, haproxyServerName, HaproxyTrafficRouter } from '../../shared/adapters/haproxy/haproxy-router.js';
import type { VersionEndpoints } from '../../shared/ports/traffic-router.js';
import { haproxyUnavailable, haproxyVersion, startHaproxyFleet, stopFleet, type BenchHaproxy, type FleetBackend } from '../lib/haproxy-fleet.js';
import { sized } from '../lib/size.js';
import { median, roundMs, summarize } from '../lib/stats.js';
import type { BenchContext, ScenarioOutcome } from '../lib/suite.js';
import { formatMs, type Table } from '../lib/table.js';
import { startTimer } from '../lib/timing.js';
import { AIMS } from './aims.js';

const SIZES = sized([1, 4, 16], [1]);
const RUNS = sized(9, 1);
const SERVICE = 'checkout';
const FROM: Split = { v1: 90, v2: 10 };
const TO: Split = { v1: 50, v2: 50 };
/** Two servers per version, on loopback ports nothing listens on: no traffic is sent, no health checks run. */
const BACKEND: readonly VersionEndpoints[] = [
  { version: 'v1', endpoints: [endpoint(20_001), endpoint(20_002)] },
  { version: 'v2', endpoints: [endpoint(20_003), endpoint(20_004)] },
];
/** No single convergence may take longer; a run that does is reported, not waited for. */
const CONVERGE_DEADLINE_MS = 10_000;
/** Between read-backs while a reload is under way. */
const RELOAD_POLL_MS = 1;

function endpoint(port: number): Endpoint {
  return { address: '127.0.0.1', port, zone: null };
}

/** The backend as haproxy.cfg declares it for `split`: the same server names and weights the router sets at runtime. */
function configBackends(split: Split): FleetBackend[] {
  const servers = BACKEND.flatMap(({ version, endpoints }) => endpoints.map((e) => ({ version, endpoint: e, name: haproxyServerName(version, e) })));
  const weights = serverWeightsFor(split, servers.map(({ name, version }) => ({ server: name, version })));
  return [{ name: haproxyBackendName(SERVICE), servers: servers.map(({ name, endpoint: e }) => ({ name, address: e.address, port: e.port, weight: weights.get(name)! })) }];
}

function groupOf(fleet: readonly BenchHaproxy[]): ProxyGroup {
  return { name: 'haproxy-edge', kind: 'haproxy', cloud: 'aws', region: 'us-east-1', proxies: fleet.map((instance) => instance.proxy) };
}

interface Convergence {
  ms: number;
  /** verifySplit calls until 'converged' (each asks every instance once). */
  verifies: number;
  converged: boolean;
}

async function verifyUntilConverged(router: HaproxyTrafficRouter, group: ProxyGroup, split: Split, elapsed: () => number, pauseMs: number): Promise<Omit<Convergence, 'ms'>> {
  for (let verifies = 1; ; verifies++) {
    const verification = await router.verifySplit(group, SERVICE, BACKEND, split);
    if (verification.state === 'converged') return { verifies, converged: true };
    if (elapsed() > CONVERGE_DEADLINE_MS) return { verifies, converged: false };
    if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
}

/** applySplit, then verifySplit until converged: what a traffic step does. */
async function viaRuntimeApi(router: HaproxyTrafficRouter, group: ProxyGroup, split: Split): Promise<Convergence> {
  const elapsed = startTimer();
  await router.applySplit(group, SERVICE, BACKEND, split);
  const outcome = await verifyUntilConverged(router, group, split, elapsed, 0);
  return { ms: elapsed(), ...outcome };
}

/** Every instance: write the config, reload through the master CLI; then read back until all serve it. */
async function viaReload(fleet: readonly BenchHaproxy[], reader: HaproxyTrafficRouter, group: ProxyGroup, split: Split): Promise<Convergence> {
  const elapsed = startTimer();
  const backends = configBackends(split);
  await Promise.all(
    fleet.map(async (instance) => {
      await instance.writeConfig(backends);
      await instance.reload();
    }),
  );
  const outcome = await verifyUntilConverged(reader, group, split, elapsed, RELOAD_POLL_MS);
  return { ms: elapsed(), ...outcome };
}

interface SizeResult {
  instances: number;
  runtimeApi: Convergence[];
  reload: Convergence[];
}

async function measureSize(size: number, context: BenchContext): Promise<SizeResult> {
  context.progress(`haproxy-split: starting ${size} HAProxy instance(s)`);
  const fleet = await startHaproxyFleet('bench-edge', size, configBackends(FROM));
  try {
    const group = groupOf(fleet);
    // The router as production builds it (default timeouts and connect retries).
    const router = new HaproxyTrafficRouter();
    // Reading back during a reload: a refused connection is the reload under way, so ask again at once rather than after the router's retry pause.
    const reader = new HaproxyTrafficRouter({ connectAttempts: 1, timeoutMs: 1_000 });
    const result: SizeResult = { instances: size, runtimeApi: [], reload: [] };
    // Uncounted: the first connection to each instance, the router's code paths compiled.
    await viaRuntimeApi(router, group, TO);
    await viaRuntimeApi(router, group, FROM);
    context.progress(`haproxy-split: ${size} instance(s): Runtime API, ${RUNS} runs`);
    for (let run = 0; run < RUNS; run++) {
      result.runtimeApi.push(await viaRuntimeApi(router, group, TO));
      await viaRuntimeApi(router, group, FROM);
    }
    // The config still says FROM: runtime changes were the only ones so far.
    context.progress(`haproxy-split: ${size} instance(s): rewrite + reload, ${RUNS} runs`);
    for (let run = 0; run < RUNS; run++) {
      result.reload.push(await viaReload(fleet, reader, group, TO));
      await viaReload(fleet, reader, group, FROM);
    }
    return result;
  } finally {
    await stopFleet(fleet);
  }
}

export async function measureHaproxySplit(context: BenchContext): Promise<ScenarioOutcome> {
  const unavailable = haproxyUnavailable();
  if (unavailable) {
    const table: Table = {
      title: 'dataplane / haproxy-split',
      columns: [{ header: 'instances' }, { header: 'result' }],
      rows: [['—', `skipped: ${unavailable}`]],
    };
    return { tables: [table], results: [{ skipped: unavailable }] };
  }
  const version = haproxyVersion();
  const results: Record<string, unknown>[] = [];
  const rows: string[][] = [];
  for (const size of SIZES) {
    const measured = await measureSize(size, context);
    const runtime = summarize(measured.runtimeApi.map((c) => c.ms));
    const reload = summarize(measured.reload.map((c) => c.ms));
    const notConverged = [...measured.runtimeApi, ...measured.reload].filter((c) => !c.converged).length;
    const result = {
      instances: size,
      haproxy: version,
      runs: RUNS,
      runtimeApiMs: { median: roundMs(runtime.p50), min: roundMs(runtime.min), max: roundMs(runtime.max), all: measured.runtimeApi.map((c) => roundMs(c.ms)) },
      runtimeApiVerifies: median(measured.runtimeApi.map((c) => c.verifies)),
      reloadMs: { median: roundMs(reload.p50), min: roundMs(reload.min), max: roundMs(reload.max), all: measured.reload.map((c) => roundMs(c.ms)) },
      reloadVerifies: median(measured.reload.map((c) => c.verifies)),
      reloadOverRuntime: Math.round((reload.p50 / runtime.p50) * 10) / 10,
      notConverged,
      aim: size === 16 ? AIMS.haproxySplit : null,
    };
    results.push(result);
    rows.push([
      String(size),
      `${formatMs(runtime.p50)} (${formatMs(runtime.min)}–${formatMs(runtime.max)})`,
      String(result.runtimeApiVerifies),
      `${formatMs(reload.p50)} (${formatMs(reload.min)}–${formatMs(reload.max)})`,
      String(result.reloadVerifies),
      `${result.reloadOverRuntime}×`,
      String(notConverged),
      size === 16 ? 'runtime < 100 ms' : '',
    ]);
  }
  const table: Table = {
    title: `dataplane / haproxy-split: ${describe(FROM)} → ${describe(TO)} until every instance verifies — HAProxy ${version}, median of ${RUNS}`,
    columns: [
      { header: 'instances' },
      { header: 'Runtime API ms median (min–max)', align: 'right' },
      { header: 'verifies', align: 'right' },
      { header: 'rewrite + reload ms median (min–max)', align: 'right' },
      { header: 'read-backs', align: 'right' },
      { header: 'reload / runtime', align: 'right' },
      { header: 'not converged', align: 'right' },
      { header: 'aim' },
    ],
    rows,
    notes: [
      `One proxy group of N instances (haproxy -W, nbthread 1, TCP admin socket on 127.0.0.1), backend ${haproxyBackendName(SERVICE)} with 2 servers per version declared in haproxy.cfg (weights ${describeWeights(FROM)} → ${describeWeights(TO)}); the instances are started once per size, stopped by PID after.`,
      'Runtime API: HaproxyTrafficRouter.applySplit (per instance: show servers state, then one line of `set server … weight`), then verifySplit (show servers state) until \'converged\'; all instances in parallel. verifies: verifySplit calls needed (1 = converged on the first read-back).',
      `rewrite + reload: write each instance's haproxy.cfg with the new weights and send \`reload\` to its master CLI (-S, unix socket; the master re-executes, re-reads the file, starts a new worker), then verifySplit every ${RELOAD_POLL_MS} ms until every instance's new worker reads back the new weights; read-backs: verifySplit calls needed.`,
      "Not SIGUSR2: on 2.6.12 a SIGUSR2 sent within ~100 ms after the previous reload's new worker answers is silently lost (the master is still starting up) and that reload never happens; the master CLI queues the command instead.",
      `Each run is timed from the first write to the first 'converged'; between runs the split goes back to ${describe(FROM)} the same way, untimed. One uncounted Runtime API round trip first.`,
      `not converged: runs that had not converged after ${CONVERGE_DEADLINE_MS / 1000} s (their time is the deadline). Aim: ${AIMS.haproxySplit}.`,
    ],
  };
  // A split that never converged is a broken router or fleet, not a figure: the run fails.
  const failures = results.filter((r) => (r['notConverged'] as number) > 0).map((r) => `${String(r['instances'])} instance(s): ${String(r['notConverged'])} runs not converged within ${CONVERGE_DEADLINE_MS / 1000} s`);
  return { tables: [table], results, failures };
}

function describe(split: Split): string {
  return Object.values(split).join('/');
}

function describeWeights(split: Split): string {
  return configBackends(split)[0]!.servers.map((s) => s.weight).join('/');
}
