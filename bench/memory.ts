// Benchmark 2 — memory: the controller's resident set after its caches synced and its peak while they synced, on an
// empty cluster, with 2,000 Secrets of 64 KiB (plus 2,000 ConfigMaps and 200 annotated workloads), and with 8,000
// such Secrets (500 MiB of Secret data), in one run on one control plane. Read from /proc/<pid>/status of the child
// process (VmRSS, VmHWM for the peak), cross-checked with its process_resident_memory_bytes metric. Each figure is
// shown beside the previous run's (PREVIOUS), so a change is read off the table.

import { randomBytes } from 'node:crypto';
import { CONFIGMAPS, DEPLOYMENTS, SECRETS } from '../src/kube/resources.js';
import type { Benchmark, BenchContext } from './support/bench.js';
import { settle } from './support/bench.js';
import { createAll, deployment, ensureNamespace } from './support/cluster.js';
import type { ControllerProcess } from './support/controller-process.js';
import type { ControlPlane } from '../test/support/control-plane.js';
import { delay, pad, range } from './support/pool.js';
import { atMost } from './support/report.js';
import { round } from './support/stats.js';

const MiB = 2 ** 20;
const NS = 'memory';
const SECRET_BYTES = 64 * 1024;

interface MemorySample { rssMiB: number; peakMiB: number; heapUsedMiB: number; heapTotalMiB: number; externalMiB: number; metricRssMiB: number; readyMs: number }

/**
 * The figures of the run before the last change to memory, per stage (RSS after sync, peak, V8 heap used, growth
 * ÷ Secret data). Update them when a change is measured, so the table keeps showing before → after.
 * Source: this benchmark at full size on Keelson 5594cdd (before issue 12's V8, malloc and node-forge changes),
 * 2026-11-30T19:20Z, run back to back with the one after, on a 2-core machine loaded by other test runs.
 */
const PREVIOUS: Readonly<Record<Stage, { rss: number; peak: number; heap: number; growth?: number } | undefined>> = {
  empty: { rss: 88.2, peak: 90.9, heap: 19.1 },
  '2000': { rss: 110.3, peak: 143, heap: 20.4, growth: 0.177 },
  '8000': { rss: 126.2, peak: 163.9, heap: 23.1, growth: 0.076 },
};
const PREVIOUS_NAME = 'before (5594cdd)';

type Stage = 'empty' | '2000' | '8000';

/** Starts the controller, waits for ready and idle, lets memory settle, and samples it. */
async function measure(ctx: BenchContext, cp: ControlPlane, label: string, settleMs: number): Promise<MemorySample> {
  const proc: ControllerProcess = await ctx.controller(cp, [], label);
  const readyMs = await proc.waitReady();
  await settle(proc);
  await delay(settleMs);
  const mem = proc.memory();
  const metrics = await proc.metrics();
  const value = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(metrics)?.[1] ?? NaN) / MiB;
  const sample = {
    rssMiB: mem.rss / MiB, peakMiB: mem.hwm / MiB, heapUsedMiB: value('nodejs_heap_size_used_bytes'), heapTotalMiB: value('nodejs_heap_size_total_bytes'),
    externalMiB: value('nodejs_external_memory_bytes'), metricRssMiB: value('process_resident_memory_bytes'), readyMs,
  };
  await proc.stop();
  ctx.log(`${label}: RSS ${round(sample.rssMiB, 1)} MiB, peak ${round(sample.peakMiB, 1)} MiB, heap used/total ${round(sample.heapUsedMiB, 1)}/${round(sample.heapTotalMiB, 1)} MiB, external ${round(sample.externalMiB, 1)} MiB, ready in ${Math.round(readyMs)} ms`);
  return sample;
}

/** Creates Secrets [from, to) of SECRET_BYTES random bytes each, with bounded concurrency; returns the ms it took. */
function createSecrets(cp: ControlPlane, from: number, to: number): Promise<number> {
  return createAll(cp.client, SECRETS, range(to - from).map((i) => ({
    apiVersion: 'v1', kind: 'Secret', metadata: { name: `secret-${pad(from + i)}`, namespace: NS }, type: 'Opaque',
    data: { payload: randomBytes(SECRET_BYTES).toString('base64') },
  })), 16);
}

