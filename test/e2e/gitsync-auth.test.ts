// Git sync with credentials and signatures on a real control plane: HTTPS basic auth and bearer tokens through
// http-backend, SSH with known_hosts (and a refused host key), commits verified against GnuPG and SSH keys, semver
// refs, an invalid spec reported as Stalled; and no credential anywhere in logs, status or Events.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CONFIGMAPS, EVENTS, GITSYNCS, SECRETS } from '../../src/kube/resources.js';
import { type ControlPlane, startControlPlane } from '../support/control-plane.js';
import { type RunningController, metricValue, startController } from '../support/controller.js';
import { type GitServers, startGitServers } from '../support/git-servers.js';
import { GITSYNC_SA_FLAGS, createGitSync, createNamespace, gitSyncStatus, installGitSyncCrd, ready, waitApplied, letServiceAccountsApply } from '../support/gitsync-fixture.js';
import { delay, eventually } from '../support/wait.js';

const cm = (name: string, v: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  v: "${v}"\n`;

describe('gitsync: credentials, signatures, refs', () => {
  let cp: ControlPlane;
  let servers: GitServers;
  let ctl: RunningController;
  let cache: string;
  const credentials: string[] = [];
  const cmValue = async (ns: string, name: string) => ((await cp.client.tryGet(CONFIGMAPS, ns, name))?.data as Record<string, string> | undefined)?.v;
  const secret = (ns: string, name: string, stringData: Record<string, string>) =>
    cp.client.create(SECRETS, { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: ns }, stringData });
  const failure = (ns: string, name: string, reason: string) => eventually(`${ns}/${name} Ready=False ${reason}`, async () => {
    const st = await gitSyncStatus(cp.client, ns, name);
    return ready(st).status === 'False' && ready(st).reason === reason ? st : undefined;
  });

  before(async () => {
    [cp, servers] = await Promise.all([startControlPlane(), startGitServers()]);
    await installGitSyncCrd(cp.client);
    await letServiceAccountsApply(cp.client);
    cache = mkdtempSync(join(tmpdir(), 'keelson-gitcache-'));
    ctl = await startController(cp, ['--disable-reload', '--disable-sealing', '--git-cache-dir', cache, ...GITSYNC_SA_FLAGS, '--allow-insecure-git']);
    const { password, bearerToken } = servers.httpAuth;
    // The private key's body lines, each long enough to be recognisable if it leaked.
    const keyLines = servers.ssh.identity.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'));
    credentials.push(password, bearerToken, ...keyLines);
  });
  after(async () => {
    await ctl?.stop();
    await Promise.all([cp?.stop(), servers?.stop()]);
    if (cache) rmSync(cache, { recursive: true, force: true });
  });

  it('syncs over HTTPS with basic auth (and a private CA) and over HTTP with a bearer token, and reports a wrong password without echoing it', async () => {
    const ns = await createNamespace(cp.client, 'http');
    const repo = servers.repo('http');
    const rev = `main@sha1:${repo.write({ 'a.yaml': cm('a', '1') }).commit('one')}`;
    const { username, password, bearerToken } = servers.httpAuth;
    await secret(ns, 'basic', { username, password });
    await secret(ns, 'bearer', { bearerToken });
    const wrong = `${password}-but-wrong`;
    credentials.push(wrong);
    await secret(ns, 'wrong', { username, password: wrong });
    await cp.client.patch(SECRETS, ns, 'basic', 'merge', { stringData: { 'ca.crt': servers.caCert } });
    await createGitSync(cp.client, ns, 'basic', { url: servers.httpsUrl('http'), secretRef: { name: 'basic' }, targetNamespace: ns });
    await createGitSync(cp.client, ns, 'wrong', { url: servers.httpUrl('http'), secretRef: { name: 'wrong' }, path: 'nothing-here' });
    await createGitSync(cp.client, ns, 'nosecret', { url: servers.httpUrl('http'), secretRef: { name: 'absent' }, path: 'nothing-here' });
    await waitApplied(cp.client, ns, 'basic', rev);
    await cp.client.delete(GITSYNCS, ns, 'basic');
    await createGitSync(cp.client, ns, 'bearer', { url: servers.httpUrl('http'), secretRef: { name: 'bearer' } });
    await waitApplied(cp.client, ns, 'bearer', rev);
    const st = await failure(ns, 'wrong', 'GitOperationFailed');
    assert.match(ready(st).message!, /ls-remote failed/);
    const missing = await failure(ns, 'nosecret', 'GitOperationFailed');
    assert.match(ready(missing).message!, /Secret http\/absent named by spec.secretRef does not exist/);
    assert.ok(metricValue(await ctl.metrics(), 'keelson_gitsync_runs_total', { namespace: ns, name: 'wrong', result: 'failure' }) >= 1);
  });

  it('syncs over SSH with known_hosts and refuses a host whose key is not the known one', async () => {
    const ns = await createNamespace(cp.client, 'ssh');
    const repo = servers.repo('ssh');
    const rev = `main@sha1:${repo.write({ 'a.yaml': cm('a', '1') }).commit('one')}`;
    const url = await servers.sshUrl('ssh');
    await secret(ns, 'good', { identity: servers.ssh.identity, known_hosts: servers.ssh.knownHosts() });
    await secret(ns, 'bad', { identity: servers.ssh.identity, known_hosts: servers.ssh.wrongKnownHosts() });
    await createGitSync(cp.client, ns, 'good', { url, secretRef: { name: 'good' } });
    await createGitSync(cp.client, ns, 'bad', { url, secretRef: { name: 'bad' }, path: 'nothing-here' });
    await waitApplied(cp.client, ns, 'good', rev);
    const st = await failure(ns, 'bad', 'GitOperationFailed');
    assert.match(ready(st).message!, /Host key verification failed|HOST IDENTIFICATION HAS CHANGED/);
  });

  it('applies only commits signed by a trusted GnuPG or SSH key', async () => {
    const ns = await createNamespace(cp.client, 'verify');
    const gpg = servers.gpgKey('trusted');
    const sshKey = servers.sshSigningKey('trusted');
    const stranger = servers.gpgKey('stranger');
    await secret(ns, 'keys', { 'ci.asc': gpg.armoredPublicKey, 'allowed_signers': `ci@example.com ${sshKey.publicKey}\n` });
    const repo = servers.repo('verify');
    const rev1 = `main@sha1:${repo.write({ 'a.yaml': cm('a', '1') }).commit('gpg signed', { signer: gpg.signer })}`;
    await createGitSync(cp.client, ns, 'app', { url: servers.daemonUrl('verify'), verify: { mode: 'HEAD', secretRef: { name: 'keys' } } });
    await waitApplied(cp.client, ns, 'app', rev1);

    const unsigned = repo.write({ 'a.yaml': cm('a', '2') }).commit('unsigned');
    const st = await failure(ns, 'app', 'VerificationFailed');
    assert.match(ready(st).message!, new RegExp(`commit ${unsigned} is not signed`));
    assert.equal(st.lastAppliedRevision, rev1);
    assert.equal(await cmValue(ns, 'a'), '1');

    const untrusted = repo.write({ 'a.yaml': cm('a', '3') }).commit('stranger', { signer: stranger.signer });
    await eventually('untrusted signature reported', async () => (ready(await gitSyncStatus(cp.client, ns, 'app')).message ?? '').includes(`commit ${untrusted} is signed by a key that is not trusted`));
    assert.equal(await cmValue(ns, 'a'), '1');

    const rev4 = `main@sha1:${repo.write({ 'a.yaml': cm('a', '4') }).commit('ssh signed', { signer: sshKey.signer })}`;
    await waitApplied(cp.client, ns, 'app', rev4);
    assert.equal(await cmValue(ns, 'a'), '4');
  });

  it('follows the highest tag in a semver range, and a pinned commit', async () => {
    const ns = await createNamespace(cp.client, 'semver');
    const repo = servers.repo('semver');
    repo.write({ 'a.yaml': cm('a', '1.0.0') }).commit('1.0.0');
    repo.tag('v1.0.0');
    const c11 = repo.write({ 'a.yaml': cm('a', '1.1.0') }).commit('1.1.0');
    repo.tag('v1.1.0', true);
    repo.write({ 'a.yaml': cm('a', '2.0.0') }).commit('2.0.0');
    repo.tag('v2.0.0');
    await createGitSync(cp.client, ns, 'app', { url: servers.daemonUrl('semver'), ref: { semver: '>=1.0.0 <2.0.0' } });
    await createGitSync(cp.client, ns, 'pinned', { url: servers.daemonUrl('semver'), ref: { commit: c11 }, targetNamespace: 'semver', path: '.' , prune: false });
    await waitApplied(cp.client, ns, 'app', `v1.1.0@sha1:${c11}`);
    await waitApplied(cp.client, ns, 'pinned', `sha1:${c11}`);
    const c12 = repo.write({ 'a.yaml': cm('a', '1.2.0') }).commit('1.2.0');
    repo.tag('v1.2.0');
    await waitApplied(cp.client, ns, 'app', `v1.2.0@sha1:${c12}`);
  });

  it('reports an invalid spec as Stalled without retrying', async () => {
    const ns = await createNamespace(cp.client, 'invalid');
    credentials.push('pa55-in-url');
    await createGitSync(cp.client, ns, 'app', { url: 'https://user:pa55-in-url@example.com/r.git' });
    const st = await failure(ns, 'app', 'InvalidSpec');
    assert.match(ready(st).message!, /must not contain a password/);
    assert.equal(st.conditions!.find((c) => c.type === 'Stalled')!.status, 'True');
  });

  it('gives up a sync that takes longer than spec.timeout', async () => {
    const ns = await createNamespace(cp.client, 'timeout');
    // A "git server" that accepts connections and never answers.
    const sockets: Socket[] = [];
    const silent: Server = createServer((s) => { sockets.push(s); });
    const port = await new Promise<number>((r) => silent.listen(0, '127.0.0.1', () => r((silent.address() as { port: number }).port)));
    try {
      await createGitSync(cp.client, ns, 'app', { url: `git://127.0.0.1:${port}/hangs.git`, timeout: '2s', interval: '5s' });
      const st = await failure(ns, 'app', 'GitOperationFailed');
      assert.match(ready(st).message!, /sync timed out after 2s \(spec.timeout\)/);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  it('never shows a credential in logs, status or Events', async () => {
    await delay(1000);
    const statuses = JSON.stringify((await cp.client.list(GITSYNCS)).items.map((g) => g.status));
    const events = JSON.stringify((await cp.client.list(EVENTS)).items.map((e) => e.message));
    const logs = ctl.logText();
    assert.ok(logs.length > 1000 && statuses.includes('GitOperationFailed'));
    for (const c of credentials) {
      for (const form of [c, Buffer.from(c).toString('base64')]) {
        assert.ok(!logs.includes(form), `logs contain a credential (${c.slice(0, 4)}…)`);
        assert.ok(!statuses.includes(form), `status contains a credential (${c.slice(0, 4)}…)`);
        assert.ok(!events.includes(form), `events contain a credential (${c.slice(0, 4)}…)`);
      }
    }
  });
});
