// Flux-style setter markers: the three marker forms, quoting and sequences kept, other namespaces' and unknown
// policies left alone; then properties: only marked values change, every other byte stays, idempotent, the YAML
// still parses to the same document but for the new value, and hostile files cost linear time.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parse } from 'yaml';
import { markerOf, rewriteSetters, splitRef } from '../../../src/images/setters.js';
import { KiB, MiB, anyText, assertFast, grammar, repeated } from '../../support/props.js';

const LATEST: Record<string, string> = { 'apps:web': 'registry.example.com:5000/shop/web:1.2.0', 'apps:api': 'ghcr.io/org/api:v2' };
const latest = (p: string) => LATEST[p];

describe('image setters', () => {
  it('rewrites the whole ref, the tag and the name, keeping quotes, comments, indentation and CRLF', () => {
    const input = [
      'spec:',
      '  containers:',
      '    - name: web',
      '      image: registry.example.com:5000/shop/web:1.0.0 # {"$imagepolicy": "apps:web"}',
      '    - image: "ghcr.io/org/api:v1"   # {"$imagepolicy": "apps:api"}',
      'values:',
      "  tag: '1.0.0' # {\"$imagepolicy\": \"apps:web:tag\"}",
      '  repository: old/name # {"$imagepolicy": "apps:web:name"}',
      '  other: keep # a plain comment',
      '  - registry.example.com:5000/shop/web:0.9 # {"$imagepolicy": "apps:web"}',
      'crlf: a:1 # {"$imagepolicy": "apps:api"}\r',
      '',
    ].join('\n');
    const { text, changes } = rewriteSetters(input, latest);
    assert.equal(text, [
      'spec:',
      '  containers:',
      '    - name: web',
      '      image: registry.example.com:5000/shop/web:1.2.0 # {"$imagepolicy": "apps:web"}',
      '    - image: "ghcr.io/org/api:v2"   # {"$imagepolicy": "apps:api"}',
      'values:',
      "  tag: '1.2.0' # {\"$imagepolicy\": \"apps:web:tag\"}",
      '  repository: registry.example.com:5000/shop/web # {"$imagepolicy": "apps:web:name"}',
      '  other: keep # a plain comment',
      '  - registry.example.com:5000/shop/web:1.2.0 # {"$imagepolicy": "apps:web"}',
      'crlf: ghcr.io/org/api:v2 # {"$imagepolicy": "apps:api"}\r',
      '',
    ].join('\n'));
    assert.deepEqual(changes.map((c) => [c.line, c.policy, c.field, c.from, c.to]), [
      [4, 'apps:web', 'ref', 'registry.example.com:5000/shop/web:1.0.0', 'registry.example.com:5000/shop/web:1.2.0'],
      [5, 'apps:api', 'ref', 'ghcr.io/org/api:v1', 'ghcr.io/org/api:v2'],
      [7, 'apps:web', 'tag', '1.0.0', '1.2.0'],
      [8, 'apps:web', 'name', 'old/name', 'registry.example.com:5000/shop/web'],
      [10, 'apps:web', 'ref', 'registry.example.com:5000/shop/web:0.9', 'registry.example.com:5000/shop/web:1.2.0'],
      [11, 'apps:api', 'ref', 'a:1', 'ghcr.io/org/api:v2'],
    ]);
  });

  it('leaves alone: unknown or other-namespace policies, malformed markers, markers inside values, block scalars', () => {
    const input = [
      'a: x:1 # {"$imagepolicy": "other:web"}',
      'b: x:1 # {"$imagepolicy": "apps:web:digest"}',
      'c: x:1 # {"$imagepolicy": apps:web}',
      'd: "x:1 # {\\"$imagepolicy\\": \\"apps:web\\"}"',
      'e: x:1#{"$imagepolicy": "apps:web"}',
      'f: | # {"$imagepolicy": "apps:web"}',
      'g: # {"$imagepolicy": "apps:web"}',
      'h: x:1 # {"$imagepolicy": "apps:web", "x": 1}',
    ].join('\n');
    const { text, changes } = rewriteSetters(input, latest);
    assert.deepEqual(changes.map((c) => c.line), [8]);
    assert.deepEqual(text.split('\n').slice(0, 7), input.split('\n').slice(0, 7));
  });

  it('splitRef and markerOf', () => {
    assert.deepEqual(splitRef('127.0.0.1:5000/a/b:1.0'), { name: '127.0.0.1:5000/a/b', tag: '1.0' });
    assert.equal(splitRef('127.0.0.1:5000/a/b'), undefined);
    assert.equal(splitRef('a@sha256:x'), undefined);
    assert.deepEqual(markerOf('x: y # {"$imagepolicy": "ns:p:tag"}')?.marker, { policy: 'ns:p', field: 'tag' });
    assert.equal(markerOf('x: y # {"$imagepolicy": ":p"}'), undefined);
    assert.equal(markerOf('x: y # {"$imagepolicy": 3}'), undefined);
  });

  const tag = fc.stringMatching(/^[a-z0-9][a-z0-9.-]{0,8}$/);
  const image = fc.stringMatching(/^[a-z0-9]{1,6}(\.[a-z]{2,3})?(:[1-9][0-9]{0,3})?\/[a-z0-9]{1,6}(\/[a-z0-9]{1,6})?$/);
  const line = fc.oneof(
    fc.tuple(fc.constantFrom('', '  ', '- ', '  - '), fc.constantFrom('image: ', 'tag: ', '"k": ', ''), fc.constantFrom('', '"', "'"), image, tag, fc.constantFrom('', ':tag', ':name'), fc.constantFrom('apps:web', 'apps:api', 'x:y'), fc.constantFrom(' ', '   ', '\t'))
      .map(([ind, key, q, img, t, field, pol, sp]) => `${ind}${key}${q}${img}:${t}${q}${sp}# {"$imagepolicy": "${pol}${field}"}`),
    fc.tuple(fc.constantFrom('', '  '), fc.stringMatching(/^[a-z]{1,8}$/), fc.stringMatching(/^[a-z0-9 :#]{0,12}$/)).map(([i, k, v]) => `${i}${k}: ${v}`),
  );

  it('only marked lines change; idempotent; the YAML keeps its shape with the new values', () => {
    fc.assert(fc.property(fc.array(line, { maxLength: 20 }), fc.constantFrom('\n', '\r\n'), (lines, eol) => {
      const input = lines.join(eol);
      const once = rewriteSetters(input, latest);
      const before = input.split('\n');
      const after = once.text.split('\n');
      assert.equal(after.length, before.length);
      const changed = new Set(once.changes.map((c) => c.line));
      for (let i = 0; i < before.length; i++) if (!changed.has(i + 1)) assert.equal(after[i], before[i]);
      for (const c of once.changes) {
        assert.ok(after[c.line - 1]!.includes(c.to));
        assert.equal(after[c.line - 1]!.replace(c.to, c.from), before[c.line - 1]);
      }
      assert.deepEqual(rewriteSetters(once.text, latest).changes, [], 'a second pass changes nothing');
    }), { numRuns: 2000 });
  });

  it('a real manifest parses to the same document but for the image', () => {
    const manifest = 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web # the shop\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: "ghcr.io/org/api:v1" # {"$imagepolicy": "apps:api"}\n          ports: [{containerPort: 80}]\n';
    const out = rewriteSetters(manifest, latest).text;
    const a = parse(manifest) as { spec: { template: { spec: { containers: { image: string }[] } } } };
    a.spec.template.spec.containers[0]!.image = 'ghcr.io/org/api:v2';
    assert.deepEqual(parse(out), a);
    assert.ok(out.includes('name: web # the shop'));
  });

  it('is total on any text and linear on hostile files', () => {
    fc.assert(fc.property(fc.oneof(anyText(), grammar(['{"$imagepolicy": "apps:web"}', '#', ' ', ':', '"', "'", '- ', 'a', '\n', '\r', '\\', 'k: '], 40)), (text) => {
      const r = rewriteSetters(text, latest);
      assert.equal(r.text.split('\n').length, text.split('\n').length);
    }), { numRuns: 3000 });
    for (const [name, text] of [
      ['markers on one line', repeated('# {"$imagepolicy" ', MiB)],
      ['hashes', repeated('#', MiB, 'a: ', '{"$imagepolicy": "apps:web"}')],
      ['colons', repeated(':', MiB, 'a', ' # {"$imagepolicy": "apps:web"}')],
      ['many marker lines', repeated('a: x:1 # {"$imagepolicy": "apps:web"}\n', MiB)],
      ['quotes', repeated('"', 256 * KiB, 'a: ', ' # {"$imagepolicy": "apps:web"}')],
    ] as const) assertFast(`setters ${name}`, 2000, () => rewriteSetters(text, latest));
  });
});
