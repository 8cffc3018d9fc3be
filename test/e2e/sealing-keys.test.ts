// Sealing keys on a real control plane: the controller starts without the SealedSecret CRD (clear error, no crash,
// the rest serving) and picks it up once installed; it generates the first key, renews it every period while old
// keys keep opening what they sealed, keeps the schedule across restarts (from the newest key's creation time), and
// drops a key relabelled away from "active" without a restart.

import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SECRETS } from '../../src/kube/resources.js';
import type { KubeObject } from '../../src/kube/types.js';
import { type ControlPlane, startControlPlane } from '../support/control-plane.js';
import { type RunningController, metricValue, startController } from '../support/controller.js';
import { delay, eventually } from '../support/wait.js';
import { createNamespace, installCrd, sealed, secretValues, waitSynced } from './sealing-support.js';
import { SEALEDSECRETS } from '../../src/kube/resources.js';

const KEY_NS = 'keelson-system';
const LABEL = 'sealedsecrets.bitnami.com/sealed-secrets-key';
const base = ['--key-size', '2048', '--disable-reload', '--disable-gitsync', '--disable-images'];

describe('sealing keys', () => {
  let cp: ControlPlane;
  let ctl: RunningController;
  const logs: string[] = [];

  const activeKeys = async () => (await cp.client.list(SECRETS, { namespace: KEY_NS, labelSelector: `${LABEL}=active` })).items
    .sort((a, b) => String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)) || String(a.metadata.name).localeCompare(String(b.metadata.name)));
  const certOf = (s: KubeObject) => Buffer.from((s.data as Record<string, string>)['tls.crt']!, 'base64').toString();
  const served = async () => (await fetch(`${ctl.httpUrl}/v1/cert.pem`)).text();
  const restart = async (flags: string[]) => { logs.push(ctl.logText()); await ctl.stop(); ctl = await startController(cp, [...base, ...flags]); };

  before(async () => {
    cp = await startControlPlane();
    await createNamespace(cp.client, KEY_NS);
    ctl = await startController(cp, [...base, '--key-renew-period', '1h']);
  });
  after(async () => {
    await ctl?.stop();
    await cp?.stop();
  });

  let firstCert = '';

  it('starts without the CRD: says how to install it, stays healthy, generates the first key', async () => {
    await eventually('the missing-CRD error', () => ctl.logText().includes('the SealedSecret CRD (sealedsecrets.bitnami.com) is not installed: apply manifests/crd-sealedsecrets.yaml'));
    assert.equal((await fetch(`${ctl.httpUrl}/healthz`)).status, 200);
    const ready = await fetch(`${ctl.httpUrl}/readyz`);
    assert.equal(ready.status, 503);
    assert.match(await ready.text(), /CRD installed/);
    const [key] = await eventually('a generated key', async () => { const k = await activeKeys(); return k.length === 1 ? k : undefined; });
    assert.equal(key!.type, 'kubernetes.io/tls');
    assert.equal(key!.metadata.generateName, 'sealed-secrets-key');
    assert.match(key!.metadata.name!, /^sealed-secrets-key[a-z0-9]{5}$/);
    firstCert = certOf(key!);
    const x = new X509Certificate(firstCert);
    assert.equal(x.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
    const years = (new Date(x.validTo).getTime() - new Date(x.validFrom).getTime()) / (365 * 86400_000);
    assert.ok(years > 9.9 && years < 10.1, `certificate valid ${years} years`);
    await eventually('cert.pem to serve it', async () => (await served()) === firstCert);
    assert.equal(metricValue(await ctl.metrics(), 'keelson_sealing_keys'), 1);
  });

  it('unseals once the CRD is installed', async () => {
    await installCrd(cp.client);
    await createNamespace(cp.client, 'app');
    await cp.client.create(SEALEDSECRETS, sealed(firstCert, 'app', 'first', { k: 'first-key-value' }));
    await waitSynced(cp.client, 'app', 'first', 'True', 40_000);
    assert.equal((await secretValues(cp.client, 'app', 'first'))?.k, 'first-key-value');
    assert.equal((await fetch(`${ctl.httpUrl}/readyz`)).status, 200);
  });

  it('does not renew early after a restart: the schedule comes from the newest key, not process start', async () => {
    const before = (await activeKeys()).length;
    await restart(['--key-renew-period', '1h']);
    await delay(4000); // key generation takes well under a second at 2048 bits; a wrong schedule would have fired at start
    assert.equal((await activeKeys()).length, before);
  });

  it('renews every period, newest certificate seals, old keys still open', async () => {
    await restart(['--key-renew-period', '3s']);
    const keys = await eventually('two renewals', async () => { const k = await activeKeys(); return k.length >= 3 ? k : undefined; }, 40_000);
    const newest = await eventually('cert.pem to serve a renewed key', async () => { const s = await served(); return s !== firstCert ? s : undefined; });
    assert.ok(keys.some((k) => certOf(k) === newest) || (await activeKeys()).some((k) => certOf(k) === newest));
    await cp.client.create(SEALEDSECRETS, sealed(firstCert, 'app', 'old-key', { k: 'sealed-with-the-first-key' }));
    await cp.client.create(SEALEDSECRETS, sealed(newest, 'app', 'new-key', { k: 'sealed-with-a-new-key' }));
    await waitSynced(cp.client, 'app', 'old-key', 'True');
    await waitSynced(cp.client, 'app', 'new-key', 'True');
    assert.ok(metricValue(await ctl.metrics(), 'keelson_sealing_keys') >= 3);
  });

  it('drops a key relabelled away from active, without a restart', async () => {
    await restart(['--key-renew-period', '0']);
    const keys = await activeKeys();
    const newest = keys[keys.length - 1]!;
    await eventually('cert.pem to serve the newest key', async () => (await served()) === certOf(newest));
    await cp.client.patch(SECRETS, KEY_NS, newest.metadata.name!, 'merge', { metadata: { labels: { [LABEL]: 'compromised' } } });
    await eventually('cert.pem to move off the relabelled key', async () => (await served()) !== certOf(newest));
    await eventually('the key count to drop', async () => metricValue(await ctl.metrics(), 'keelson_sealing_keys') === keys.length - 1);
  });

  it('never logs a private key or a value', () => {
    const text = logs.join('\n') + ctl.logText();
    for (const s of ['PRIVATE KEY', 'first-key-value', 'sealed-with-the-first-key', 'sealed-with-a-new-key']) assert.ok(!text.includes(s), `${s} in logs`);
  });
});