export const memory: Benchmark = {
  name: 'memory',
  title: 'Memory: controller RSS after sync and peak, empty cluster vs 2,000 and 8,000 Secrets of 64 KiB',
  async run(ctx) {
    const sizes = ctx.memorySecrets ?? (ctx.smoke ? [20, 80] : [2000, 8000]);
    const configMaps = ctx.smoke ? 20 : 2000;
    const workloads = ctx.smoke ? 5 : 200;
    const settleMs = ctx.smoke ? 500 : 10_000;
    // The previous figures are for the default sizes at full size: anything else is shown without them.
    const comparable = !ctx.smoke && sizes[0] === 2000 && sizes[1] === 8000;
    ctx.out.params = { secrets: sizes.join('+'), secretBytes: SECRET_BYTES, configMaps, workloads, settleMs };

    const cp = await ctx.controlPlane({ controllerManager: false });
    // The first start generates the sealing key (seconds of RSA work); measure the empty cluster on the second.
    await measure(ctx, cp, 'warmup', 0);
    const empty = await measure(ctx, cp, 'empty', settleMs);
    figures(ctx, comparable, 'empty', 'empty cluster', empty, undefined, undefined);

    await ensureNamespace(cp.client, NS);
    const [small, large] = sizes as [number, number];
    const createMs = await createSecrets(cp, 0, small);
    await createAll(cp.client, CONFIGMAPS, range(configMaps).map((i) => ({
      apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cfg-${pad(i)}`, namespace: NS },
      data: { 'app.properties': `index=${i}\n${'x'.repeat(1000)}\n` },
    })));
    await createAll(cp.client, DEPLOYMENTS, range(workloads).map((i) => deployment(NS, `app-${pad(i)}`,
      { configMap: `cfg-${pad(i)}`, secret: `secret-${pad(i)}` }, { annotations: { 'keelson.dev/auto': 'true' } })));
    ctx.log(`created ${small} Secrets in ${round(createMs / 1000, 1)} s`);
    const mid = await measure(ctx, cp, `secrets-${small}`, settleMs);
    figures(ctx, comparable, '2000', `${small} Secrets`, mid, empty, small);

    const moreMs = await createSecrets(cp, small, large);
    ctx.log(`created ${large - small} more Secrets (${large} in all) in ${round(moreMs / 1000, 1)} s`);
    const big = await measure(ctx, cp, `secrets-${large}`, settleMs);
    figures(ctx, comparable, '8000', `${large} Secrets`, big, empty, large);

    const growth = (s: MemorySample, n: number) => round((s.rssMiB - empty.rssMiB) / ((n * SECRET_BYTES) / MiB), 3);
    ctx.out.goals.push(
      atMost(`${small} Secrets: RSS after sync ≤ 100 MiB`, round(mid.rssMiB, 1), 100, 'MiB'),
      atMost(`${small} Secrets: peak (VmHWM) ≤ 160 MiB`, round(mid.peakMiB, 1), 160, 'MiB'),
      atMost(`${small} Secrets: growth ≤ 0.1× Secret data`, growth(mid, small), 0.1, '×'),
      atMost(`${large} Secrets: peak (VmHWM) ≤ 200 MiB`, round(big.peakMiB, 1), 200, 'MiB'),
    );
    ctx.out.notes.push(
      `RSS from /proc/<pid>/status ${settleMs / 1000} s after the caches synced and the queues drained; process_resident_memory_bytes said ${round(empty.metricRssMiB, 1)} / ${round(mid.metricRssMiB, 1)} / ${round(big.metricRssMiB, 1)} MiB (empty / ${small} / ${large})`,
      `V8 heap total / external: empty ${round(empty.heapTotalMiB, 1)} / ${round(empty.externalMiB, 1)} MiB, ${small} Secrets ${round(mid.heapTotalMiB, 1)} / ${round(mid.externalMiB, 1)} MiB, ${large} Secrets ${round(big.heapTotalMiB, 1)} / ${round(big.externalMiB, 1)} MiB`,
      `start → ready: empty ${Math.round(empty.readyMs)} ms, ${small} Secrets ${Math.round(mid.readyMs)} ms, ${large} Secrets ${Math.round(big.readyMs)} ms`,
      'Reloader is reported at about 5× the Secret data; Keelson keeps a digest per Secret, not its data',
    );
  },
};

/**
 * The figures of one stage, each beside the previous run's (at the default sizes only); the growth
 * over the empty cluster stands beside the Secret data, so its ratio column is growth ÷ data.
 */
function figures(ctx: BenchContext, comparable: boolean, stage: Stage, label: string, s: MemorySample, empty: MemorySample | undefined, secrets: number | undefined): void {
  const prev = comparable ? PREVIOUS[stage] : undefined;
  const beside = (v: number | undefined) => (v === undefined ? {} : { reference: v, referenceName: PREVIOUS_NAME });
  ctx.out.figures.push(
    { name: `RSS after sync, ${label}`, unit: 'MiB', keelson: round(s.rssMiB, 1), ...beside(prev?.rss) },
    { name: `peak RSS (VmHWM), ${label}`, unit: 'MiB', keelson: round(s.peakMiB, 1), ...beside(prev?.peak) },
    { name: `V8 heap used, ${label}`, unit: 'MiB', keelson: round(s.heapUsedMiB, 1), ...beside(prev?.heap) },
  );
  if (empty && secrets) {
    const dataMiB = (secrets * SECRET_BYTES) / MiB;
    const before = prev?.growth === undefined ? '' : ` (${PREVIOUS_NAME}: ${prev.growth}×)`;
    ctx.out.figures.push({ name: `RSS growth over empty, ${label}`, unit: 'MiB', keelson: round(s.rssMiB - empty.rssMiB, 1), reference: round(dataMiB, 1), referenceName: `Secret data in the cluster${before}` });
  }
}
