// Hostile revisions for the render path and a measure of what they cost the event loop: the longest stall while the
// main thread takes a parsed revision back from the render worker, finalizes it and digests it, as a sync does.
// Used by test/unit/gitsync/render-stalls.test.ts and bench/render-stalls.ts.

import { monitorEventLoopDelay } from 'node:perf_hooks';
import { objectDigests } from '../../src/gitsync/applied.js';
import { finalizeInTurns } from '../../src/gitsync/pipeline.js';
import type { FinalizeOptions, SourceFile } from '../../src/gitsync/render.js';
import { parseFilesInWorker } from '../../src/gitsync/render-pool.js';

/** One ConfigMap whose data holds `keys` short keys: 150,000 fit in MAX_DOCUMENT_CHARS (4 MiB). */
export function manyKeysDocument(keys: number): string {
  const lines = ['apiVersion: v1', 'kind: ConfigMap', 'metadata:', '  name: many-keys', 'data:'];
  for (let i = 0; i < keys; i++) lines.push(`  k${String(i).padStart(6, '0')}: ${'v'.repeat(14)}`);
  return `${lines.join('\n')}\n`;
}

/** `files` files of `perFile` ConfigMaps with a `size`-character value each (10 × 1,000 × 6,300: ~62 MiB). */
export function manySmallObjects(files: number, perFile: number, size: number): SourceFile[] {
  return Array.from({ length: files }, (_, f) => ({
    path: `f${f}.yaml`,
    content: Array.from({ length: perFile }, (_, i) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${f}-${i}\ndata:\n  v: "${'x'.repeat(size)}"\n`).join('---\n'),
  }));
}

export const FINALIZE_OPTIONS: FinalizeOptions = { targetNamespace: undefined, defaultNamespace: 'apps', owner: { namespace: 'apps', name: 'g' }, scope: () => true };

/**
 * What the main thread does with a revision before applying it: parse in the worker, finalize, and with `digests`
 * the digests of resync.ts. Returns the objects and the longest event-loop stall meanwhile, in ms.
 */
export async function renderWithStalls(files: readonly SourceFile[], heapMb: number, digests: boolean): Promise<{ objects: number; longestStallMs: number }> {
  const h = monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  try {
    const parsed = await parseFilesInWorker(files, 10_000, { where: 'revision r', heapMb });
    const objects = await finalizeInTurns(parsed, FINALIZE_OPTIONS);
    if (digests) await objectDigests(objects);
    return { objects: objects.length, longestStallMs: h.max / 1e6 };
  } finally {
    h.disable();
  }
}
