// ImagePolicy against a real control plane and real registries (Debian's docker-registry, distribution 2.8) over
// TLS with a private CA: htpasswd Basic auth and token (Bearer) auth. Tags are pushed by the test over the
// registry API. A semver policy settles on the highest tag in range and follows a newly pushed tag; alphabetical,
// numerical and filterTags pick as documented; bad credentials, a missing CA and plain HTTP without the flag give
// clear conditions; no credential ever shows up in logs, status or events. Policies read their Secrets as their
// ServiceAccount (spec.serviceAccountName), which may get exactly those Secrets. A GitSync with imageUpdate over git
// http-backend commits each new latest tag once, applies it (the Deployment rolls), and builds on others' commits.

import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { after, before, describe, it } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONFIGMAPS, DEPLOYMENTS, EVENTS, GITSYNCS, IMAGEPOLICIES, REPLICASETS, SECRETS } from '../../src/kube/resources.js';
import type { KubeObject } from '../../src/kube/types.js';
import type { ImagePolicyStatus } from '../../src/images/spec.js';
import { type ControlPlane, startControlPlane } from '../support/control-plane.js';
import { type RunningController, metricValue, startController } from '../support/controller.js';
import { type GitServers, sh, startGitServers } from '../support/git-servers.js';
import { createNamespace, installGitSyncCrd } from '../support/gitsync-fixture.js';
import { installCrd } from '../support/crds.js';
import { type TestRegistry, startRegistry } from '../support/registry.js';
import { eventually } from '../support/wait.js';

