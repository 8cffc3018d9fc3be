// Hostile input to sealing on a real control plane, while /healthz is polled every 100 ms (no poll may take 1 s):
// the template bodies that froze the old regex (6 KB and 1 MiB of "{{" + spaces) through /v1/verify; 2,900 values
// (over the cap) and 1,000 values (at the cap, ~4 s of RSA-4096 in a worker); a tenant's SealedSecret with a hostile
// template that must not stop other namespaces' SealedSecrets from unsealing; and the per-client key behind the
// API server's service proxy (the last X-Forwarded-For hop, trusted only from --trusted-proxy-cidrs).

import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { PODS, SEALEDSECRETS } from '../../src/kube/resources.js';
import type { SealedSecret } from '../../src/sealing/sealed-secret.js';
import { labelFor } from '../../src/sealing/scope.js';
import { encryptValue } from '../../src/sealing/wire.js';
import { type ControlPlane, startControlPlane } from '../support/control-plane.js';
import { type RunningController, startController } from '../support/controller.js';
import { delay, eventually } from '../support/wait.js';
import { certKey, createNamespace, installCrd, loadReferenceKeys, readFixture, sealed, secretValues, waitSynced } from './sealing-support.js';

const CERT_4096 = readFixture('keys/cert-4096.pem');
const CERT_2048 = readFixture('keys/cert-2048.pem');
const KEY_NS = 'keelson-system';
const HOST_IP = Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
const FLAGS = ['--key-renew-period', '0', '--key-size', '2048', '--disable-reload', '--disable-gitsync', '--http-addr', '0.0.0.0:0', '--trusted-proxy-cidrs', `${HOST_IP ?? '192.0.2.1'}/32`];

/** Runs `work` while polling /healthz every 100 ms; returns work's result and the slowest poll in ms. */
async function whilePolling<T>(url: string, work: () => Promise<T>): Promise<{ result: T; slowest: number; polls: number }> {
  let done = false;
  let slowest = 0;
  let polls = 0;
  const poller = (async () => {
    while (!done) {
      const t0 = performance.now();
      const res = await fetch(`${url}/healthz`);
      await res.arrayBuffer();
      assert.equal(res.status, 200);
      slowest = Math.max(slowest, performance.now() - t0);
      polls++;
      await delay(100);
    }
  })();
  try {
    const result = await work();
    return { result, slowest, polls };
  } finally {
    done = true;
    await poller;
  }
}

function hostile(namespace: string, name: string, template: string, encryptedData: Record<string, string> = {}): SealedSecret {
  return { apiVersion: 'bitnami.com/v1alpha1', kind: 'SealedSecret', metadata: { name, namespace }, spec: { encryptedData, template: { data: { evil: template } } } };
}

/** `n` values that all open (one sealed value reused: the label binds it to this name, not to its key). */
function manyValues(namespace: string, name: string, n: number, cert = CERT_4096): SealedSecret {
  const one = encryptValue(certKey(cert), Buffer.from('many-values-plaintext'), labelFor('strict', namespace, name));
  return { apiVersion: 'bitnami.com/v1alpha1', kind: 'SealedSecret', metadata: { name, namespace }, spec: { encryptedData: Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, one])) } };
}

