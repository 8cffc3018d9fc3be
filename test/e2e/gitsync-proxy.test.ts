// Git through a real forward proxy (tinyproxy on loopback, in front of git http-backend): the controller's
// HTTP_PROXY/NO_PROXY reach git and nothing else of its environment does, spec.proxySecretRef picks a proxy with
// basic auth per GitSync, tinyproxy's own log proves each request went through it, and the proxy password shows
// up nowhere: not in logs, status, Events, nor in git's process arguments.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openSession, lsRemote } from '../../src/gitsync/git.js';
import { SECRETS } from '../../src/kube/resources.js';
import { type ControlPlane, startControlPlane } from '../support/control-plane.js';
import { type RunningController, startController } from '../support/controller.js';
import { type GitServers, startGitServers } from '../support/git-servers.js';
import { GITSYNC_SA_FLAGS, createGitSync, createNamespace, eventsFor, gitSyncStatus, installGitSyncCrd, letServiceAccountsApply, ready, waitApplied } from '../support/gitsync-fixture.js';
import { type Tinyproxy, startTinyproxy } from '../support/tinyproxy.js';
import { eventually } from '../support/wait.js';

const cm = (name: string, v: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  v: "${v}"\n`;
const PROXY_USER = 'proxy-user';
const PROXY_PASSWORD = `proxy-pw-${Math.random().toString(36).slice(2)}-s3cr3t`;

describe('gitsync: through an HTTP proxy', () => {
  let cp: ControlPlane;
  let servers: GitServers;
  let open: Tinyproxy;
  let authed: Tinyproxy;
  let ctl: RunningController;
  let cache: string;
  const through = (proxy: Tinyproxy, repo: string) => proxy.requests().filter((r) => r.includes(`/${repo}.git/`));

  before(async () => {
    [cp, servers, open, authed] = await Promise.all([startControlPlane(), startGitServers(), startTinyproxy(), startTinyproxy({ username: PROXY_USER, password: PROXY_PASSWORD })]);
    await installGitSyncCrd(cp.client);
    await letServiceAccountsApply(cp.client);
    cache = mkdtempSync(join(tmpdir(), 'keelson-gitcache-'));
    // HTTP_PROXY in upper case on purpose: curl alone would ignore it (only http_proxy counts there).
    ctl = await startController(cp, ['--disable-reload', '--disable-sealing', '--git-cache-dir', cache, ...GITSYNC_SA_FLAGS, '--allow-insecure-git'], { HTTP_PROXY: open.address, KEELSON_UNRELATED: 'x' });
  });
  after(async () => {
    await ctl?.stop();
    await Promise.all([cp?.stop(), servers?.stop(), open?.stop(), authed?.stop()]);
    if (cache) rmSync(cache, { recursive: true, force: true });
  });

  it('fetches through the controller\'s HTTP_PROXY', async () => {
    const ns = await createNamespace(cp.client, 'envproxy');
    const rev = `main@sha1:${servers.repo('viaenv').write({ 'a.yaml': cm('a', '1') }).commit('one')}`;
    const { username, password } = servers.httpAuth;
    await cp.client.create(SECRETS, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'git', namespace: ns }, stringData: { username, password } });
    await createGitSync(cp.client, ns, 'viaenv', { url: servers.httpUrl('viaenv'), secretRef: { name: 'git' } });
    await waitApplied(cp.client, ns, 'viaenv', rev);
    assert.ok(through(open, 'viaenv').some((r) => r.startsWith('POST ') && r.includes('/viaenv.git/git-upload-pack')), `tinyproxy saw: ${open.requests().join('\n')}`);
    assert.deepEqual(through(authed, 'viaenv'), []);
  });

  it('uses spec.proxySecretRef (with basic auth) instead, and reports a wrong proxy password without echoing it', async () => {
    const ns = await createNamespace(cp.client, 'secretproxy');
    const rev = `main@sha1:${servers.repo('viasecret').write({ 'a.yaml': cm('a', '1') }).commit('one')}`;
    const { username, password } = servers.httpAuth;
    const secret = (name: string, stringData: Record<string, string>) => cp.client.create(SECRETS, { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: ns }, stringData });
    await secret('git', { username, password });
    await secret('proxy', { address: authed.address, username: PROXY_USER, password: PROXY_PASSWORD });
    await secret('badproxy', { address: authed.address, username: PROXY_USER, password: `${PROXY_PASSWORD}-wrong` });
    await secret('credsinaddress', { address: authed.address.replace('://', `://${PROXY_USER}:${PROXY_PASSWORD}@`) });
    await createGitSync(cp.client, ns, 'viasecret', { url: servers.httpUrl('viasecret'), secretRef: { name: 'git' }, proxySecretRef: { name: 'proxy' } });
    await createGitSync(cp.client, ns, 'badproxy', { url: servers.httpUrl('viasecret'), secretRef: { name: 'git' }, proxySecretRef: { name: 'badproxy' }, path: 'nothing-here' });
    await createGitSync(cp.client, ns, 'credsinaddress', { url: servers.httpUrl('viasecret'), secretRef: { name: 'git' }, proxySecretRef: { name: 'credsinaddress' }, path: 'nothing-here' });
    await waitApplied(cp.client, ns, 'viasecret', rev);
    assert.ok(through(authed, 'viasecret').some((r) => r.startsWith('POST ')), `tinyproxy (auth) saw: ${authed.requests().join('\n')}`);
    assert.deepEqual(through(open, 'viasecret'), [], 'spec.proxySecretRef overrides the controller\'s HTTP_PROXY');
    const failed = (name: string) => eventually(`${ns}/${name} fails`, async () => {
      const st = await gitSyncStatus(cp.client, ns, name);
      return ready(st).status === 'False' ? st : undefined;
    });
    const bad = await failed('badproxy');
    assert.equal(ready(bad).reason, 'GitOperationFailed');
    const inAddress = await failed('credsinaddress');
    assert.match(ready(inAddress).message!, /"address" must not carry credentials; put them in the "username" and "password" keys/);
    const everything = JSON.stringify([ctl.logs, await gitSyncStatus(cp.client, ns, 'badproxy'), inAddress, await eventsFor(cp.client, ns, 'badproxy'), await eventsFor(cp.client, ns, 'credsinaddress')]);
    assert.ok(!everything.includes(PROXY_PASSWORD), 'the proxy password leaked');
    assert.ok(!everything.includes(encodeURIComponent(PROXY_PASSWORD)), 'the proxy password leaked (encoded)');
  });

  it('hands git the proxy password in its environment, never in its arguments; and NO_PROXY bypasses the proxy', async () => {
    servers.repo('direct').write({ 'a.yaml': cm('a', '1') }).commit('one');
    const auth = { username: servers.httpAuth.username, password: servers.httpAuth.password };
    const session = await openSession(auth, { allowInsecure: true, proxy: { kind: 'secret', address: authed.address, username: PROXY_USER, password: PROXY_PASSWORD } });
    try {
      const i = Object.entries(session.env).find(([, v]) => v === 'http.proxy')?.[0]?.replace('KEY', 'VALUE');
      assert.ok(i && session.env[i]!.includes(encodeURIComponent(PROXY_PASSWORD)), 'http.proxy is set through GIT_CONFIG_* variables');
      assert.ok(session.secrets.includes(PROXY_PASSWORD));
    } finally { await session.dispose(); }
    const bypass = await openSession(auth, { allowInsecure: true, proxy: { kind: 'environment', variables: { HTTP_PROXY: open.address, NO_PROXY: '127.0.0.1' } } });
    try {
      assert.match(await lsRemote(bypass, servers.httpUrl('direct'), ['refs/heads/main']), /refs\/heads\/main/);
    } finally { await bypass.dispose(); }
    assert.deepEqual(through(open, 'direct'), [], 'NO_PROXY=127.0.0.1 went around the proxy');
  });
});
