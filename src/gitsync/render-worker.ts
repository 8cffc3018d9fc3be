// The worker side of render-pool.ts: parses one revision's files with parseFiles (or one kustomization with
// yamlValues), in its own heap (bounded by the parent's resourceLimits), and hands the results back in chunks of
// about CHUNK_CHARS, one per request of the parent, so the event loop never deserializes more than one in a turn.

import { parentPort, workerData } from 'node:worker_threads';
import { parseFiles, yamlValues } from './render.js';
import type { RenderAnswer, RenderJob } from './render-protocol.js';

const CHUNK_CHARS = 1024 * 1024;

const job = workerData as RenderJob;
const port = parentPort!;

function chunks(values: unknown[], size: (v: unknown) => number): unknown[][] {
  const out: unknown[][] = [];
  let current: unknown[] = [];
  let chars = 0;
  for (const v of values) {
    current.push(v);
    chars += size(v);
    if (chars >= CHUNK_CHARS) { out.push(current); current = []; chars = 0; }
  }
  if (current.length > 0) out.push(current);
  return out;
}

try {
  const pending = job.op === 'manifests'
    ? chunks(parseFiles(job.files, job.maxObjects), (o) => JSON.stringify((o as { object: unknown }).object).length)
    // A kustomization's few documents go in one message (at most 1 MiB of YAML; aliases may make them cyclic).
    : [yamlValues(job.file, job.content)];
  const send = () => {
    const next = pending.shift();
    port.postMessage((next ? { kind: 'objects', objects: next } : { kind: 'done' }) satisfies RenderAnswer);
  };
  port.on('message', send);
  send();
} catch (err) {
  const e = err instanceof Error ? err : new Error(String(err));
  port.postMessage({ kind: 'error', name: e.name, message: e.message } satisfies RenderAnswer);
}
