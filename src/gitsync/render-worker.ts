// The worker side of render-pool.ts: gathers one revision's files, parses them with parseFiles (or one kustomization
// with yamlValues) in its own heap (bounded by the parent's resourceLimits), and hands the results back one batch per
// request of the parent, each about BATCH_CHARS, so the event loop never deserializes much in one turn.

import { parentPort, workerData } from 'node:worker_threads';
import { parseFiles, yamlValues } from './render.js';
import { BATCH_CHARS, type RenderAnswer, type RenderInput, type RenderJob } from './render-protocol.js';
import { valueBatches } from './value-batches.js';

const job = workerData as RenderJob;
const port = parentPort!;
let answers: Iterator<RenderAnswer> | undefined;

function reply(a: RenderAnswer): void {
  port.postMessage(a);
}

function fail(err: unknown): void {
  const e = err instanceof Error ? err : new Error(String(err));
  reply({ kind: 'error', name: e.name, message: e.message });
}

function* batches(values: unknown[]): Generator<RenderAnswer> {
  for (const ops of valueBatches(values, BATCH_CHARS)) yield { kind: 'batch', ops };
}

function next(): void {
  try {
    const a = answers!.next();
    reply(a.done ? { kind: 'done' } : a.value);
  } catch (err) {
    fail(err);
  }
}

if (job.op === 'values') {
  // A kustomization's few documents go in one message (at most 1 MiB of YAML; aliases may make them cyclic).
  try {
    answers = [{ kind: 'objects', objects: yamlValues(job.file, job.content) } satisfies RenderAnswer][Symbol.iterator]();
    next();
  } catch (err) {
    fail(err);
  }
  port.on('message', next);
} else {
  // Pieces stay bytes (outside the heap the parent bounds) until the parse: each file becomes one string then.
  const pieces: Uint8Array[][] = job.paths.map(() => []);
  port.on('message', (m: RenderInput) => {
    if (m.kind === 'text') pieces[m.file]!.push(m.bytes);
    else if (m.kind === 'next') next();
    else {
      try {
        const files = job.paths.map((path, i) => {
          const content = Buffer.concat(pieces[i]!).toString('utf8');
          pieces[i] = [];
          return { path, content };
        });
        answers = batches(parseFiles(files, job.maxObjects));
        next();
      } catch (err) {
        fail(err);
      }
    }
  });
}
