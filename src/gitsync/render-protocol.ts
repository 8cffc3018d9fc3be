// What a render worker is given (render-pool.ts): a revision's manifests (parseFiles) or one YAML file that is not a
// manifest (yamlValues, for kustomizations). Manifests arrive as UTF-8 pieces of at most PIECE_CHARS, one message per
// event-loop turn of the parent, then `parse`. What it answers, one message per `next` of the parent: batches of
// steps rebuilding the parsed objects (value-batches.ts), then `done`; or the error the parser threw, by class name.

import type { ValueOp } from './value-batches.js';

export type RenderJob =
  | { readonly op: 'manifests'; readonly paths: string[]; readonly maxObjects: number }
  | { readonly op: 'values'; readonly file: string; readonly content: string };

/** Characters of a file per `text` message: cloning that much into the worker is a millisecond of the loop. */
export const PIECE_CHARS = 1024 * 1024;

/**
 * JSON characters per answer batch: deserializing a batch of a document of 150,000 short keys (the worst shape per
 * character) and rebuilding it costs a few ms; the whole document in one message held the loop for 110-240 ms.
 */
export const BATCH_CHARS = 256 * 1024;

export type RenderInput =
  | { readonly kind: 'text'; readonly file: number; readonly bytes: Uint8Array }
  | { readonly kind: 'parse' }
  | { readonly kind: 'next' };

export type RenderAnswer =
  | { readonly kind: 'batch'; readonly ops: ValueOp[] }
  | { readonly kind: 'objects'; readonly objects: unknown[] }
  | { readonly kind: 'done' }
  | { readonly kind: 'error'; readonly name: string; readonly message: string };
