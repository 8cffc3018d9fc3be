// Sealing parity with the bitnami controller and kubeseal (issue 15) on a real control plane: --key-cutoff-time (one
// new key at start, none after a restart), a legacy spec.data SealedSecret (the whole Secret as JSON, hybrid-encrypted
// with the strict label) unsealed with a Warning, a sprig template, `keelson seal --fetch-cert` and `--validate`
// through the API server's service proxy, and kubeseal's own request path (kube-system/sealed-secrets-controller,
// empty port) through the kube-system forwarder.

import assert from 'node:assert/strict';
import https from 'node:https';
import { networkInterfaces } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { PODS, SEALEDSECRETS, SECRETS } from '../../src/kube/resources.js';
import type { KubeObject } from '../../src/kube/types.js';
import { type KubesealProxy, startKubesealProxy } from '../../src/sealing/kubeseal-proxy.js';
import { labelFor } from '../../src/sealing/scope.js';
import type { SealedSecret } from '../../src/sealing/sealed-secret.js';
import { hybridEncrypt } from '../../src/sealing/wire.js';
import { runCli } from '../support/cli.js';
import { type ControlPlane, startControlPlane } from '../support/control-plane.js';
import { type RunningController, startController } from '../support/controller.js';
import { delay, eventually } from '../support/wait.js';
import { certKey, createNamespace, eventReasons, installCrd, loadReferenceKeys, readFixture, sealed, secretValues, waitSynced } from './sealing-support.js';

const KEY_NS = 'keelson-system';
const LABEL = 'sealedsecrets.bitnami.com/sealed-secrets-key';
const SERVICES = { group: '', version: 'v1', plural: 'services', kind: 'Service', namespaced: true } as const;
const ENDPOINTS = { group: '', version: 'v1', plural: 'endpoints', kind: 'Endpoints', namespaced: true } as const;

