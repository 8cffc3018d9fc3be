// Delivery against a real HTTP server on loopback: status handling, no redirects, time and response-size limits,
// error text without the address; and the Dispatcher's bounded queues, coalescing, retries, metrics and outcomes.

import assert from 'node:assert/strict';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Dispatcher, RELOADER_TARGET } from '../../../src/notify/dispatcher.js';
import { send } from '../../../src/notify/send.js';
import { notifierRecord, type NotifierRecord } from '../../../src/notify/spec.js';
import { silentLogger } from '../../../src/observe/logger.js';
import { createMetrics } from '../../../src/observe/metrics.js';
import { eventually } from '../../support/wait.js';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;
let server: Server;
let base = '';
const routes = new Map<string, Handler>();
const hits: { path: string; body: string }[] = [];

before(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      hits.push({ path: req.url ?? '', body });
      const h = routes.get(req.url ?? '');
      if (h) h(req, res, body); else { res.writeHead(200); res.end('ok'); }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => { server.closeAllConnections(); server.close(); });

const signal = new AbortController().signal;
const post = (path: string, timeoutMs?: number) => send({ url: `${base}${path}`, headers: { 'Content-Type': 'application/json' }, body: '{}' }, signal, timeoutMs);

describe('send', () => {
  it('2xx is delivered; 5xx and 429 are retried; other 4xx are not', async () => {
    routes.set('/500', (_q, res) => { res.writeHead(500); res.end(); });
    routes.set('/429', (_q, res) => { res.writeHead(429); res.end(); });
    routes.set('/404', (_q, res) => { res.writeHead(404); res.end(); });
    assert.deepEqual(await post('/ok'), { ok: true, status: 200 });
    assert.deepEqual(await post('/500'), { ok: false, error: 'endpoint answered HTTP 500', retry: true });
    assert.equal((await post('/429')).ok === false && (await post('/429') as { retry: boolean }).retry, true);
    assert.deepEqual(await post('/404'), { ok: false, error: 'endpoint answered HTTP 404', retry: false });
  });
  it('redirects are not followed', async () => {
    routes.set('/redirect', (_q, res) => { res.writeHead(307, { Location: `${base}/elsewhere` }); res.end(); });
    const before = hits.length;
    const r = await post('/redirect');
    assert.equal(r.ok, false);
    assert.match((r as { error: string }).error, /redirect \(HTTP 307\)/);
    assert.equal(hits.slice(before).filter((h) => h.path === '/elsewhere').length, 0);
  });
  it('a silent endpoint times out; a huge answer is cut off', async () => {
    routes.set('/hang', () => { /* never answers */ });
    const r = await post('/hang', 300);
    assert.deepEqual(r, { ok: false, error: 'no answer within 0.3s', retry: true });
    routes.set('/huge', (_q, res) => {
      res.writeHead(200);
      const chunk = Buffer.alloc(64 * 1024, 'x');
      let sent = 0;
      const more = () => { while (sent < 1024 && res.write(chunk)) sent++; if (sent < 1024) res.once('drain', more); else res.end(); };
      res.on('error', () => {});
      more();
    });
    const start = Date.now();
    assert.deepEqual(await post('/huge', 5000), { ok: true, status: 200 });
    assert.ok(Date.now() - start < 5000);
  });
  it('errors name neither the host nor the path; non-http schemes are refused without a request', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const r = await send({ url: `http://127.0.0.1:${port}/services/SECRET`, headers: {}, body: '' }, signal);
    assert.equal(r.ok, false);
    const text = (r as { error: string }).error;
    assert.match(text, /could not reach the endpoint \(ECONNREFUSED\)/);
    assert.ok(!text.includes('SECRET') && !text.includes('127.0.0.1'));
    assert.deepEqual(await send({ url: 'file:///etc/passwd', headers: {}, body: '' }, signal), { ok: false, error: 'address must be http:// or https:// (got file:)', retry: false });
  });
});

function setup(notifiers: NotifierRecord[], over: Partial<ConstructorParameters<typeof Dispatcher>[0]> = {}) {
  const metrics = createMetrics({ processMetrics: false });
  const outcomes: string[] = [];
  const d = new Dispatcher({
    controllerNamespace: 'keelson-system', controller: 'keelson-0', notifiers: () => notifiers,
    loadSecret: async (r) => ({ address: `${base}/${r.name}`, hmacKey: 'k' }),
    metrics, logger: silentLogger(), onOutcome: (k) => outcomes.push(k),
    backoff: { baseMs: 10, maxMs: 20 }, ...over,
  });
  const count = async (type: string, result: string) => {
    const m = (await metrics.registry.getSingleMetric('keelson_notifications_total')!.get()).values;
    return m.find((v) => v.labels.type === type && v.labels.result === result)?.value ?? 0;
  };
  return { d, outcomes, count };
}
const rec = (ns: string, name: string, type = 'webhook') => notifierRecord({ apiVersion: 'keelson.dev/v1alpha1', kind: 'Notifier', metadata: { namespace: ns, name, generation: 1 }, spec: { type, secretRef: { name: 's' }, events: ['RolloutFailed', 'Reloaded'] } });
const obj = (ns: string, name = 'web') => ({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name });

