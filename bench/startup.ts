// Benchmark 6 — startup: time from spawning `keelson controller` to /readyz answering 200 (every cache listed and
// synced), with 10,000 ConfigMaps and 10,000 Secrets in the cluster, against the same start on an empty cluster.

import { CONFIGMAPS, SECRETS } from '../src/kube/resources.js';
import type { Benchmark } from './support/bench.js';
import { createAll, ensureNamespace } from './support/cluster.js';
import { pad, range } from './support/pool.js';
import { round, summarize } from './support/stats.js';

const NS = 'startup';

export const startup: Benchmark = {
  name: 'startup',
  title: 'Startup: process start → ready, 10,000 ConfigMaps and 10,000 Secrets',
  async run(ctx) {
    const count = ctx.smoke ? 50 : 10_000;
    const runs = ctx.smoke ? 1 : 3;
    ctx.out.params = { configMaps: count, secrets: count, bytesEach: 512, runs };

    const cp = await ctx.controlPlane({ controllerManager: false });
    const startOnce = async (label: string) => {
      const proc = await ctx.controller(cp, [], label);
      const ms = await proc.waitReady();
      const rss = proc.memory().rss / 2 ** 20;
      await proc.stop();
      return { ms, rss };
    };
    await startOnce('warmup'); // generates the sealing key once, so no run below pays for it
    const empty = [];
    for (const i of range(runs)) empty.push(await startOnce(`empty-${i}`));

    await ensureNamespace(cp.client, NS);
    const payload = 'x'.repeat(512);
    await createAll(cp.client, CONFIGMAPS, range(count).map((i) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cfg-${pad(i)}`, namespace: NS }, data: { v: payload } })), 32);
    await createAll(cp.client, SECRETS, range(count).map((i) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: `secret-${pad(i)}`, namespace: NS }, stringData: { v: payload } })), 32);
    const loaded = [];
    for (const i of range(runs)) loaded.push(await startOnce(`loaded-${i}`));

    const e = summarize(empty.map((x) => x.ms));
    const l = summarize(loaded.map((x) => x.ms));
    ctx.out.figures.push(
      { name: 'start → ready (median)', unit: 'ms', keelson: round(l.p50, 0), reference: round(e.p50, 0), referenceName: 'same controller, empty cluster' },
      { name: 'start → ready (worst)', unit: 'ms', keelson: round(l.max, 0), reference: round(e.max, 0), referenceName: 'same controller, empty cluster' },
      { name: 'RSS at ready', unit: 'MiB', keelson: round(summarize(loaded.map((x) => x.rss)).p50, 1), reference: round(summarize(empty.map((x) => x.rss)).p50, 1), referenceName: 'same controller, empty cluster' },
    );
    ctx.out.notes.push(`${runs} start(s) each; "ready" is the first 200 from /readyz, polled every 20 ms; no goal is set for this figure`);
  },
};
