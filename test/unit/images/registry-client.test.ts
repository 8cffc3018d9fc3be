// The registry client against hostile registries (small node:http servers on loopback playing the attacker; the
// well-behaved path is tested against the real docker-registry in test/e2e/imagepolicy.test.ts): Link pagination
// followed only on the registry's origin, loops and page/tag limits, 429/5xx backoff, oversized and trickling
// responses cut off, token realms that are not https refused, and no credential in any error message.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { RegistryClient, RegistryError, type RegistryLimits, isDigest } from '../../../src/images/registry-client.js';
import { parseImageRepository } from '../../../src/images/reference.js';
import { generateCert } from '../../support/registry.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;
const servers: (http.Server | https.Server)[] = [];
after(() => { for (const s of servers) { s.closeAllConnections(); s.close(); } });

async function serve(handler: Handler): Promise<string> {
  const s = http.createServer(handler);
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `127.0.0.1:${(s.address() as { port: number }).port}`;
}

const PASSWORD = 'hunter2-VERY-SECRET';
const client = (host: string, limits: Partial<RegistryLimits> = {}, withCreds = true) => new RegistryClient({
  ref: parseImageRepository(`${host}/app`), plainHttp: true, limits: { attempts: 3, ...limits },
  ...(withCreds ? { credentials: { username: 'u', password: PASSWORD } } : {}),
});
const json = (res: http.ServerResponse, body: unknown, headers: Record<string, string> = {}) => res.writeHead(200, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));

async function fails(p: Promise<unknown>, reason: RegistryError['reason'], text: RegExp): Promise<RegistryError> {
  try { await p; } catch (err) {
    assert.ok(err instanceof RegistryError, String(err));
    assert.equal(err.reason, reason, err.message);
    assert.match(err.message, text);
    assert.ok(!err.message.includes(PASSWORD) && !err.message.includes(Buffer.from(`u:${PASSWORD}`).toString('base64')), 'no credential in the message');
    return err;
  }
  assert.fail('expected a RegistryError');
}

