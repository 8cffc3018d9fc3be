// The SealedSecret controller on a real control plane (with the garbage collector), keyed with the reference
// keyring: the reference manifests become the expected Secrets; updates, deletes, scope moves, unowned / managed /
// patch Secrets, templates, skipped owner references, a key added at runtime, the HTTP API, `keelson seal` and
// `reencrypt` through the API server's service proxy, a restart that writes nothing, and a log scan for values.

import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { EVENTS, PODS, SEALEDSECRETS, SECRETS } from '../../src/kube/resources.js';
import { generateSealingKey, keySecretOf } from '../../src/sealing/keys.js';
import type { SealedSecret, Secret } from '../../src/sealing/sealed-secret.js';
import { runCli } from '../support/cli.js';
import { type ControlPlane, startControlPlane } from '../support/control-plane.js';
import { type RunningController, metricValue, startController } from '../support/controller.js';
import { eventually } from '../support/wait.js';
import { referenceDecrypt } from '../unit/sealing/independent-decrypt.js';
import { FIX, createNamespace, eventReasons, installCrd, loadReferenceKeys, readFixture, sealed, secretValues, syncedOf, waitSynced } from './sealing-support.js';

const CERT_4096 = readFixture('keys/cert-4096.pem');
const CERT_2048 = readFixture('keys/cert-2048.pem');
const KEY_NS = 'keelson-system';
const FLAGS = ['--key-renew-period', '0', '--key-size', '2048', '--disable-reload', '--disable-gitsync', '--http-addr', '0.0.0.0:0'];
/** Every plaintext this file seals: none may appear in the controller's logs. */
const VALUES = new Set<string>();
const v = (s: string) => { VALUES.add(s); return s; };

