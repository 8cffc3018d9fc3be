// Property tests for rendering a Git revision's manifests (YAML and JSON a commit author controls): any content
// renders or fails with a RenderError naming the file; objects round-trip through YAML and JSON; duplicate keys and
// nesting are found exactly; hostile files (deep nesting, huge maps, alias bombs) fail or finish in linear time and
// never take the process down.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Parser, parseAllDocuments, stringify } from 'yaml';
import { MAX_NESTING, RenderError, finalize, jsonNestingDepth, parseFiles, yamlNestingDepth } from '../../../src/gitsync/render.js';
import { KiB, MiB, anyText, assertFast, grammar, onlyThrows, repeated } from '../../support/props.js';

const YAML = ['a', 'b', ':', ': ', '- ', '? ', '\n', '  ', '[', ']', '{', '}', ',', '"', "'", '#', '&x ', '*x', '!!str ', '|', '>', '---\n', '...\n', '%YAML 1.2\n', '\\', '<<: ', 'kind: List\n', 'items:\n', '\t', '1', 'null', '~'];
const render = (path: string, content: string) => onlyThrows(() => parseFiles([{ path, content }]), RenderError);

const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/);
const leaf = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.double({ noNaN: true, noDefaultInfinity: true }));
const value = fc.letrec((tie) => ({
  v: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('v'), { maxLength: 4 }), fc.dictionary(fc.string({ minLength: 1 }), tie('v'), { maxKeys: 4 })),
})).v;
const object = fc.record({
  apiVersion: fc.constantFrom('v1', 'apps/v1', 'example.com/v1beta1'),
  kind: fc.constantFrom('ConfigMap', 'Deployment', 'Widget'),
  metadata: fc.record({ name, namespace: fc.option(name, { nil: undefined }), labels: fc.option(fc.dictionary(name, fc.string()), { nil: undefined }) }, { requiredKeys: ['name'] }),
  data: fc.option(fc.dictionary(fc.string({ minLength: 1 }), value), { nil: undefined }),
}, { requiredKeys: ['apiVersion', 'kind', 'metadata'] });
const clean = (o: unknown) => JSON.parse(JSON.stringify(o)) as unknown;

