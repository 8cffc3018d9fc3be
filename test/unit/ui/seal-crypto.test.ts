// The browser seal form's WebCrypto encryption, opened by the controller's own decryption (src/sealing/wire.ts) with
// the label each scope implies; a value sealed for one name must not open under another.

import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { labelFor } from '../../../src/sealing/scope.js';
import { decryptValue } from '../../../src/sealing/wire.js';
import { checkSealRequest, sealedSecretYaml } from '../../../src/ui/seal-crypto.js';

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const spki = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');

describe('ui seal form crypto', () => {
  for (const scope of ['strict', 'namespace-wide', 'cluster-wide'] as const) {
    it(`produces SealedSecret YAML the controller's wire format opens (${scope})`, async () => {
      const yaml = await sealedSecretYaml(spki, { namespace: 'team-a', name: 'db', scope, entries: [{ key: 'password', value: 'hünter2\n"quoted"' }, { key: 'user', value: 'app' }] });
      const obj = parse(yaml) as { kind: string; metadata: { name: string; namespace: string; annotations?: Record<string, string> }; spec: { encryptedData: Record<string, string>; template: { metadata: { name: string } } } };
      assert.equal(obj.kind, 'SealedSecret');
      assert.equal(obj.metadata.name, 'db');
      assert.equal(obj.spec.template.metadata.name, 'db');
      assert.equal(obj.metadata.annotations?.[`sealedsecrets.bitnami.com/${scope}`], scope === 'strict' ? undefined : 'true');
      const open = (k: string, ns = 'team-a', name = 'db') => decryptValue([privateKey], obj.spec.encryptedData[k]!, labelFor(scope, ns, name)).plaintext.toString('utf8');
      assert.equal(open('password'), 'hünter2\n"quoted"');
      assert.equal(open('user'), 'app');
      assert.ok(!yaml.includes('hünter2') && !yaml.includes('app\n'), 'no plaintext in the output');
      if (scope === 'strict') assert.throws(() => open('user', 'team-a', 'other'));
      if (scope !== 'cluster-wide') assert.throws(() => open('user', 'team-b', 'db'));
    });
  }

  it('refuses bad names and keys before sealing anything', async () => {
    const base = { namespace: 'ns', name: 'n', scope: 'strict' as const, entries: [{ key: 'k', value: 'v' }] };
    assert.equal(checkSealRequest(base), '');
    assert.match(checkSealRequest({ ...base, namespace: 'Bad_NS' }), /namespace/);
    assert.match(checkSealRequest({ ...base, name: 'x'.repeat(254) }), /name/);
    assert.match(checkSealRequest({ ...base, entries: [] }), /at least one/);
    assert.match(checkSealRequest({ ...base, entries: [{ key: 'a/b', value: '' }] }), /key "a\/b"/);
    assert.match(checkSealRequest({ ...base, entries: [{ key: 'k', value: '1' }, { key: 'k', value: '2' }] }), /twice/);
    await assert.rejects(sealedSecretYaml(spki, { ...base, name: 'a\nkind: Secret' }), /name/);
  });
});
