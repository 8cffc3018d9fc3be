// The UI server's front door, attacked as another local user or a web page would: no token, a wrong token, a foreign
// Host (DNS rebinding), a cookie-less token in the path, a cross-origin or header-less write, CORS probes, too many event streams. All of these are
// refused before any API call, so the cluster here is an address nothing listens on.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { KubeClient } from '../../../src/kube/client.js';
import { MAX_SSE_CLIENTS, type UiServer, startUiServer } from '../../../src/ui/server.js';

interface Answer { status: number; headers: http.IncomingHttpHeaders; body: string }

function request(port: number, path: string, headers: Record<string, string> = {}, method = 'GET', body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers: { Host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => { text += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('ui server: the front door', () => {
  let ui: UiServer;
  let client: KubeClient;
  before(async () => {
    client = new KubeClient({ getCurrentCluster: () => ({ server: 'https://127.0.0.1:9' }), applyToHTTPSOptions: async () => {} });
    ui = await startUiServer({ client, token: 'T'.repeat(32) });
  });
  after(async () => { await ui.close(); client.close(); });

  const auth = () => ({ Authorization: `Bearer ${ui.token}` });

  it('listens on 127.0.0.1 only and prints a URL with the token', () => {
    assert.match(ui.url, new RegExp(`^http://127\\.0\\.0\\.1:${ui.port}/T{32}/$`));
  });

  it('answers 403 to every path without the token, or with a wrong one', async () => {
    for (const path of ['/', '/app.js', '/api/overview', '/api/events', '/api/cert', '/api/gitsyncs/ns/x', '/nope']) {
      assert.equal((await request(ui.port, path)).status, 403, path);
      assert.equal((await request(ui.port, path, { Authorization: 'Bearer wrong' })).status, 403, path);
      assert.equal((await request(ui.port, `/${'T'.repeat(31)}U${path}`)).status, 403, path);
      assert.equal((await request(ui.port, `/${ui.token}x${path}`)).status, 403, path);
      assert.equal((await request(ui.port, `/x${path}`, { Cookie: `token=${ui.token}` })).status, 403, path);
    }
    assert.equal((await request(ui.port, `/?token=${ui.token}`)).status, 403);
    assert.equal((await request(ui.port, '/api/gitsyncs/ns/x/sync', {}, 'POST')).status, 403);
  });

  it('serves the page under /<token>/ with relative URLs, sets no cookie, and a strict CSP', async () => {
    const bare = await request(ui.port, `/${ui.token}`);
    assert.equal(bare.status, 308);
    assert.equal(bare.headers.location, `/${ui.token}/`);
    const page = await request(ui.port, `/${ui.token}/`);
    assert.equal(page.status, 200);
    assert.match(page.body, /<script type="module" src="app.js">/);
    assert.equal(page.headers['set-cookie'], undefined);
    assert.match(String(page.headers['content-security-policy']), /default-src 'none'; script-src 'self'/);
    assert.equal(page.headers['x-frame-options'], 'DENY');
    assert.equal(page.headers['referrer-policy'], 'no-referrer');
    assert.equal((await request(ui.port, `/${ui.token}/app.js`)).status, 200);
    assert.equal((await request(ui.port, `/${ui.token}/api/gitsyncs/NS/x`)).status, 400);
  });

  it('refuses a foreign Host even with the token (DNS rebinding)', async () => {
    for (const host of ['evil.example', `evil.example:${ui.port}`, '127.0.0.1', `127.0.0.1:${ui.port + 1}`, `localhost.evil.example:${ui.port}`]) {
      assert.equal((await request(ui.port, '/api/overview', { ...auth(), Host: host })).status, 403, host);
    }
    assert.notEqual((await request(ui.port, '/', { ...auth(), Host: `localhost:${ui.port}` })).status, 403);
  });

  it('sends no CORS headers and refuses writes without the page header or from another origin', async () => {
    const pre = await request(ui.port, '/api/gitsyncs/ns/x/sync', { ...auth(), Origin: 'http://evil.example', 'Access-Control-Request-Method': 'POST' }, 'OPTIONS');
    assert.equal(pre.status, 405);
    assert.equal(pre.headers['access-control-allow-origin'], undefined);
    assert.equal((await request(ui.port, '/api/gitsyncs/ns/x/sync', auth(), 'POST')).status, 403);
    assert.equal((await request(ui.port, '/api/gitsyncs/ns/x/sync', { ...auth(), 'X-Keelson-UI': '1', Origin: 'http://evil.example' }, 'POST')).status, 403);
    assert.equal((await request(ui.port, '/api/gitsyncs/ns/x/sync', { ...auth(), 'X-Keelson-UI': '1', Origin: 'null' }, 'POST')).status, 403);
  });

  it('rejects bad names and oversized bodies without calling the API', async () => {
    assert.equal((await request(ui.port, '/api/gitsyncs/NS/x', auth())).status, 400);
    assert.equal((await request(ui.port, '/api/gitsyncs/%E0%A4%A/x', auth())).status, 400);
    assert.equal((await request(ui.port, '/api/workloads/deployments/ns/a,b=c', auth())).status, 400);
    assert.equal((await request(ui.port, '/api/workloads/secrets/ns/x', auth())).status, 404);
    assert.equal((await request(ui.port, `/api/gitsyncs/ns/${'a'.repeat(300)}`, auth())).status, 404);
    const big = await request(ui.port, '/api/gitsyncs/ns/x/suspend', { ...auth(), 'X-Keelson-UI': '1', 'Content-Type': 'application/json' }, 'POST', JSON.stringify({ suspend: true, pad: 'x'.repeat(10_000) }));
    assert.equal(big.status, 400);
    assert.equal((await request(ui.port, '/api/gitsyncs/ns/x/suspend', { ...auth(), 'X-Keelson-UI': '1' }, 'POST', '{"suspend":"yes"}')).status, 400);
  });

  it('bounds the number of event streams', async () => {
    const open: http.ClientRequest[] = [];
    const statuses: number[] = [];
    for (let i = 0; i < MAX_SSE_CLIENTS + 2; i++) {
      statuses.push(await new Promise<number>((resolve) => {
        const req = http.get({ host: '127.0.0.1', port: ui.port, path: '/api/events', headers: { Host: `127.0.0.1:${ui.port}`, ...auth() } }, (res) => resolve(res.statusCode ?? 0));
        open.push(req);
      }));
    }
    for (const r of open) r.destroy();
    assert.equal(statuses.filter((s) => s === 200).length, MAX_SSE_CLIENTS);
    assert.deepEqual(statuses.slice(MAX_SSE_CLIENTS), [503, 503]);
  });
});

describe('ui server: never reads Secrets', () => {
  it('no UI module names the Secrets resource or its API path', () => {
    const dir = new URL('../../../src/ui/', import.meta.url);
    const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => /\.tsx?$/.test(f));
    assert.ok(files.length >= 5);
    for (const f of files) {
      const text = readFileSync(new URL(f, dir), 'utf8');
      assert.doesNotMatch(text, /\bSECRETS\b|\/secrets\b|'secrets'/, f);
    }
  });
});
