// The manager against a real apiserver: health, readiness and metrics endpoints, reconcilers that wait for synced
// caches, draining in-flight work on stop, and the real CLI process exiting 0 promptly on SIGTERM.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadOptions } from '../../src/config/options.js';
import { buildController } from '../../src/cli/controller.js';
import { CONFIGMAPS, NAMESPACES } from '../../src/kube/resources.js';
import { Store } from '../../src/kube/store.js';
import { silentLogger } from '../../src/observe/logger.js';
import { type ControlPlane, startControlPlane } from '../support/control-plane.js';
import { metricValue, startController } from '../support/controller.js';
import { eventually } from '../support/wait.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('Manager', () => {
  let cp: ControlPlane;
  before(async () => {
    cp = await startControlPlane();
    await cp.client.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'mgr' } });
  });
  after(async () => { await cp?.stop(); });

  it('serves /healthz, /readyz and /metrics with build info and process metrics', async () => {
    const c = await startController(cp, ['--disable-reload', '--disable-sealing', '--disable-gitsync', '--disable-images']);
    try {
      assert.equal((await fetch(`${c.httpUrl}/healthz`)).status, 200);
      const ready = await fetch(`${c.httpUrl}/readyz`);
      assert.equal(ready.status, 200);
      assert.match(await ready.text(), /ok \(leader\)/);
      const text = await c.metrics();
      assert.equal(metricValue(text, 'keelson_build_info'), 1);
      assert.match(text, /process_resident_memory_bytes/);
      assert.match(text, /nodejs_eventloop_lag_seconds/);
      assert.match(text, /^keelson_eventloop_blocked_seconds \d/m);
      assert.equal(metricValue(text, 'keelson_leader'), 1);
      assert.equal((await fetch(`${c.httpUrl}/nope`)).status, 404);
      assert.equal((await fetch(`${c.httpUrl}/healthz`, { method: 'POST' })).status, 405);
    } finally { await c.stop(); }
  });

  it('runs reconcilers only after caches sync, and drains in-flight work on stop', async () => {
    await cp.client.create(CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'one', namespace: 'mgr' } });
    const options = loadOptions(['--kubeconfig', cp.kubeconfigPath, '--http-addr', '127.0.0.1:0', '--metrics-addr', '0', '--disable-reload', '--disable-sealing', '--disable-gitsync', '--disable-images'], {});
    const manager = await buildController(options, {}, silentLogger());
    const store = manager.addStore(new Store({ client: manager.client, resource: CONFIGMAPS, namespace: 'mgr', transform: (o) => o.metadata.name!, logger: manager.logger }));
    const seen: { key: string; storeSize: number }[] = [];
    let finished = 0;
    const queue = manager.addController({ name: 'probe', concurrency: 2, logger: manager.logger }, async (key) => {
      seen.push({ key, storeSize: store.size });
      await new Promise((r) => setTimeout(r, 400));
      finished++;
    });
    store.onChange((e) => queue.add(e.key));
    await manager.start();
    await eventually('a reconcile', () => seen.length === 1);
    assert.equal(seen[0]!.storeSize, 1, 'the reconciler saw a synced cache');
    await manager.stop();
    assert.equal(finished, 1, 'the in-flight reconcile finished before stop returned');
  });

  it('the real process exits 0 within 10 s of SIGTERM', async () => {
    const build = spawnSync('npm', ['run', 'build'], { cwd: root, encoding: 'utf8' });
    assert.equal(build.status, 0, build.stderr);
    const child = spawn(`${root}node_modules/.bin/node`, [`${root}bin/keelson.js`, 'controller', '--kubeconfig', cp.kubeconfigPath,
      '--http-addr', '127.0.0.1:0', '--metrics-addr', '127.0.0.1:0', '--controller-namespace', 'mgr', '--disable-sealing', '--disable-gitsync', '--disable-images'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      const port = await eventually('the controller to serve', () => /"httpPort":(\d+)/.exec(out)?.[1], 30_000);
      await eventually('ready', async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, 30_000);
      const t = Date.now();
      child.kill('SIGTERM');
      const code = await exited;
      assert.equal(code, 0, out);
      assert.ok(Date.now() - t < 10_000, `took ${Date.now() - t} ms`);
      const lines = out.trim().split('\n').map((l) => JSON.parse(l) as { msg: string });
      assert.ok(lines.some((l) => l.msg === 'stopped'), 'logs its stop');
    } finally { child.kill('SIGKILL'); }
  });
});
