// Benchmark 1 — reload latency: from a ConfigMap update returning to the workload's roll being seen by a watch,
// Keelson (--debounce 0s) side by side with an ideal controller written here (a raw watch on ConfigMaps → one PATCH
// of the workload, nothing else). Samples alternate between the two, so both see the same machine load.

import { createHash } from 'node:crypto';
import type { KubeClient } from '../src/kube/client.js';
import { CONFIGMAPS, DEPLOYMENTS } from '../src/kube/resources.js';
import type { KubeObject } from '../src/kube/types.js';
import type { Benchmark } from './support/bench.js';
import { settle } from './support/bench.js';
import { RollWatch, createAll, deployment, ensureNamespace } from './support/cluster.js';
import { delay, now, range } from './support/pool.js';
import { atMost, ratio } from './support/report.js';
import { round, summarize } from './support/stats.js';

const KEELSON_NS = 'latency-keelson';
const IDEAL_NS = 'latency-ideal';

/**
 * The floor: watch ConfigMaps in one namespace and, on a change, PATCH the Deployment of the same index with a
 * digest of the data. No cache, no queue, no rate limit, no events: the least a reloader can do.
 */
export class IdealReloader {
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(private readonly client: KubeClient, private readonly namespace: string) {}

  async start(): Promise<void> {
    const list = await this.client.list(CONFIGMAPS, { namespace: this.namespace });
    let rv = list.metadata.resourceVersion;
    this.loop = (async () => {
      while (!this.abort.signal.aborted) {
        try {
          await this.client.watch(CONFIGMAPS, { namespace: this.namespace, resourceVersion: rv, timeoutSeconds: 300, signal: this.abort.signal }, (ev) => {
            const cm = ev.object as KubeObject & { data?: Record<string, string> };
            rv = cm.metadata.resourceVersion ?? rv;
            if (ev.type !== 'MODIFIED') return;
            const hash = createHash('sha256').update(JSON.stringify(cm.data ?? {})).digest('hex');
            const workload = cm.metadata.name!.replace(/^cfg-/, 'app-');
            const body = { spec: { template: { metadata: { annotations: { 'bench.keelson.dev/config-hash': hash } } } } };
            void this.client.patch(DEPLOYMENTS, this.namespace, workload, 'strategic', body).catch(() => {});
          });
        } catch {
          if (!this.abort.signal.aborted) await delay(100);
        }
      }
    })();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }
}

export const reloadLatency: Benchmark = {
  name: 'reload-latency',
  title: 'Reload latency: ConfigMap update → roll seen by a watch',
  async run(ctx) {
    const samples = ctx.smoke ? 5 : 120;
    const warmup = ctx.smoke ? 1 : 5;
    const workloads = 4;
    const gapMs = 150;
    ctx.out.params = { samplesPerSide: samples, warmupPerSide: warmup, workloadsPerSide: workloads, replicas: 1, gapMs, debounce: '0s' };

    const cp = await ctx.controlPlane({ controllerManager: true, kubelet: true });
    const client = cp.client;
    for (const ns of [KEELSON_NS, IDEAL_NS]) {
      await ensureNamespace(client, ns);
      await createAll(client, CONFIGMAPS, range(workloads).map((i) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cfg-${i}`, namespace: ns }, data: { v: 'initial' } })));
      const annotations: Record<string, string> = ns === KEELSON_NS ? { 'keelson.dev/auto': 'true' } : {};
      await createAll(client, DEPLOYMENTS, range(workloads).map((i) => deployment(ns, `app-${i}`, { configMap: `cfg-${i}` }, { replicas: 1, annotations })));
    }
    const proc = await ctx.controller(cp, ['--debounce', '0s'], 'keelson');
    await proc.waitReady();
    await settle(proc);
    const ideal = new IdealReloader(client, IDEAL_NS);
    await ideal.start();
    const watches = { keelson: new RollWatch(client, KEELSON_NS), ideal: new RollWatch(client, IDEAL_NS) };
    await watches.keelson.start();
    await watches.ideal.start();

    const latencies: { keelson: number[]; ideal: number[] } = { keelson: [], ideal: [] };
    try {
      for (const i of range(warmup + samples)) {
        for (const side of ['keelson', 'ideal'] as const) {
          const ns = side === 'keelson' ? KEELSON_NS : IDEAL_NS;
          const w = i % workloads;
          const rolled = watches[side].nextRoll(`app-${w}`, 30_000);
          await client.patch(CONFIGMAPS, ns, `cfg-${w}`, 'merge', { data: { v: `sample-${i}-${Date.now()}` } });
          const t0 = now();
          const roll = await rolled;
          if (i >= warmup) latencies[side].push(roll.at - t0);
          await delay(gapMs);
        }
      }
    } finally {
      await ideal.stop();
      await watches.keelson.stop();
      await watches.ideal.stop();
    }

    const k = summarize(latencies.keelson);
    const r = summarize(latencies.ideal);
    const ref = 'ideal controller (watch → one PATCH)';
    for (const [name, a, b] of [['p50', k.p50, r.p50], ['p90', k.p90, r.p90], ['p99', k.p99, r.p99], ['max', k.max, r.max]] as const) {
      ctx.out.figures.push({ name: `latency ${name}`, unit: 'ms', keelson: round(a), reference: round(b), referenceName: ref });
    }
    ctx.out.goals.push(atMost('p50 ≤ 1.5× ideal', ratio(k.p50, r.p50), 1.5, '×'));
    ctx.out.goals.push(atMost('p99 ≤ 3× ideal', ratio(k.p99, r.p99), 3, '×'));
    ctx.out.notes.push(`${k.n} samples per side after ${warmup} warm-up; Keelson mean ${round(k.mean)} ms, ideal mean ${round(r.mean)} ms`);
  },
};
