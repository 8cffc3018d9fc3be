// parseFiles (and yamlValues, for kustomizations) off the event loop: each revision is parsed in a fresh worker thread with a bounded heap, one at a time
// across all GitSyncs (FIFO), so a hostile or huge commit costs its own GitSync a failed sync, never the loop
// (liveness, Lease renewal) nor the process's memory. A fresh worker per parse gives every revision a clean heap.

import { setImmediate as nextTurn } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { RevisionTooLargeError, formatBytes } from './limits.js';
import { type ParsedObject, RenderError, type SourceFile, yamlValues } from './render.js';
import { PIECE_CHARS, type RenderAnswer, type RenderInput, type RenderJob } from './render-protocol.js';
import { ValueAssembler } from './value-batches.js';

const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './render-worker.ts' : './render-worker.js', import.meta.url);
const MiB = 1024 * 1024;

/**
 * The render worker's old-generation heap for a given --max-revision-bytes: 64 MiB plus twice the revision, at most
 * 128 MiB. Parsing costs 15-40× the YAML (a 4 MiB document of 150,000 short keys needs 128-192 MiB; 19 MiB of
 * 10,000 ConfigMaps fits in 128 MiB), so the cap, not the formula, is what counts by default: the worker's heap plus
 * its young generation and code (~30 MiB) plus the controller's own ~60-90 MiB stay inside the shipped 256 MiB pod
 * limit. A revision that needs more fails its sync (RevisionTooLarge, naming the fix); the pod is not OOM-killed.
 */
export function renderHeapMb(maxRevisionBytes: number): number {
  return Math.min(128, 64 + Math.ceil((2 * maxRevisionBytes) / MiB));
}

/** Parses running at once across all GitSyncs: one, so the memory of parsing is bounded by one worker's heap. */
const MAX_PARSES = 1;

export interface WorkerParseOptions {
  /** What the error messages name, e.g. "revision main@sha1:…". */
  readonly where: string;
  /** The worker's old-generation heap (default renderHeapMb of the default 64 MiB). */
  readonly heapMb?: number;
  /** Aborting (the sync's timeout, shutdown) stops the parse: the worker is terminated or never started. */
  readonly signal?: AbortSignal | undefined;
}

let running = 0;
const waiting: (() => void)[] = [];

async function slot(signal: AbortSignal | undefined): Promise<() => void> {
  if (running >= MAX_PARSES) {
    await new Promise<void>((resolve, reject) => {
      const go = () => { signal?.removeEventListener('abort', stop); resolve(); };
      const stop = () => { waiting.splice(waiting.indexOf(go), 1); reject(abortReason(signal!)); };
      waiting.push(go);
      signal?.addEventListener('abort', stop, { once: true });
    });
  } else running++;
  // A released slot is handed over to the next waiter directly (running stays the same).
  return () => { const next = waiting.shift(); if (next) next(); else running--; };
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('the parse was cancelled');
}

/** The error parseFiles threw in the worker, as the same class with the same message (classify() maps the class). */
function errorFrom(a: { name: string; message: string }, where: string): Error {
  if (a.name === 'RevisionTooLargeError') return new RevisionTooLargeError(a.message);
  if (a.name === 'RenderError') return new RenderError(a.message);
  // Anything else parseFiles throws (a RangeError, say) still comes from the revision's content.
  return new RenderError(`${where}: cannot parse the manifests: ${a.message.split('\n')[0]}`);
}

/** parseFiles(files, maxObjects) in a worker thread; same objects, same errors (RenderError, RevisionTooLargeError). */
export async function parseFilesInWorker(files: readonly SourceFile[], maxObjects: number, o: WorkerParseOptions): Promise<ParsedObject[]> {
  const job: RenderJob = { op: 'manifests', paths: files.map((f) => f.path), maxObjects: Number.isFinite(maxObjects) ? maxObjects : Number.MAX_SAFE_INTEGER };
  const size = files.reduce((n, f) => n + f.content.length, 0);
  return (await inWorker(job, files, `its manifests (${formatBytes(size)})`, o)) as ParsedObject[];
}

/**
 * YAML up to this size is parsed in-process: at worst ~2.3 s per MiB (one-line sequence items), so under 80 ms and a
 * few MiB of memory, far less than starting a worker (a kustomization tree may hold dozens of small files).
 */
export const IN_PROCESS_YAML_CHARS = 32 * 1024;

/** yamlValues(file, content) in a worker thread (kustomizations: 1 MiB of "- a" lines took 2.3 s and 350 MiB in-process). */
export async function yamlValuesInWorker(file: string, content: string, o: WorkerParseOptions): Promise<unknown[]> {
  return inWorker({ op: 'values', file, content }, [], `${file} (${formatBytes(content.length)})`, o);
}

