// The UI server's front door, attacked as another local user or a web page would: no token, a wrong token, a foreign
// Host (DNS rebinding), a cookie-less token in the path, a cross-origin or header-less write, CORS probes, too many event streams. All of these are
// refused before any API call, so the cluster here is an address nothing listens on.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { KubeClient } from '../../../src/kube/client.js';
import { DiffTooLargeError, type GitSyncDiff } from '../../../src/cli/diff.js';
import { MAX_DIFF_BYTES } from '../../../src/ui/diff-view.js';
import { MAX_DIFFS, MAX_SSE_CLIENTS, type UiServer, startUiServer } from '../../../src/ui/server.js';

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

describe('ui server: the diff is bounded', () => {
  let ui: UiServer;
  let client: KubeClient;
  const calls: { key: string; signal: AbortSignal; finish: (d: GitSyncDiff) => void; fail: (e: Error) => void }[] = [];
  before(async () => {
    client = new KubeClient({ getCurrentCluster: () => ({ server: 'https://127.0.0.1:9' }), applyToHTTPSOptions: async () => {} });
    ui = await startUiServer({
      client, token: 'D'.repeat(32), diffTimeoutMs: 1500,
      diff: (ns, name, signal) => new Promise((finish, fail) => { calls.push({ key: `${ns}/${name}`, signal, finish, fail }); }),
    });
  });
  after(async () => { await ui.close(); client.close(); });
  const post = (path: string, headers: Record<string, string> = { 'X-Keelson-UI': '1' }) => request(ui.port, path, { Authorization: `Bearer ${ui.token}`, ...headers }, 'POST');
  const until = async (n: number) => { while (calls.length < n) await new Promise((r) => setTimeout(r, 10)); };
  const diff = (items: GitSyncDiff['items']): GitSyncDiff => ({ revision: 'main@sha1:abc', lastApplied: 'none', as: 'you', items });

  it('needs the write header (another page cannot start one) and a GET does nothing', async () => {
    assert.equal((await post('/api/gitsyncs/ns/a/diff', {})).status, 403);
    assert.equal((await request(ui.port, '/api/gitsyncs/ns/a/diff', { Authorization: `Bearer ${ui.token}` })).status, 404);
    assert.equal(calls.length, 0);
  });

  it('one diff at a time per GitSync, MAX_DIFFS in all, then the side-by-side view', async () => {
    const first = post('/api/gitsyncs/ns/a/diff');
    await until(1);
    const again = await post('/api/gitsyncs/ns/a/diff');
    assert.equal(again.status, 409);
    assert.match(again.body, /already running/);
    const other = post('/api/gitsyncs/ns/b/diff');
    await until(2);
    assert.equal(MAX_DIFFS, 2);
    assert.equal((await post('/api/gitsyncs/ns/c/diff')).status, 503);
    calls[0]!.finish(diff([{ action: 'update', what: 'ConfigMap ns/x', file: 'x.yaml', before: 'data:\n  a: "1"\n', after: 'data:\n  a: "2"\n' }]));
    const answer = await first;
    assert.equal(answer.status, 200);
    const view = JSON.parse(answer.body) as { items: { hunks: { rows: { left: { text: string }; right: { text: string } }[] }[] }[] };
    assert.deepEqual(view.items[0]!.hunks[0]!.rows.map((r) => [r.left.text, r.right.text]), [['data:', 'data:'], ['  a: "1"', '  a: "2"']]);
    calls[1]!.fail(new Error('GitSync ns/b: refused'));
    const failed = await other;
    assert.equal(failed.status, 502);
    assert.match(failed.body, /refused/);
  });

  it('stops a diff at the timeout with a clear message, and frees the slot when the work ends', async () => {
    const n = calls.length;
    const answer = await post('/api/gitsyncs/ns/slow/diff');
    assert.equal(answer.status, 504);
    assert.match(answer.body, /took longer than 2 s and was stopped; run \\"keelson diff ns\/slow\\" in a terminal/);
    assert.equal(calls[n]!.signal.aborted, true);
    calls[n]!.fail(new Error('aborted'));
    await new Promise((r) => setTimeout(r, 20));
    const next = post('/api/gitsyncs/ns/slow/diff');
    await until(n + 2);
    calls[n + 1]!.finish(diff([]));
    assert.equal((await next).status, 200);
  });

  it('refuses a diff over the size cap, naming its size and the CLI', async () => {
    const n = calls.length;
    const answer = post('/api/gitsyncs/ns/big/diff');
    await until(n + 1);
    calls[n]!.finish(diff([{ action: 'create', what: 'ConfigMap ns/big', file: 'big.yaml', before: '', after: 'x'.repeat(MAX_DIFF_BYTES + 1) }]));
    const a = await answer;
    assert.equal(a.status, 413);
    assert.match(a.body, /is over 2\.0 MiB, more than the page's 2 MiB: run \\"keelson diff ns\/big\\"/);
    const m = calls.length;
    const early = post('/api/gitsyncs/ns/big/diff');
    await until(m + 1);
    calls[m]!.fail(new DiffTooLargeError(3 * 1048576, 7));
    const e = await early;
    assert.equal(e.status, 413);
    assert.match(e.body, /is over 3\.0 MiB/);
  });
});
