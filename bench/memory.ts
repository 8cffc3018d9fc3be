// Benchmark 2 — memory: the controller's resident set after its caches synced, on an empty cluster and on one with
// 2,000 Secrets of 64 KiB, 2,000 ConfigMaps and 200 annotated workloads. Read from /proc/<pid>/status of the child
// process (VmRSS, VmHWM for the peak), cross-checked with its process_resident_memory_bytes metric.

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

interface MemorySample { rssMiB: number; peakMiB: number; heapUsedMiB: number; metricRssMiB: number; readyMs: number }

/** Starts the controller, waits for ready and idle, lets memory settle, and samples it. */
async function measure(ctx: BenchContext, cp: ControlPlane, label: string, settleMs: number): Promise<MemorySample> {
  const proc: ControllerProcess = await ctx.controller(cp, [], label);
  const readyMs = await proc.waitReady();
  await settle(proc);
  await delay(settleMs);
  const mem = proc.memory();
  const metrics = await proc.metrics();
  const value = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(metrics)?.[1] ?? NaN);
  const sample = { rssMiB: mem.rss / MiB, peakMiB: mem.hwm / MiB, heapUsedMiB: value('nodejs_heap_size_used_bytes') / MiB, metricRssMiB: value('process_resident_memory_bytes') / MiB, readyMs };
  await proc.stop();
  return sample;
}

export const memory: Benchmark = {
  name: 'memory',
  title: 'Memory: controller RSS after sync, loaded cluster vs empty',
  async run(ctx) {
    const secrets = ctx.smoke ? 20 : 2000;
    const configMaps = ctx.smoke ? 20 : 2000;
    const workloads = ctx.smoke ? 5 : 200;
    const secretBytes = 64 * 1024;
    const settleMs = ctx.smoke ? 500 : 10_000;
    ctx.out.params = { secrets, secretBytes, configMaps, workloads, settleMs };

    const cp = await ctx.controlPlane({ controllerManager: false });
    // The first start generates the sealing key (seconds of RSA work); measure the empty cluster on the second.
    await measure(ctx, cp, 'warmup', 0);
    const empty = await measure(ctx, cp, 'empty', settleMs);

    await ensureNamespace(cp.client, NS);
    const createMs = await createAll(cp.client, SECRETS, range(secrets).map((i) => ({
      apiVersion: 'v1', kind: 'Secret', metadata: { name: `secret-${pad(i)}`, namespace: NS }, type: 'Opaque',
      data: { payload: randomBytes(secretBytes).toString('base64') },
    })), 8);
    await createAll(cp.client, CONFIGMAPS, range(configMaps).map((i) => ({
      apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cfg-${pad(i)}`, namespace: NS },
      data: { 'app.properties': `index=${i}\n${'x'.repeat(1000)}\n` },
    })));
    await createAll(cp.client, DEPLOYMENTS, range(workloads).map((i) => deployment(NS, `app-${pad(i)}`,
      { configMap: `cfg-${pad(i)}`, secret: `secret-${pad(i)}` }, { annotations: { 'keelson.dev/auto': 'true' } })));
    ctx.log(`created ${secrets} Secrets in ${round(createMs / 1000, 1)} s`);

    const loaded = await measure(ctx, cp, 'loaded', settleMs);
    const dataMiB = (secrets * secretBytes) / MiB;
    const growth = loaded.rssMiB - empty.rssMiB;
    const ref = 'same controller, empty cluster';
    ctx.out.figures.push(
      { name: 'RSS after sync', unit: 'MiB', keelson: round(loaded.rssMiB, 1), reference: round(empty.rssMiB, 1), referenceName: ref },
      { name: 'peak RSS (VmHWM)', unit: 'MiB', keelson: round(loaded.peakMiB, 1), reference: round(empty.peakMiB, 1), referenceName: ref },
      { name: 'V8 heap used', unit: 'MiB', keelson: round(loaded.heapUsedMiB, 1), reference: round(empty.heapUsedMiB, 1), referenceName: ref },
      { name: 'RSS growth', unit: 'MiB', keelson: round(growth, 1), reference: round(dataMiB, 1), referenceName: 'Secret data in the cluster' },
    );
    ctx.out.goals.push(atMost('RSS ≤ 150 MiB', round(loaded.rssMiB, 1), 150, 'MiB'));
    ctx.out.goals.push(atMost('growth ≤ 0.1× Secret data', round(growth / dataMiB, 3), 0.1, '×'));
    ctx.out.notes.push(`RSS from /proc/<pid>/status ${settleMs / 1000} s after the caches synced and the queues drained; process_resident_memory_bytes said ${round(loaded.metricRssMiB, 1)} MiB (empty ${round(empty.metricRssMiB, 1)} MiB)`);
    ctx.out.notes.push('Reloader is reported at about 5× the Secret data; Keelson keeps a digest per Secret, not its data');
  },
};
