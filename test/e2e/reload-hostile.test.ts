// Reload against hostile or legacy input on the real control plane: the ReDoS annotation of issue 11 while a normal
// workload elsewhere still rolls in time, an entry RE2 rejects (one Warning event naming the annotation, the other
// entries working), the upgrade from plain (v1) baselines without a roll, and the digest key Secret (one key for
// concurrent replicas, a changed key picked up, a rotation through the running controller without a roll).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { formatObserved, nextObserved, parseObserved } from '../../src/reload/decide.js';
import { PLAIN_FORM, contentDigest, keyId } from '../../src/reload/digest.js';
import { DIGEST_KEY_SECRET, DigestKeyring } from '../../src/reload/digest-key.js';
import { parsePolicy } from '../../src/reload/policy.js';
import { SECRETS } from '../../src/kube/resources.js';
import { createLogger } from '../../src/observe/logger.js';
import { type ControlPlane, startControlPlane } from '../support/control-plane.js';
import { type RunningController, startController } from '../support/controller.js';
import { type FakeKubelet, startFakeKubelet } from '../support/fake-kubelet.js';
import { delay, eventually } from '../support/wait.js';
import {
  CONFIGMAPS, DEPLOYMENTS, OBSERVED, assertStillReplicaSets, configMap, createNamespace, deployment, eventsFor, setData,
  waitForEvent, waitForObserved, waitForReplicaSets,
} from './reload-support.js';

const observedOf = async (cp: ControlPlane, ns: string, name: string) => parseObserved((await cp.client.get(DEPLOYMENTS, ns, name)).metadata.annotations?.[OBSERVED]);