describe('Dispatcher', () => {
  it('offer() returns at once; each matching Notifier gets the notification, others do not', async () => {
    const { d, count } = setup([rec('team-a', 'a1'), rec('team-b', 'b1')]);
    routes.set('/a1', (_q, res) => setTimeout(() => { res.writeHead(200); res.end(); }, 200));
    const before = hits.length;
    const t = performance.now();
    d.offer(obj('team-a'), 'Warning', 'RolloutFailed', 'Rollout after ConfigMap team-a/c changed failed: x');
    assert.ok(performance.now() - t < 50, 'offer must not wait for delivery');
    await eventually('delivered', async () => (await count('webhook', 'success')) === 1, 5000);
    assert.deepEqual(hits.slice(before).map((h) => h.path), ['/a1']);
    d.stop();
  });
  it('identical notifications within the window are coalesced', async () => {
    const { d, count } = setup([rec('team-a', 'co')]);
    for (let i = 0; i < 5; i++) d.offer(obj('team-a'), 'Warning', 'RolloutFailed', 'same text');
    d.offer(obj('team-a'), 'Warning', 'RolloutFailed', 'other text');
    await eventually('two delivered', async () => (await count('webhook', 'success')) === 2, 5000);
    assert.equal(await count('webhook', 'coalesced'), 4);
    d.stop();
  });
  it('a full queue drops the oldest and counts it', async () => {
    routes.set('/slow', (_q, res) => setTimeout(() => { res.writeHead(200); res.end(); }, 100));
    const { d, count } = setup([rec('team-a', 'slow')], { queueSize: 3 });
    for (let i = 0; i < 10; i++) d.offer(obj('team-a'), 'Warning', 'RolloutFailed', `m${i}`);
    await eventually('the first and the last three delivered', async () => (await count('webhook', 'success')) === 4, 5000);
    assert.equal(await count('webhook', 'dropped'), 6);
    const bodies = hits.filter((h) => h.path === '/slow').map((h) => JSON.parse(h.body).message);
    assert.deepEqual(bodies, ['m0', 'm7', 'm8', 'm9']);
    d.stop();
  });
  it('retries with backoff, then reports the failure once per change of state', async () => {
    let n = 0;
    routes.set('/flaky', (_q, res) => { n++; res.writeHead(n < 3 ? 503 : 200); res.end(); });
    routes.set('/down', (_q, res) => { res.writeHead(500); res.end(); });
    const { d, count, outcomes } = setup([rec('team-a', 'flaky'), rec('team-a', 'down')], { attempts: 3 });
    d.offer(obj('team-a'), 'Warning', 'RolloutFailed', 'x');
    await eventually('outcomes', async () => (await count('webhook', 'success')) === 1 && (await count('webhook', 'failure')) === 1, 5000);
    assert.equal(n, 3);
    assert.deepEqual(d.outcome('team-a/flaky'), { ok: true, message: 'delivered RolloutFailed for Deployment team-a/web' });
    assert.equal(d.outcome('team-a/down')?.message, 'could not deliver RolloutFailed for Deployment team-a/web after 3 attempts: endpoint answered HTTP 500');
    assert.deepEqual(outcomes.sort(), ['team-a/down', 'team-a/flaky']);
    d.stop();
  });
  it('enrichment runs once per notification, whatever the number of Notifiers, and its facts reach the body', async () => {
    let calls = 0;
    const { d, count } = setup([rec('team-a', 'e1'), rec('team-a', 'e2')], {
      enrich: async (n) => { calls++; return { ...n, gitSync: 'team-a/app', commit: 'c'.repeat(40) }; },
    });
    const before = hits.length;
    d.offer(obj('team-a'), 'Warning', 'RolloutFailed', 'Rollout after ConfigMap team-a/cfg changed failed: x');
    await eventually('both delivered', async () => (await count('webhook', 'success')) === 2, 5000);
    assert.equal(calls, 1);
    for (const h of hits.slice(before)) assert.deepEqual([JSON.parse(h.body).gitSync, JSON.parse(h.body).commit], ['team-a/app', 'c'.repeat(40)]);
    d.stop();
  });
  it('at most maxInFlight requests run at once over all Notifiers', async () => {
    let now = 0; let peak = 0;
    routes.set('/p', (_q, res) => { now++; peak = Math.max(peak, now); setTimeout(() => { now--; res.writeHead(200); res.end(); }, 100); });
    const many = Array.from({ length: 6 }, (_, i) => rec(`ns${i}`, `p${i}`));
    const { d, count } = setup(many, { maxInFlight: 2, loadSecret: async () => ({ address: `${base}/p`, hmacKey: 'k' }) });
    for (let i = 0; i < 6; i++) d.offer(obj(`ns${i}`), 'Warning', 'RolloutFailed', 'x');
    await eventually('all delivered', async () => (await count('webhook', 'success')) === 6, 5000);
    assert.equal(peak, 2);
    d.stop();
  });
  it('Reloader\'s ALERT_* target hears Reloaded in every namespace, and nothing else', async () => {
    const { d, count } = setup([], { reloaderAlert: { sink: 'webhook', url: `${base}/reloader`, additionalInfo: 'prod' } });
    const before = hits.length;
    d.offer(obj('anywhere'), 'Normal', 'Reloaded', 'ConfigMap anywhere/cfg changed: config hash 1 → 2; rolling (annotations)');
    d.offer(obj('anywhere'), 'Warning', 'RolloutFailed', 'x');
    await eventually('delivered', async () => (await count('reloader', 'success')) === 1, 5000);
    assert.deepEqual(hits.slice(before).map((h) => [h.path, h.body]), [['/reloader', 'prod : Keelson detected changes in cfg of type configmap in namespace anywhere. Hence reloaded web of type Deployment in namespace anywhere']]);
    assert.equal(d.outcome(RELOADER_TARGET)?.ok, true);
    d.stop();
  });
});
