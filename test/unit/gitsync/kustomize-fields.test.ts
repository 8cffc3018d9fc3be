// spec.kustomize (pure): parsing with bounds and errors naming the field, hostile input only ever giving
// KustomizeFieldError, and the generated kustomizations. The build with the real binary is in kustomize.test.ts.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { KustomizeFieldError, MAX_IMAGES, MAX_PATCHES, MAX_PATCH_BYTES, overlayKustomization, parseKustomizeFields, plainKustomization } from '../../../src/gitsync/kustomize-fields.js';
import { SpecError, parseSpec } from '../../../src/gitsync/spec.js';
import { anyText, onlyThrows, repeated } from '../../support/props.js';

const refused = (raw: unknown, pattern: RegExp) => assert.throws(() => parseKustomizeFields(raw), (e: Error) => e instanceof KustomizeFieldError && pattern.test(e.message));

describe('spec.kustomize (pure)', () => {
  it('reads every field; empty is unset', () => {
    assert.equal(parseKustomizeFields(undefined), undefined);
    assert.equal(parseKustomizeFields({}), undefined);
    assert.equal(parseKustomizeFields({ images: [], patches: [], commonLabels: {}, namePrefix: '' }), undefined);
    const f = parseKustomizeFields({
      images: [{ name: 'nginx', newName: 'ghcr.io/org/nginx', newTag: '1.27' }, { name: 'app', digest: `sha256:${'a'.repeat(64)}` }],
      patches: [{ patch: '- op: add\n  path: /data/x\n  value: "1"\n', target: { kind: 'ConfigMap', name: 'cfg.*' } }, { patch: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n' }],
      namePrefix: 'team-', nameSuffix: '-v2', commonLabels: { 'app.kubernetes.io/part-of': 'shop', team: 'a' },
    });
    assert.deepEqual(f, {
      images: [{ name: 'nginx', newName: 'ghcr.io/org/nginx', newTag: '1.27' }, { name: 'app', digest: `sha256:${'a'.repeat(64)}` }],
      patches: [{ patch: '- op: add\n  path: /data/x\n  value: "1"\n', target: { kind: 'ConfigMap', name: 'cfg.*' } }, { patch: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n' }],
      namePrefix: 'team-', nameSuffix: '-v2', commonLabels: { 'app.kubernetes.io/part-of': 'shop', team: 'a' },
    });
  });

  it('names the field and the fix', () => {
    refused('x', /^spec\.kustomize must be an object/);
    refused({ namespace: 'x' }, /spec\.kustomize\.namespace is not supported.*targetNamespace/);
    refused({ images: {} }, /spec\.kustomize\.images must be a list/);
    refused({ images: [{ newTag: '1' }] }, /spec\.kustomize\.images\[0\]\.name is required/);
    refused({ images: [{ name: 'nginx' }] }, /images\[0\] sets none of newName, newTag, digest/);
    refused({ images: [{ name: 'nginx', newTag: 'a b' }] }, /images\[0\]\.newTag "a b" is not an image tag/);
    refused({ images: [{ name: 'nginx', digest: 'md5:x' }] }, /images\[0\]\.digest/);
    refused({ images: [{ name: 'nginx\nresources: [x]', newTag: '1' }] }, /images\[0\]\.name/);
    refused({ patches: [{ target: { kind: 'X' } }] }, /patches\[0\]\.patch is required/);
    refused({ patches: [{ patch: 'x', target: { kind: 'X', options: {} } }] }, /patches\[0\]\.target\.options is not supported/);
    refused({ namePrefix: 'Bad_' }, /namePrefix "Bad_"/);
    refused({ commonLabels: { 'bad key!': 'x' } }, /commonLabels key "bad key!"/);
    refused({ commonLabels: { a: 1 } }, /commonLabels\.a 1 is not a label value/);
    // Through parseSpec: InvalidSpec with the same message.
    assert.throws(() => parseSpec({ metadata: { name: 'g', namespace: 'n' }, spec: { url: 'https://h/r.git', kustomize: { images: [{ name: 'x' }] } } }), (e: Error) => e instanceof SpecError && /spec\.kustomize\.images\[0\]/.test(e.message));
  });

  it('attack: a patch that would be read from a file (path) is refused: patches are inline only', () => {
    refused({ patches: [{ path: '../../../../etc/passwd' }] }, /patches\[0\]\.path is not supported.*inline/);
    refused({ patches: [{ patch: 'x', path: '/etc/hostname' }] }, /patches\[0\]\.path is not supported/);
  });

  it('attack: sizes are bounded (huge patch, too many entries, long strings)', () => {
    refused({ patches: [{ patch: repeated('a', MAX_PATCH_BYTES + 1) }] }, new RegExp(`patches\\[0\\]\\.patch is ${MAX_PATCH_BYTES + 1} bytes; at most ${MAX_PATCH_BYTES}`));
    refused({ patches: Array.from({ length: MAX_PATCHES + 1 }, () => ({ patch: 'x' })) }, /patches has 51 entries; at most 50/);
    refused({ images: Array.from({ length: MAX_IMAGES + 1 }, () => ({ name: 'a', newTag: '1' })) }, /images has 101 entries/);
    refused({ images: [{ name: 'a'.repeat(300), newTag: '1' }] }, /name is 300 characters/);
    refused({ patches: [{ patch: 'x', target: { labelSelector: 'a'.repeat(2000) } }] }, /labelSelector is 2000 characters/);
    refused({ commonLabels: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v'])) }, /33 labels; at most 32/);
  });

  it('property: any input gives fields or a KustomizeFieldError, fast', () => {
    const value = fc.oneof(anyText(300), fc.integer(), fc.constant(null), fc.array(anyText(20), { maxLength: 3 }), fc.dictionary(anyText(10), anyText(20), { maxKeys: 3 }));
    const entry = fc.dictionary(fc.constantFrom('name', 'newName', 'newTag', 'digest', 'patch', 'target', 'path', 'x'), value, { maxKeys: 4 });
    const raw = fc.oneof(value, fc.record({
      images: fc.oneof(value, fc.array(entry, { maxLength: 3 })), patches: fc.oneof(value, fc.array(entry, { maxLength: 3 })),
      namePrefix: value, nameSuffix: value, commonLabels: fc.oneof(value, fc.dictionary(anyText(40), value, { maxKeys: 3 })),
    }, { requiredKeys: [] }));
    fc.assert(fc.property(raw, (r) => { onlyThrows(() => parseKustomizeFields(r), KustomizeFieldError); }), { numRuns: 2000 });
    // Long label keys and values near the patterns' shapes stay linear.
    const started = performance.now();
    refused({ commonLabels: { [repeated('a.', 300) + '/x']: 'v' } }, /not a label key/);
    refused({ commonLabels: { a: repeated('a-', 31) + '!' } }, /not a label value/);
    assert.ok(performance.now() - started < 1000);
  });

  it('generates a kustomization over spec.path; commonLabels never touch selectors', () => {
    const f = parseKustomizeFields({ images: [{ name: 'nginx', newTag: '1.27' }], namePrefix: 'p-', commonLabels: { team: 'a' }, patches: [{ patch: 'x: 1\n' }] })!;
    assert.deepEqual(overlayKustomization(f, '../repo/clusters/prod'), {
      apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: ['../repo/clusters/prod'], namePrefix: 'p-',
      labels: [{ pairs: { team: 'a' }, includeSelectors: false }], images: [{ name: 'nginx', newTag: '1.27' }], patches: [{ patch: 'x: 1\n' }],
    });
    assert.deepEqual(plainKustomization(['apps/a.yaml', 'apps/sub/b.json'], 'apps').resources, ['a.yaml', 'sub/b.json']);
    assert.deepEqual(plainKustomization(['a.yaml'], '.').resources, ['a.yaml']);
  });
});
