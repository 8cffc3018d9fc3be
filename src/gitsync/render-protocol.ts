// What a render worker is given (render-pool.ts): a revision's manifests (parseFiles) or one YAML file that is not a
// manifest (yamlValues, for kustomizations). What it answers: chunks of results, each sent when the parent asks for
// the next, then `done`; or the error the parser threw, by class name and message.

import type { ParsedObject, SourceFile } from './render.js';

export type RenderJob =
  | { readonly op: 'manifests'; readonly files: SourceFile[]; readonly maxObjects: number }
  | { readonly op: 'values'; readonly file: string; readonly content: string };

export type RenderAnswer =
  | { readonly kind: 'objects'; readonly objects: ParsedObject[] | unknown[] }
  | { readonly kind: 'done' }
  | { readonly kind: 'error'; readonly name: string; readonly message: string };
