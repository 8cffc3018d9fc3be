import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Kubeconfig, applyCredentials, resolveKubeconfig } from '../../../src/kube/kubeconfig.js';
import { loadKubeConfig } from '../../../src/kube/client.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

function doc(user: Record<string, unknown>, cluster: Record<string, unknown> = { server: 'https://k8s.example:6443' }) {
  return {
    'current-context': 'ctx',
    contexts: [{ name: 'other', context: { cluster: 'nope', user: 'nope' } }, { name: 'ctx', context: { cluster: 'c', user: 'u', namespace: 'team-a' } }],
    clusters: [{ name: 'c', cluster }],
    users: [{ name: 'u', user }],
  };
}

describe('resolveKubeconfig', () => {
  it('follows current-context to its cluster and user, decoding inline data', () => {
    const r = resolveKubeconfig(doc({ token: 't0k', 'client-certificate-data': b64('CERT'), 'client-key-data': b64('KEY') },
      { server: 'https://k8s.example:6443', 'certificate-authority-data': b64('CA'), 'tls-server-name': 'api.internal' }), '/x/config');
    assert.equal(r.cluster.server, 'https://k8s.example:6443');
    assert.equal(r.cluster.ca?.toString(), 'CA');
    assert.equal(r.cluster.tlsServerName, 'api.internal');
    assert.equal(r.cluster.insecureSkipTlsVerify, false);
    assert.equal(r.user.token, 't0k');
    assert.equal(r.user.cert?.toString(), 'CERT');
    assert.equal(r.user.key?.toString(), 'KEY');
    assert.equal(r.user.needsPlugin, false);
    assert.equal(r.namespace, 'team-a');
  });

  it('reads file references relative to the kubeconfig folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kc-'));
    writeFileSync(join(dir, 'ca.crt'), 'CAFILE');
    writeFileSync(join(dir, 'token'), 'filetoken\n');
    const r = resolveKubeconfig(doc({ tokenFile: 'token' }, { server: 'https://s', 'certificate-authority': 'ca.crt' }), join(dir, 'config'));
    assert.equal(r.cluster.ca?.toString(), 'CAFILE');
    assert.equal(r.user.tokenFile, join(dir, 'token'));
  });

  it('marks exec and auth-provider users as needing the plugin path', () => {
    assert.equal(resolveKubeconfig(doc({ exec: { command: 'aws' } }), '/c').user.needsPlugin, true);
    assert.equal(resolveKubeconfig(doc({ 'auth-provider': { name: 'oidc' } }), '/c').user.needsPlugin, true);
  });

  it('uses the context given (kubectl --context) instead of current-context', () => {
    const d = { ...doc({ token: 'a' }), contexts: [...doc({}).contexts, { name: 'second', context: { cluster: 'c', user: 'u2', namespace: 'team-b' } }], users: [{ name: 'u', user: { token: 'a' } }, { name: 'u2', user: { token: 'b' } }] };
    assert.equal(resolveKubeconfig(d, '/c').user.token, 'a');
    const r = resolveKubeconfig(d, '/c', 'second');
    assert.equal(r.user.token, 'b');
    assert.equal(r.namespace, 'team-b');
    assert.throws(() => resolveKubeconfig(d, '/c', 'missing'), /context "missing"/);
  });

  it('names what is missing', () => {
    assert.throws(() => resolveKubeconfig({}, '/k'), /\/k: no current-context is set/);
    assert.throws(() => resolveKubeconfig({ ...doc({}), 'current-context': 'gone' }, '/k'), /context "gone"/);
    assert.throws(() => resolveKubeconfig(doc({}, {}), '/k'), /cluster "c" has no server/);
  });
});

describe('applyCredentials', () => {
  it('sets TLS material, a bearer token and basic auth on request options', () => {
    const opts: https.RequestOptions = { headers: { 'X-Keep': '1' } };
    applyCredentials({ server: 's', ca: Buffer.from('CA'), insecureSkipTlsVerify: true, tlsServerName: 'n' },
      { token: 'abc', cert: Buffer.from('C'), key: Buffer.from('K'), username: 'me', password: 'pw', needsPlugin: false }, opts);
    assert.equal(opts.ca?.toString(), 'CA');
    assert.equal(opts.rejectUnauthorized, false);
    assert.equal(opts.servername, 'n');
    assert.equal(opts.cert?.toString(), 'C');
    assert.equal(opts.key?.toString(), 'K');
    assert.deepEqual(opts.headers, { 'X-Keep': '1', Authorization: 'Bearer abc' });
    assert.equal(opts.auth, 'me:pw');
  });

  it('re-reads a token file every time (service-account tokens rotate)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kc-'));
    const file = join(dir, 'token');
    writeFileSync(file, 'one\n');
    const cluster = { server: 's', insecureSkipTlsVerify: false };
    const a: https.RequestOptions = {};
    applyCredentials(cluster, { tokenFile: file, needsPlugin: false }, a);
    writeFileSync(file, 'two\n');
    const b: https.RequestOptions = {};
    applyCredentials(cluster, { tokenFile: file, needsPlugin: false }, b);
    assert.equal((a.headers as Record<string, string>).Authorization, 'Bearer one');
    assert.equal((b.headers as Record<string, string>).Authorization, 'Bearer two');
  });
});

describe('Kubeconfig', () => {
  it('loads a file through loadKubeConfig and applies it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kc-'));
    const path = join(dir, 'config');
    writeFileSync(path, JSON.stringify(doc({ token: 'tok' }, { server: 'https://127.0.0.1:6443', 'insecure-skip-tls-verify': true })));
    const kc = loadKubeConfig({ kubeconfig: path });
    assert.equal(kc.getCurrentCluster().server, 'https://127.0.0.1:6443');
    const opts: https.RequestOptions = {};
    await kc.applyToHTTPSOptions(opts);
    assert.equal(opts.rejectUnauthorized, false);
    assert.equal((opts.headers as Record<string, string>).Authorization, 'Bearer tok');
  });

  it('reads the in-cluster service account', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sa-'));
    writeFileSync(join(dir, 'ca.crt'), 'CA');
    writeFileSync(join(dir, 'token'), 'satoken');
    writeFileSync(join(dir, 'namespace'), 'keelson-system\n');
    const kc = Kubeconfig.inCluster({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, dir);
    assert.equal(kc.getCurrentCluster().server, 'https://[fd00::1]:443');
    assert.equal(kc.namespace, 'keelson-system');
    const opts: https.RequestOptions = {};
    await kc.applyToHTTPSOptions(opts);
    assert.equal(opts.ca?.toString(), 'CA');
    assert.equal((opts.headers as Record<string, string>).Authorization, 'Bearer satoken');
  });

  it('says which file cannot be read', () => {
    assert.throws(() => Kubeconfig.fromFile('/nonexistent/kubeconfig'), /cannot read kubeconfig \/nonexistent\/kubeconfig/);
  });
});
