// Git sync's safety and triggers on a real control plane: a bad revision (broken YAML, an object the API server
// rejects in dry-run) writes and prunes nothing and names the file and object, a fix recovers; suspend; the
// requested-at annotation; the push webhook (GitHub HMAC, GitLab token, rejections); `keelson diff` and `keelson sync`.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CONFIGMAPS, GITSYNCS, SECRETS } from '../../src/kube/resources.js';
import { type ControlPlane, startControlPlane } from '../support/control-plane.js';
import { type RunningController, startController } from '../support/controller.js';
import { type GitServers, startGitServers } from '../support/git-servers.js';
import { GITSYNC_SA_FLAGS, createGitSync, createNamespace, eventsFor, gitSyncStatus, installGitSyncCrd, ready, runCli, waitApplied, letServiceAccountsApply } from '../support/gitsync-fixture.js';
import { delay, eventually } from '../support/wait.js';

const cm = (name: string, v: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  v: "${v}"\n`;
const secret = (name: string, value: string) => `apiVersion: v1\nkind: Secret\nmetadata:\n  name: ${name}\nstringData:\n  password: "${value}"\n`;

describe('gitsync: bad revisions, suspend, triggers, CLI', () => {
  let cp: ControlPlane;
  let servers: GitServers;
  let ctl: RunningController;
  let cache: string;
  const cmValue = async (ns: string, name: string) => ((await cp.client.tryGet(CONFIGMAPS, ns, name))?.data as Record<string, string> | undefined)?.v;

  before(async () => {
    [cp, servers] = await Promise.all([startControlPlane(), startGitServers()]);
    await installGitSyncCrd(cp.client);
    await letServiceAccountsApply(cp.client);
    cache = mkdtempSync(join(tmpdir(), 'keelson-gitcache-'));
    ctl = await startController(cp, ['--disable-reload', '--disable-sealing', '--git-cache-dir', cache, ...GITSYNC_SA_FLAGS, '--allow-insecure-git']);
  });
  after(async () => {
    await ctl?.stop();
    await Promise.all([cp?.stop(), servers?.stop()]);
    if (cache) rmSync(cache, { recursive: true, force: true });
  });

  it('a bad revision writes nothing and prunes nothing; a fixed one recovers', async () => {
    const ns = await createNamespace(cp.client, 'safety');
    const repo = servers.repo('safety');
    const rev1 = `main@sha1:${repo.write({ 'a.yaml': cm('a', '1'), 'b.yaml': cm('b', '1') }).commit('good')}`;
    await createGitSync(cp.client, ns, 'app', { url: servers.daemonUrl('safety'), prune: true });
    await waitApplied(cp.client, ns, 'app', rev1);

    // Broken YAML next to a valid change and a deletion.
    const rev2 = `main@sha1:${repo.write({ 'a.yaml': cm('a', '2'), 'b.yaml': null, 'c.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c\ndata: [\n' }).commit('broken yaml')}`;
    const st2 = await eventually('ValidationFailed for broken YAML', async () => {
      const st = await gitSyncStatus(cp.client, ns, 'app');
      return st.lastAttemptedRevision === rev2 && ready(st).status === 'False' ? st : undefined;
    });
    assert.equal(ready(st2).reason, 'ValidationFailed');
    assert.match(ready(st2).message!, /^c\.yaml \(document 1\): invalid YAML/);
    assert.equal(st2.lastAppliedRevision, rev1);
    assert.equal(await cmValue(ns, 'a'), '1', 'the valid change in a.yaml was not written');
    assert.equal(await cmValue(ns, 'b'), '1', 'b was not pruned');

    // An object the API server rejects (invalid data key) in dry-run.
    const rev3 = `main@sha1:${repo.write({ 'c.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {"bad key!": x}\n' }).commit('rejected object')}`;
    const st3 = await eventually('ValidationFailed for a rejected object', async () => {
      const st = await gitSyncStatus(cp.client, ns, 'app');
      return st.lastAttemptedRevision === rev3 && ready(st).status === 'False' ? st : undefined;
    });
    assert.equal(ready(st3).reason, 'ValidationFailed');
    assert.match(ready(st3).message!, /^c\.yaml \(document 1\): ConfigMap safety\/c was rejected by the API server: .*bad key!/);
    assert.equal(st3.lastAppliedRevision, rev1);
    assert.equal(await cmValue(ns, 'a'), '1');
    assert.equal(await cmValue(ns, 'b'), '1');
    assert.equal(await cp.client.tryGet(CONFIGMAPS, ns, 'c'), undefined);
    assert.ok((await eventsFor(cp.client, ns, 'app')).some((e) => e.type === 'Warning' && e.reason === 'ValidationFailed' && String(e.message).includes('c.yaml')));

    const rev4 = `main@sha1:${repo.write({ 'c.yaml': cm('c', '1') }).commit('fixed')}`;
    await waitApplied(cp.client, ns, 'app', rev4);
    assert.equal(await cmValue(ns, 'a'), '2');
    assert.equal(await cmValue(ns, 'c'), '1');
    await eventually('b pruned', async () => (await cp.client.tryGet(CONFIGMAPS, ns, 'b')) === undefined);
  });

  it('a suspended GitSync applies nothing until resumed', async () => {
    const ns = await createNamespace(cp.client, 'suspend');
    const repo = servers.repo('suspend');
    const rev1 = `main@sha1:${repo.write({ 'a.yaml': cm('a', '1') }).commit('one')}`;
    await createGitSync(cp.client, ns, 'app', { url: servers.daemonUrl('suspend') });
    await waitApplied(cp.client, ns, 'app', rev1);
    await cp.client.patch(GITSYNCS, ns, 'app', 'merge', { spec: { suspend: true } });
    await eventually('observedGeneration 2', async () => (await gitSyncStatus(cp.client, ns, 'app')).observedGeneration === 2);
    const rev2 = `main@sha1:${repo.write({ 'a.yaml': cm('a', '2') }).commit('two')}`;
    await delay(3500); // three intervals and then some
    assert.equal(await cmValue(ns, 'a'), '1');
    assert.equal((await gitSyncStatus(cp.client, ns, 'app')).lastAppliedRevision, rev1);
    const refused = await runCli(['sync', `${ns}/app`, '--kubeconfig', cp.kubeconfigPath]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /is suspended/);
    await cp.client.patch(GITSYNCS, ns, 'app', 'merge', { spec: { suspend: false } });
    await waitApplied(cp.client, ns, 'app', rev2);
    assert.equal(await cmValue(ns, 'a'), '2');
  });

  it('keelson diff shows the change (Secret values masked) and keelson sync applies it now', async () => {
    const ns = await createNamespace(cp.client, 'cli');
    const repo = servers.repo('cli');
    const rev1 = `main@sha1:${repo.write({ 'a.yaml': cm('a', '1'), 'b.yaml': cm('b', '1'), 's.yaml': secret('db', 'first-password-value') }).commit('one')}`;
    await createGitSync(cp.client, ns, 'app', { url: servers.daemonUrl('cli'), interval: '1h', prune: true });
    await waitApplied(cp.client, ns, 'app', rev1);
    const clean = await runCli(['diff', `${ns}/app`, '--kubeconfig', cp.kubeconfigPath, ...GITSYNC_SA_FLAGS]);
    assert.equal(clean.code, 0, clean.stdout + clean.stderr);
    assert.match(clean.stdout, /no differences/);

    const sha2 = repo.write({ 'a.yaml': cm('a', '2'), 'b.yaml': null, 's.yaml': secret('db', 'second-password-value') }).commit('two');
    const diff = await runCli(['diff', `${ns}/app`, '--kubeconfig', cp.kubeconfigPath, ...GITSYNC_SA_FLAGS]);
    assert.equal(diff.code, 1, diff.stdout + diff.stderr);
    assert.match(diff.stdout, new RegExp(`revision main@sha1:${sha2}`));
    assert.match(diff.stdout, /~ ConfigMap cli\/a \(a\.yaml\)/);
    assert.match(diff.stdout, /- {3}v: "1"|-\s+v: "1"/);
    assert.match(diff.stdout, /\+\s+v: "2"/);
    assert.match(diff.stdout, /- ConfigMap cli\/b: would be pruned/);
    assert.match(diff.stdout, /\+\s+password: "\*\*\* \(after\)"/);
    for (const v of ['first-password-value', 'second-password-value']) {
      assert.ok(!diff.stdout.includes(v) && !diff.stdout.includes(Buffer.from(v).toString('base64')), 'Secret values are masked');
    }
    assert.equal(await cmValue(ns, 'a'), '1', 'diff writes nothing');

    const sync = await runCli(['sync', `${ns}/app`, '--kubeconfig', cp.kubeconfigPath]);
    assert.equal(sync.code, 0, sync.stdout + sync.stderr);
    assert.match(sync.stdout, /sync of GitSync cli\/app requested/);
    assert.match(sync.stdout, new RegExp(`✔ applied revision main@sha1:${sha2}`));
    assert.equal(await cmValue(ns, 'a'), '2');
    assert.equal((await runCli(['diff', `${ns}/app`, '--kubeconfig', cp.kubeconfigPath, ...GITSYNC_SA_FLAGS])).code, 0);
  });

  it('the requested-at annotation triggers a sync and is recorded as handled', async () => {
    const ns = 'cli';
    const sha3 = servers.repo('cli').write({ 'a.yaml': cm('a', '3') }).commit('three');
    await delay(1500);
    assert.equal(await cmValue(ns, 'a'), '2', 'no polling with a 1h interval');
    await cp.client.patch(GITSYNCS, ns, 'app', 'merge', { metadata: { annotations: { 'keelson.dev/requested-at': 'manual-1' } } });
    const st = await waitApplied(cp.client, ns, 'app', `main@sha1:${sha3}`);
    assert.equal(st.lastHandledRequestedAt, 'manual-1');
    assert.equal(await cmValue(ns, 'a'), '3');
  });

  it('the webhook syncs on a valid GitHub signature or GitLab token and rejects everything else', async () => {
    const ns = await createNamespace(cp.client, 'hook');
    const token = 'hook-token-8f3a1c';
    await cp.client.create(SECRETS, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'hook', namespace: ns }, stringData: { token } });
    const repo = servers.repo('hook');
    const rev1 = `main@sha1:${repo.write({ 'a.yaml': cm('a', '1') }).commit('one')}`;
    await createGitSync(cp.client, ns, 'app', { url: servers.daemonUrl('hook'), interval: '1h', webhookSecretRef: { name: 'hook' } });
    await waitApplied(cp.client, ns, 'app', rev1);
    const url = `${ctl.httpUrl}/hooks/git/${ns}/app`;
    const body = JSON.stringify({ ref: 'refs/heads/main' });
    const sign = (b: string, key: string) => `sha256=${createHmac('sha256', key).update(b).digest('hex')}`;
    const post = (headers: Record<string, string>, b = body, target = url) => fetch(target, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: b });

    const sha2 = repo.write({ 'a.yaml': cm('a', '2') }).commit('two');
    assert.equal((await post({ 'X-Hub-Signature-256': sign(body, 'wrong-token') })).status, 401);
    assert.equal((await post({ 'X-Hub-Signature-256': sign('{"other":1}', token) })).status, 401);
    assert.equal((await post({ 'X-Gitlab-Token': 'wrong-token' })).status, 401);
    assert.equal((await post({})).status, 401);
    assert.equal((await post({ 'X-Hub-Signature-256': sign(body, token) }, body, `${ctl.httpUrl}/hooks/git/${ns}/missing`)).status, 401);
    const big = 'x'.repeat(2 * 1024 * 1024);
    const oversized = await post({ 'X-Hub-Signature-256': sign(big, token) }, big).then((r) => r.status, () => 413);
    assert.equal(oversized, 413);
    await delay(1500);
    assert.equal(await cmValue(ns, 'a'), '1', 'rejected hooks trigger nothing');

    assert.equal((await post({ 'X-Hub-Signature-256': sign(body, token), 'X-GitHub-Event': 'push' })).status, 202);
    await waitApplied(cp.client, ns, 'app', `main@sha1:${sha2}`);
    const sha3 = repo.write({ 'a.yaml': cm('a', '3') }).commit('three');
    assert.equal((await post({ 'X-Gitlab-Token': token, 'X-Gitlab-Event': 'Push Hook' })).status, 202);
    await waitApplied(cp.client, ns, 'app', `main@sha1:${sha3}`);
    assert.ok(!ctl.logText().includes(token), 'the webhook token is never logged');
  });
});
