// parseFiles in a worker thread (render-pool.ts), with real worker threads: the same objects and the same errors
// (class and message) as in-process, a revision that exhausts the worker's heap fails cleanly and the next parse
// works, aborting terminates the parse, and the event loop stays free while a big revision is parsed.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RevisionTooLargeError } from '../../../src/gitsync/limits.js';
import { IN_PROCESS_YAML_CHARS, parseFilesInWorker, renderHeapMb, yamlValuesInWorker, yamlValuesOffLoop } from '../../../src/gitsync/render-pool.js';
import { MAX_DOCUMENT_CHARS, RenderError, type SourceFile, parseFiles, yamlValues } from '../../../src/gitsync/render.js';

const cm = (name: string, v: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  v: "${v}"\n`;
const many = (n: number, size: number) => Array.from({ length: n }, (_, i) => cm(`cm-${i}`, 'x'.repeat(size))).join('---\n');

/** The error a call throws, or undefined. */
async function errorOf(f: () => unknown): Promise<Error | undefined> {
  try { await f(); return undefined; } catch (e) { return e as Error; }
}

const CASES: Record<string, SourceFile[]> = {
  'multi-document YAML, a List, JSON, empty documents': [
    { path: 'b/two.yaml', content: `${cm('a', '1')}---\n---\n${cm('b', '2')}` },
    { path: 'a/list.yml', content: 'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: s, namespace: x}\n  stringData: {k: "v"}\n' },
    { path: 'c.json', content: JSON.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { replicas: 2, n: null, f: 1.5 } }) },
    { path: 'anchors.yaml', content: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: anchors}\ndata:\n  a: &x "one"\n  b: *x\n' },
  ],
  'many documents (several answer chunks)': [{ path: 'many.yaml', content: many(3000, 1000) }],
  // Files go to the worker in UTF-8 pieces of 1 MiB characters: one of these two splits a surrogate pair there.
  'non-ASCII files over 1 MiB, both parities': [
    { path: 'even.yaml', content: cm('even', `é${'😀'.repeat(600_000)}`) },
    { path: 'odd.yaml', content: cm('odd', `éa${'😀'.repeat(600_000)}`) },
  ],
  'one document of 40,000 keys (answered member by member)': [{ path: 'keys.yaml', content: `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: keys}\ndata:\n${Array.from({ length: 40_000 }, (_, i) => `  k${i}: v${i}\n`).join('')}` }],
  'nothing': [],
};

const ERRORS: Record<string, [SourceFile[], number]> = {
  'invalid YAML': [[{ path: 'bad.yaml', content: 'a: [1, 2\nb: c\n' }], Infinity],
  'invalid JSON': [[{ path: 'bad.json', content: '{"apiVersion":' }], Infinity],
  'no metadata.name': [[{ path: 'x.yaml', content: 'apiVersion: v1\nkind: ConfigMap\n' }], Infinity],
  'duplicate keys': [[{ path: 'dup.yaml', content: 'apiVersion: v1\napiVersion: v2\n' }], Infinity],
  'too deep': [[{ path: 'deep.yaml', content: `${'['.repeat(200)}${']'.repeat(200)}\n` }], Infinity],
  'too many objects': [[{ path: 'm.yaml', content: many(5, 1) }], 3],
  'a document over MAX_DOCUMENT_CHARS': [[{ path: 'huge.yaml', content: cm('huge', 'x'.repeat(MAX_DOCUMENT_CHARS)) }], Infinity],
};

describe('render pool: parseFiles in a worker thread', () => {
  for (const [name, files] of Object.entries(CASES)) {
    it(`gives the same objects as in-process: ${name}`, async () => {
      assert.deepEqual(await parseFilesInWorker(files, Infinity, { where: 'revision r' }), parseFiles(files));
    });
  }

  for (const [name, [files, maxObjects]] of Object.entries(ERRORS)) {
    it(`keeps the error's class and message: ${name}`, async () => {
      const local = await errorOf(() => parseFiles(files, maxObjects));
      const remote = await errorOf(() => parseFilesInWorker(files, maxObjects, { where: 'revision r' }));
      assert.ok(local && remote, 'both fail');
      assert.ok(local instanceof RenderError || local instanceof RevisionTooLargeError);
      assert.equal(remote.constructor, local.constructor);
      assert.equal(remote.name, local.name);
      assert.equal(remote.message, local.message);
    });
  }

  it('a revision that exhausts the worker heap is RevisionTooLarge naming the revision and the fix; the next parse works', async () => {
    const files = Array.from({ length: 8 }, (_, i) => ({ path: `f${i}.yaml`, content: many(500, 2000) }));
    const err = await errorOf(() => parseFilesInWorker(files, Infinity, { where: 'revision main@sha1:abc', heapMb: 16 }));
    assert.ok(err instanceof RevisionTooLargeError, `got ${err?.name}: ${err?.message}`);
    assert.match(err.message, /^revision main@sha1:abc: parsing its manifests \(.+\) needed more than the 16 MiB/);
    assert.match(err.message, /--max-revision-bytes.*split the repository/);
    const small = [{ path: 'a.yaml', content: cm('after', '1') }];
    assert.deepEqual(await parseFilesInWorker(small, Infinity, { where: 'revision r', heapMb: 16 }), parseFiles(small));
  });

  it('600 KiB of one-line sequence items (150,000): in-process no RangeError; in the worker bounded by its heap (48 MiB here)', async () => {
    // duplicateKeyOffset once spread a sequence's items into push(): a RangeError past ~120,000 items. yaml keeps
    // ~1 KiB per item while composing, so this cheap file needs about 128 MiB: in-process that was the pod's memory.
    const files = [{ path: 'seq.yaml', content: `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: seq}\nitems:\n${'- 1\n'.repeat(150_000)}` }];
    assert.equal(parseFiles(files).length, 1);
    const err = await errorOf(() => parseFilesInWorker(files, Infinity, { where: 'revision r', heapMb: 48 }));
    assert.ok(err instanceof RevisionTooLargeError, `got ${err?.name}: ${err?.message}`);
    assert.match(err.message, /^revision r: parsing its manifests \(586 KiB\) needed more than the 48 MiB/);
  });

  it('aborting terminates a running parse and drops a queued one; the next parse works', async () => {
    const slow = [{ path: 'slow.yaml', content: many(20_000, 200) }];
    const ac = new AbortController();
    const reason = new Error('sync timed out');
    const started = Date.now();
    const running = errorOf(() => parseFilesInWorker(slow, Infinity, { where: 'revision r', signal: ac.signal }));
    const queued = errorOf(() => parseFilesInWorker(slow, Infinity, { where: 'revision r', signal: ac.signal }));
    setTimeout(() => ac.abort(reason), 100);
    assert.equal(await running, reason);
    assert.equal(await queued, reason);
    assert.ok(Date.now() - started < 5_000, 'the parse was stopped, not finished');
    assert.equal(await errorOf(() => parseFilesInWorker(slow, Infinity, { where: 'revision r', signal: AbortSignal.abort(reason) })), reason);
    const small = [{ path: 'a.yaml', content: cm('after', '1') }];
    assert.deepEqual(await parseFilesInWorker(small, Infinity, { where: 'revision r' }), parseFiles(small));
  });

  it('parses one revision at a time, and the event loop stays free meanwhile', async () => {
    const files = [{ path: 'a.yaml', content: many(4000, 1000) }];
    let maxGap = 0;
    let last = performance.now();
    const timer = setInterval(() => { const now = performance.now(); maxGap = Math.max(maxGap, now - last); last = now; }, 10);
    try {
      const [a, b] = await Promise.all([parseFilesInWorker(files, Infinity, { where: 'r' }), parseFilesInWorker(files, Infinity, { where: 'r' })]);
      assert.equal(a.length, 4000);
      assert.deepEqual(a, b);
    } finally {
      clearInterval(timer);
    }
    // In-process this parse blocks the loop for seconds; a generous bound for a busy machine.
    assert.ok(maxGap < 1000, `the event loop was blocked for ${Math.round(maxGap)} ms`);
  });

  it('derives the worker heap from --max-revision-bytes: at most 128 MiB', () => {
    const MiB = 1024 * 1024;
    assert.equal(renderHeapMb(0), 64);
    assert.equal(renderHeapMb(8 * MiB), 80);
    assert.equal(renderHeapMb(64 * MiB), 128);
    assert.equal(renderHeapMb(1024 * MiB), 128);
  });
});