const NS = 'images';
/** The policies' ServiceAccount: it may get exactly the registry Secrets they name (Secrets are read as it). */
const READER = 'registry-reader';
const REGISTRY_SECRETS = ['basic-auth', 'token-auth', 'wrong-auth', 'ca-only-basic', 'ca-only-token', 'no-ca'];
const rbac = (plural: string, kind: string) => ({ group: 'rbac.authorization.k8s.io', version: 'v1', plural, kind, namespaced: true });
const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('ImagePolicy against docker-registry', () => {
  let cp: ControlPlane;
  let basic: TestRegistry;
  let token: TestRegistry;
  let ctl: RunningController;
  let servers: GitServers;
  let cache: string;
  const digests = new Map<string, string>();

  const secret = async (name: string, reg: TestRegistry, password: string | null = reg.password, withCa = true) => {
    const config = JSON.stringify({ auths: password === null ? {} : { [reg.host]: { username: reg.username, password, auth: b64(`${reg.username}:${password}`) } } });
    await cp.client.create(SECRETS, {
      apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: NS }, type: 'kubernetes.io/dockerconfigjson',
      data: { '.dockerconfigjson': b64(config), ...(withCa ? { 'ca.crt': b64(reg.caCert) } : {}) },
    });
  };
  const policy = (name: string, spec: Record<string, unknown>) => cp.client.create(IMAGEPOLICIES, { apiVersion: 'keelson.dev/v1alpha1', kind: 'ImagePolicy', metadata: { name, namespace: NS }, spec: { interval: '10s', serviceAccountName: READER, ...spec } });
  const status = async (name: string) => ((await cp.client.get(IMAGEPOLICIES, NS, name)) as KubeObject & { status?: ImagePolicyStatus }).status ?? {};
  const ready = (s: ImagePolicyStatus) => s.conditions?.find((c) => c.type === 'Ready');
  const waitFor = (name: string, what: string, ok: (s: ImagePolicyStatus) => boolean, timeoutMs = 30_000) =>
    eventually(`ImagePolicy ${name}: ${what}`, async () => { const s = await status(name); return ok(s) ? s : undefined; }, timeoutMs, 200);

  before(async () => {
    // The deployment and replicaset controllers show the roll (a ReplicaSet per image); no pods need to run.
    [cp, basic, token, servers] = await Promise.all([startControlPlane({ controllerManager: ['deployment', 'replicaset'] }), startRegistry({ auth: 'htpasswd' }), startRegistry({ auth: 'token' }), startGitServers()]);
    await installCrd(cp.client, 'crd-imagepolicies.yaml', 'imagepolicies.keelson.dev');
    await installGitSyncCrd(cp.client);
    cache = mkdtempSync(join(tmpdir(), 'keelson-gitcache-'));
    await createNamespace(cp.client, NS);
    await cp.client.create({ group: '', version: 'v1', plural: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true }, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: READER, namespace: NS } });
    await cp.client.create(rbac('roles', 'Role'), { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: READER, namespace: NS }, rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'], resourceNames: REGISTRY_SECRETS }] });
    await cp.client.create(rbac('rolebindings', 'RoleBinding'), { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: READER, namespace: NS }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: READER }, subjects: [{ kind: 'ServiceAccount', name: READER, namespace: NS }] });
    for (const reg of [basic, token]) for (const tag of ['1.0.0', '1.1.0', '2.0.0-rc.1', '2.0.0']) digests.set(`${reg.host}:${tag}`, await reg.push('team/app', tag));
    for (const tag of ['main-aaa-100', 'main-ccc-300', 'main-bbb-200', 'other-999']) await basic.push('team/builds', tag);
    await secret('basic-auth', basic);
    await secret('token-auth', token);
    // Git over http:// (the test's git http-backend) needs --allow-insecure-git.
    ctl = await startController(cp, ['--disable-reload', '--disable-sealing', '--allow-insecure-git', '--git-cache-dir', cache]);
  });
  after(async () => {
    await ctl?.stop();
    await Promise.all([cp?.stop(), basic?.stop(), token?.stop(), servers?.stop()]);
    if (cache) rmSync(cache, { recursive: true, force: true });
  });

  it('semver over Basic auth settles on the highest tag in range, with its digest, and follows a new push', async () => {
    await policy('app', { image: `${basic.host}/team/app`, secretRef: { name: 'basic-auth' }, policy: { semver: { range: '>=1.0.0 <2.0.0' } } });
    const s = await waitFor('app', 'latestRef 1.1.0', (x) => x.latestRef === `${basic.host}/team/app:1.1.0`);
    assert.equal(s.latestDigest, digests.get(`${basic.host}:1.1.0`));
    assert.equal(s.observedTags, 4);
    assert.equal(ready(s)?.status, 'True');
    assert.equal(s.conditions?.some((c) => c.type === 'Stalled'), false);
    const pushed = await basic.push('team/app', '1.2.0');
    const s2 = await waitFor('app', 'latestRef 1.2.0 after a push', (x) => x.latestRef === `${basic.host}/team/app:1.2.0`, 40_000);
    assert.equal(s2.latestDigest, pushed);
    assert.equal(s2.observedTags, 5);
    const events = (await cp.client.list(EVENTS, { namespace: NS })).items.filter((e) => (e.involvedObject as { name?: string }).name === 'app');
    assert.ok(events.some((e) => e.reason === 'LatestImageChanged' && String(e.message).includes(':1.1.0') && String(e.message).includes(':1.2.0')), 'an Event records the change');
  });

  it('GitSync imageUpdate: a new latest tag becomes one commit, applied; a commit by someone else is kept', async () => {
    // The controller namespace: this GitSync applies with Keelson's own identity (no ServiceAccount needed).
    const ns = 'keelson-system';
    for (const tag of ['1.0.0', '1.1.0', '2.0.0-rc.1', '2.0.0']) await basic.push('team/shop', tag);
    const image = `${basic.host}/team/shop`;
    const repo = servers.repo('shop');
    repo.write({
      'deploy/web.yaml': [
        'apiVersion: apps/v1', 'kind: Deployment', 'metadata:', '  name: shop # the web shop', 'spec:',
        '  selector: {matchLabels: {app: shop}}', '  template:', '    metadata: {labels: {app: shop}}', '    spec:', '      containers:',
        '        - name: web', `          image: ${image}:1.0.0 # {"$imagepolicy": "${ns}:shop"}`, '',
      ].join('\n'),
      'deploy/values.yaml': ['apiVersion: v1', 'kind: ConfigMap', 'metadata: {name: shop-values}', 'data:', `  tag: "1.0.0" # {"$imagepolicy": "${ns}:shop:tag"}`, `  other: "1.0.0" # {"$imagepolicy": "elsewhere:shop:tag"}`, ''].join('\n'),
    }).commit('initial');
    const gitLog = () => sh('git', ['--git-dir', repo.bare, 'log', '--format=%an|%s', 'main']).trim().split('\n');
    await cp.client.create(SECRETS, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'git-auth', namespace: ns }, stringData: { username: servers.httpAuth.username, password: servers.httpAuth.password } });
    const config = JSON.stringify({ auths: { [basic.host]: { username: basic.username, password: basic.password } } });
    await cp.client.create(SECRETS, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'regcred', namespace: ns }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64(config), 'ca.crt': b64(basic.caCert) } });
    await cp.client.create(GITSYNCS, { apiVersion: 'keelson.dev/v1alpha1', kind: 'GitSync', metadata: { name: 'shop', namespace: ns }, spec: {
      url: servers.httpUrl('shop'), secretRef: { name: 'git-auth' }, ref: { branch: 'main' }, path: 'deploy', interval: '10m',
      imageUpdate: { author: { name: 'Keelson Bot', email: 'bot@example.com' }, messageTemplate: 'chore: update images' },
    } });
    await cp.client.create(IMAGEPOLICIES, { apiVersion: 'keelson.dev/v1alpha1', kind: 'ImagePolicy', metadata: { name: 'shop', namespace: ns }, spec: { image, secretRef: { name: 'regcred' }, interval: '10s', policy: { semver: { range: '>=1.0.0 <2.0.0' } } } });
    const deployed = (tag: string) => eventually(`Deployment shop at ${tag}`, async () => {
      const d = await cp.client.tryGet(DEPLOYMENTS, ns, 'shop');
      return (d?.spec as { template: { spec: { containers: { image: string }[] } } } | undefined)?.template.spec.containers[0]?.image === `${image}:${tag}`;
    }, 60_000, 250);
    await deployed('1.1.0');
    assert.equal(((await cp.client.get(CONFIGMAPS, ns, 'shop-values')).data as Record<string, string>).tag, '1.1.0');
    assert.equal(((await cp.client.get(CONFIGMAPS, ns, 'shop-values')).data as Record<string, string>).other, '1.0.0', 'a marker naming another namespace is left alone');
    assert.deepEqual(gitLog(), ['Keelson Bot|chore: update images', 'Test|initial']);
    const message = sh('git', ['--git-dir', repo.bare, 'log', '-1', '--format=%B', 'main']);
    assert.match(message, /deploy\/values.yaml:5 keelson-system:shop \(tag\): 1.0.0 -> 1.1.0/);
    assert.match(message, /deploy\/web.yaml:12 keelson-system:shop: .*team\/shop:1.0.0 -> .*team\/shop:1.1.0/);
    const file = sh('git', ['--git-dir', repo.bare, 'show', 'main:deploy/web.yaml']);
    assert.ok(file.includes('name: shop # the web shop') && file.includes(`image: ${image}:1.1.0 # {"$imagepolicy": "${ns}:shop"}`), 'only the value changed');
    const head = sh('git', ['--git-dir', repo.bare, 'rev-parse', 'main']).trim();
    const gs = await cp.client.get(GITSYNCS, ns, 'shop');
    assert.equal((gs.status as { lastImageUpdate?: { commit?: string } }).lastImageUpdate?.commit, `main@sha1:${head}`);

    // Someone else commits meanwhile (on top of the bot's commit); the next update builds on it.
    sh('git', ['-C', repo.work, 'fetch', '--quiet', repo.bare, 'main']);
    sh('git', ['-C', repo.work, 'reset', '--quiet', '--hard', 'FETCH_HEAD']);
    repo.write({ 'deploy/notes.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shop-notes}\ndata: {by: someone}\n' }).commit('someone else');
    await basic.push('team/shop', '1.2.0');
    await deployed('1.2.0');
    assert.deepEqual(gitLog(), ['Keelson Bot|chore: update images', 'Test|someone else', 'Keelson Bot|chore: update images', 'Test|initial'], 'exactly one more commit, on top of the other one');
    assert.ok(await cp.client.tryGet(CONFIGMAPS, ns, 'shop-notes'), 'their commit is applied too');
    // The Deployment rolled: Kubernetes made a ReplicaSet for each image Keelson committed.
    await eventually('a ReplicaSet per committed image', async () => {
      const images = (await cp.client.list(REPLICASETS, { namespace: ns })).items.map((r) => (r.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0]!.image);
      return ['1.1.0', '1.2.0'].every((t) => images.includes(`${image}:${t}`));
    });
    assert.ok(!ctl.logText().includes(servers.httpAuth.password), 'no Git password in logs');
  });

  it('semver behind token (Bearer) auth', async () => {
    await policy('app-token', { image: `${token.host}/team/app`, secretRef: { name: 'token-auth' }, policy: { semver: { range: '>=1.0.0 <2.0.0' } } });
    const s = await waitFor('app-token', 'latestRef 1.1.0', (x) => x.latestRef === `${token.host}/team/app:1.1.0`);
    assert.equal(s.latestDigest, digests.get(`${token.host}:1.1.0`));
    assert.ok(token.tokenRequests > 0, 'the token service was asked');
  });

  it('alphabetical, numerical and filterTags with extraction', async () => {
    await policy('alpha', { image: `${basic.host}/team/builds`, secretRef: { name: 'basic-auth' }, policy: { alphabetical: { order: 'asc' } } });
    await policy('alpha-desc', { image: `${basic.host}/team/builds`, secretRef: { name: 'basic-auth' }, policy: { alphabetical: { order: 'desc' } } });
    await policy('ts', { image: `${basic.host}/team/builds`, secretRef: { name: 'basic-auth' }, filterTags: { pattern: '^main-[a-z]+-(?P<ts>[0-9]+)$', extract: '$ts' }, policy: { numerical: { order: 'asc' } } });
    await waitFor('alpha', 'other-999', (x) => x.latestRef?.endsWith(':other-999') === true);
    await waitFor('alpha-desc', 'main-aaa-100', (x) => x.latestRef?.endsWith(':main-aaa-100') === true);
    await waitFor('ts', 'main-ccc-300', (x) => x.latestRef?.endsWith(':main-ccc-300') === true);
  });

  it('a wrong password: Ready=False AuthenticationFailed, retried, and the password appears nowhere', async () => {
    const wrong = 'WRONG-PASSWORD-a1b2c3';
    await secret('wrong-auth', basic, wrong);
    await policy('wrong', { image: `${basic.host}/team/app`, secretRef: { name: 'wrong-auth' }, policy: { semver: { range: '*' } } });
    const s = await waitFor('wrong', 'AuthenticationFailed', (x) => ready(x)?.reason === 'AuthenticationFailed');
    assert.equal(ready(s)?.status, 'False');
    assert.match(ready(s)?.message ?? '', /spec.secretRef/);
    assert.equal(s.latestRef, undefined);
    const events = JSON.stringify((await cp.client.list(EVENTS, { namespace: NS })).items);
    for (const secretText of [wrong, basic.password, token.password, b64(`${basic.username}:${basic.password}`)]) {
      assert.ok(!ctl.logText().includes(secretText), 'no credential in logs');
      assert.ok(!events.includes(secretText), 'no credential in events');
      assert.ok(!JSON.stringify(await status('wrong')).includes(secretText) && !JSON.stringify(await status('app')).includes(secretText), 'no credential in status');
    }
  });

  it('no credentials for a registry that requires them; a Secret without the CA: TLS refused', async () => {
    // A Secret with only ca.crt (no auths entry): the private CA is trusted, no credential is sent.
    await secret('ca-only-basic', basic, null);
    await secret('ca-only-token', token, null);
    await policy('anon-basic', { image: `${basic.host}/team/app`, secretRef: { name: 'ca-only-basic' }, policy: { semver: { range: '*' } } });
    await policy('anon-token', { image: `${token.host}/team/app`, secretRef: { name: 'ca-only-token' }, policy: { semver: { range: '*' } } });
    await secret('no-ca', basic, basic.password, false);
    await policy('no-ca', { image: `${basic.host}/team/app`, secretRef: { name: 'no-ca' }, policy: { semver: { range: '*' } } });
    const noCa = await waitFor('no-ca', 'Unreachable', (x) => ready(x)?.reason === 'Unreachable');
    assert.match(ready(noCa)?.message ?? '', /self-signed certificate.*ca\.crt/);
    const anonBasic = await waitFor('anon-basic', 'AuthenticationFailed', (x) => ready(x)?.reason === 'AuthenticationFailed');
    assert.match(ready(anonBasic)?.message ?? '', /requires authentication: set spec.secretRef/);
    const anonToken = await waitFor('anon-token', 'AuthenticationFailed', (x) => ready(x)?.reason === 'AuthenticationFailed');
    assert.match(ready(anonToken)?.message ?? '', /token service .* refused/);
  });

  it('spec.insecure without --allow-insecure-registries is Stalled; a bad spec is Stalled with the field named', async () => {
    await policy('plain', { image: `${basic.host}/team/app`, insecure: true, policy: { semver: { range: '*' } } });
    const s = await waitFor('plain', 'InsecureRegistry', (x) => ready(x)?.reason === 'InsecureRegistry');
    assert.match(ready(s)?.message ?? '', /--allow-insecure-registries/);
    assert.equal(s.conditions?.find((c) => c.type === 'Stalled')?.status, 'True');
    await policy('bad', { image: `${basic.host}/team/app:1.0.0`, policy: { semver: { range: '*' } } });
    const b = await waitFor('bad', 'InvalidSpec', (x) => ready(x)?.reason === 'InvalidSpec');
    assert.match(ready(b)?.message ?? '', /spec.image .* holds a tag/);
    await policy('bad-filter', { image: `${basic.host}/team/app`, filterTags: { pattern: '(?=lookahead)' }, policy: { numerical: {} } });
    const f = await waitFor('bad-filter', 'InvalidSpec', (x) => ready(x)?.reason === 'InvalidSpec');
    assert.match(ready(f)?.message ?? '', /spec.filterTags.pattern/);
    assert.ok(metricValue(await ctl.metrics(), 'keelson_image_scans_total', { result: 'success' }) > 0);
    assert.ok(metricValue(await ctl.metrics(), 'keelson_image_scans_total', { result: 'failure' }) > 0);
  });
});
