// What a GitSync may cost, against a real control plane and real Git servers: an insecure transport without
// --allow-insecure-git is refused before anything is fetched; a revision holding a 100 MB YAML file is refused
// (RevisionTooLarge; not even downloaded from a server that supports filters) while the controller process keeps
// serving /healthz under 256 MiB RSS; too many objects are
// refused; cache folders of old URLs and deleted GitSyncs go; webhook floods cost one Secret GET per TTL and get
// 429; a trickling Git server is cut off by the timeout (whole process group) and by the low-speed limit.

import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { KeyedMutex, lsRemote, openSession } from '../../src/gitsync/git.js';
import { HookRateLimiter, WebhookSecretCache } from '../../src/gitsync/hook-guard.js';
import { HOOK_PREFIX, hookHandler, tokenLoader } from '../../src/gitsync/hooks.js';
import { TransportError, fetchRevision } from '../../src/gitsync/source.js';
import { parseSpec } from '../../src/gitsync/spec.js';
import { CONFIGMAPS, GITSYNCS, SECRETS } from '../../src/kube/resources.js';
import { createLogger } from '../../src/observe/logger.js';
import { HttpServer } from '../../src/server/http.js';
import { type ControlPlane, startControlPlane } from '../support/control-plane.js';
import { startController } from '../support/controller.js';
import { type GitServers, startGitServers } from '../support/git-servers.js';
import { createGitSync, createNamespace, gitSyncStatus, installGitSyncCrd, ready, waitApplied } from '../support/gitsync-fixture.js';
import { freePort } from '../support/ports.js';
import { delay, eventually } from '../support/wait.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// The controller namespace: GitSyncs here apply with Keelson's own identity, so these tests need no ServiceAccount.
const NS = 'keelson-system';
const cm = (name: string, v: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  v: "${v}"\n`;

/** VmRSS and VmHWM (peak) of a process, in MiB, from /proc/<pid>/status. */
function rssOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

describe('gitsync: transports and limits', () => {
  let cp: ControlPlane;
  let servers: GitServers;
  let cache: string;
  const cmExists = async (name: string) => (await cp.client.tryGet(CONFIGMAPS, NS, name)) !== undefined;
  const cacheEntries = (gitsync: string) => readdirSync(cache).filter((e) => e.startsWith(`${NS}_${gitsync}_`));

  before(async () => {
    execFileSync(process.execPath, [`${ROOT}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
    [cp, servers] = await Promise.all([startControlPlane(), startGitServers()]);
    await installGitSyncCrd(cp.client);
    await createNamespace(cp.client, NS);
    cache = mkdtempSync(join(tmpdir(), 'keelson-gitcache-'));
  });
  after(async () => {
    await Promise.all([cp?.stop(), servers?.stop()]);
    if (cache) rmSync(cache, { recursive: true, force: true });
  });

  it('refuses a git:// URL without --allow-insecure-git: InsecureTransport, Stalled, nothing fetched or applied', async () => {
    const ctl = await startController(cp, ['--disable-reload', '--disable-sealing', '--git-cache-dir', cache]);
    try {
      servers.repo('insecure').write({ 'a.yaml': cm('insecure-a', '1') }).commit('one');
      await createGitSync(cp.client, NS, 'insecure', { url: servers.daemonUrl('insecure') });
      const st = await eventually('InsecureTransport', async () => { const s = await gitSyncStatus(cp.client, NS, 'insecure'); return ready(s).reason === 'InsecureTransport' ? s : undefined; });
      assert.equal(ready(st).status, 'False');
      assert.match(ready(st).message ?? '', /git:\/\/.*use an https:\/\/ or ssh:\/\/ URL, or start the controller with --allow-insecure-git/);
      assert.equal(st.conditions?.find((c) => c.type === 'Stalled')?.status, 'True');
      assert.equal(await cmExists('insecure-a'), false);
      assert.deepEqual(cacheEntries('insecure'), [], 'nothing was fetched');
      await cp.client.delete(GITSYNCS, NS, 'insecure');
    } finally {
      await ctl.stop();
    }
  });

  it('a file:// URL that resolves into the Git cache is refused even with --allow-insecure-git (symlinks too)', async () => {
    const victim = join(cache, `${NS}_victim_0123456789abcdef`);
    mkdirSync(victim, { recursive: true });
    const link = join(mkdtempSync(join(tmpdir(), 'keelson-link-')), 'repo.git');
    symlinkSync(victim, link);
    const client = { get: async () => { throw new Error('no Secret should be read'); } } as never;
    for (const url of [`file://${victim}`, `file://${link}`]) {
      const spec = parseSpec({ metadata: { name: 'thief', namespace: NS }, spec: { url } });
      await assert.rejects(fetchRevision({ client, namespace: NS, name: 'thief', spec, cacheDir: cache, mutex: new KeyedMutex(), allowInsecure: true }),
        (e: unknown) => e instanceof TransportError && /Git cache/.test(e.message), url);
    }
    rmSync(victim, { recursive: true, force: true });
    assert.deepEqual(readdirSync(cache).filter((e) => e.includes('thief')), []);
  });

  describe('with the controller as its own process', () => {
    let child: ChildProcess;
    let httpUrl: string;
    before(async () => {
      const port = await freePort();
      httpUrl = `http://127.0.0.1:${port}`;
      child = spawn(process.execPath, [
        'bin/keelson.js', 'controller', '--kubeconfig', cp.kubeconfigPath, '--controller-namespace', NS,
        '--http-addr', `127.0.0.1:${port}`, '--metrics-addr', '0', '--disable-reload', '--disable-sealing',
        '--git-cache-dir', cache, '--allow-insecure-git', '--max-revision-objects', '50', '--log-level', 'warn',
      ], { cwd: ROOT, env: { ...process.env }, stdio: 'ignore' });
      await eventually('the controller to serve /healthz', async () => (await fetch(`${httpUrl}/healthz`).catch(() => undefined))?.ok, 30_000);
    });
    after(() => { if (child && child.exitCode === null) child.kill('SIGKILL'); });

    it('refuses a revision with a 100 MB YAML file, applies nothing, and stays under 256 MiB RSS serving /healthz', async (t) => {
      const repo = servers.repo('huge');
      const line = '    k: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd"\n';
      const big = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: huge-big\ndata:\n  k: |\n${line.repeat(Math.ceil(100e6 / line.length))}`;
      repo.write({ 'app/big.yaml': big, 'app/small.yaml': cm('huge-small', '1') }).commit('huge');
      const before = rssOf(child.pid!);
      let healthy = 0;
      let unhealthy = 0;
      let maxRss = before.rss;
      const probe = setInterval(() => {
        maxRss = Math.max(maxRss, rssOf(child.pid!).rss);
        fetch(`${httpUrl}/healthz`, { signal: AbortSignal.timeout(2000) }).then((r) => { if (r.ok) healthy++; else unhealthy++; }, () => { unhealthy++; });
      }, 100);
      try {
        await createGitSync(cp.client, NS, 'huge', { url: servers.daemonUrl('huge'), path: 'app', timeout: '2m' });
        const st = await eventually('RevisionTooLarge', async () => { const s = await gitSyncStatus(cp.client, NS, 'huge'); return ready(s).reason === 'RevisionTooLarge' ? s : undefined; }, 120_000);
        assert.equal(ready(st).status, 'False');
        assert.match(ready(st).message ?? '', /over the limit of 64 MiB \(--max-revision-bytes\); biggest: app\/big\.yaml/);
        // A server that supports filters never sends the big blob at all (partial fetch, blob:limit).
        const filtered = join(dirname(repo.bare), 'huge-filtered.git');
        cpSync(repo.bare, filtered, { recursive: true });
        execFileSync('git', ['-C', filtered, 'config', 'uploadpack.allowFilter', 'true']);
        await createGitSync(cp.client, NS, 'huge-filtered', { url: servers.daemonUrl('huge-filtered'), path: 'app', timeout: '2m' });
        const fst = await eventually('RevisionTooLarge', async () => { const s = await gitSyncStatus(cp.client, NS, 'huge-filtered'); return ready(s).reason === 'RevisionTooLarge' ? s : undefined; }, 120_000);
        assert.match(ready(fst).message ?? '', /app\/big\.yaml is over the limit of 64 MiB \(--max-revision-bytes\) and was not downloaded/);
        const folder = join(cache, cacheEntries('huge-filtered')[0]!);
        const kib = Number(execFileSync('du', ['-sk', folder], { encoding: 'utf8' }).split('\t')[0]);
        t.diagnostic(`cache folder with a filtering server: ${kib} KiB; without: ${execFileSync('du', ['-sh', join(cache, cacheEntries('huge')[0]!)], { encoding: 'utf8' }).split('\t')[0]}`);
        assert.ok(kib < 5 * 1024, `the cache holds ${kib} KiB, not the 100 MB file`);
        await delay(1000);
      } finally {
        clearInterval(probe);
      }
      const end = rssOf(child.pid!);
      t.diagnostic(`controller RSS before ${before.rss.toFixed(1)} MiB, max sampled ${maxRss.toFixed(1)} MiB, peak (VmHWM) ${end.peak.toFixed(1)} MiB; /healthz ${healthy} ok, ${unhealthy} failed`);
      assert.equal(await cmExists('huge-small'), false, 'nothing of the revision is applied');
      assert.equal(await cmExists('huge-big'), false);
      assert.equal(unhealthy, 0, '/healthz answered throughout');
      assert.ok(healthy > 5);
      assert.ok(end.peak < 256, `peak RSS ${end.peak} MiB is under 256 MiB`);
      await cp.client.delete(GITSYNCS, NS, 'huge');
      await cp.client.delete(GITSYNCS, NS, 'huge-filtered');
    });

    it('refuses a revision with more objects than --max-revision-objects', async () => {
      const docs = Array.from({ length: 60 }, (_, i) => cm(`many-${i}`, '1')).join('---\n');
      servers.repo('many').write({ 'all.yaml': docs }).commit('many');
      await createGitSync(cp.client, NS, 'many', { url: servers.daemonUrl('many') });
      const st = await eventually('RevisionTooLarge', async () => { const s = await gitSyncStatus(cp.client, NS, 'many'); return ready(s).reason === 'RevisionTooLarge' ? s : undefined; });
      assert.match(ready(st).message ?? '', /more than 50 objects \(--max-revision-objects; passed in all\.yaml\)/);
      assert.equal(await cmExists('many-0'), false);
      await cp.client.delete(GITSYNCS, NS, 'many');
    });

    it('removes the cache folder of an earlier URL and of a deleted GitSync', async () => {
      const a = `main@sha1:${servers.repo('move-a').write({ 'a.yaml': cm('move', 'a') }).commit('a')}`;
      const b = `main@sha1:${servers.repo('move-b').write({ 'a.yaml': cm('move', 'b') }).commit('b')}`;
      await createGitSync(cp.client, NS, 'moving', { url: servers.daemonUrl('move-a') });
      await waitApplied(cp.client, NS, 'moving', a);
      const first = cacheEntries('moving');
      assert.equal(first.length, 1);
      await cp.client.patch(GITSYNCS, NS, 'moving', 'merge', { spec: { url: servers.daemonUrl('move-b') } });
      await waitApplied(cp.client, NS, 'moving', b);
      const second = cacheEntries('moving');
      assert.equal(second.length, 1);
      assert.notEqual(second[0], first[0], 'the old URL\'s folder is gone');
      await cp.client.delete(GITSYNCS, NS, 'moving');
      await eventually('the cache folder to go with the GitSync', () => cacheEntries('moving').length === 0);
    });
  });

  it('webhook floods cost one Secret GET per TTL against the real API server, and get 429 past the burst', async () => {
    const token = 'limits-hook-token';
    await cp.client.create(SECRETS, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'hook', namespace: NS }, stringData: { token } });
    const real = tokenLoader(cp.client);
    let gets = 0;
    const secrets = new WebhookSecretCache(async (ns, name) => { gets++; return real(ns, name); });
    const triggered: string[] = [];
    const server = new HttpServer('hooks-test', createLogger({ level: 'fatal', format: 'json' }));
    server.route('POST', HOOK_PREFIX, hookHandler({
      logger: createLogger({ level: 'fatal', format: 'json' }), secrets, limiter: new HookRateLimiter(0.5, 10),
      webhookSecretOf: (_ns, name) => (name === 'flooded' || name === 'quiet' ? 'hook' : undefined),
      trigger: (ns, name) => triggered.push(`${ns}/${name}`),
    }));
    const port = await server.listen({ host: '127.0.0.1', port: 0 });
    try {
      const post = (name: string, headers: Record<string, string> = {}, body = '{}') =>
        fetch(`http://127.0.0.1:${port}/hooks/git/${NS}/${name}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body }).then((r) => r.status);
      const statuses = await Promise.all(Array.from({ length: 100 }, () => post('flooded', { 'X-Hub-Signature-256': `sha256=${'0'.repeat(64)}` })));
      assert.equal(statuses.filter((s) => s === 401).length, 10, 'the burst is checked');
      assert.equal(statuses.filter((s) => s === 429).length, 90, 'the rest is refused before any work');
      assert.equal(gets, 1, '100 unauthenticated requests cost one Secret GET');
      // Unknown GitSyncs never reach the API either.
      for (let i = 0; i < 20; i++) assert.equal(await post(`nope-${i}`), 401);
      assert.equal(gets, 1);
      // Another GitSync has its own bucket; a valid signature still gets through, from the cached token.
      const body = '{"ref":"refs/heads/main"}';
      assert.equal(await post('quiet', { 'X-Hub-Signature-256': `sha256=${createHmac('sha256', token).update(body).digest('hex')}` }, body), 202);
      assert.deepEqual(triggered, [`${NS}/quiet`]);
      assert.equal(gets, 1);
    } finally {
      await server.close();
      await cp.client.delete(SECRETS, NS, 'hook');
    }
  });
});

