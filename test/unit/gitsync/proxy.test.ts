import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { proxyEnvOf } from '../../../src/config/options.js';
import { proxyUrlOf, proxyVariables } from '../../../src/gitsync/git.js';
import { redact } from '../../../src/gitsync/redact.js';
import { SecretRefError, proxyOf } from '../../../src/gitsync/source.js';
import { parseSpec } from '../../../src/gitsync/spec.js';

describe('git proxy', () => {
  it('takes only the proxy variables of the controller environment', () => {
    assert.deepEqual(proxyEnvOf({ HTTPS_PROXY: 'http://p:3128', no_proxy: '.svc', PATH: '/bin', HOME: '/root', http_proxy: '', KEELSON_X: 'y' }), { HTTPS_PROXY: 'http://p:3128', no_proxy: '.svc' });
    assert.deepEqual(proxyEnvOf({}), {});
  });

  it('fills the lower-case forms curl reads from upper-case variables, and never overrides a lower-case one', () => {
    assert.deepEqual(proxyVariables({ HTTP_PROXY: 'http://a:1', NO_PROXY: 'x' }), { http_proxy: 'http://a:1', HTTP_PROXY: 'http://a:1', no_proxy: 'x', NO_PROXY: 'x' });
    assert.deepEqual(proxyVariables({ HTTPS_PROXY: 'http://up:1', https_proxy: 'http://low:1' }), { https_proxy: 'http://low:1', HTTPS_PROXY: 'http://up:1' });
    assert.deepEqual(proxyVariables({ PATH: '/bin' } as Record<string, string>), {});
  });

  it('reads a proxySecretRef Secret: address required, credentials only in their own keys', () => {
    assert.deepEqual(proxyOf({ address: 'http://proxy.example:3128' }, 'S'), { kind: 'secret', address: 'http://proxy.example:3128', username: undefined, password: undefined });
    assert.deepEqual(proxyOf({ address: ' socks5h://10.0.0.1:1080/ ', username: 'u', password: 'p' }, 'S'), { kind: 'secret', address: 'socks5h://10.0.0.1:1080', username: 'u', password: 'p' });
    for (const address of ['', 'proxy:3128', 'ftp://p:21', 'http://p:3128/path', 'http://p:3128?x=1', 'not a url']) {
      assert.throws(() => proxyOf({ address }, 'S'), SecretRefError, address);
    }
    assert.throws(() => proxyOf({ address: 'http://user:hunter2@p:3128' }, 'S'), (err: Error) => err instanceof SecretRefError && !err.message.includes('hunter2') && /must not carry credentials/.test(err.message));
  });

  it('encodes credentials into the proxy URL and lists every form of them for redaction', () => {
    const { url, secrets } = proxyUrlOf({ address: 'http://p:3128', username: 'a@b', password: 'p:w/@%' });
    assert.equal(url, 'http://a%40b:p%3Aw%2F%40%25@p:3128');
    const text = `fatal: unable to access via ${url}: 407; p:w/@% ${encodeURIComponent('p:w/@%')}`;
    const clean = redact(text, secrets);
    assert.ok(!clean.includes('p:w/@%') && !clean.includes('p%3Aw'), clean);
    assert.deepEqual(proxyUrlOf({ address: 'http://p:3128' }), { url: 'http://p:3128', secrets: [] });
  });

  it('parses spec.proxySecretRef like the other Secret references', () => {
    const obj = (spec: Record<string, unknown>) => ({ apiVersion: 'keelson.dev/v1alpha1', kind: 'GitSync', metadata: { name: 'a', namespace: 'n' }, spec: { url: 'https://git.example/r.git', ...spec } });
    assert.equal(parseSpec(obj({ proxySecretRef: { name: 'corp-proxy' } })).proxySecretRef, 'corp-proxy');
    assert.equal(parseSpec(obj({})).proxySecretRef, undefined);
    assert.throws(() => parseSpec(obj({ proxySecretRef: { name: 'Bad_Name' } })), /spec.proxySecretRef.name/);
  });
});
