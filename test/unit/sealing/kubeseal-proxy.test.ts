// The kubeseal forwarder in-process, in front of a stand-in for the controller's HTTP API (the real controller is
// behind it in test/e2e/sealing-parity.test.ts): only the three sealing routes pass, bodies are capped, the caller's
// address travels in X-Forwarded-For, and an unreachable controller is a 502 naming it.

import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type KubesealProxy, startKubesealProxy } from '../../../src/sealing/kubeseal-proxy.js';

describe('kubeseal-proxy', () => {
  let upstream: http.Server;
  let proxy: KubesealProxy;
  let base: string;
  const seen: { method?: string; url?: string; xff?: string; body: string }[] = [];

  before(async () => {
    upstream = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, xff: req.headers['x-forwarded-for'] as string | undefined, body: Buffer.concat(chunks).toString() });
        res.writeHead(req.url === '/v1/verify' ? 409 : 200, { 'Content-Type': 'text/plain' }).end(`answer ${req.url}`);
      });
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
    proxy = await startKubesealProxy('127.0.0.1', 0, new URL(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`));
    base = `http://127.0.0.1:${proxy.port}`;
  });
  after(async () => {
    await proxy.close();
    upstream.close();
  });

  it('forwards GET /v1/cert.pem and POST /v1/verify|rotate with status, body and the caller in X-Forwarded-For', async () => {
    const cert = await fetch(`${base}/v1/cert.pem`);
    assert.equal(cert.status, 200);
    assert.equal(await cert.text(), 'answer /v1/cert.pem');
    const verify = await fetch(`${base}/v1/verify`, { method: 'POST', body: '{"kind":"SealedSecret"}', headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': '10.1.2.3' } });
    assert.equal(verify.status, 409);
    const last = seen.at(-1)!;
    assert.deepEqual([last.method, last.url, last.body], ['POST', '/v1/verify', '{"kind":"SealedSecret"}']);
    assert.equal(last.xff, '10.1.2.3, 127.0.0.1');
    assert.equal((await fetch(`${base}/v1/rotate`, { method: 'POST', body: '{}' })).status, 200);
  });

  it('forwards nothing else, answers its own probes', async () => {
    const before = seen.length;
    for (const [method, path] of [['GET', '/v1/verify'], ['POST', '/v1/cert.pem'], ['GET', '/metrics'], ['GET', '/v1/cert.pem/../../x'], ['DELETE', '/v1/rotate']] as const) {
      assert.equal((await fetch(`${base}${path}`, { method })).status, 404, `${method} ${path}`);
    }
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    assert.equal(seen.length, before);
  });

  it('refuses bodies over 2 MiB, declared or streamed', async () => {
    const big = Buffer.alloc(2 * 1024 * 1024 + 1, 'a');
    assert.equal((await fetch(`${base}/v1/verify`, { method: 'POST', body: big })).status, 413);
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${base}/v1/verify`, { method: 'POST', headers: { 'Transfer-Encoding': 'chunked' } }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
      req.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ECONNRESET' || (e as NodeJS.ErrnoException).code === 'EPIPE' ? resolve(413) : reject(e)));
      for (let i = 0; i < 3; i++) req.write(Buffer.alloc(1024 * 1024, 'b'));
      req.end();
    });
    assert.equal(chunked, 413);
  });

  it('says which controller it cannot reach', async () => {
    const dead = await startKubesealProxy('127.0.0.1', 0, new URL('http://127.0.0.1:1'));
    try {
      const r = await fetch(`http://127.0.0.1:${dead.port}/v1/cert.pem`);
      assert.equal(r.status, 502);
      assert.match(await r.text(), /cannot reach the Keelson controller at http:\/\/127\.0\.0\.1:1/);
    } finally { await dead.close(); }
  });
});
