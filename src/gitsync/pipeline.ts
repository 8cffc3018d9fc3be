// The render pipeline, one copy for the syncer and `keelson diff` (with or without --path): a source (the commit
// the GitSync's ref points at, fetched into the cache, or a local folder) → ignore rules → kustomize build (a
// kustomization, or spec.kustomize) or plain manifests → parse in the render worker → targetNamespace and owner
// labels. What a diff shows is therefore what a sync would apply.

import { existsSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import type { Discovery } from './discovery.js';
import { DEFAULT_LIMITS, type RevisionLimits } from './limits.js';
import { localTree } from './local-tree.js';
import { type DesiredObject, type FinalizeOptions, type ParsedObject, type SourceFile, finalizer } from './render.js';
import { parseFilesInWorker, renderHeapMb } from './render-pool.js';
import { sourceFiles } from './revision-files.js';
import { type FetchOptions, type Revision, fetchRevision } from './source.js';
import type { GitSyncSpec } from './spec.js';
import { inTurns } from './turns.js';

/** Where a revision comes from: the GitSync's Git ref, or a folder on disk in place of spec.path. */
export type PipelineSource =
  | { readonly kind: 'git'; readonly fetch: Omit<FetchOptions, 'spec' | 'namespace' | 'name' | 'signal' | 'limits' | 'kustomizePath'> }
  | { readonly kind: 'local'; readonly folder: string };

export interface PipelineOptions {
  readonly spec: GitSyncSpec;
  /** The GitSync: its namespace is the default namespace, its name and namespace the owner labels. */
  readonly owner: { readonly namespace: string; readonly name: string };
  readonly discovery: Discovery;
  /** --max-revision-bytes and --max-revision-objects; default DEFAULT_LIMITS. */
  readonly limits?: RevisionLimits | undefined;
  /** --kustomize-path; default "kustomize". */
  readonly kustomizePath?: string | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface RenderedRevision {
  readonly revision: string;
  readonly sha: string;
  /** The desired objects; empty when `reused`. */
  readonly objects: DesiredObject[];
  /** The git source's `reuse` said yes: nothing was read or rendered. */
  readonly reused?: boolean;
  /** The git source's `onlyReuse` and `reuse` said no: nothing was read or rendered. */
  readonly stopped?: boolean;
  /** The commit's subject (git sources; status.history), '' or absent when unknown. */
  readonly subject?: string | undefined;
}

/** Runs the whole pipeline for one source. */
export async function renderPipeline(source: PipelineSource, o: PipelineOptions): Promise<RenderedRevision> {
  const limits = o.limits ?? DEFAULT_LIMITS;
  const kustomizePath = o.kustomizePath ?? 'kustomize';
  const rev = source.kind === 'git'
    ? await fetchRevision({ ...source.fetch, spec: o.spec, namespace: o.owner.namespace, name: o.owner.name, limits, kustomizePath, signal: o.signal })
    : await localRevision(source.folder, o.spec, limits, kustomizePath, o.signal);
  if (rev.reused) return { revision: rev.revision, sha: rev.sha, objects: [], reused: true, subject: rev.subject };
  if (rev.stopped) return { revision: rev.revision, sha: rev.sha, objects: [], stopped: true };
  const objects = await renderRevision(rev.files, o.spec, o.owner, o.discovery, limits, { where: `revision ${rev.revision}`, signal: o.signal });
  return { revision: rev.revision, sha: rev.sha, objects, subject: rev.subject };
}

/**
 * A local folder read as the GitSync's revision, with the folder in place of spec.path: the repository root (for
 * .keelsonignore and kustomize bases such as ../../base) is the nearest folder above holding .git.
 */
export async function localRevision(folder: string, spec: GitSyncSpec, limits: RevisionLimits, kustomizePath: string, signal?: AbortSignal): Promise<Revision> {
  let root = folder;
  while (!existsSync(join(root, '.git')) && dirname(root) !== root) root = dirname(root);
  if (!existsSync(join(root, '.git'))) root = folder;
  const path = relative(root, folder).split(sep).join('/') || '.';
  const files = await sourceFiles(localTree(root), { path, ignore: spec.ignore, kustomize: spec.kustomize, limits, kustomizePath, signal, where: `folder ${folder}` });
  return { revision: `local ${folder}`, sha: '', files };
}

/**
 * Parses and validates the files and gives every object its namespace and owner labels. Parsing runs in a worker
 * thread (render-pool.ts): about a second per MiB of YAML, which must never block the event loop. `where` names the
 * revision in errors; aborting `signal` (the sync's timeout) stops the parse.
 */
export async function renderRevision(files: readonly SourceFile[], spec: GitSyncSpec, owner: { namespace: string; name: string }, discovery: Discovery, limits: RevisionLimits = DEFAULT_LIMITS, o: { where?: string; signal?: AbortSignal | undefined } = {}): Promise<DesiredObject[]> {
  const parsed = await parseFilesInWorker(files, limits.maxObjects, { where: o.where ?? 'the revision', heapMb: renderHeapMb(limits.maxBytes), signal: o.signal });
  const scopes = new Map<string, boolean | undefined>();
  for (const p of parsed) {
    const key = `${p.group}/${p.version}/${p.kind}`;
    if (!scopes.has(key)) scopes.set(key, (await discovery.resourceFor(p.group, p.version, p.kind))?.namespaced);
  }
  return finalizeInTurns(parsed, { targetNamespace: spec.targetNamespace, defaultNamespace: owner.namespace, owner, scope: (g, v, k) => scopes.get(`${g}/${v}/${k}`) });
}

/** Objects finalized per event-loop turn: 10,000 at once took 11 ms (more on a loaded machine). */
const FINALIZE_BATCH = 500;

/** finalize (render.ts), FINALIZE_BATCH objects per event-loop turn, so timers and Lease renewal run in between. */
export async function finalizeInTurns(parsed: readonly ParsedObject[], opts: FinalizeOptions): Promise<DesiredObject[]> {
  const one = finalizer(parsed, opts);
  const out: DesiredObject[] = [];
  await inTurns(parsed, (p) => { out.push(one(p)); return 1; }, FINALIZE_BATCH);
  return out;
}
