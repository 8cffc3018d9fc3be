// Messages from a render worker to its parent (render-pool.ts): object chunks, each sent when the parent asks for
// the next, then `done`; or the error parseFiles threw, by class name and message.

import type { ParsedObject } from './render.js';

export type RenderAnswer =
  | { readonly kind: 'objects'; readonly objects: ParsedObject[] }
  | { readonly kind: 'done' }
  | { readonly kind: 'error'; readonly name: string; readonly message: string };