/** `date -R`'s form (RFC 1123 with a numeric zone), as bitnami's --key-cutoff-time takes it. */
function rfc1123(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getUTCDay()];
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()];
  return `${day}, ${p(d.getUTCDate())} ${mon} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

describe('sealing parity with bitnami and kubeseal', () => {
  let cp: ControlPlane;
  let ctl: RunningController;
  let proxy: KubesealProxy | undefined;
  let flags: string[];

  const activeKeys = async () => (await cp.client.list(SECRETS, { namespace: KEY_NS, labelSelector: `${LABEL}=active` })).items;

  before(async () => {
    cp = await startControlPlane({ controllerManager: true });
    await installCrd(cp.client);
    await createNamespace(cp.client, KEY_NS);
    await loadReferenceKeys(cp.client, KEY_NS);
    await delay(1100); // creationTimestamps have second precision: the cutoff is strictly after both keys
    flags = ['--key-renew-period', '0', '--key-size', '2048', '--disable-reload', '--disable-gitsync', '--http-addr', '0.0.0.0:0', '--key-cutoff-time', rfc1123(new Date())];
    ctl = await startController(cp, flags);
  });
  after(async () => {
    await proxy?.close();
    await ctl?.stop();
    await cp?.stop();
  });

  it('--key-cutoff-time: a new key at start when the newest predates it, none after a restart', async () => {
    await eventually('a key generated for the cutoff', async () => (await activeKeys()).length === 3);
    assert.ok(ctl.logs.some((l) => l.msg === 'sealing key generated' && l.reason === 'key-cutoff-time'));
    await ctl.stop();
    ctl = await startController(cp, flags);
    await delay(2000);
    assert.equal((await activeKeys()).length, 3, 'the restart generated no further key');
  });

  it('unseals a legacy spec.data SealedSecret as bitnami does, with a Warning recommending a re-seal', async () => {
    await createNamespace(cp.client, 'legacy');
    const secret = {
      apiVersion: 'v1', kind: 'Secret', metadata: { name: 'old', namespace: 'legacy', labels: { era: 'v1' } }, type: 'kubernetes.io/basic-auth',
      data: { username: Buffer.from('admin').toString('base64') }, stringData: { password: 'legacy-pw-42' },
    };
    const blob = hybridEncrypt(certKey(readFixture('keys/cert-4096.pem')), Buffer.from(JSON.stringify(secret)), labelFor('strict', 'legacy', 'old'));
    await cp.client.create<SealedSecret>(SEALEDSECRETS, {
      apiVersion: 'bitnami.com/v1alpha1', kind: 'SealedSecret', metadata: { name: 'old', namespace: 'legacy' },
      spec: { encryptedData: {}, data: blob.toString('base64') },
    });
    const cond = await waitSynced(cp.client, 'legacy', 'old', 'True');
    assert.match(cond.message ?? '', /deprecated spec\.data format; re-seal it/);
    assert.deepEqual(await secretValues(cp.client, 'legacy', 'old'), { username: 'admin', password: 'legacy-pw-42' });
    const s = await cp.client.get(SECRETS, 'legacy', 'old');
    assert.equal(s.type, 'kubernetes.io/basic-auth');
    assert.deepEqual(s.metadata.labels, { era: 'v1' });
    assert.equal(s.metadata.ownerReferences?.[0]?.kind, 'SealedSecret');
    const events = await eventually('the LegacyFormat warning', async () => { const e = await eventReasons(cp.client, 'legacy', 'old'); return e.some((x) => x.reason === 'LegacyFormat') ? e : undefined; });
    assert.ok(events.some((e) => e.reason === 'LegacyFormat' && e.type === 'Warning' && /re-seal/.test(e.message)));
    assert.ok(!JSON.stringify(events).includes('legacy-pw-42'));

    // Sealed for another name: no Secret, a clear condition.
    const moved = hybridEncrypt(certKey(readFixture('keys/cert-4096.pem')), Buffer.from(JSON.stringify(secret)), labelFor('strict', 'legacy', 'elsewhere'));
    await cp.client.create<SealedSecret>(SEALEDSECRETS, { apiVersion: 'bitnami.com/v1alpha1', kind: 'SealedSecret', metadata: { name: 'moved', namespace: 'legacy' }, spec: { encryptedData: {}, data: moved.toString('base64') } });
    assert.match((await waitSynced(cp.client, 'legacy', 'moved', 'False')).message ?? '', /legacy spec\.data cannot be unsealed/);
    assert.equal(await secretValues(cp.client, 'legacy', 'moved'), undefined);
  });

  it('renders Go-template pipelines with sprig functions over the decrypted values', async () => {
    await createNamespace(cp.client, 'tpl');
    const ss = sealed(readFixture('keys/cert-2048.pem'), 'tpl', 'app', { user: 'admin', pass: 'p@ss' }, {
      template: { data: { auth: '{{ printf "%s:%s" .user .pass | b64enc }}', json: '{{ toJson . }}', upper: '{{ .user | upper | quote }}', dflt: '{{ .missing | default "none" }}' } },
    });
    await cp.client.create(SEALEDSECRETS, ss);
    await waitSynced(cp.client, 'tpl', 'app', 'True');
    assert.deepEqual(await secretValues(cp.client, 'tpl', 'app'), {
      user: 'admin', pass: 'p@ss', auth: Buffer.from('admin:p@ss').toString('base64'), json: '{"pass":"p@ss","user":"admin"}', upper: '"ADMIN"', dflt: 'none',
    });
  });

  it('seal --fetch-cert and --validate through the service proxy; kubeseal\'s path through the kube-system forwarder', async () => {
    const ip = Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
    assert.ok(ip, 'a non-loopback IPv4 address for the proxy Endpoints');
    // The API server proxies only to a Pod's address in the Service's own namespace: stand a Pod in for each backend.
    // Keelson's Service names its port "http"; kubeseal asks for the port "" (ProxyGet's empty port), which the API
    // server matches only to an unnamed port: the kube-system Service has one unnamed port, as bitnami's does.
    const backend = async (namespace: string, name: string, port: number, portName: string) => {
      await cp.client.create(SERVICES, { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { ports: [{ ...(portName ? { name: portName } : {}), port: 8080 }] } });
      await cp.client.create(PODS, { apiVersion: 'v1', kind: 'Pod', metadata: { name: `${name}-0`, namespace }, spec: { containers: [{ name: 'c', image: 'keelson' }] } });
      await cp.client.patch(PODS, namespace, `${name}-0`, 'merge', { status: { podIP: ip, podIPs: [{ ip }] } }, { subresource: 'status' });
      await cp.client.create(ENDPOINTS, {
        apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace },
        subsets: [{ addresses: [{ ip, targetRef: { kind: 'Pod', name: `${name}-0`, namespace } }], ports: [{ ...(portName ? { name: portName } : {}), port }] }],
      });
    };
    await backend(KEY_NS, 'keelson', ctl.manager.httpPort, 'http');
    const served = await (await fetch(`${ctl.httpUrl}/v1/cert.pem`)).text();
    const kc = ['--kubeconfig', cp.kubeconfigPath];

    const cert = await eventually('seal --fetch-cert through the service proxy', async () => { const r = await runCli(['seal', ...kc, '--fetch-cert']); if (r.code !== 0) throw new Error(r.stderr); return r.stdout; });
    assert.equal(cert, served);

    await createNamespace(cp.client, 'val');
    const secret = 'apiVersion: v1\nkind: Secret\nmetadata: {name: checked, namespace: val}\nstringData: {token: t0k3n}\n';
    const good = await runCli(['seal', ...kc], secret);
    assert.equal(good.code, 0, good.stderr);
    const ok = await runCli(['seal', ...kc, '--validate'], good.stdout);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, '');
    const renamed = parse(good.stdout) as SealedSecret;
    renamed.metadata.name = 'renamed';
    const bad = await runCli(['seal', ...kc, '--validate', '-o', 'json'], JSON.stringify(renamed));
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /SealedSecret val\/renamed cannot be decrypted by service keelson-system\/keelson/);

    // kubeseal: ProxyGet("http", "sealed-secrets-controller", "", "/v1/cert.pem") in kube-system.
    proxy = await startKubesealProxy('0.0.0.0', 0, new URL(ctl.httpUrl));
    await backend('kube-system', 'sealed-secrets-controller', proxy.port, '');
    const viaKubesealPath = await eventually('kubeseal\'s path through the forwarder', async () => {
      const r = await apiGet(cp, '/api/v1/namespaces/kube-system/services/http:sealed-secrets-controller:/proxy/v1/cert.pem');
      return r.status === 200 ? r.body : undefined;
    });
    assert.equal(viaKubesealPath, served);
    const compat = await runCli(['seal', ...kc, '--controller-namespace', 'kube-system', '--controller-name', 'sealed-secrets-controller', '--validate'], good.stdout);
    assert.equal(compat.code, 0, compat.stderr);
    const rotated = await runCli(['reencrypt', ...kc, '--controller-namespace', 'kube-system', '--controller-name', 'sealed-secrets-controller'], good.stdout);
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.equal((parse(rotated.stdout) as KubeObject).kind, 'SealedSecret');
    assert.equal((await fetch(`http://127.0.0.1:${proxy.port}/v1/other`)).status, 404);
  });
});

/** A GET on the API server with the admin kubeconfig, as client-go's ProxyGet sends it. */
async function apiGet(cp: ControlPlane, path: string): Promise<{ status: number; body: string }> {
  const opts: https.RequestOptions = {};
  await cp.kubeConfig.applyToHTTPSOptions(opts as never);
  const url = new URL(path, cp.server);
  return await new Promise((resolve, reject) => {
    https.get(url, opts, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    }).on('error', reject);
  });
}
