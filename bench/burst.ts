// Benchmark 3 — burst: 1,000 ConfigMaps changed at once, each referenced by one annotated Deployment, at the default
// --max-rolls-per-second. Time until every workload rolled, the number of rolls (exactly one each), and HTTP 429s
// (the apiserver's apiserver_request_total{code="429"} and the controller's log). The reference is the floor the
// rate limit sets: N / max-rolls-per-second.

import { CONFIGMAPS, DEPLOYMENTS } from '../src/kube/resources.js';
import { CONTROLLER_FLAGS } from '../src/config/options.js';
import type { Benchmark } from './support/bench.js';
import { settle } from './support/bench.js';
import { RollWatch, apiserverRequests, createAll, deployment, ensureNamespace } from './support/cluster.js';
import { count429InLogs } from './support/controller-process.js';
import { delay, forEachLimit, now, pad, range } from './support/pool.js';
import { equals } from './support/report.js';
import { round } from './support/stats.js';

const NS = 'burst';

export const burst: Benchmark = {
  name: 'burst',
  title: 'Burst: N configs changed at once → every workload rolled once',
  async run(ctx) {
    const n = ctx.smoke ? 20 : 1000;
    const rate = Number(CONTROLLER_FLAGS.find((f) => f.name === 'max-rolls-per-second')?.default ?? 10);
    const quietMs = 5000;
    ctx.out.params = { configs: n, workloads: n, maxRollsPerSecond: rate, quietAfterMs: quietMs };

    const cp = await ctx.controlPlane({ controllerManager: true });
    const client = cp.client;
    await ensureNamespace(client, NS);
    await createAll(client, CONFIGMAPS, range(n).map((i) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cfg-${pad(i)}`, namespace: NS }, data: { v: 'initial' } })));
    await createAll(client, DEPLOYMENTS, range(n).map((i) => deployment(NS, `app-${pad(i)}`, { configMap: `cfg-${pad(i)}` }, { annotations: { 'keelson.dev/auto': 'true' } })));
    const proc = await ctx.controller(cp, [], 'keelson');
    await proc.waitReady();
    await settle(proc, 3000);

    const watch = new RollWatch(client, NS);
    await watch.start();
    const before429 = await apiserverRequests(cp, '429');
    const rolled = new Set<string>();
    let allRolledAt = 0;
    let giveUp = false;
    const done = new Promise<void>((resolve) => {
      const check = () => {
        for (const r of watch.rolls) rolled.add(r.name);
        if (rolled.size >= n) { allRolledAt = Math.max(...watch.rolls.map((r) => r.at)); resolve(); return; }
        if (!giveUp) setTimeout(check, 50);
      };
      check();
    });

    const t0 = now();
    await forEachLimit(range(n), 50, async (i) => {
      await client.patch(CONFIGMAPS, NS, `cfg-${pad(i)}`, 'merge', { data: { v: `burst-${Date.now()}` } });
    });
    const writtenMs = now() - t0;
    const limitMs = (n / rate) * 3000 + 120_000;
    await Promise.race([done, delay(limitMs)]);
    giveUp = true;
    const allMs = allRolledAt > 0 ? allRolledAt - t0 : NaN;
    await delay(quietMs); // late duplicates would show up here
    await watch.stop();
    const rolls = watch.rolls.length;
    const api429 = (await apiserverRequests(cp, '429')) - before429;
    const log429 = count429InLogs(proc.logText());

    ctx.out.figures.push(
      { name: `time until all ${n} rolled`, unit: 's', keelson: round(allMs / 1000, 2), reference: round(n / rate, 2), referenceName: `rate-limit floor (${n} / ${rate} per s)` },
      { name: 'time to write the N updates', unit: 's', keelson: round(writtenMs / 1000, 2), note: 'the benchmark\'s own PATCHes, 50 at a time' },
      { name: 'workloads rolled', unit: 'count', keelson: rolled.size, note: `of ${n}` },
      { name: 'rolls', unit: 'count', keelson: rolls, note: `must be ${n}` },
      { name: 'HTTP 429 (apiserver)', unit: 'count', keelson: api429, note: 'apiserver_request_total{code="429"}, whole run' },
      { name: 'HTTP 429 (controller log)', unit: 'count', keelson: log429 },
    );
    ctx.out.goals.push(equals(`rolls = ${n}`, rolls, n));
    ctx.out.goals.push(equals('HTTP 429s = 0', api429 + log429, 0));
    if (rolled.size < n) ctx.out.notes.push(`only ${rolled.size} of ${n} workloads rolled within ${round(limitMs / 1000)} s`);
  },
};
