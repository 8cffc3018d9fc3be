// From a revision's files to the objects a GitSync applies: every *.yaml|*.yml|*.json under spec.path, multi-
// document, in path order; each object validated (apiVersion, kind, metadata.name), namespaced ones given the
// target namespace, duplicates rejected, owner labels added. Pure: files and API scopes in, objects or an error
// naming the file and object out.

import { type CST, Composer, type Document, Lexer, LineCounter, Parser, isMap, isPair, isScalar, isSeq } from 'yaml';
import type { KubeObject } from '../kube/types.js';
import { OWNER_NAME_LABEL, OWNER_NAMESPACE_LABEL } from './spec.js';

export interface SourceFile { readonly path: string; readonly content: string }

export interface ParsedObject {
  readonly file: string;
  /** 1-based document number inside the file. */
  readonly doc: number;
  readonly object: KubeObject;
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

export interface DesiredObject extends ParsedObject {
  readonly namespaced: boolean;
  /** Inventory id: `<namespace>_<name>_<group>_<kind>` (namespace empty for cluster-scoped objects). */
  readonly id: string;
}

/** A revision that cannot be applied as it stands; the message names the file (and object) to fix. */
export class RenderError extends Error {
  override readonly name = 'RenderError';
}

const MANIFEST = /\.(ya?ml|json)$/i;

/**
 * Deepest collection nesting a manifest may have. yaml's composer (and later JSON.stringify and canonical JSON)
 * recurse once per level: a 4 KB file of nested `[` overflowed the stack, and repeated overflows crashed the whole
 * process in V8's RegExp compiler. Kubernetes objects, CRD schemas included, stay far below this.
 */
export const MAX_NESTING = 100;

/** Deepest collection nesting in one CST token, walked with an explicit stack (yaml's CST parser is iterative). */
export function yamlNestingDepth(token: CST.Token): number {
  let max = 0;
  const stack: [CST.Token | null | undefined, number][] = [[token, 0]];
  while (stack.length > 0) {
    const [t, depth] = stack.pop()!;
    if (!t) continue;
    if (t.type === 'document') stack.push([t.value, depth]);
    else if (t.type === 'block-map' || t.type === 'block-seq' || t.type === 'flow-collection') {
      max = Math.max(max, depth + 1);
      for (const item of t.items) stack.push([item.key, depth + 1], [item.value, depth + 1]);
    }
  }
  return max;
}

/** Deepest array/object nesting in JSON text (strings skipped); linear, never recursive. */
export function jsonNestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) max = Math.max(max, ++depth);
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/**
 * Offset of the first repeated key of any mapping in the document, or undefined. yaml's own uniqueKeys check
 * compares each key with every earlier one (a 150 KB map of distinct keys took 4.7 s); this uses one Set per map.
 */
export function duplicateKeyOffset(doc: Document.Parsed): number | undefined {
  const stack: unknown[] = [doc.contents];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isMap(node)) {
      const seen = new Set<unknown>();
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        if (isScalar(pair.key)) {
          if (seen.has(pair.key.value)) return pair.key.range?.[0] ?? 0;
          seen.add(pair.key.value);
        } else stack.push(pair.key);
        stack.push(pair.value);
      }
    } else if (isSeq(node)) stack.push(...node.items);
  }
  return undefined;
}

/**
 * yaml's CST parser fed lexeme by lexeme, refusing flow nesting (`[[[…`) and one-line block nesting (`- - - …`) past
 * MAX_NESTING as soon as it is seen: the parser spends ~11 µs per nested `[` (12 s for 1 MiB), ~3× a normal file.
 */
function* boundedCst(file: string, content: string, lines: LineCounter): Generator<CST.Token> {
  const parser = new Parser(lines.addNewLine);
  lines.addNewLine(0);
  let offset = 0;
  let flow = 0;
  let indicators = 0;
  const deep = () => new RenderError(`${file}: nested deeper than ${MAX_NESTING} levels (line ${lines.linePos(offset).line})`);
  for (const lexeme of new Lexer().lex(content)) {
    if (lexeme === '[' || lexeme === '{') { if (++flow > MAX_NESTING) throw deep(); }
    else if (lexeme === ']' || lexeme === '}') flow = Math.max(0, flow - 1);
    else if (lexeme === '\n' || lexeme === '\r\n') indicators = 0;
    else if (flow === 0 && (lexeme === '-' || lexeme === '?') && ++indicators > MAX_NESTING) throw deep();
    yield* parser.next(lexeme);
    offset += lexeme.length;
  }
  yield* parser.end();
}

