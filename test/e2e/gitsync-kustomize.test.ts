// Git sync of a Flux-style kustomize repository over git http-backend, against a real control plane and the real
// kustomize binary: a base and two overlays (`resources: [../../base]`, a strategic-merge patch, a
// configMapGenerator whose hash-suffixed name the Deployment references, `images`, `namespace`, a SealedSecret),
// a generator change rolling the name, BuildFailed, ignore rules, and `keelson diff --path` on a local checkout;
// spec.kustomize (a generated kustomization over spec.path); and, with reload on in the same controller, a
// generator change rolling an annotated Deployment exactly once.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { CONFIGMAPS, CRDS, DEPLOYMENTS, EVENTS, GITSYNCS, REPLICASETS, SEALEDSECRETS, SECRETS } from '../../src/kube/resources.js';
import type { KubeObject } from '../../src/kube/types.js';
import { type ControlPlane, startControlPlane } from '../support/control-plane.js';
import { type RunningController, startController } from '../support/controller.js';
import { type GitServers, startGitServers } from '../support/git-servers.js';
import { GITSYNC_SA_FLAGS, createGitSync, createNamespace, gitSyncStatus, installGitSyncCrd, letServiceAccountsApply, ready, runCli, waitApplied } from '../support/gitsync-fixture.js';
import { kustomizeBinary } from '../support/kustomize.js';
import { eventually } from '../support/wait.js';

const KUSTOMIZE = kustomizeBinary();
const NS = 'flux-system';

const FILES: Record<string, string> = {
  'base/kustomization.yaml': `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [deployment.yaml]
configMapGenerator:
  - name: app-config
    literals: [greeting=hello]
`,
  'base/deployment.yaml': `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: nginx:1.25
          envFrom: [{configMapRef: {name: app-config}}]
`,
  'overlays/staging/kustomization.yaml': `resources: [../../base, sealed.yaml]
namespace: ks-staging
images:
  - {name: nginx, newTag: "1.27"}
patches:
  - path: replicas.yaml
`,
  'overlays/staging/replicas.yaml': 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 2}\n',
  'overlays/staging/sealed.yaml': 'apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {name: db}\nspec:\n  encryptedData: {password: AgBy3i4OJSWK+PiTySYZZA==}\n',
  'overlays/prod/kustomization.yaml': 'resources: [../../base]\nnamespace: ks-prod\nimages:\n  - {name: nginx, newTag: "1.28"}\n',
  '.github/workflows/ci.yaml': 'on: push\njobs: {test: {runs-on: ubuntu-latest}}\n',
  'charts/app/values.yaml': 'replicas: 3\n',
};

const envFromName = (d: KubeObject) => ((d.spec as any).template.spec.containers[0].envFrom[0].configMapRef.name as string);

