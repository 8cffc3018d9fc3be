import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { referencedConfigs } from '../../../src/reload/references.js';

describe('referencedConfigs', () => {
  it('finds nothing in an empty or missing spec', () => {
    assert.deepEqual(referencedConfigs(undefined), []);
    assert.deepEqual(referencedConfigs({}), []);
    assert.deepEqual(referencedConfigs({ containers: [{ name: 'a' }] }), []);
  });

  it('finds configMap and secret volumes, with the containers that mount them', () => {
    const refs = referencedConfigs({
      volumes: [{ name: 'cfg', configMap: { name: 'app' } }, { name: 'sec', secret: { secretName: 'creds' } }, { name: 'tmp' } as never],
      containers: [{ name: 'web', volumeMounts: [{ name: 'cfg' }] }, { name: 'side', volumeMounts: [{ name: 'sec' }, { name: 'tmp' }] }],
    });
    assert.deepEqual(refs, [
      { kind: 'ConfigMap', name: 'app', optional: false, containers: ['web'] },
      { kind: 'Secret', name: 'creds', optional: false, containers: ['side'] },
    ]);
  });

  it('finds projected sources', () => {
    const refs = referencedConfigs({
      volumes: [{ name: 'p', projected: { sources: [{ configMap: { name: 'a' } }, { secret: { name: 'b', optional: true } }, {}] } }],
      containers: [{ name: 'c', volumeMounts: [{ name: 'p' }] }],
    });
    assert.deepEqual(refs.map((r) => [r.kind, r.name, r.optional, r.containers]), [['ConfigMap', 'a', false, ['c']], ['Secret', 'b', true, ['c']]]);
  });

  it('finds env valueFrom and envFrom in containers and initContainers', () => {
    const refs = referencedConfigs({
      initContainers: [{ name: 'init', envFrom: [{ secretRef: { name: 'init-secret' } }] }],
      containers: [{
        name: 'app',
        env: [{ valueFrom: { configMapKeyRef: { name: 'env-cm', optional: true } } }, { valueFrom: { secretKeyRef: { name: 'env-secret' } } }, {}],
        envFrom: [{ configMapRef: { name: 'all-cm' } }],
      }],
    });
    assert.deepEqual(refs, [
      { kind: 'ConfigMap', name: 'all-cm', optional: false, containers: ['app'] },
      { kind: 'ConfigMap', name: 'env-cm', optional: true, containers: ['app'] },
      { kind: 'Secret', name: 'env-secret', optional: false, containers: ['app'] },
      { kind: 'Secret', name: 'init-secret', optional: false, containers: [] },
    ]);
  });

  it('merges repeated references: optional only if every one is, containers united', () => {
    const refs = referencedConfigs({
      volumes: [{ name: 'v', configMap: { name: 'x', optional: true } }],
      containers: [
        { name: 'b', env: [{ valueFrom: { configMapKeyRef: { name: 'x' } } }] },
        { name: 'a', volumeMounts: [{ name: 'v' }] },
      ],
    });
    assert.deepEqual(refs, [{ kind: 'ConfigMap', name: 'x', optional: false, containers: ['a', 'b'] }]);
    const opt = referencedConfigs({ volumes: [{ name: 'v', secret: { secretName: 's', optional: true } }], containers: [{ name: 'a', envFrom: [{ secretRef: { name: 's', optional: true } }] }] });
    assert.equal(opt[0]!.optional, true);
  });

  it('keeps a ConfigMap and a Secret of the same name apart, sorted by kind then name', () => {
    const refs = referencedConfigs({ containers: [{ name: 'a', envFrom: [{ secretRef: { name: 'same' } }, { configMapRef: { name: 'z' } }, { configMapRef: { name: 'same' } }] }] });
    assert.deepEqual(refs.map((r) => `${r.kind}/${r.name}`), ['ConfigMap/same', 'ConfigMap/z', 'Secret/same']);
  });

  it('ignores references without a name', () => {
    assert.deepEqual(referencedConfigs({ volumes: [{ name: 'v', configMap: {} }, { name: 'w', secret: {} }], containers: [{ name: 'a', envFrom: [{ configMapRef: {} }] }] }), []);
  });
});