describe('registry client against hostile registries', () => {
  it('follows Link pagination on its own origin, drops invalid tags', async () => {
    const host = await serve((req, res) => {
      const last = new URL(req.url!, 'http://x').searchParams.get('last');
      if (!last) return json(res, { tags: ['a', 'b', '-bad', 7] }, { link: '</v2/app/tags/list?n=2&last=b>; rel="next"' });
      if (last === 'b') return json(res, { tags: ['c', 'd'] }, { link: '</v2/app/tags/list?n=2&last=d>; rel="next"' });
      return json(res, { tags: null });
    });
    assert.deepEqual(await client(host).listTags(), ['a', 'b', 'c', 'd']);
  });

  it('refuses a next link to another origin (credentials would follow)', async () => {
    const host = await serve((_req, res) => json(res, { tags: ['a'] }, { link: '<http://evil.example/v2/app/tags/list>; rel="next"' }));
    await fails(client(host).listTags(), 'RegistryError', /another origin/);
  });

  it('stops at a page seen before, at maxPages and at maxTags', async () => {
    const loop = await serve((_req, res) => json(res, { tags: ['a'] }, { link: '</v2/app/tags/list?n=1000>; rel="next"' }));
    assert.deepEqual(await client(loop).listTags(), ['a']);
    let page = 0;
    const endless = await serve((_req, res) => { page++; json(res, { tags: [`t${page}`] }, { link: `</v2/app/tags/list?last=t${page}>; rel="next"` }); });
    await fails(client(endless, { maxPages: 5 }).listTags(), 'TooManyTags', /more than 5 pages/);
    const many = await serve((_req, res) => json(res, { tags: Array.from({ length: 50 }, (_, i) => `t${i}`) }));
    await fails(client(many, { maxTags: 20 }).listTags(), 'TooManyTags', /more than 20 tags/);
  });

  it('retries 429 (honouring a short Retry-After) and 5xx, then gives up with the status', async () => {
    let calls = 0;
    const flaky = await serve((_req, res) => { calls++; if (calls < 3) res.writeHead(calls === 1 ? 429 : 503, { 'retry-after': '0' }).end(); else json(res, { tags: ['x'] }); });
    assert.deepEqual(await client(flaky).listTags(), ['x']);
    assert.equal(calls, 3);
    const down = await serve((_req, res) => res.writeHead(500).end());
    const err = await fails(client(down).listTags(), 'RegistryError', /answered 500/);
    assert.equal(err.transient, true);
  });

  it('cuts off an oversized body and a trickling server', async () => {
    const big = await serve((_req, res) => { res.writeHead(200); const chunk = Buffer.alloc(64 * 1024, 32); let n = 0; const w = () => { while (n++ < 200) if (!res.write(chunk)) return res.once('drain', w); res.end(); }; w(); });
    await fails(client(big, { maxBodyBytes: 1024 * 1024 }).listTags(), 'RegistryError', /larger than 1048576 bytes/);
    const slow = await serve((_req, res) => { res.writeHead(200); const t = setInterval(() => res.write(' '), 50); res.on('close', () => clearInterval(t)); });
    const start = Date.now();
    await fails(client(slow, { timeoutMs: 500, attempts: 1 }).listTags(), 'Unreachable', /within 500 ms/);
    assert.ok(Date.now() - start < 5000);
  });

  it('Basic challenge: sends the credentials once; refused credentials and no credentials give clear errors', async () => {
    const seen: (string | undefined)[] = [];
    const host = await serve((req, res) => {
      seen.push(req.headers.authorization);
      if (req.headers.authorization !== `Basic ${Buffer.from(`u:${PASSWORD}`).toString('base64')}`) return res.writeHead(401, { 'www-authenticate': 'Basic realm="r"' }).end();
      json(res, { tags: ['1'] });
    });
    assert.deepEqual(await client(host).listTags(), ['1']);
    assert.deepEqual(seen.map((s) => s?.split(' ')[0]), [undefined, 'Basic']);
    await fails(client(host, {}, false).listTags(), 'AuthenticationFailed', /requires authentication: set spec.secretRef/);
    const refuse = await serve((_req, res) => res.writeHead(401, { 'www-authenticate': 'Basic realm="r"' }).end());
    await fails(client(refuse).listTags(), 'AuthenticationFailed', /refused GET \/v2\/app\/tags\/list \(401\)/);
  });

  it('Bearer: token fetched from the realm with service and scope', async () => {
    let tokenQuery = '';
    const auth = await serve((req, res) => { tokenQuery = req.url!; json(res, { access_token: 'TKN' }); });
    const host = await serve((req, res) => {
      if (req.headers.authorization !== 'Bearer TKN') return res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${auth}/token",service="svc",scope="repository:app:pull"` }).end();
      json(res, { tags: ['1'] });
    });
    assert.deepEqual(await client(host).listTags(), ['1']);
    const q = new URL(tokenQuery, 'http://x').searchParams;
    assert.deepEqual([q.get('service'), q.get('scope')], ['svc', 'repository:app:pull']);
  });

  it('an https registry whose token realm is http:// is refused before the credentials are sent in clear', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keelson-regtest-'));
    try {
      const tls = generateCert(dir);
      let realmHits = 0;
      const realm = await serve((_req, res) => { realmHits++; json(res, { token: 'T' }); });
      const s = https.createServer({ key: tls.key, cert: tls.cert }, (_req, res) => res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${realm}/token",service="svc"` }).end());
      servers.push(s);
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
      const c = new RegistryClient({ ref: parseImageRepository(`127.0.0.1:${(s.address() as { port: number }).port}/app`), plainHttp: false, ca: tls.cert, credentials: { username: 'u', password: PASSWORD } });
      await fails(c.listTags(), 'AuthenticationFailed', /realm that is not https/);
      assert.equal(realmHits, 0);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });

  it('digests: Docker-Content-Digest when valid, else the sha256 of the manifest', async () => {
    const host = await serve((req, res) => {
      if (req.url!.endsWith('/good')) res.writeHead(200, { 'docker-content-digest': `sha256:${'a'.repeat(64)}` }).end();
      else res.writeHead(200, { 'docker-content-digest': 'sha256:../../etc' }).end(req.method === 'GET' ? '{}' : undefined);
    });
    assert.equal(await client(host).digestOf('good'), `sha256:${'a'.repeat(64)}`);
    assert.equal(await client(host).digestOf('bad'), 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a');
    assert.ok(isDigest(`sha512:${'0'.repeat(128)}`) && !isDigest('sha256:') && !isDigest(`sha256:${'A'.repeat(64)}`) && !isDigest('md5:x'));
  });
});
