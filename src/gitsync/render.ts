// From a revision's files to the objects a GitSync applies: every *.yaml|*.yml|*.json under spec.path, multi-
// document, in path order; each object validated (apiVersion, kind, metadata.name), namespaced ones given their
// namespace (spec.targetNamespace overrides), duplicates rejected, owner labels added. Pure: files and API scopes
// in, objects or an error naming the file and object out.

import { type CST, Composer, type Document, Lexer, LineCounter, Parser, isMap, isPair, isScalar, isSeq } from 'yaml';
import type { KubeObject } from '../kube/types.js';
import { RevisionTooLargeError, checkObjectCount, formatBytes } from './limits.js';
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
    } else if (isSeq(node)) for (const item of node.items) stack.push(item); // a spread of 150,000 items overflows the stack
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

/**
 * The documents of one YAML file, one at a time (a document's syntax tree is dropped before the next is built),
 * refusing nesting past MAX_NESTING before yaml's recursive composer sees it. Each comes with its first error, if any.
 */
function* yamlDocuments(file: string, content: string): Generator<{ doc: Document.Parsed; error: string | undefined }> {
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
  const where = (offset: number) => { const { line, col } = lines.linePos(offset); return ` at line ${line}, column ${col}`; };
  const documents = composer.compose(bounded(boundedCst(file, content, lines)));
  for (;;) {
    // A hostile file can make yaml report one error per token (170,000 for 512 KB of "&a "); without stack traces
    // each costs little. Only the synchronous step runs with the limit lowered, never the caller's code.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    let next: IteratorResult<Document.Parsed>;
    try { next = documents.next(); } finally { Error.stackTraceLimit = limit; }
    if (next.done) return;
    const d = next.value;
    if (d.errors[0]) { yield { doc: d, error: `${d.errors[0].message.split('\n')[0]}${where(d.errors[0].pos[0])}` }; continue; }
    const dup = duplicateKeyOffset(d);
    yield { doc: d, error: dup === undefined ? undefined : `Map keys must be unique${where(dup)}` };
  }
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

/**
 * Against hostile documents: aliases expand at most MAX_ALIASES times when a document is turned into objects
 * (billion laughs), and duplicate keys are errors. The YAML 1.2 core schema (the default) has no merge keys.
 */
export const MAX_ALIASES = 100;
/**
 * Largest YAML document, in characters. One object's YAML is far below it (the API server keeps at most 1.5 MiB
 * per object); a bigger document would cost several times its size to parse, so it is refused before parsing.
 * A `kind: List` counts as one document: split a big one into documents.
 */
export const MAX_DOCUMENT_CHARS = 4 * 1024 * 1024;

function documentTooLarge(file: string, where: number | string, size: number): RevisionTooLargeError {
  return new RevisionTooLargeError(`${file} (${typeof where === 'number' ? `document ${where}` : where}) is ${formatBytes(size)}; one YAML document may be at most ${formatBytes(MAX_DOCUMENT_CHARS)} (the API server stores at most 1.5 MiB per object)`);
}

/**
 * Refuses a file holding a document over MAX_DOCUMENT_CHARS, before the YAML parser sees it. A linear scan for
 * lines starting with "---" or "...": every real document boundary is such a line, so the pieces between them are
 * never larger than the documents they belong to (a marker-like line inside a scalar only makes them smaller).
 */
export function checkDocumentSizes(file: string, content: string): void {
  if (content.length <= MAX_DOCUMENT_CHARS) return;
  let start = 0;
  let line = 1;
  let startLine = 1;
  for (let at = 0; at <= content.length;) {
    const nl = content.indexOf('\n', at);
    const end = nl < 0 ? content.length : nl;
    if (content.startsWith('---', at) || content.startsWith('...', at) || nl < 0) {
      if (end - start > MAX_DOCUMENT_CHARS) throw documentTooLarge(file, `the document from line ${startLine}`, end - start);
      start = end + 1;
      startLine = line + 1;
    }
    if (nl < 0) break;
    at = nl + 1;
    line++;
  }
}

/**
 * Parses the manifest files (any order in, sorted by path), every document of each, one document at a time (a
 * document's syntax tree is dropped before the next is built). Counting stops the parse at the first object over
 * maxObjects.
 */
export function parseFiles(files: readonly SourceFile[], maxObjects = Infinity): ParsedObject[] {
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const out: ParsedObject[] = [];
  // Objects plus empty documents: a file of a million "---" lines costs as much as a million objects.
  let units = 0;
  const push = (objects: ParsedObject[], file: string) => {
    units += Math.max(1, objects.length);
    checkObjectCount(units, maxObjects, file);
    out.push(...objects);
  };
  for (const f of sorted) {
    if (/\.json$/i.test(f.path)) {
      if (jsonNestingDepth(f.content) > MAX_NESTING) throw new RenderError(`${f.path}: nested deeper than ${MAX_NESTING} levels`);
      let raw: unknown;
      try { raw = JSON.parse(f.content); } catch (err) { throw new RenderError(`${f.path}: invalid JSON: ${(err as Error).message}`); }
      push(objectsOf(raw, f.path, 1), f.path);
      continue;
    }
    checkDocumentSizes(f.path, f.content);
    let i = 0;
    for (const { doc: d, error } of yamlDocuments(f.path, f.content)) {
      i++;
      if (error) throw new RenderError(`${f.path} (document ${i}): invalid YAML: ${error}`);
      checkObjectCount(units + 1, maxObjects, f.path);
      const size = d.range[1] - d.range[0];
      if (size > MAX_DOCUMENT_CHARS) throw documentTooLarge(f.path, i, size);
      let raw: unknown;
      // Copied through JSON: the strings yaml builds keep large parts of its input alive, which made 10,000
      // documents (63 MiB) peak at 2.3 GiB RSS instead of 325 MiB. JSON is also exactly what the API gets.
      try { raw = JSON.parse(JSON.stringify(d.toJS({ maxAliasCount: MAX_ALIASES }))) as unknown; } catch (e) {
        // Too many aliases (a "billion laughs") is the author's to fix, like any other invalid YAML.
        throw new RenderError(`${f.path} (document ${i}): cannot be expanded: ${(e as Error).message.split('\n')[0]} (at most ${MAX_ALIASES} alias uses per document)`);
      }
      push(objectsOf(raw, f.path, i), f.path);
    }
  }
  return out;
}

/** The documents of a YAML file that is not a manifest (a kustomization), as plain values, under the same bounds. */
export function yamlValues(file: string, content: string): unknown[] {
  checkDocumentSizes(file, content);
  const out: unknown[] = [];
  let i = 0;
  for (const { doc: d, error } of yamlDocuments(file, content)) {
    i++;
    if (error) throw new RenderError(`${file} (document ${i}): invalid YAML: ${error}`);
    try { out.push(d.toJS({ maxAliasCount: MAX_ALIASES })); } catch (e) {
      throw new RenderError(`${file} (document ${i}): cannot be expanded: ${(e as Error).message.split('\n')[0]} (at most ${MAX_ALIASES} alias uses per document)`);
    }
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
  /** When set, every namespaced object goes there, whatever its manifest says (spec.targetNamespace). */
  readonly targetNamespace: string | undefined;
  /** The namespace of namespaced objects that name none and have no target: the GitSync's own. */
  readonly defaultNamespace: string;
  readonly owner: { readonly namespace: string; readonly name: string };
  readonly scope: ScopeLookup;
}

/**
 * Sets namespaces, adds owner labels, rejects unknown kinds and duplicates. A target namespace overrides the
 * namespace of every namespaced object (as Flux does), so a manifest cannot steer an object elsewhere; without one
 * the manifest's namespace counts, else the default. Cluster-scoped objects lose any namespace they name (the API
 * would ignore it, and the inventory id must not depend on it).
 */
export function finalize(parsed: readonly ParsedObject[], opts: FinalizeOptions): DesiredObject[] {
  return parsed.map(finalizer(parsed, opts));
}

/**
 * finalize one object at a time: the function returned sets one object's namespace and labels, and throws on an
 * unknown kind or a duplicate of an object it was given before. Lets a caller spread a big revision over several
 * event-loop turns (pipeline.ts).
 */
export function finalizer(parsed: readonly ParsedObject[], opts: FinalizeOptions): (p: ParsedObject) => DesiredObject {
  const crdScopes = scopesFromCrds(parsed);
  const seen = new Map<string, string>();
  return (p) => {
    const namespaced = opts.scope(p.group, p.version, p.kind) ?? crdScopes.get(`${p.group}/${p.version}/${p.kind}`);
    if (namespaced === undefined) {
      throw new RenderError(`${p.file} (document ${p.doc}): ${p.kind} ${p.object.metadata.name}: the cluster does not serve ${p.object.apiVersion} ${p.kind} and no CRD in this revision defines it`);
    }
    const metadata = { ...p.object.metadata };
    if (namespaced) metadata.namespace = opts.targetNamespace ?? (metadata.namespace || opts.defaultNamespace);
    else delete metadata.namespace;
    metadata.labels = { ...(metadata.labels ?? {}), [OWNER_NAME_LABEL]: opts.owner.name, [OWNER_NAMESPACE_LABEL]: opts.owner.namespace };
    const object: KubeObject = { ...p.object, metadata };
    const id = inventoryId(metadata.namespace, metadata.name!, p.group, p.kind);
    const before = seen.get(id);
    if (before) throw new RenderError(`${p.file} (document ${p.doc}): ${describe({ kind: p.kind, object })} is also defined in ${before}; each object may appear once`);
    seen.set(id, `${p.file} (document ${p.doc})`);
    return { ...p, object, namespaced, id };
  };
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
