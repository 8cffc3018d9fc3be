// The longest event-loop stall while the main thread takes a big revision back from the render worker, finalizes it
// and digests it (what a sync does before its first API call): one document of 150,000 keys, and ~62 MiB of 10,000
// objects. Keelson: render-pool.ts's batches, finalize and digests spread over turns. Reference: v0.2 in one process.

import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { deserialize, serialize } from 'node:v8';
import { objectDigest } from '../src/gitsync/applied.js';
import { type ParsedObject, type SourceFile, finalize, parseFiles } from '../src/gitsync/render.js';
import { FINALIZE_OPTIONS, manyKeysDocument, manySmallObjects, renderWithStalls } from '../test/support/render-stalls.js';
import type { Benchmark } from './support/bench.js';
import { now, range } from './support/pool.js';
import { atMost, ratio } from './support/report.js';
import { round, summarize } from './support/stats.js';

/**
 * v0.2's longest stall for the same revision, measured like Keelson's (event-loop delay, so both see the same
 * neighbours and garbage collections): its answers of 1 MiB of JSON each (a bigger object alone) deserialized one
 * per turn with the same V8 ValueDeserializer a worker message goes through, then finalize and, with `digests`, all
 * digests, each in one turn. The worker's side (parse, serialize) is done beforehand: it never was on the loop.
 */
async function v02LongestStall(parsed: readonly ParsedObject[], digests: boolean): Promise<number> {
  const messages: ParsedObject[][] = [[]];
  let chars = 0;
  for (const p of parsed) {
    messages[messages.length - 1]!.push(p);
    chars += JSON.stringify(p.object).length;
    if (chars >= 1024 * 1024) { messages.push([]); chars = 0; }
  }
  const serialized = messages.map((m) => serialize(m));
  const h = monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  try {
    for (const bytes of serialized) { await nextTurn(); deserialize(bytes); }
    await nextTurn();
    const objects = finalize(parsed, FINALIZE_OPTIONS);
    await nextTurn();
    if (digests) new Map(objects.map((o) => [o.id, objectDigest(o)]));
    await nextTurn();
    return h.max / 1e6;
  } finally {
    h.disable();
  }
}

export const renderStalls: Benchmark = {
  name: 'render-stalls',
  title: 'Render: longest event-loop stall while a big revision comes back from the render worker',
  async run(ctx) {
    const keys = ctx.smoke ? 20_000 : 150_000;
    const perFile = ctx.smoke ? 100 : 1000;
    const rounds = ctx.smoke ? 1 : 3;
    ctx.out.params = { documentKeys: keys, objects: 10 * perFile, objectChars: 6300, rounds, workerHeapMb: 256 };
    const cases: { name: string; files: SourceFile[]; digests: boolean }[] = [
      // Without digests: canonical JSON of one object of 150,000 keys is itself a long task (see the note).
      { name: `one document of ${keys} keys`, files: [{ path: 'keys.yaml', content: manyKeysDocument(keys) }], digests: false },
      { name: `${10 * perFile} objects, digests included`, files: manySmallObjects(10, perFile, 6300), digests: true },
    ];
    for (const c of cases) {
      // Keelson first, then the reference: an in-process parse of the revision left in the heap would make the
      // main thread's garbage collections (which count as stalls) longer than the controller's.
      const keelson: number[] = [];
      for (const _ of range(rounds)) keelson.push((await renderWithStalls(c.files, 256, c.digests)).longestStallMs);
      const parsed = parseFiles(c.files);
      const v02: number[] = [];
      for (const _ of range(rounds)) v02.push(await v02LongestStall(parsed, c.digests));
      const k = round(summarize(keelson).p50, 1);
      const r = round(summarize(v02).p50, 1);
      ctx.log(`${c.name}: longest stall ${k} ms (v0.2: ${r} ms)`);
      ctx.out.figures.push({ name: `longest stall: ${c.name} (p50 of ${rounds})`, unit: 'ms', keelson: k, reference: r, referenceName: 'v0.2: a turn per 1 MiB message, finalize, digests' });
      ctx.out.goals.push(atMost(`${c.name}: longest stall ≤ 50 ms`, k, 50, 'ms'));
      ctx.out.notes.push(`${c.name}: ${round(ratio(k, r), 2)}× v0.2's longest stall`);
    }
    const one = parseFiles([{ path: 'keys.yaml', content: manyKeysDocument(keys) }]);
    const t0 = now();
    objectDigest(finalize(one, FINALIZE_OPTIONS)[0]!);
    ctx.out.notes.push(`not batched: the digest (canonical JSON) of the one ${keys}-key object takes ${round(now() - t0, 0)} ms in one task`);
  },
};
