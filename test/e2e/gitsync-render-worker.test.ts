// A Git commit cannot freeze the controller by its size: a revision of ~8 MiB of valid YAML (4,400 documents, ~2 s
// of parsing on the event loop before render-pool.ts) is parsed in a worker thread
// while /healthz, polled every 100 ms, keeps answering within a second; a normal revision still applies through the
// built (dist/) worker. Real control plane, real git daemon, the controller as its own process.

import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CONFIGMAPS, GITSYNCS } from '../../src/kube/resources.js';
import { type ControlPlane, startControlPlane } from '../support/control-plane.js';
import { type GitServers, startGitServers } from '../support/git-servers.js';
import { createGitSync, createNamespace, gitSyncStatus, installGitSyncCrd, ready, waitApplied } from '../support/gitsync-fixture.js';
import { freePort } from '../support/ports.js';
import { delay, eventually } from '../support/wait.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NS = 'keelson-system';
const cm = (name: string, v: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  v: "${v}"\n`;

describe('gitsync: a big revision is parsed off the event loop', () => {
  let cp: ControlPlane;
  let servers: GitServers;
  let child: ChildProcess;
  let httpUrl: string;
  let metricsUrl: string;

  before(async () => {
    execFileSync(process.execPath, [`${ROOT}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
    [cp, servers] = await Promise.all([startControlPlane(), startGitServers()]);
    await installGitSyncCrd(cp.client);
    await createNamespace(cp.client, NS);
    const [port, mport] = [await freePort(), await freePort()];
    httpUrl = `http://127.0.0.1:${port}`;
    metricsUrl = `http://127.0.0.1:${mport}/metrics`;
    child = spawn(process.execPath, [
      'bin/keelson.js', 'controller', '--kubeconfig', cp.kubeconfigPath, '--controller-namespace', NS,
      '--http-addr', `127.0.0.1:${port}`, '--metrics-addr', `127.0.0.1:${mport}`, '--disable-reload', '--disable-sealing',
      '--git-cache-dir', `${ROOT}.cache/e2e-render-worker-${process.pid}`, '--allow-insecure-git', '--log-level', 'warn',
    ], { cwd: ROOT, env: { ...process.env }, stdio: 'ignore' });
    await eventually('the controller to serve /healthz', async () => (await fetch(`${httpUrl}/healthz`).catch(() => undefined))?.ok, 30_000);
  });
  after(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    execFileSync('rm', ['-rf', `${ROOT}.cache/e2e-render-worker-${process.pid}`]);
    await Promise.all([cp?.stop(), servers?.stop()]);
  });

  it('an ~8 MiB revision keeps /healthz answering within 1 s (polled every 100 ms); a normal one applies', async (t) => {
    // Valid YAML the API cannot take (no such kind): everything up to rendering runs, nothing is applied. 4,400
    // documents of 60 short keys: 8.2 MiB, about 2 s of parsing on this machine, in-process.
    const blob = (i: number) => `apiVersion: example.com/v1\nkind: Blob\nmetadata:\n  name: blob-${i}\ndata:\n${Array.from({ length: 60 }, (_, k) => `  key${k}: value-${i}-${k}-abcdefgh\n`).join('')}`;
    servers.repo('big').write({ 'app/blobs.yaml': Array.from({ length: 4400 }, (_, i) => blob(i)).join('---\n') }).commit('big');
    const small = `main@sha1:${servers.repo('small').write({ 'app/a.yaml': cm('rw-small', '1') }).commit('small')}`;

    const latencies: number[] = [];
    let failed = 0;
    const probe = setInterval(() => {
      const sent = performance.now();
      fetch(`${httpUrl}/healthz`, { signal: AbortSignal.timeout(30_000) })
        .then((r) => { if (!r.ok) failed++; latencies.push(performance.now() - sent); }, () => { failed++; latencies.push(performance.now() - sent); });
    }, 100);
    try {
      await createGitSync(cp.client, NS, 'big', { url: servers.daemonUrl('big'), path: 'app', interval: '10m', timeout: '2m' });
      const st = await eventually('ValidationFailed', async () => { const s = await gitSyncStatus(cp.client, NS, 'big'); return ready(s).reason === 'ValidationFailed' ? s : undefined; }, 120_000);
      assert.match(ready(st).message ?? '', /app\/blobs\.yaml \(document 1\): Blob blob-0: the cluster does not serve example\.com\/v1 Blob/);
      await createGitSync(cp.client, NS, 'small', { url: servers.daemonUrl('small'), path: 'app' });
      await waitApplied(cp.client, NS, 'small', small, 60_000);
      assert.ok(await cp.client.tryGet(CONFIGMAPS, NS, 'rw-small'));
      await delay(500);
    } finally {
      clearInterval(probe);
    }
    const blocked = /^keelson_eventloop_blocked_seconds (\S+)$/m.exec(await (await fetch(metricsUrl)).text())?.[1];
    const max = Math.max(...latencies);
    t.diagnostic(`/healthz: ${latencies.length} polls, ${failed} failed, slowest ${Math.round(max)} ms; keelson_eventloop_blocked_seconds ${blocked}`);
    assert.equal(failed, 0, '/healthz answered ok throughout');
    assert.ok(max < 1000, `the slowest /healthz took ${Math.round(max)} ms`);
    await cp.client.delete(GITSYNCS, NS, 'big');
    await cp.client.delete(GITSYNCS, NS, 'small');
  });
});
