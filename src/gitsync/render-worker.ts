// The worker side of render-pool.ts: parses one revision's files with parseFiles, in its own heap (bounded by the
// parent's resourceLimits), and hands the objects back in chunks of about CHUNK_CHARS, one per request of the
// parent, so the event loop never deserializes more than one chunk in a turn.

import { parentPort, workerData } from 'node:worker_threads';
import { type ParsedObject, type SourceFile, parseFiles } from './render.js';
import type { RenderAnswer } from './render-protocol.js';

const CHUNK_CHARS = 1024 * 1024;

const { files, maxObjects } = workerData as { files: SourceFile[]; maxObjects: number };
const port = parentPort!;

function chunks(objects: ParsedObject[]): ParsedObject[][] {
  const out: ParsedObject[][] = [];
  let current: ParsedObject[] = [];
  let chars = 0;
  for (const o of objects) {
    current.push(o);
    chars += JSON.stringify(o.object).length;
    if (chars >= CHUNK_CHARS) { out.push(current); current = []; chars = 0; }
  }
  if (current.length > 0) out.push(current);
  return out;
}

try {
  const pending = chunks(parseFiles(files, maxObjects));
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