describe('gitsync: a trickling Git server cannot hold a sync slot', () => {
  let server: http.Server;
  let url: string;
  before(async () => {
    // Answers the ref advertisement with headers and then one byte every 5 s, forever.
    server = http.createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/x-git-upload-pack-advertisement' });
      res.write('001e# service=git-upload-pack\n');
      const timer = setInterval(() => res.write('0'), 5000);
      res.on('close', () => clearInterval(timer));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/slow.git`;
  });
  after(() => { server.closeAllConnections(); server.close(); });

  const gitProcessesFor = (needle: string) => execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(needle) && !l.includes('ps -eo'));

  it('the timeout kills git and its helpers (the whole process group)', async () => {
    const session = await openSession(undefined, { allowInsecure: true });
    try {
      const started = Date.now();
      await assert.rejects(lsRemote(session, url, [], AbortSignal.timeout(2000)), /cancelled \(timeout or shutdown\)/);
      assert.ok(Date.now() - started < 10_000);
      await delay(300);
      assert.deepEqual(gitProcessesFor(url), [], 'no git or git-remote-http process is left');
    } finally { await session.dispose(); }
  });

  it('the low-speed limit ends a transfer slower than 1000 B/s after 30 s without any timeout', async () => {
    const session = await openSession(undefined, { allowInsecure: true });
    try {
      const started = Date.now();
      await assert.rejects(lsRemote(session, url, []), /too slow|Operation timed out|transfer closed|RPC failed|fatal/i);
      const took = Date.now() - started;
      assert.ok(took >= 25_000 && took < 60_000, `gave up after ${took} ms`);
    } finally { await session.dispose(); }
  });

  it('a session without --allow-insecure-git refuses http:// in git itself too', async () => {
    const session = await openSession(undefined);
    try {
      await assert.rejects(lsRemote(session, url, []), /transport 'http' not allowed/);
    } finally { await session.dispose(); }
  });
});