describe('sealing controller', () => {
  let cp: ControlPlane;
  let ctl: RunningController;
  const logs: string[] = [];

  before(async () => {
    cp = await startControlPlane({ controllerManager: true });
    await installCrd(cp.client);
    await createNamespace(cp.client, KEY_NS);
    await loadReferenceKeys(cp.client, KEY_NS);
    ctl = await startController(cp, FLAGS);
  });
  after(async () => {
    await ctl?.stop();
    await cp?.stop();
  });

  const create = (ss: SealedSecret) => cp.client.create<SealedSecret>(SEALEDSECRETS, ss);

  it('turns the reference manifests into the expected Secrets, with status and an Unsealed event', async () => {
    for (const ns of ['team-a', 'team-z']) await createNamespace(cp.client, ns);
    const expected = JSON.parse(readFixture('manifests/expected-secrets.json')) as Record<string, { expected_secret: Secret }>;
    for (const [file, { expected_secret: want }] of Object.entries(expected)) {
      const ss = parseAllDocuments(readFixture(`manifests/${file}`))[0]!.toJS() as SealedSecret;
      const created = await create(ss);
      const ns = ss.metadata.namespace!;
      const name = ss.metadata.name!;
      const cond = await waitSynced(cp.client, ns, name, 'True');
      assert.equal(cond.message, 'Secret unsealed successfully');
      const got = await cp.client.get<Secret>(SECRETS, ns, name);
      assert.deepEqual(got.data, want.data, file);
      assert.equal(got.type, want.type);
      assert.deepEqual(got.metadata.labels, want.metadata.labels);
      assert.deepEqual(got.metadata.annotations, want.metadata.annotations);
      assert.deepEqual(got.metadata.ownerReferences, [{ ...want.metadata.ownerReferences![0]!, uid: created.metadata.uid }]);
      await eventually(`an Unsealed event for ${name}`, async () => (await eventReasons(cp.client, ns, name)).some((e) => e.reason === 'Unsealed' && e.type === 'Normal'));
    }
    const stored = await cp.client.get<SealedSecret>(SEALEDSECRETS, 'team-a', 'db-credentials');
    assert.equal((stored.spec!.template!.metadata as Record<string, unknown>).creationTimestamp, null, 'unknown template metadata fields survive');
    const m = await ctl.metrics();
    assert.ok(metricValue(m, 'keelson_unseal_total', { result: 'ok' }) >= 3);
    assert.equal(metricValue(m, 'keelson_sealing_keys'), 2);
  });

  it('updates the Secret when a value is re-sealed, and recreates it when deleted', async () => {
    await createNamespace(cp.client, 'upd');
    await create(sealed(CERT_4096, 'upd', 'app', { password: v('first-pass-1'), user: v('user-one') }));
    await waitSynced(cp.client, 'upd', 'app', 'True');
    assert.deepEqual(await secretValues(cp.client, 'upd', 'app'), { password: 'first-pass-1', user: 'user-one' });
    const cur = await cp.client.get<SealedSecret>(SEALEDSECRETS, 'upd', 'app');
    const next = sealed(CERT_2048, 'upd', 'app', { password: v('second-pass-2') });
    await cp.client.replace(SEALEDSECRETS, { ...cur, spec: next.spec });
    await eventually('the Secret to follow the update', async () => (await secretValues(cp.client, 'upd', 'app'))?.password === 'second-pass-2');
    assert.deepEqual(await secretValues(cp.client, 'upd', 'app'), { password: 'second-pass-2' }, 'a removed value leaves the Secret');
    const after = await waitSynced(cp.client, 'upd', 'app', 'True');
    assert.ok(after);
    await cp.client.delete(SECRETS, 'upd', 'app');
    await eventually('the deleted Secret to be recreated', async () => (await secretValues(cp.client, 'upd', 'app'))?.password === 'second-pass-2');
  });

  it('lets the garbage collector delete the Secret with its SealedSecret', async () => {
    await createNamespace(cp.client, 'gc');
    await create(sealed(CERT_2048, 'gc', 'doomed', { k: v('gc-value-xyz') }));
    await eventually('the Secret', () => secretValues(cp.client, 'gc', 'doomed'));
    await cp.client.delete(SEALEDSECRETS, 'gc', 'doomed');
    await eventually('the garbage collector to delete the Secret', async () => (await cp.client.tryGet(SECRETS, 'gc', 'doomed')) === undefined, 60_000);
  });

  it('binds values to their scope: moved strict values fail, namespace-wide and cluster-wide move as allowed', async () => {
    for (const ns of ['scope-a', 'scope-b']) await createNamespace(cp.client, ns);
    // strict, sealed for scope-a/orig, applied as scope-a/moved: must not open.
    await create(sealed(CERT_4096, 'scope-a', 'moved', { k: v('strict-val-1') }, { sealFor: { namespace: 'scope-a', name: 'orig' } }));
    const cond = await waitSynced(cp.client, 'scope-a', 'moved', 'False');
    assert.match(cond.message!, /value "k" cannot be unsealed/);
    assert.equal(await cp.client.tryGet(SECRETS, 'scope-a', 'moved'), undefined, 'no Secret, not even a partial one');
    await eventually('an ErrUnsealFailed event', async () => (await eventReasons(cp.client, 'scope-a', 'moved')).some((e) => e.reason === 'ErrUnsealFailed' && e.type === 'Warning'));
    // namespace-wide: any name in the namespace; another namespace fails.
    await create(sealed(CERT_4096, 'scope-a', 'any-name', { k: v('nswide-val-2') }, { scope: 'namespace-wide', sealFor: { namespace: 'scope-a', name: 'other' } }));
    await waitSynced(cp.client, 'scope-a', 'any-name', 'True');
    await create(sealed(CERT_4096, 'scope-b', 'any-name', { k: v('nswide-val-3') }, { scope: 'namespace-wide', sealFor: { namespace: 'scope-a', name: 'other' } }));
    await waitSynced(cp.client, 'scope-b', 'any-name', 'False');
    // cluster-wide: anywhere. Dropping the annotation (a metadata-only change) makes it strict, and it stops opening.
    await create(sealed(CERT_2048, 'scope-b', 'shared', { k: v('cluster-val-4') }, { scope: 'cluster-wide', sealFor: { namespace: 'elsewhere', name: 'x' } }));
    await waitSynced(cp.client, 'scope-b', 'shared', 'True');
    await cp.client.patch(SEALEDSECRETS, 'scope-b', 'shared', 'merge', { metadata: { annotations: { 'sealedsecrets.bitnami.com/cluster-wide': null } } });
    await eventually('Synced=False after the scope annotation went', async () => (await syncedOf(cp.client, 'scope-b', 'shared')).cond?.status === 'False');
    await cp.client.patch(SEALEDSECRETS, 'scope-b', 'shared', 'merge', { metadata: { annotations: { 'sealedsecrets.bitnami.com/cluster-wide': 'true' } } });
    await eventually('Synced=True again', async () => (await syncedOf(cp.client, 'scope-b', 'shared')).cond?.status === 'True');
  });

  it('leaves an unowned Secret alone until it is marked managed; patch merges into it', async () => {
    await createNamespace(cp.client, 'own');
    await cp.client.create(SECRETS, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'taken', namespace: 'own' }, stringData: { mine: 'user-data' } });
    const before = await cp.client.get(SECRETS, 'own', 'taken');
    await create(sealed(CERT_4096, 'own', 'taken', { k: v('sealed-for-taken') }));
    const cond = await waitSynced(cp.client, 'own', 'taken', 'False');
    assert.match(cond.message!, /already exists and is not managed by this SealedSecret/);
    await eventually('an ErrUpdateFailed warning', async () => (await eventReasons(cp.client, 'own', 'taken')).some((e) => e.reason === 'ErrUpdateFailed' && e.type === 'Warning'));
    assert.equal((await cp.client.get(SECRETS, 'own', 'taken')).metadata.resourceVersion, before.metadata.resourceVersion, 'untouched');
    await cp.client.patch(SECRETS, 'own', 'taken', 'merge', { metadata: { annotations: { 'sealedsecrets.bitnami.com/managed': 'true' } } });
    await eventually('the managed Secret to be taken over', async () => {
      const s = await cp.client.get<Secret>(SECRETS, 'own', 'taken');
      return s.metadata.ownerReferences?.[0]?.kind === 'SealedSecret' && JSON.stringify(await secretValues(cp.client, 'own', 'taken')) === JSON.stringify({ k: 'sealed-for-taken' });
    });
    await waitSynced(cp.client, 'own', 'taken', 'True');

    await cp.client.create(SECRETS, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'patched', namespace: 'own', annotations: { 'sealedsecrets.bitnami.com/patch': 'true' } }, stringData: { mine: 'kept' } });
    await create(sealed(CERT_4096, 'own', 'patched', { k: v('patched-in-value') }));
    await eventually('the patch Secret to be merged', async () => (await secretValues(cp.client, 'own', 'patched'))?.k === 'patched-in-value');
    assert.deepEqual(await secretValues(cp.client, 'own', 'patched'), { mine: 'kept', k: 'patched-in-value' });
    await waitSynced(cp.client, 'own', 'patched', 'True');
  });

  it('refuses unsupported templates and Secrets the API rejects without writing, and honours skip-set-owner-references', async () => {
    await createNamespace(cp.client, 'tpl');
    await create(sealed(CERT_4096, 'tpl', 'fancy', { user: v('tpl-user-1') }, { template: { data: { url: 'x://{{ if .user }}{{ .user }}{{ end }}' } } }));
    const cond = await waitSynced(cp.client, 'tpl', 'fancy', 'False');
    assert.match(cond.message!, /unsupported template/);
    assert.equal(await cp.client.tryGet(SECRETS, 'tpl', 'fancy'), undefined);

    await create(sealed(CERT_4096, 'tpl', 'bad-key', { 'not a valid key!': v('bad-key-value') }));
    const refused = await waitSynced(cp.client, 'tpl', 'bad-key', 'False');
    assert.match(refused.message!, /could not write Secret tpl\/bad-key/);
    assert.ok(!refused.message!.includes('bad-key-value'));

    await create(sealed(CERT_4096, 'tpl', 'free', { k: v('no-owner-val') }, { annotations: { 'sealedsecrets.bitnami.com/skip-set-owner-references': 'true' } }));
    await waitSynced(cp.client, 'tpl', 'free', 'True');
    const s = await cp.client.get<Secret>(SECRETS, 'tpl', 'free');
    assert.equal(s.metadata.ownerReferences, undefined);
  });

  it('uses a key added at runtime for what it could not open before', async () => {
    await createNamespace(cp.client, 'late');
    const gen = await generateSealingKey(2048);
    const count = async (result: string) => metricValue(await ctl.metrics(), 'keelson_reconcile_total', { queue: 'sealedsecrets', result });
    const terminalBefore = await count('terminal');
    await create(sealed(gen.certPem, 'late', 'waiting', { k: v('late-key-value') }));
    await waitSynced(cp.client, 'late', 'waiting', 'False');
    // No key decrypts it: a permanent failure, counted terminal (not ok, not a retried error) until a key arrives.
    await eventually('the failed unseal counted terminal', async () => (await count('terminal')) > terminalBefore);
    await cp.client.create(SECRETS, keySecretOf(gen, KEY_NS, 'test-key-'));
    await waitSynced(cp.client, 'late', 'waiting', 'True');
    assert.equal((await secretValues(cp.client, 'late', 'waiting'))?.k, 'late-key-value');
    await eventually('keelson_sealing_keys to count it', async () => metricValue(await ctl.metrics(), 'keelson_sealing_keys') === 3);
    // It is the newest key now, so it is the one that seals.
    assert.equal(new X509Certificate(await (await fetch(`${ctl.httpUrl}/v1/cert.pem`)).text()).fingerprint256, new X509Certificate(gen.certPem).fingerprint256);
  });

  it('serves cert.pem, verify (200/409), rotate, with size and rate limits', async () => {
    const newest = await (await fetch(`${ctl.httpUrl}/v1/cert.pem`)).text();
    const good = sealed(CERT_4096, 'team-a', 'verify-me', { k: v('verify-val-1') });
    const post = (path: string, body: unknown) => fetch(`${ctl.httpUrl}${path}`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
    assert.equal((await post('/v1/verify', good)).status, 200);
    const bad = await post('/v1/verify', sealed(CERT_4096, 'team-a', 'verify-me', { k: v('verify-val-2') }, { sealFor: { namespace: 'team-a', name: 'else' } }));
    assert.equal(bad.status, 409);
    assert.match(await bad.text(), /value "k" cannot be unsealed/);
    const rotated = await post('/v1/rotate', good);
    assert.equal(rotated.status, 200);
    const r = (await rotated.json()) as SealedSecret;
    assert.notEqual(r.spec!.encryptedData!.k, good.spec!.encryptedData!.k);
    const newestKey = (await cp.client.list(SECRETS, { namespace: KEY_NS })).items.find((s) => Buffer.from((s.data as Record<string, string>)['tls.crt']!, 'base64').toString() === newest)!;
    const pem = Buffer.from((newestKey.data as Record<string, string>)['tls.key']!, 'base64').toString();
    assert.equal(referenceDecrypt(pem, r.spec!.encryptedData!.k!, 'team-a/verify-me').toString(), 'verify-val-1');
    assert.equal((await post('/v1/verify', 'not json')).status, 400);
    const huge = await post('/v1/verify', JSON.stringify({ kind: 'SealedSecret', pad: 'x'.repeat(3 * 1024 * 1024) })).catch(() => undefined);
    assert.ok(huge === undefined || huge.status === 413, `got ${huge?.status}`);
    const statuses = await Promise.all(Array.from({ length: 40 }, () => post('/v1/verify', good).then((x) => x.status)));
    assert.ok(statuses.includes(429), 'a burst is rate-limited');
  });

  it('keelson seal fetches the certificate and reencrypt rotates through the API server\'s service proxy', async () => {
    const ip = Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
    assert.ok(ip, 'a non-loopback IPv4 address for the proxy Endpoints');
    const port = ctl.manager.httpPort;
    await cp.client.create({ group: '', version: 'v1', plural: 'services', kind: 'Service', namespaced: true }, {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'keelson', namespace: KEY_NS }, spec: { ports: [{ name: 'http', port: 8080, targetPort: port }] },
    });
    // The service proxy only forwards to an address backed by a Pod with that IP: stand one in for the controller.
    await cp.client.create(PODS, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'keelson-0', namespace: KEY_NS }, spec: { containers: [{ name: 'keelson', image: 'keelson' }] } });
    await cp.client.patch(PODS, KEY_NS, 'keelson-0', 'merge', { status: { podIP: ip, podIPs: [{ ip }] } }, { subresource: 'status' });
    await cp.client.create({ group: '', version: 'v1', plural: 'endpoints', kind: 'Endpoints', namespaced: true }, {
      apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'keelson', namespace: KEY_NS },
      subsets: [{ addresses: [{ ip, targetRef: { kind: 'Pod', name: 'keelson-0', namespace: KEY_NS } }], ports: [{ name: 'http', port }] }],
    });
    await createNamespace(cp.client, 'cli');
    const secret = `apiVersion: v1\nkind: Secret\nmetadata: {name: via-proxy, namespace: cli}\nstringData: {token: ${v('proxy-token-123')}}\n`;
    // The API server resolves the Service through its informer cache: give it a moment to see the new Endpoints.
    const sealedOut = await eventually('seal through the service proxy', async () => { const r = await runCli(['seal', '--kubeconfig', cp.kubeconfigPath], secret); if (r.code !== 0) throw new Error(r.stderr); return r; });
    const ss = parse(sealedOut.stdout) as SealedSecret;
    await create(ss);
    await waitSynced(cp.client, 'cli', 'via-proxy', 'True');
    assert.equal((await secretValues(cp.client, 'cli', 'via-proxy'))?.token, 'proxy-token-123');

    const old = readFileSync(join(FIX, 'manifests/sealedsecret-strict.yaml'), 'utf8');
    const re = await runCli(['reencrypt', '--kubeconfig', cp.kubeconfigPath, '-o', 'json'], old);
    assert.equal(re.code, 0, re.stderr);
    const resealed = JSON.parse(re.stdout) as SealedSecret;
    assert.equal(resealed.metadata.name, 'db-credentials');
    assert.notEqual(resealed.spec!.encryptedData!.password, (parse(old) as SealedSecret).spec!.encryptedData!.password);
    const direct = await runCli(['reencrypt', '--controller-url', ctl.httpUrl], old);
    assert.equal(direct.code, 0, direct.stderr);
    assert.equal((parse(direct.stdout) as SealedSecret).kind, 'SealedSecret');
    const miss = await runCli(['seal', '--kubeconfig', cp.kubeconfigPath, '--controller-name', 'nope'], secret);
    assert.equal(miss.code, 1);
    assert.match(miss.stderr, /cannot fetch the certificate.*--controller-name/);
  });

  it('writes nothing after a restart (no Secret or status churn)', async () => {
    const secretsBefore = new Map((await cp.client.list(SECRETS)).items.map((s) => [`${s.metadata.namespace}/${s.metadata.name}`, s.metadata.resourceVersion]));
    const ssList = (await cp.client.list<SealedSecret>(SEALEDSECRETS)).items;
    const ssBefore = new Map(ssList.map((s) => [`${s.metadata.namespace}/${s.metadata.name}`, s.metadata.resourceVersion]));
    const okCount = ssList.filter((s) => s.status?.conditions?.some((c) => c.type === 'Synced' && c.status === 'True')).length;
    logs.push(ctl.logText());
    await ctl.stop();
    ctl = await startController(cp, FLAGS);
    await eventually('every synced SealedSecret to be re-checked', async () => metricValue(await ctl.metrics(), 'keelson_unseal_total', { result: 'unchanged' }) >= okCount, 60_000);
    const m = await ctl.metrics();
    assert.equal(metricValue(m, 'keelson_unseal_total', { result: 'ok' }), 0, 'no Secret written');
    for (const s of (await cp.client.list(SECRETS)).items) {
      const k = `${s.metadata.namespace}/${s.metadata.name}`;
      if (ssBefore.has(k)) assert.equal(s.metadata.resourceVersion, secretsBefore.get(k), `Secret ${k} rewritten`);
    }
    for (const s of (await cp.client.list<SealedSecret>(SEALEDSECRETS)).items) {
      const k = `${s.metadata.namespace}/${s.metadata.name}`;
      assert.equal(s.metadata.resourceVersion, ssBefore.get(k), `SealedSecret ${k} status rewritten`);
    }
  });

  it('never puts a value or a private key in logs, events or status', async () => {
    const events = JSON.stringify((await cp.client.list(EVENTS)).items.map((e) => [e.reason, e.message]));
    const statuses = JSON.stringify((await cp.client.list<SealedSecret>(SEALEDSECRETS)).items.map((s) => s.status));
    assert.match(events, /ErrUnsealFailed/);
    const text = logs.join('\n') + ctl.logText() + events + statuses;
    assert.ok(text.length > 1000, 'logs were captured');
    for (const value of VALUES) assert.ok(!text.includes(value), 'a sealed value appeared in the logs');
    for (const ref of ['hunter2', 's3cr3t', 'r0b0t-t0ken', 'PRIVATE KEY', 'tls.key']) assert.ok(!text.includes(ref), `${ref} appeared in the logs`);
  });
});