describe('gitsync: kustomize overlays, ignore rules, diff --path', () => {
  let cp: ControlPlane;
  let servers: GitServers;
  let ctl: RunningController;
  let cache: string;
  let url: string;

  before(async () => {
    // The Deployment and ReplicaSet controllers: the reload test counts the ReplicaSets a roll makes.
    [cp, servers] = await Promise.all([startControlPlane({ controllerManager: ['deployment', 'replicaset'] }), startGitServers()]);
    await installGitSyncCrd(cp.client);
    await cp.client.apply(CRDS, parse(readFileSync(new URL('../../manifests/crd-sealedsecrets.yaml', import.meta.url), 'utf8')) as KubeObject, { fieldManager: 'keelson-test', force: true });
    await letServiceAccountsApply(cp.client);
    for (const ns of [NS, 'ks-staging', 'ks-prod', 'ks-reload']) await createNamespace(cp.client, ns);
    await cp.client.create(SECRETS, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'git-auth', namespace: NS }, stringData: { username: servers.httpAuth.username, password: servers.httpAuth.password } });
    cache = mkdtempSync(join(tmpdir(), 'keelson-gitcache-'));
    // Reload is on: a generator change must roll an annotated Deployment once, through Git alone (last test).
    ctl = await startController(cp, ['--disable-sealing', '--git-cache-dir', cache, ...GITSYNC_SA_FLAGS, '--allow-insecure-git', '--kustomize-path', KUSTOMIZE]);
    url = servers.httpUrl('fleet');
  });
  after(async () => {
    await ctl?.stop();
    await Promise.all([cp?.stop(), servers?.stop()]);
    if (cache) rmSync(cache, { recursive: true, force: true });
  });

  const gitsync = (name: string, spec: Record<string, unknown>) => createGitSync(cp.client, NS, name, { url, secretRef: { name: 'git-auth' }, prune: true, ...spec });

  it('builds both overlays: base from a sibling folder, patch, generator name referenced, images, namespace, SealedSecret', async () => {
    const repo = servers.repo('fleet');
    const sha = repo.write(FILES).commit('fleet');
    await gitsync('staging', { path: 'overlays/staging' });
    await gitsync('prod', { path: './overlays/prod' });
    await waitApplied(cp.client, NS, 'staging', `main@sha1:${sha}`, 60_000);
    await waitApplied(cp.client, NS, 'prod', `main@sha1:${sha}`, 60_000);
    const web = await cp.client.get(DEPLOYMENTS, 'ks-staging', 'web');
    assert.equal((web.spec as any).replicas, 2, 'the strategic-merge patch');
    assert.equal((web.spec as any).template.spec.containers[0].image, 'nginx:1.27', 'images');
    const name = envFromName(web);
    assert.match(name, /^app-config-[a-z0-9]{10}$/, 'the generated, hash-suffixed name');
    assert.deepEqual((await cp.client.get(CONFIGMAPS, 'ks-staging', name)).data, { greeting: 'hello' });
    assert.ok(await cp.client.get(SEALEDSECRETS, 'ks-staging', 'db'));
    const prod = await cp.client.get(DEPLOYMENTS, 'ks-prod', 'web');
    assert.equal((prod.spec as any).template.spec.containers[0].image, 'nginx:1.28');
    assert.equal((prod.spec as any).replicas, 1);
  });

  it('a new generator literal gives the ConfigMap a new name, the Deployment follows, prune removes the old one', async () => {
    const repo = servers.repo('fleet');
    const before = envFromName(await cp.client.get(DEPLOYMENTS, 'ks-staging', 'web'));
    const sha = repo.write({ 'base/kustomization.yaml': FILES['base/kustomization.yaml']!.replace('greeting=hello', 'greeting=bonjour') }).commit('bonjour');
    await waitApplied(cp.client, NS, 'staging', `main@sha1:${sha}`, 60_000);
    const after = envFromName(await cp.client.get(DEPLOYMENTS, 'ks-staging', 'web'));
    assert.notEqual(after, before);
    assert.deepEqual((await cp.client.get(CONFIGMAPS, 'ks-staging', after)).data, { greeting: 'bonjour' });
    assert.equal(await cp.client.tryGet(CONFIGMAPS, 'ks-staging', before), undefined, 'the old generated ConfigMap is pruned');
  });

  it('a build error is BuildFailed naming the file; a remote base is refused before kustomize runs', async () => {
    const repo = servers.repo('fleet');
    const lastGood = (await gitSyncStatus(cp.client, NS, 'staging')).lastAppliedRevision;
    repo.write({ 'overlays/staging/kustomization.yaml': FILES['overlays/staging/kustomization.yaml']!.replace('replicas.yaml', 'missing-patch.yaml') }).commit('broken');
    const st = await eventually('staging BuildFailed', async () => { const s = await gitSyncStatus(cp.client, NS, 'staging'); return ready(s).reason === 'BuildFailed' ? s : undefined; }, 60_000);
    assert.match(ready(st).message!, /missing-patch\.yaml/);
    assert.doesNotMatch(ready(st).message!, /keelson-kustomize-/, 'no private folder path in the message');
    assert.equal(st.lastAppliedRevision, lastGood, 'nothing of the broken revision applied');
    // kustomize's own error: a malformed resource file, named in the message.
    repo.write({ 'overlays/staging/kustomization.yaml': FILES['overlays/staging/kustomization.yaml']!, 'overlays/staging/sealed.yaml': 'apiVersion: v1\nkind: [\n' }).commit('malformed');
    const malformed = await eventually('kustomize reports the malformed file', async () => { const s = await gitSyncStatus(cp.client, NS, 'staging'); return /sealed\.yaml/.test(ready(s).message ?? '') ? s : undefined; }, 60_000);
    assert.equal(ready(malformed).reason, 'BuildFailed');
    assert.match(ready(malformed).message!, /^kustomize build overlays\/staging: /);
    assert.doesNotMatch(ready(malformed).message!, /keelson-kustomize-/);
    repo.write({ 'overlays/staging/kustomization.yaml': 'resources: [https://github.com/kubernetes-sigs/kustomize//examples/helloWorld?ref=v5.0.0]\n' }).commit('remote');
    const remote = await eventually('remote base refused', async () => { const s = await gitSyncStatus(cp.client, NS, 'staging'); return /remote/.test(ready(s).message ?? '') ? s : undefined; }, 60_000);
    assert.equal(ready(remote).reason, 'BuildFailed');
    assert.match(ready(remote).message!, /overlays\/staging\/kustomization\.yaml/);
  });

  it('ignore rules: .keelsonignore and spec.ignore keep a workflow and a values.yaml out of a whole-repository sync', async () => {
    const repo = servers.repo('plain');
    const plainUrl = servers.httpUrl('plain');
    repo.write({
      'apps/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain, namespace: ks-prod}\ndata: {a: "1"}\n',
      '.github/workflows/ci.yaml': FILES['.github/workflows/ci.yaml']!, 'charts/app/values.yaml': FILES['charts/app/values.yaml']!,
    });
    const bad = repo.commit('no rules');
    await createGitSync(cp.client, NS, 'plain', { url: plainUrl, secretRef: { name: 'git-auth' } });
    const st = await eventually('plain fails without rules', async () => { const s = await gitSyncStatus(cp.client, NS, 'plain'); return s.lastAttemptedRevision === `main@sha1:${bad}` && ready(s).status === 'False' ? s : undefined; }, 60_000);
    assert.equal(ready(st).reason, 'ValidationFailed');
    const sha = repo.write({ '.keelsonignore': '# CI\n.github/\n' }).commit('ignore CI');
    await cp.client.patch(GITSYNCS, NS, 'plain', 'merge', { spec: { ignore: 'charts/**/values.yaml\n' } });
    await waitApplied(cp.client, NS, 'plain', `main@sha1:${sha}`, 60_000);
    assert.ok(await cp.client.get(CONFIGMAPS, 'ks-prod', 'plain'));
  });

  it('keelson diff --path renders a local checkout with kustomize: exit 1 on a difference, 0 without', async () => {
    const repo = servers.repo('fleet');
    const sha = repo.write({ 'overlays/staging/kustomization.yaml': FILES['overlays/staging/kustomization.yaml']!, 'overlays/staging/sealed.yaml': FILES['overlays/staging/sealed.yaml']! }).commit('fixed');
    await waitApplied(cp.client, NS, 'staging', `main@sha1:${sha}`, 60_000);
    const args = ['diff', `${NS}/staging`, '--kubeconfig', cp.kubeconfigPath, ...GITSYNC_SA_FLAGS, '--kustomize-path', KUSTOMIZE, '--path', join(repo.work, 'overlays/staging')];
    const clean = await runCli(args);
    assert.equal(clean.code, 0, clean.stdout + clean.stderr);
    repo.write({ 'overlays/staging/replicas.yaml': FILES['overlays/staging/replicas.yaml']!.replace('replicas: 2', 'replicas: 5') });
    const changed = await runCli(args);
    assert.equal(changed.code, 1, changed.stdout + changed.stderr);
    assert.match(changed.stdout, /Deployment ks-staging\/web/);
    assert.match(changed.stdout, /replicas: 5/);
  });

  it('spec.kustomize: images, patches, prefix and labels by a generated kustomization; diff --path agrees; bad input named', async () => {
    const repo = servers.repo('fleet');
    const rev = (await gitSyncStatus(cp.client, NS, 'prod')).lastAppliedRevision!;
    await gitsync('prod-x', {
      path: 'overlays/prod',
      kustomize: {
        images: [{ name: 'nginx', newTag: '1.29' }], namePrefix: 'x-', commonLabels: { team: 'shop' },
        patches: [{ patch: 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 3}\n', target: { kind: 'Deployment' } }],
      },
    });
    await waitApplied(cp.client, NS, 'prod-x', rev, 60_000);
    const web = await cp.client.get(DEPLOYMENTS, 'ks-prod', 'x-web');
    assert.equal((web.spec as any).template.spec.containers[0].image, 'nginx:1.29');
    assert.equal((web.spec as any).replicas, 3);
    assert.equal(web.metadata.labels?.team, 'shop');
    assert.deepEqual((web.spec as any).selector.matchLabels, { app: 'web' }, 'selectors untouched');
    assert.match(envFromName(web), /^x-app-config-[a-z0-9]{10}$/, 'the prefix reaches the generated name and its reference');
    assert.equal((await cp.client.get(DEPLOYMENTS, 'ks-prod', 'web')).metadata.labels?.team, undefined, 'the plain prod GitSync is unaffected');
    // keelson diff --path renders through the same pipeline, spec.kustomize included: no difference.
    const diff = await runCli(['diff', `${NS}/prod-x`, '--kubeconfig', cp.kubeconfigPath, ...GITSYNC_SA_FLAGS, '--kustomize-path', KUSTOMIZE, '--path', join(repo.work, 'overlays/prod')]);
    assert.equal(diff.code, 0, diff.stdout + diff.stderr);
    // A plain-manifest path gets spec.kustomize too.
    await cp.client.patch(GITSYNCS, NS, 'plain', 'merge', { spec: { kustomize: { commonLabels: { team: 'plain' } } } });
    await eventually('plain labelled', async () => (await cp.client.get(CONFIGMAPS, 'ks-prod', 'plain')).metadata.labels?.team === 'plain' || undefined, 60_000);
    // A patch that breaks the build: BuildFailed naming spec.kustomize, nothing applied.
    await cp.client.patch(GITSYNCS, NS, 'prod-x', 'merge', { spec: { kustomize: { patches: [{ patch: '- op: replace\n  path: /spec/nothing/here\n  value: 1\n', target: { kind: 'Deployment' } }] } } });
    const broken = await eventually('BuildFailed', async () => { const st = await gitSyncStatus(cp.client, NS, 'prod-x'); return ready(st).reason === 'BuildFailed' ? st : undefined; }, 60_000);
    assert.match(ready(broken).message!, /^kustomize build overlays\/prod with spec\.kustomize: /);
    assert.doesNotMatch(ready(broken).message!, /keelson-kustomize-/);
    assert.equal(((await cp.client.get(DEPLOYMENTS, 'ks-prod', 'x-web')).spec as any).replicas, 3, 'nothing of the broken build applied');
    // A patch naming a file outside the checkout is read by nobody: the API server drops the unknown field, and an
    // entry without an inline patch is refused.
    await assert.rejects(cp.client.patch(GITSYNCS, NS, 'prod-x', 'merge', { spec: { kustomize: { patches: [{ path: '../../../../etc/passwd' }] } } }), /patch|Required/i);
    // Bad input the schema lets through is InvalidSpec naming the field.
    await cp.client.patch(GITSYNCS, NS, 'prod-x', 'merge', { spec: { kustomize: { patches: null, images: [{ name: 'nginx', newTag: 'not a tag' }] } } });
    const invalid = await eventually('InvalidSpec', async () => { const st = await gitSyncStatus(cp.client, NS, 'prod-x'); return ready(st).reason === 'InvalidSpec' ? st : undefined; }, 60_000);
    assert.match(ready(invalid).message!, /spec\.kustomize\.images\[0\]\.newTag/);
    await cp.client.delete(GITSYNCS, NS, 'prod-x');
  });

  it('with reload on: a generator change rolls the annotated Deployment exactly once (through Git, not a second time by reload)', async () => {
    const repo = servers.repo('reloadapp');
    const files: Record<string, string> = {
      'base/kustomization.yaml': 'resources: [deployment.yaml]\nconfigMapGenerator:\n  - name: settings\n    literals: [mode=a]\n',
      'base/deployment.yaml': FILES['base/deployment.yaml']!.replace('metadata: {name: web}', 'metadata:\n  name: api\n  annotations: {keelson.dev/auto: "true"}').replace('name: app-config', 'name: settings'),
      'overlays/rl/kustomization.yaml': 'resources: [../../base]\nnamespace: ks-reload\n',
    };
    const first = repo.write(files).commit('reload app');
    await createGitSync(cp.client, NS, 'reload', { url: servers.httpUrl('reloadapp'), secretRef: { name: 'git-auth' }, prune: true, path: 'overlays/rl' });
    await waitApplied(cp.client, NS, 'reload', `main@sha1:${first}`, 60_000);
    const replicaSets = async () => (await cp.client.listAll(REPLICASETS, { namespace: 'ks-reload' })).filter((r) => r.metadata.ownerReferences?.some((o) => o.kind === 'Deployment' && o.name === 'api'));
    const observed = (d: KubeObject) => d.metadata.annotations?.['keelson.dev/observed'] ?? '';
    // Reload has seen the workload (its baseline is recorded, no roll), and the Deployment controller made one ReplicaSet.
    const seen = await eventually('reload baseline and first ReplicaSet', async () => {
      const d = await cp.client.get(DEPLOYMENTS, 'ks-reload', 'api');
      return observed(d) !== '' && (await replicaSets()).length === 1 && d.metadata.annotations?.['deployment.kubernetes.io/revision'] === '1' ? d : undefined;
    }, 60_000);
    const oldName = envFromName(seen);
    const sha = repo.write({ 'base/kustomization.yaml': files['base/kustomization.yaml']!.replace('mode=a', 'mode=b') }).commit('mode b');
    await waitApplied(cp.client, NS, 'reload', `main@sha1:${sha}`, 60_000);
    const moved = await cp.client.get(DEPLOYMENTS, 'ks-reload', 'api');
    const newName = envFromName(moved);
    assert.notEqual(newName, oldName);
    // Reload has handled the new reference (its baseline moved on), and the old ConfigMap is pruned...
    await eventually('reload baseline follows the new ConfigMap', async () => observed(await cp.client.get(DEPLOYMENTS, 'ks-reload', 'api')) !== observed(seen) || undefined, 60_000);
    await eventually('old ConfigMap pruned', async () => (await cp.client.tryGet(CONFIGMAPS, 'ks-reload', oldName)) === undefined || undefined, 60_000);
    // ...and another sync pass (a requested sync) must not change that.
    await cp.client.patch(GITSYNCS, NS, 'reload', 'merge', { metadata: { annotations: { 'keelson.dev/requested-at': 'again' } } });
    await eventually('requested sync handled', async () => (await gitSyncStatus(cp.client, NS, 'reload')).lastHandledRequestedAt === 'again' || undefined, 60_000);
    // Reload's last word on the new state: a decision of "none" for the new ConfigMap after its baseline update.
    await eventually('reload settled on the new ConfigMap', async () => {
      const decisions = ctl.logs.filter((l) => l.workload === 'Deployment ks-reload/api' && l.msg === 'reload decision' && (l.triggers as string[]).includes(`ConfigMap/${newName}`));
      return decisions.at(-1)?.action === 'none' || undefined;
    }, 60_000);
    const after = await cp.client.get(DEPLOYMENTS, 'ks-reload', 'api');
    // A Deployment's generation also moves with its annotations (reload's baseline), so its rollout revision counts.
    assert.equal(after.metadata.annotations?.['deployment.kubernetes.io/revision'], '2', 'one roll: revision 1, then the one Git made');
    assert.equal(after.metadata.annotations?.['keelson.dev/last-reload'], undefined, 'reload did not roll');
    assert.equal((after.spec as any).template.metadata.annotations?.['keelson.dev/config-hash'], undefined);
    assert.equal((await replicaSets()).length, 2, 'exactly two ReplicaSets: the first and the one Git rolled to');
    const events = (await cp.client.listAll(EVENTS, { namespace: 'ks-reload' })).filter((e) => (e.involvedObject as { kind?: string; name?: string }).kind === 'Deployment' && (e.involvedObject as { name?: string }).name === 'api');
    assert.ok(!events.some((e) => e.reason === 'Reloaded'), 'no Reloaded event');
  });
});