describe('sealing under hostile input', () => {
  let cp: ControlPlane;
  let ctl: RunningController;
  const post = (path: string, body: unknown) => fetch(`${ctl.httpUrl}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });

  before(async () => {
    cp = await startControlPlane();
    await installCrd(cp.client);
    await createNamespace(cp.client, KEY_NS);
    await loadReferenceKeys(cp.client, KEY_NS);
    ctl = await startController(cp, FLAGS);
  });
  after(async () => {
    await ctl?.stop();
    await cp?.stop();
  });

  it('answers 6 KB and 1 MiB "{{ + spaces" templates on /v1/verify at once, /healthz never slower than 1 s', async (t) => {
    const { result, slowest, polls } = await whilePolling(ctl.httpUrl, async () => {
      const small = await post('/v1/verify', hostile('team-a', 'x', `{{${' '.repeat(6000)}`));
      const smallText = await small.text();
      const big = await post('/v1/verify', hostile('team-a', 'x', `{{${' '.repeat(1024 * 1024)}`));
      const bigText = await big.text();
      const many = await post('/v1/verify', { ...hostile('team-a', 'x', ''), spec: { encryptedData: {}, template: { data: Object.fromEntries(Array.from({ length: 28 }, (_, i) => [`t${i}`, `{{${' '.repeat(64 * 1024 - 2)}`])) } } });
      const manyText = await many.text();
      await delay(300); // at least a few polls
      return { small: [small.status, smallText], big: [big.status, bigText], many: [many.status, manyText] } as const;
    });
    assert.deepEqual(result.small, [409, 'SealedSecret team-a/x: unsupported template in spec.template.data["evil"]: unterminated action\n']);
    assert.deepEqual(result.big, [409, 'SealedSecret team-a/x: spec.template.data["evil"] is over 65536 bytes; templates are limited to 64 KiB each\n']);
    assert.equal(result.many[0], 409);
    t.diagnostic(`${polls} /healthz polls, slowest ${slowest.toFixed(0)} ms`);
    assert.ok(polls >= 3, `${polls} polls`);
    assert.ok(slowest < 1000, `slowest /healthz poll took ${slowest.toFixed(0)} ms`);
  });

  it('refuses 2,900 values at once, and unseals 1,000 in a worker while /healthz stays quick', async (t) => {
    const over = manyValues('team-a', 'many', 2900, CERT_2048); // RSA-2048 keeps 2,900 values under the 2 MiB body cap
    const at = manyValues('team-a', 'many', 1000);
    await delay(4000); // refill the client's token bucket after the test above
    const { result, slowest, polls } = await whilePolling(ctl.httpUrl, async () => {
      const t0 = performance.now();
      const r1 = await post('/v1/verify', over);
      const refusedIn = performance.now() - t0;
      const r2 = await post('/v1/verify', at);
      return { over: [r1.status, await r1.text()], at: [r2.status, await r2.text()], refusedIn } as const;
    });
    assert.deepEqual(result.over, [413, 'spec.encryptedData has 2900 values; verify and rotate take at most 1000 per request (split the Secret)\n']);
    assert.ok(result.refusedIn < 1000, `refused in ${result.refusedIn.toFixed(0)} ms`);
    assert.deepEqual(result.at, [200, 'ok: every value can be unsealed\n']);
    t.diagnostic(`2,900 values refused in ${result.refusedIn.toFixed(0)} ms; ${polls} /healthz polls while 1,000 opened, slowest ${slowest.toFixed(0)} ms`);
    assert.ok(polls >= 5, `${polls} polls while 1,000 values were opened`);
    assert.ok(slowest < 1000, `slowest /healthz poll took ${slowest.toFixed(0)} ms`);
  });

  it('a tenant\'s hostile template fails alone: other SealedSecrets keep unsealing', async (t) => {
    for (const ns of ['tenant-evil', 'tenant-good']) await createNamespace(cp.client, ns);
    const { slowest } = await whilePolling(ctl.httpUrl, async () => {
      await cp.client.create(SEALEDSECRETS, hostile('tenant-evil', 'spaces-60k', `{{${' '.repeat(60_000)}`));
      await cp.client.create(SEALEDSECRETS, hostile('tenant-evil', 'spaces-200k', `{{${' '.repeat(200_000)}`));
      await cp.client.create(SEALEDSECRETS, manyValues('tenant-evil', 'many-values', 1000));
      await cp.client.create(SEALEDSECRETS, sealed(CERT_4096, 'tenant-good', 'app', { password: 'good-pw' }, { template: { data: { url: 'db://u:{{ .password }}@h' } } }));
      const small = await waitSynced(cp.client, 'tenant-evil', 'spaces-60k', 'False');
      const big = await waitSynced(cp.client, 'tenant-evil', 'spaces-200k', 'False');
      await waitSynced(cp.client, 'tenant-good', 'app', 'True');
      assert.equal(small.reason, 'UnsupportedTemplate');
      assert.match(small.message ?? '', /SealedSecret tenant-evil\/spaces-60k: unsupported template in spec.template.data\["evil"\]: unterminated action/);
      assert.match(big.message ?? '', /is over 65536 bytes/);
      assert.deepEqual(await secretValues(cp.client, 'tenant-good', 'app'), { password: 'good-pw', url: 'db://u:good-pw@h' });
      await waitSynced(cp.client, 'tenant-evil', 'many-values', 'True', 60_000);
    });
    t.diagnostic(`slowest /healthz poll ${slowest.toFixed(0)} ms`);
    assert.ok(slowest < 1000, `slowest /healthz poll took ${slowest.toFixed(0)} ms`);
  });

  it('keys the rate limit on the caller behind the API server\'s service proxy (last X-Forwarded-For hop)', async () => {
    assert.ok(HOST_IP, 'a non-loopback IPv4 address for the proxy Endpoints');
    const port = ctl.manager.httpPort;
    await cp.client.create({ group: '', version: 'v1', plural: 'services', kind: 'Service', namespaced: true }, {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'keelson', namespace: KEY_NS }, spec: { ports: [{ name: 'http', port: 8080, targetPort: port }] },
    });
    await cp.client.create(PODS, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'keelson-0', namespace: KEY_NS }, spec: { containers: [{ name: 'keelson', image: 'keelson' }] } });
    await cp.client.patch(PODS, KEY_NS, 'keelson-0', 'merge', { status: { podIP: HOST_IP, podIPs: [{ ip: HOST_IP }] } }, { subresource: 'status' });
    await cp.client.create({ group: '', version: 'v1', plural: 'endpoints', kind: 'Endpoints', namespaced: true }, {
      apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'keelson', namespace: KEY_NS },
      subsets: [{ addresses: [{ ip: HOST_IP, targetRef: { kind: 'Pod', name: 'keelson-0', namespace: KEY_NS } }], ports: [{ name: 'http', port }] }],
    });
    const ss = sealed(CERT_4096, 'team-a', 'proxied', { k: 'proxied-value' });
    const seen = () => ctl.logs.filter((l) => l.msg === 'sealing request').map((l) => l.client);
    const before = seen().length;
    await eventually('verify through the service proxy', async () => {
      try {
        await cp.client.request('POST', `/api/v1/namespaces/${KEY_NS}/services/http:keelson:http/proxy/v1/verify`, { body: ss });
      } catch (e) {
        if (!(e instanceof SyntaxError)) throw e; // 200 with a text answer ("ok: …"), which the client cannot parse as JSON
      }
      return true;
    });
    // The API server connects from HOST_IP (trusted) and appends the address it saw us at: loopback.
    const proxied = seen().slice(before);
    assert.ok(proxied.length >= 1 && proxied.every((c) => c === '127.0.0.1'), `clients behind the proxy: ${JSON.stringify(proxied)}`);
    // From an untrusted peer the header is the caller's own text: ignored.
    const n = seen().length;
    const direct = await fetch(`${ctl.httpUrl}/v1/verify`, { method: 'POST', body: JSON.stringify(ss), headers: { 'X-Forwarded-For': '6.6.6.6' } });
    assert.equal(direct.status, 200);
    assert.deepEqual(seen().slice(n), ['127.0.0.1']);
  });
});
