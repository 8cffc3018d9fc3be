// Reads Keelson's install manifests (manifests/ and its overlays) as parsed objects, for the invariant tests and the
// server-side dry-run test. Files other branches add (the CRDs) are picked up as soon as they exist.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../../src/kube/types.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const MANIFESTS = join(ROOT, 'manifests');

export interface ManifestObject { readonly file: string; readonly object: KubeObject }

/** *.yaml files of a folder (not kustomization.yaml), sorted; relative to manifests/ when recursive. */
export function manifestFiles(dir = MANIFESTS, recursive = false): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    // examples/ are tenants' objects (tested on their own), not part of Keelson's install.
    if (e.isDirectory() && recursive && e.name !== 'examples') out.push(...manifestFiles(p, true));
    else if (e.isFile() && /\.ya?ml$/.test(e.name) && e.name !== 'kustomization.yaml') out.push(p);
  }
  return out.sort();
}

/** Every document of a YAML file, parsed strictly (a YAML error fails the test with the file name). */
export function readObjects(path: string): KubeObject[] {
  const docs = parseAllDocuments(readFileSync(path, 'utf8'));
  const list = Array.isArray(docs) ? docs : [docs];
  const out: KubeObject[] = [];
  for (const d of list) {
    if (d.errors.length > 0) throw new Error(`${path}: ${d.errors[0]!.message}`);
    const o = d.toJS() as KubeObject | null;
    if (o) out.push(o);
  }
  return out;
}

/** Objects of manifests/*.yaml (recursive adds the opt-in files of manifests/optional/). */
export function manifestObjects(recursive = false): ManifestObject[] {
  return manifestFiles(MANIFESTS, recursive).flatMap((f) => readObjects(f).map((object) => ({ file: relative(MANIFESTS, f), object })));
}

export function kustomizationResources(dir = MANIFESTS): string[] {
  const k = readObjects(join(dir, 'kustomization.yaml'))[0] as unknown as { resources?: string[] };
  return k.resources ?? [];
}

export const exists = (p: string) => existsSync(p);
