// Honest health against a real apiserver: a cache whose RBAC is revoked while it runs turns /readyz false (an open
// watch outlives the Role, so the manager's access checks must notice) and true again once the rights are back; a
// runnable that crashes turns /readyz false at once and /healthz false after its grace period; with sealing on, the
// first Ready comes with a sealing key loaded, so /v1/cert.pem answers from that moment.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadOptions } from '../../src/config/options.js';
import { KubeClient, loadKubeConfig } from '../../src/kube/client.js';
import { EventRecorder } from '../../src/kube/events.js';
import { Manager } from '../../src/kube/manager.js';
import { CONFIGMAPS, NAMESPACES, type ResourceType } from '../../src/kube/resources.js';
import { Store } from '../../src/kube/store.js';
import { silentLogger } from '../../src/observe/logger.js';
import { createMetrics } from '../../src/observe/metrics.js';
import { type ControlPlane, startControlPlane } from '../support/control-plane.js';
import { startController } from '../support/controller.js';
import { eventually } from '../support/wait.js';
import { installCrd } from './sealing-support.js';

const NS = 'health';
const rbac = (plural: string, kind: string, namespaced = true): ResourceType => ({ group: 'rbac.authorization.k8s.io', version: 'v1', plural, kind, namespaced });
const ROLES = rbac('roles', 'Role');
const ROLEBINDINGS = rbac('rolebindings', 'RoleBinding');

function managerFor(cp: ControlPlane, user: string, extra: { deadGraceMs?: number; accessCheckMs?: number } = {}): Manager {
  const options = loadOptions(['--http-addr', '127.0.0.1:0'], {});
  const client = new KubeClient(loadKubeConfig({ kubeconfig: cp.userKubeConfigPath(user), env: {} }), 'keelson-test');
  const logger = silentLogger();
  return new Manager({
    client, logger, metrics: createMetrics({ processMetrics: false }), events: new EventRecorder(client, logger, 'keelson', 'health-test'),
    httpAddr: options.httpAddr, metricsAddr: undefined, shutdownTimeoutMs: 5000, ...extra,
  });
}

const readyz = async (m: Manager) => { const r = await fetch(`http://127.0.0.1:${m.httpPort}/readyz`); return { status: r.status, text: await r.text() }; };
const healthz = async (m: Manager) => (await fetch(`http://127.0.0.1:${m.httpPort}/healthz`)).status;

describe('health', () => {
  let cp: ControlPlane;
  before(async () => {
    cp = await startControlPlane({ users: { 'cache-user': [] } });
    await cp.client.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    await cp.client.create(ROLES, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'cache', namespace: NS },
      rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['list', 'watch'] }] });
  });
  after(async () => { await cp?.stop(); });

  const binding = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'cache', namespace: NS },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'cache' }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'cache-user' }] };

  it('a cache whose RBAC is revoked turns /readyz false within 30 s, and true again when restored', async () => {
    await cp.client.create(ROLEBINDINGS, binding);
    const m = managerFor(cp, 'cache-user', { accessCheckMs: 2000 });
    m.addStore(new Store({ client: m.client, resource: CONFIGMAPS, namespace: NS, transform: (o) => o.metadata.name!, logger: m.logger }));
    try {
      await m.start();
      assert.equal((await readyz(m)).status, 200);
      await cp.client.delete(ROLEBINDINGS, NS, 'cache');
      const t = Date.now();
      const denied = await eventually('/readyz to turn false', async () => { const r = await readyz(m); return r.status === 503 ? r.text : undefined; }, 30_000);
      assert.match(denied, /configmaps@health .*no list right on configmaps in health/);
      assert.ok(Date.now() - t < 30_000);
      assert.equal(await healthz(m), 200, 'missing rights are not a reason to restart the pod');
      await cp.client.create(ROLEBINDINGS, binding);
      await eventually('/readyz to turn true again', async () => (await readyz(m)).status === 200, 30_000);
    } finally { await m.stop(); }
  });

  it('a crashed runnable turns /readyz false at once and /healthz false after the grace period', async () => {
    const m = managerFor(cp, 'admin', { deadGraceMs: 1500 });
    let crash!: (err: Error) => void;
    m.addRunnable({ name: 'poller', needsLeader: false, run: () => new Promise<void>((_resolve, reject) => { crash = reject; }) });
    try {
      await m.start();
      assert.equal((await readyz(m)).status, 200);
      assert.equal(await healthz(m), 200);
      crash(new Error('boom'));
      const r = await eventually('/readyz to turn false', async () => { const x = await readyz(m); return x.status === 503 ? x.text : undefined; }, 5_000);
      assert.match(r, /poller \(boom\)/);
      assert.equal(await healthz(m), 200, 'still inside the grace period');
      await eventually('/healthz to turn false', async () => (await healthz(m)) === 503, 10_000);
    } finally { await m.stop(); }
  });

  it('with sealing on, a fresh install is Ready only once a key is loaded: cert.pem answers at the first 200', async () => {
    await installCrd(cp.client);
    const c = await startController(cp, ['--disable-reload', '--disable-gitsync', '--disable-images', '--key-size', '2048']);
    try {
      let polls = 0;
      await eventually('the first Ready', async () => { polls++; return (await fetch(`${c.httpUrl}/readyz`)).status === 200; }, 30_000, 20);
      const cert = await fetch(`${c.httpUrl}/v1/cert.pem`);
      assert.equal(cert.status, 200, `cert.pem at the first Ready (after ${polls} polls)`);
      assert.match(await cert.text(), /BEGIN CERTIFICATE/);
    } finally { await c.stop(); }
  });
});