/** The documents of one YAML file, refusing nesting past MAX_NESTING before yaml's recursive composer sees it. */
function yamlDocuments(file: string, content: string) {
  const lines = new LineCounter();
  const composer = new Composer({ uniqueKeys: false });
  function* bounded(tokens: Generator<CST.Token>): Generator<CST.Token> {
    let doc = 0;
    for (const t of tokens) {
      if (t.type === 'document') doc++;
      if (yamlNestingDepth(t) > MAX_NESTING) throw new RenderError(`${file} (document ${Math.max(doc, 1)}): nested deeper than ${MAX_NESTING} levels`);
      yield t;
    }
  }
  // A hostile file can make yaml report one error per token (170,000 for 512 KB of "&a "); without stack traces
  // each costs little. Synchronous, so no other code runs with the limit lowered.
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  let docs: Document.Parsed[];
  try { docs = [...composer.compose(bounded(boundedCst(file, content, lines)))]; } finally { Error.stackTraceLimit = limit; }
  const where = (offset: number) => { const { line, col } = lines.linePos(offset); return ` at line ${line}, column ${col}`; };
  return docs.map((d) => {
    if (d.errors[0]) return { doc: d, error: `${d.errors[0].message.split('\n')[0]}${where(d.errors[0].pos[0])}` };
    const dup = duplicateKeyOffset(d);
    return { doc: d, error: dup === undefined ? undefined : `Map keys must be unique${where(dup)}` };
  });
}

/** Whether a repository path is a manifest under basePath ("." is the whole repository). */
export function isManifestPath(path: string, basePath: string): boolean {
  if (!MANIFEST.test(path)) return false;
  return basePath === '.' || path === basePath || path.startsWith(basePath + '/');
}

export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.indexOf('/');
  return i < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

export function inventoryId(namespace: string | undefined, name: string, group: string, kind: string): string {
  return `${namespace ?? ''}_${name}_${group}_${kind}`;
}

export function describe(o: { kind: string; object: KubeObject }): string {
  const ns = o.object.metadata?.namespace;
  return `${o.kind} ${ns ? `${ns}/` : ''}${o.object.metadata?.name ?? '(no name)'}`;
}

function checkObject(raw: unknown, where: string): KubeObject {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new RenderError(`${where}: not a Kubernetes object (expected a mapping with apiVersion, kind and metadata)`);
  const o = raw as KubeObject;
  if (typeof o.apiVersion !== 'string' || o.apiVersion === '') throw new RenderError(`${where}: apiVersion is missing`);
  if (typeof o.kind !== 'string' || o.kind === '') throw new RenderError(`${where}: kind is missing`);
  const md = o.metadata as unknown;
  if (md === null || typeof md !== 'object' || typeof (md as { name?: unknown }).name !== 'string' || (md as { name: string }).name === '') {
    throw new RenderError(`${where}: ${o.kind} has no metadata.name`);
  }
  if (o.metadata.namespace !== undefined && typeof o.metadata.namespace !== 'string') throw new RenderError(`${where}: ${o.kind} ${o.metadata.name} has a non-string metadata.namespace`);
  return o;
}

function objectsOf(raw: unknown, file: string, doc: number): ParsedObject[] {
  if (raw === null || raw === undefined) return [];
  const where = `${file} (document ${doc})`;
  // kind: List (what `kubectl get -o yaml` writes) is flattened.
  if (raw && typeof raw === 'object' && !Array.isArray(raw) && (raw as KubeObject).kind === 'List' && Array.isArray((raw as { items?: unknown }).items)) {
    return ((raw as { items: unknown[] }).items).flatMap((item, i) => objectsOf(item, `${file} (document ${doc}, item ${i + 1})`, doc));
  }
  const object = checkObject(raw, where);
  const { group, version } = splitApiVersion(object.apiVersion!);
  return [{ file, doc, object, group, version, kind: object.kind! }];
}