describe('render pool: yamlValues (kustomizations) in a worker thread', () => {
  it('gives the same values and errors as in-process', async () => {
    const k = 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- ../base\n- a.yaml\nx: &a {b: 1}\ny: *a\n---\nsecond: 2\n';
    assert.deepEqual(await yamlValuesInWorker('app/kustomization.yaml', k, { where: 'revision r' }), yamlValues('app/kustomization.yaml', k));
    const bad = 'resources: [a\n';
    const local = await errorOf(() => yamlValues('k.yaml', bad));
    const remote = await errorOf(() => yamlValuesInWorker('k.yaml', bad, { where: 'revision r' }));
    assert.ok(remote instanceof RenderError);
    assert.equal(remote.message, local?.message);
  });

  it('a kustomization of 1 MiB of "- a" lines (2.3 s and 350 MiB in-process) is bounded by the worker heap', async () => {
    const content = `resources:\n${'- a\n'.repeat(260_000)}`;
    const err = await errorOf(() => yamlValuesInWorker('app/kustomization.yaml', content, { where: 'revision r', heapMb: 64 }));
    assert.ok(err instanceof RevisionTooLargeError, `got ${err?.name}: ${err?.message}`);
    assert.match(err.message, /^revision r: parsing app\/kustomization\.yaml \(1016 KiB\) needed more than the 64 MiB/);
    const offLoop = await errorOf(() => yamlValuesOffLoop('app/kustomization.yaml', content, { where: 'revision r', heapMb: 64 }));
    assert.ok(offLoop instanceof RevisionTooLargeError, 'yamlValuesOffLoop sends a big file to the worker');
  });

  it('yamlValuesOffLoop parses a small file in-process, timed well under 100 ms even at its worst', async () => {
    const content = `resources:\n${'- a\n'.repeat((IN_PROCESS_YAML_CHARS - 11) / 4)}`;
    assert.ok(content.length <= IN_PROCESS_YAML_CHARS);
    const started = performance.now();
    assert.deepEqual(await yamlValuesOffLoop('k.yaml', content, { where: 'revision r' }), yamlValues('k.yaml', content));
    assert.ok(performance.now() - started < 2000, 'both parses, generous bound for a busy machine');
  });
});