describe('manifest rendering (properties)', () => {
  it('any YAML or JSON content renders or fails with a RenderError', () => {
    fc.assert(fc.property(fc.oneof(anyText(300), grammar(YAML, 60)), fc.constantFrom('a.yaml', 'b.json'), (content, path) => {
      render(path, content);
    }), { numRuns: 3000 });
  });

  it('objects round-trip through multi-document YAML and through JSON', () => {
    fc.assert(fc.property(fc.array(object, { minLength: 1, maxLength: 4 }), (objects) => {
      const unique = objects.map((o, i) => ({ ...o, metadata: { ...o.metadata, name: `${o.metadata.name}-${i}` } }));
      const yamlText = unique.map((o) => stringify(o)).join('---\n');
      assert.deepEqual(parseFiles([{ path: 'm.yaml', content: yamlText }]).map((p) => clean(p.object)), unique.map(clean));
      const list = { apiVersion: 'v1', kind: 'List', items: unique };
      assert.deepEqual(parseFiles([{ path: 'm.json', content: JSON.stringify(list) }]).map((p) => clean(p.object)), unique.map(clean));
    }), { numRuns: 200 });
  });

  it('finalize: namespaced objects get the target namespace, cluster-scoped ones lose it, ids are unique or it is a RenderError', () => {
    fc.assert(fc.property(fc.array(object, { maxLength: 8 }), name, (objects, target) => {
      const parsed = parseFiles([{ path: 'f.json', content: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }) }]);
      const scope = (_g: string, _v: string, kind: string) => (kind === 'Widget' ? undefined : kind !== 'Namespace' && kind !== 'ConfigMap' ? true : kind === 'ConfigMap');
      const out = onlyThrows(() => finalize(parsed, { targetNamespace: target, defaultNamespace: 'team', owner: { namespace: 'team', name: 'g' }, scope }), RenderError);
      if (!out) return;
      assert.equal(new Set(out.map((o) => o.id)).size, out.length);
      for (const o of out) {
        assert.equal(o.object.metadata.namespace === undefined, !o.namespaced);
        if (o.namespaced) assert.equal(o.object.metadata.namespace, target); // targetNamespace overrides every manifest's
        assert.equal(o.object.metadata.labels?.['gitsync.keelson.dev/name'], 'g');
      }
    }), { numRuns: 300 });
  });

  it('finds duplicate keys exactly where yaml\'s own (quadratic) uniqueKeys check does', () => {
    const doc = grammar(['a', 'b', '1', '"a"', ': x\n', ': ', '- ', '\n', '  ', '{', '}', ', ', '[', ']', '? ', 'null', '~'], 30);
    fc.assert(fc.property(doc, (content) => {
      const theirs = parseAllDocuments(content, { uniqueKeys: true });
      if (!Array.isArray(theirs)) return;
      const otherErrors = theirs.some((d) => d.errors.some((e) => e.code !== 'DUPLICATE_KEY'));
      if (otherErrors || theirs.some((d) => yamlNestingDepth(d.contents as never) > MAX_NESTING)) return;
      const dup = theirs.some((d) => d.errors.length > 0);
      let ours = false;
      try { parseFiles([{ path: 'd.yaml', content }]); } catch (err) { assert.ok(err instanceof RenderError); ours = /Map keys must be unique/.test(err.message); }
      assert.equal(ours, dup, content);
    }), { numRuns: 3000 });
  });

  it('measures nesting exactly, in YAML (flow and block) and JSON', () => {
    const nested = fc.integer({ min: 1, max: 150 }).map((n) => { let v: unknown = 'x'; for (let i = 0; i < n; i++) v = i % 2 ? [v] : { k: v }; return { n, v }; });
    fc.assert(fc.property(nested, fc.boolean(), ({ n, v }, flow) => {
      const text = flow ? JSON.stringify(v) : stringify(v);
      const [cst] = [...new Parser().parse(text)];
      assert.equal(yamlNestingDepth(cst!), n);
      assert.equal(jsonNestingDepth(JSON.stringify(v)), n);
      const obj = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: v };
      const ok = n + 1 <= MAX_NESTING;
      for (const [path, content] of [['c.yaml', flow ? JSON.stringify(obj) : stringify(obj)], ['c.json', JSON.stringify(obj)]] as const) {
        const got = render(path, content);
        assert.equal(got !== undefined, ok, `${path} depth ${n + 1}`);
      }
    }), { numRuns: 150 });
  });

  it('a deeply nested 4 KB file, rendered again and again, is a RenderError and never crashes the process', () => {
    // Before the nesting bound the second parse of this file aborted Node (V8 RegExp compiler "out of memory").
    for (let i = 0; i < 5; i++) {
      for (const content of ['['.repeat(2000) + ']'.repeat(2000), '{a: '.repeat(1000), '- '.repeat(2000), '? '.repeat(2000)]) {
        assert.throws(() => parseFiles([{ path: 'deep.yaml', content }]), (err: Error) => err instanceof RenderError && /nested deeper than 100 levels/.test(err.message));
      }
      assert.throws(() => parseFiles([{ path: 'deep.json', content: '['.repeat(5000) + ']'.repeat(5000) }]), RenderError);
      assert.throws(() => parseFiles([{ path: 'list.json', content: '{"kind":"List","items":['.repeat(2000) + ']}'.repeat(2000) }]), RenderError);
    }
  });

  it('an alias bomb is a RenderError (ValidationFailed), not a transient error', () => {
    const bomb = 'a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n';
    assert.throws(() => parseFiles([{ path: 'bomb.yaml', content: bomb }]), RenderError);
  });

  it('hostile 64 KiB–1 MiB manifests fail or finish in linear time', () => {
    // Linear yaml parsing costs ~1 s/MiB here; the bounds are sized to catch quadratic behaviour, not to time yaml.
    const keys = (bytes: number) => { const out: string[] = []; for (let i = 0, len = 0; len < bytes; i++) { const l = `k${i}: v`; out.push(l); len += l.length + 1; } return out.join('\n'); };
    // Quadratic before: 150 KB of keys took 4.7 s, 640 KB took 52 s; 512 KB of "&a " took 250 s in yaml's
    // prettified errors (a 1 MiB file of such tokens now takes about 1 s).
    assertFast('256 KiB of distinct keys', 6000, () => parseFiles([{ path: 'k.yaml', content: keys(256 * KiB) }]));
    for (const size of [64 * KiB, MiB]) {
      for (const [label, content] of [
        ['open brackets', repeated('[', size)], ['open braces', repeated('{a: ', size)], ['block seqs on one line', repeated('- ', size)],
        ['explicit keys', repeated('? ', size)], ['unclosed quote', repeated('x', size, 'a: "')], ['anchors', repeated('&a ', size, 'a: ')],
        ['comments', repeated('#[[[[\n', size)], ['aliases', repeated('*a ', size)], ['tags', repeated('!t ', size, 'a: ')],
        ['empty flow items', repeated(',', size, '[')], ['quoted run', repeated("'a' ", size)],
      ] as const) assertFast(`yaml ${label} ${size}`, size === MiB ? 6000 : 1500, () => parseFiles([{ path: 'h.yaml', content }]));
      for (const [label, content] of [['deep arrays', repeated('[', size)], ['deep lists', repeated('{"kind":"List","items":[', size)], ['strings', repeated('"[\\"', size)]] as const) {
        assertFast(`json ${label} ${size}`, 1000, () => parseFiles([{ path: 'h.json', content }]));
      }
    }
  });
});