describe('reload: hostile annotations, legacy baselines, the digest key', () => {
  let cp: ControlPlane;
  let kubelet: FakeKubelet;
  let ctl: RunningController;

  before(async () => {
    cp = await startControlPlane({ controllerManager: true });
    kubelet = await startFakeKubelet(cp.client);
    ctl = await startController(cp, ['--disable-sealing', '--disable-gitsync']);
  });
  after(async () => {
    await ctl?.stop();
    await kubelet?.stop();
    await cp?.stop();
  });

  it('"(a|a)*b" with a ConfigMap of 40 a\'s: a workload in another namespace still rolls within 5 s of its change', async (t) => {
    const calm = await createNamespace(cp.client, 'calm');
    await cp.client.create(CONFIGMAPS, configMap(calm, 'app', { v: '1' }));
    await cp.client.create(DEPLOYMENTS, deployment(calm, 'web', { 'keelson.dev/auto': 'true' }, { volumesFrom: [{ kind: 'ConfigMap', name: 'app' }] }));
    await waitForObserved(cp.client, DEPLOYMENTS, calm, 'web');
    await waitForReplicaSets(cp.client, calm, 'web', 1);

    const redos = await createNamespace(cp.client, 'redos');
    const evil = 'a'.repeat(40);
    await cp.client.create(CONFIGMAPS, configMap(redos, evil, { v: '1' }));
    for (let i = 0; i < 5; i++) await cp.client.create(CONFIGMAPS, configMap(redos, `${'a'.repeat(30 + i)}x`, { v: '1' }));
    await cp.client.create(DEPLOYMENTS, deployment(redos, 'victim', { 'keelson.dev/configmaps': '(a|a)*b,(a*)*c' }));
    await setData(cp.client, redos, evil, { v: '2' }); // every config event of the namespace matches the patterns again

    const started = Date.now();
    await setData(cp.client, calm, 'app', { v: '2' });
    await waitForReplicaSets(cp.client, calm, 'web', 2, 5000);
    const ms = Date.now() - started;
    assert.ok(ms < 5000, `rolled after ${ms} ms`);
    t.diagnostic(`the other namespace's workload rolled ${ms} ms after its change (debounce 1 s included)`);

    // The hostile workload is just a workload whose patterns match nothing: no roll, no warning.
    await assertStillReplicaSets(cp.client, redos, 'victim', 1);
    assert.deepEqual((await eventsFor(cp.client, redos, 'victim')).filter((e) => e.type === 'Warning'), []);
  });

  it('an entry RE2 rejects is one Warning event naming the annotation; the other entries still work', async () => {
    const ns = await createNamespace(cp.client, 're2-reject');
    await cp.client.create(CONFIGMAPS, configMap(ns, 'app', { v: '1' }));
    await cp.client.create(DEPLOYMENTS, deployment(ns, 'web', { 'keelson.dev/configmaps': '(?<=x)a, app, (b)\\1' }));
    const warning = await waitForEvent(cp.client, ns, 'web', 'InvalidAnnotation');
    assert.equal(warning.type, 'Warning');
    assert.match(warning.message, /keelson\.dev\/configmaps/);
    assert.match(warning.message, /\(\?<=x\)a/);
    assert.match(warning.message, /\(b\)\\1/);
    const baseline = await waitForObserved(cp.client, DEPLOYMENTS, ns, 'web');
    assert.ok(baseline['ConfigMap/app'], 'the valid entry names its ConfigMap');

    await setData(cp.client, ns, 'app', { v: '2' });
    await waitForReplicaSets(cp.client, ns, 'web', 2);
    await delay(2000);
    const warnings = (await eventsFor(cp.client, ns, 'web')).filter((e) => e.reason === 'InvalidAnnotation');
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]!.count, 1, 'once per annotation change, not once per reconcile');
  });

  it('a plain (v1) baseline written before keyed digests is re-recorded keyed without a roll; with content changed since, one roll', async () => {
    const ns = await createNamespace(cp.client, 'upgrade');
    const annotations = { 'keelson.dev/auto': 'true' };
    const selection = parsePolicy(annotations, {}, { autoReloadAll: false }).selection;
    const v1 = (data: Record<string, string>) => formatObserved(nextObserved(selection, [
      { id: 'ConfigMap/app', kind: 'ConfigMap', namespace: ns, name: 'app', digest: contentDigest(data, undefined), named: false },
    ], PLAIN_FORM));
    await cp.client.create(CONFIGMAPS, configMap(ns, 'app', { 'a.conf': 'same' }));
    const pod = { volumesFrom: [{ kind: 'ConfigMap' as const, name: 'app' }] };
    await cp.client.create(DEPLOYMENTS, deployment(ns, 'same', { ...annotations, [OBSERVED]: v1({ 'a.conf': 'same' }) }, pod));
    await cp.client.create(DEPLOYMENTS, deployment(ns, 'changed', { ...annotations, [OBSERVED]: v1({ 'a.conf': 'before the upgrade' }) }, pod));

    await eventually('the unchanged workload re-recorded keyed', async () => (await observedOf(cp, ns, 'same'))?.v === 2);
    const o = (await observedOf(cp, ns, 'same'))!;
    assert.match(o.hash, /^h1:[0-9a-f]{64}$/);
    const key = await cp.client.get(SECRETS, 'keelson-system', DIGEST_KEY_SECRET);
    assert.equal(o.kid, keyId(Buffer.from((key.data as Record<string, string>).key!, 'base64')), 'the baseline names the cluster key');
    await waitForReplicaSets(cp.client, ns, 'changed', 2);
    assert.equal((await observedOf(cp, ns, 'changed'))?.v, 2);
    await assertStillReplicaSets(cp.client, ns, 'same', 1);
    await assertStillReplicaSets(cp.client, ns, 'changed', 2);
    assert.ok(ctl.logs.some((l) => l.why === 'upgrade'), 'the re-baseline is logged');
  });

  it('rotating the cluster key (README procedure) moves every baseline to it without a roll; the next change rolls once', async () => {
    const ns = await createNamespace(cp.client, 'rotate');
    await cp.client.create(CONFIGMAPS, configMap(ns, 'app', { v: '1' }));
    await cp.client.create(DEPLOYMENTS, deployment(ns, 'web', { 'keelson.dev/auto': 'true' }, { volumesFrom: [{ kind: 'ConfigMap', name: 'app' }] }));
    await waitForObserved(cp.client, DEPLOYMENTS, ns, 'web');
    await setData(cp.client, ns, 'app', { v: '2' });
    await waitForReplicaSets(cp.client, ns, 'web', 2);
    const before = (await observedOf(cp, ns, 'web'))!;

    const old = (await cp.client.get(SECRETS, 'keelson-system', DIGEST_KEY_SECRET)).data as Record<string, string>;
    const fresh = Buffer.alloc(32, 7).toString('base64');
    await cp.client.patch(SECRETS, 'keelson-system', DIGEST_KEY_SECRET, 'merge', { data: { key: fresh, previous: old.key } });
    const kid = keyId(Buffer.from(fresh, 'base64'));
    // Re-read every 30 s, then every workload is re-queued.
    await eventually('the baseline under the new key', async () => (await observedOf(cp, ns, 'web'))?.kid === kid, 45_000);
    const after = (await observedOf(cp, ns, 'web'))!;
    assert.notEqual(after.hash, before.hash);
    assert.ok(ctl.logs.some((l) => l.why === 'key-change'));
    await assertStillReplicaSets(cp.client, ns, 'web', 2);

    await setData(cp.client, ns, 'app', { v: '3' });
    await waitForReplicaSets(cp.client, ns, 'web', 3);
    await assertStillReplicaSets(cp.client, ns, 'web', 3);
  });

  it('the digest key: concurrent replicas converge on one Secret; a changed key is picked up and the old one kept for comparing', async () => {
    const ns = await createNamespace(cp.client, 'digest-key');
    const logger = createLogger({ level: 'silent', format: 'json' });
    let changes = 0;
    const replicas = Array.from({ length: 4 }, () => new DigestKeyring(cp.client, ns, logger, () => { changes++; }));
    assert.deepEqual(await Promise.all(replicas.map((r) => r.refresh())), [true, true, true, true]);
    const kids = new Set(replicas.map((r) => r.keys()!.current.kid));
    assert.equal(kids.size, 1, 'one key for every replica');
    const stored = await cp.client.get(SECRETS, ns, DIGEST_KEY_SECRET);
    const oldKey = (stored.data as Record<string, string>).key!;
    assert.equal(Buffer.from(oldKey, 'base64').length, 32);

    // Rotation as the README describes it: the new key under `key`, the old one under `previous`.
    const newKey = Buffer.alloc(32, 42).toString('base64');
    await cp.client.patch(SECRETS, ns, DIGEST_KEY_SECRET, 'merge', { data: { key: newKey, previous: oldKey } });
    const r = replicas[0]!;
    assert.equal(await r.refresh(), true);
    assert.equal(r.keys()!.current.kid, keyId(Buffer.from(newKey, 'base64')));
    assert.deepEqual(r.keys()!.earlier.map((f) => f.kid), [[...kids][0]]);
    assert.equal(changes, 1);

    // An unusable key is refused and the key in use is kept.
    await cp.client.patch(SECRETS, ns, DIGEST_KEY_SECRET, 'merge', { data: { key: Buffer.alloc(8).toString('base64') } });
    assert.equal(await r.refresh(), false);
    assert.equal(r.keys()!.current.kid, keyId(Buffer.from(newKey, 'base64')));
  });
});