/** Parses the manifest files (any order in, sorted by path), every document of each. */
export function parseFiles(files: readonly SourceFile[]): ParsedObject[] {
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const out: ParsedObject[] = [];
  for (const f of sorted) {
    if (/\.json$/i.test(f.path)) {
      if (jsonNestingDepth(f.content) > MAX_NESTING) throw new RenderError(`${f.path}: nested deeper than ${MAX_NESTING} levels`);
      let raw: unknown;
      try { raw = JSON.parse(f.content); } catch (err) { throw new RenderError(`${f.path}: invalid JSON: ${(err as Error).message}`); }
      out.push(...objectsOf(raw, f.path, 1));
      continue;
    }
    yamlDocuments(f.path, f.content).forEach(({ doc: d, error }, i) => {
      if (error) throw new RenderError(`${f.path} (document ${i + 1}): invalid YAML: ${error}`);
      let raw: unknown;
      // Too many aliases (a "billion laughs") is the author's to fix, like any other invalid YAML.
      try { raw = d.toJS({ maxAliasCount: 100 }); } catch (err) { throw new RenderError(`${f.path} (document ${i + 1}): invalid YAML: ${(err as Error).message.split('\n')[0]}`); }
      out.push(...objectsOf(raw, f.path, i + 1));
    });
  }
  return out;
}

/** What the cluster (or a CRD in the same revision) says about a kind: namespaced or not; undefined when unknown. */
export type ScopeLookup = (group: string, version: string, kind: string) => boolean | undefined;

/** Scopes of kinds defined by CRDs in the revision itself, so their objects can be rendered before the CRD exists. */
export function scopesFromCrds(objects: readonly ParsedObject[]): Map<string, boolean> {
  const scopes = new Map<string, boolean>();
  for (const o of objects) {
    if (o.group !== 'apiextensions.k8s.io' || o.kind !== 'CustomResourceDefinition') continue;
    const spec = o.object.spec as { group?: string; names?: { kind?: string }; scope?: string; versions?: { name?: string }[] } | undefined;
    if (!spec?.group || !spec.names?.kind) continue;
    for (const v of spec.versions ?? []) if (v.name) scopes.set(`${spec.group}/${v.name}/${spec.names.kind}`, spec.scope !== 'Cluster');
  }
  return scopes;
}

export interface FinalizeOptions {
  readonly targetNamespace: string;
  readonly owner: { readonly namespace: string; readonly name: string };
  readonly scope: ScopeLookup;
}

/**
 * Fills namespaces, adds owner labels, rejects unknown kinds and duplicates. Cluster-scoped objects lose any
 * namespace they name (the API would ignore it, and the inventory id must not depend on it).
 */
export function finalize(parsed: readonly ParsedObject[], opts: FinalizeOptions): DesiredObject[] {
  const crdScopes = scopesFromCrds(parsed);
  const seen = new Map<string, string>();
  return parsed.map((p) => {
    const namespaced = opts.scope(p.group, p.version, p.kind) ?? crdScopes.get(`${p.group}/${p.version}/${p.kind}`);
    if (namespaced === undefined) {
      throw new RenderError(`${p.file} (document ${p.doc}): ${p.kind} ${p.object.metadata.name}: the cluster does not serve ${p.object.apiVersion} ${p.kind} and no CRD in this revision defines it`);
    }
    const metadata = { ...p.object.metadata };
    if (namespaced) metadata.namespace = metadata.namespace || opts.targetNamespace;
    else delete metadata.namespace;
    metadata.labels = { ...(metadata.labels ?? {}), [OWNER_NAME_LABEL]: opts.owner.name, [OWNER_NAMESPACE_LABEL]: opts.owner.namespace };
    const object: KubeObject = { ...p.object, metadata };
    const id = inventoryId(metadata.namespace, metadata.name!, p.group, p.kind);
    const before = seen.get(id);
    if (before) throw new RenderError(`${p.file} (document ${p.doc}): ${describe({ kind: p.kind, object })} is also defined in ${before}; each object may appear once`);
    seen.set(id, `${p.file} (document ${p.doc})`);
    return { ...p, object, namespaced, id };
  });
}

const isCrd = (o: DesiredObject) => o.group === 'apiextensions.k8s.io' && o.kind === 'CustomResourceDefinition';
const isNamespace = (o: DesiredObject) => o.group === '' && o.kind === 'Namespace';

/** Apply order: CRDs, then Namespaces, then everything else in file order. */
export function applyStages(objects: readonly DesiredObject[]): { readonly first: DesiredObject[]; readonly rest: DesiredObject[] } {
  return {
    first: [...objects.filter(isCrd), ...objects.filter(isNamespace)],
    rest: objects.filter((o) => !isCrd(o) && !isNamespace(o)),
  };
}
