// The attack on the event loop when a parsed revision comes back from the render worker (render-pool.ts): one 4 MiB
// document of 150,000 keys, and ~62 MiB of 10,000 small objects (near --max-revision-bytes and
// --max-revision-objects), each rendered with the real worker and finalized as the pipeline does, while the longest
// event-loop stall is recorded. Bounds are generous (a loaded 2-core machine); bench/render-stalls.ts measures.

import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { finalizeInTurns } from '../../../src/gitsync/pipeline.js';
import { MAX_DOCUMENT_CHARS, type SourceFile } from '../../../src/gitsync/render.js';
import { parseFilesInWorker } from '../../../src/gitsync/render-pool.js';

/** One ConfigMap whose data holds `keys` short keys, within MAX_DOCUMENT_CHARS. */
export function manyKeysDocument(keys: number): string {
  const lines = ['apiVersion: v1', 'kind: ConfigMap', 'metadata:', '  name: many-keys', 'data:'];
  for (let i = 0; i < keys; i++) lines.push(`  k${String(i).padStart(6, '0')}: ${'v'.repeat(14)}`);
  return `${lines.join('\n')}\n`;
}

/** `files` files of `perFile` ConfigMaps with a `size`-character value each. */
export function manySmallObjects(files: number, perFile: number, size: number): SourceFile[] {
  return Array.from({ length: files }, (_, f) => ({
    path: `f${f}.yaml`,
    content: Array.from({ length: perFile }, (_, i) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${f}-${i}\ndata:\n  v: "${'x'.repeat(size)}"\n`).join('---\n'),
  }));
}

/** Parses in the worker and finalizes; returns the objects and the longest event-loop stall meanwhile, in ms. */
export async function renderWithStalls(files: readonly SourceFile[], heapMb: number): Promise<{ objects: number; longestStallMs: number }> {
  const h = monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  try {
    const parsed = await parseFilesInWorker(files, 10_000, { where: 'revision r', heapMb });
    const objects = await finalizeInTurns(parsed, { targetNamespace: undefined, defaultNamespace: 'apps', owner: { namespace: 'apps', name: 'g' }, scope: () => true });
    return { objects: objects.length, longestStallMs: h.max / 1e6 };
  } finally {
    h.disable();
  }
}

// Before the fix: (a) 113-163 ms in one task (one structured clone of the whole object), (b) ~50 ms (the revision
// cloned into workerData in one task) and 1 MiB answer chunks; bench/README.md has the figures.
const BOUND_MS = 150;

describe('render worker answers: no long event-loop task', () => {
  it('one 4 MiB document of 150,000 keys (a worker heap of 256 MiB, as a raised --max-revision-bytes could give)', async (t) => {
    const content = manyKeysDocument(150_000);
    assert.ok(content.length <= MAX_DOCUMENT_CHARS);
    const r = await renderWithStalls([{ path: 'keys.yaml', content }], 256);
    t.diagnostic(`longest stall ${r.longestStallMs.toFixed(0)} ms`);
    assert.equal(r.objects, 1);
    assert.ok(r.longestStallMs < BOUND_MS, `the event loop was blocked for ${r.longestStallMs.toFixed(0)} ms`);
  });

  it('~62 MiB of 10,000 small objects', async (t) => {
    const files = manySmallObjects(10, 1000, 6300);
    const r = await renderWithStalls(files, 256);
    t.diagnostic(`longest stall ${r.longestStallMs.toFixed(0)} ms`);
    assert.equal(r.objects, 10_000);
    assert.ok(r.longestStallMs < BOUND_MS, `the event loop was blocked for ${r.longestStallMs.toFixed(0)} ms`);
  });
});