/** yamlValues for a small file, yamlValuesInWorker for a bigger one. */
export async function yamlValuesOffLoop(file: string, content: string, o: WorkerParseOptions): Promise<unknown[]> {
  return content.length <= IN_PROCESS_YAML_CHARS ? yamlValues(file, content) : yamlValuesInWorker(file, content, o);
}

async function inWorker(job: RenderJob, files: readonly SourceFile[], what: string, o: WorkerParseOptions): Promise<unknown[]> {
  o.signal?.throwIfAborted();
  const release = await slot(o.signal);
  try {
    return await runWorker(job, files, what, o);
  } finally {
    release();
  }
}

/** `end`, or one less where `end` would split a surrogate pair (each piece must be valid UTF-16 to encode). */
function pieceEnd(text: string, end: number): number {
  if (end >= text.length) return text.length;
  const c = text.charCodeAt(end - 1);
  return c >= 0xd800 && c <= 0xdbff ? end - 1 : end;
}

/**
 * Sends the files' contents to the worker as UTF-8 pieces of at most PIECE_CHARS, one per event-loop turn (cloning a
 * 64 MiB revision into workerData held the loop for ~50 ms), then asks for the parse. Stops once `settled()`.
 */
async function sendFiles(worker: Worker, files: readonly SourceFile[], settled: () => boolean): Promise<void> {
  const encoder = new TextEncoder();
  for (let file = 0; file < files.length; file++) {
    const text = files[file]!.content;
    for (let at = 0; at < text.length;) {
      if (settled()) return;
      const end = pieceEnd(text, at + PIECE_CHARS);
      // Transferred, not copied: the bytes live outside both heaps until the worker makes the file a string.
      const bytes = encoder.encode(text.slice(at, end));
      worker.postMessage({ kind: 'text', file, bytes } satisfies RenderInput, [bytes.buffer]);
      at = end;
      await nextTurn();
    }
  }
  if (!settled()) worker.postMessage({ kind: 'parse' } satisfies RenderInput);
}

async function runWorker(job: RenderJob, files: readonly SourceFile[], what: string, o: WorkerParseOptions): Promise<unknown[]> {
  o.signal?.throwIfAborted();
  const heapMb = o.heapMb ?? renderHeapMb(64 * MiB);
  const worker = new Worker(WORKER_URL, { stdin: false, workerData: job, resourceLimits: { maxOldGenerationSizeMb: heapMb, stackSizeMb: 4 } });
  const values: unknown[] = [];
  const assembler = new ValueAssembler();
  let settled = false;
  try {
    return await new Promise<unknown[]>((resolve, reject) => {
      const stop = () => { settled = true; reject(abortReason(o.signal!)); };
      o.signal?.addEventListener('abort', stop, { once: true });
      const settle = <T>(f: (v: T) => void) => (v: T) => { settled = true; o.signal?.removeEventListener('abort', stop); f(v); };
      const ok = settle(resolve);
      const fail = settle(reject);
      // The next answer is asked for in a later turn, so other work (timers, Lease renewal) runs between two.
      const ask = () => setImmediate(() => { if (!settled) worker.postMessage({ kind: 'next' } satisfies RenderInput); });
      worker.on('message', (a: RenderAnswer) => {
        // A throw here would be the process's uncaught exception: a broken answer fails this parse only.
        try {
          if (a.kind === 'batch') { assembler.add(a.ops); ask(); }
          else if (a.kind === 'objects') { for (const x of a.objects) values.push(x); ask(); }
          else if (a.kind === 'done') ok(job.op === 'manifests' ? assembler.values() : values);
          else fail(errorFrom(a, o.where));
        } catch (err) {
          fail(new RenderError(`${o.where}: the manifest parser's answer was broken: ${(err as Error).message}`));
        }
      });
      if (job.op === 'manifests') sendFiles(worker, files, () => settled).catch(fail);
      worker.once('error', (e: Error & { code?: string }) => {
        if (e.code === 'ERR_WORKER_OUT_OF_MEMORY') {
          fail(new RevisionTooLargeError(`${o.where}: parsing ${what} needed more than the ${heapMb} MiB the parser may use (derived from --max-revision-bytes); make the files under spec.path smaller or fewer, or split the repository`));
        } else fail(new RenderError(`${o.where}: cannot parse the manifests: ${e.message.split('\n')[0]}`));
      });
      worker.once('exit', (code) => fail(new RenderError(`${o.where}: the manifest parser stopped unexpectedly (exit code ${code})`)));
    });
  } finally {
    await worker.terminate();
  }
}
