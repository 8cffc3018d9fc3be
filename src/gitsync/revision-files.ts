// From a repository tree to the files a GitSync applies: ignore rules (.keelsonignore + spec.ignore) first, then
// either every manifest under spec.path, or, when spec.path holds a kustomization, the output of `kustomize build`
// over the folders it reaches. The tree is an interface so that a Git commit (the controller) and a local folder
// (`keelson diff --path`) take the same path. Sizes are checked before anything is read.

import { posix } from 'node:path';
import { GitError, type GitSession, blobSizes, git, listFiles, missingObjects, readBlobs } from './git.js';
import { IGNORE_FILE, MAX_IGNORE_CHARS, IgnoreRulesError, ignorePatterns, ignoredPaths } from './ignore.js';
import type { KustomizeFields } from './kustomize-fields.js';
import { BuildError, MAX_INSTANCES, MAX_KUSTOMIZATION_BYTES, OUTPUT_ESTIMATE_SLACK, expansion, filesUnder, kustomizationIn, kustomizeBuild, ownerFolder, reachedFolders, repoIndex } from './kustomize.js';
import { type RevisionLimits, RevisionTooLargeError, checkRevisionBytes, formatBytes } from './limits.js';
import { RenderError, type SourceFile, isManifestPath } from './render.js';
import { renderHeapMb, yamlValuesOffLoop } from './render-pool.js';

/** A repository at one revision, as far as rendering needs it. Paths are repository-relative, regular files only. */
export interface RepoTree {
  /** Files under a folder ("." = all); an error naming the folder when it does not exist. */
  list(folder: string): Promise<string[]>;
  /** Whether the repository holds this regular file. */
  has(path: string): Promise<boolean>;
  /** Sizes, in order; RevisionTooLargeError for a file too big to have been downloaded. */
  sizes(paths: readonly string[]): Promise<number[]>;
  /** Contents, in order; maxBytes bounds their total. */
  read(paths: readonly string[], maxBytes: number): Promise<Buffer[]>;
}

export interface SourceOptions {
  /** spec.path, normalised. */
  readonly path: string;
  /** spec.ignore */
  readonly ignore: string | undefined;
  readonly limits: RevisionLimits;
  /** The kustomize program (--kustomize-path). */
  readonly kustomizePath: string;
  readonly signal?: AbortSignal | undefined;
  /** What the revision is called in messages: "revision main@sha1:…" or "folder ./x". */
  readonly where: string;
  /** spec.kustomize: when set, plain manifests are built with kustomize too, through a generated kustomization. */
  readonly kustomize?: KustomizeFields | undefined;
}

async function patternsOf(tree: RepoTree, specIgnore: string | undefined, hasIgnoreFile: boolean): Promise<string[]> {
  let fileText: string | undefined;
  if (hasIgnoreFile) {
    const [size] = await tree.sizes([IGNORE_FILE]);
    if (size! > MAX_IGNORE_CHARS) throw new IgnoreRulesError(`${IGNORE_FILE} is over ${MAX_IGNORE_CHARS / 1024} KiB; keep the ignore rules to a few patterns`);
    fileText = (await tree.read([IGNORE_FILE], MAX_IGNORE_CHARS))[0]!.toString('utf8');
  }
  return ignorePatterns(fileText, specIgnore);
}

/**
 * What a revision renders from, once read: manifest files, or the files a kustomize build needs. Reading needs the
 * Git cache (held under its lock); building does not, so the controller builds after releasing it.
 */
export type SourcePlan =
  | { readonly kind: 'files'; readonly files: SourceFile[] }
  | { readonly kind: 'kustomize'; readonly kustomization: string; readonly folder: string; readonly files: { path: string; content: Buffer }[] };

/** The files to render: the manifests under o.path, or one file holding the kustomize build output. */
export async function sourceFiles(tree: RepoTree, o: SourceOptions): Promise<SourceFile[]> {
  return buildSource(await readSource(tree, o), o);
}

/**
 * Runs kustomize for a kustomize plan; a plan of files is returned as it is, unless spec.kustomize asks for a build
 * (then its manifests are the resources of a generated kustomization).
 */
export async function buildSource(plan: SourcePlan, o: Pick<SourceOptions, 'kustomizePath' | 'limits' | 'signal' | 'path' | 'kustomize'>): Promise<SourceFile[]> {
  const common = { binary: o.kustomizePath, maxBytes: o.limits.maxBytes, signal: o.signal, overlay: o.kustomize };
  if (plan.kind === 'files') {
    if (!o.kustomize) return plan.files;
    if (plan.files.length === 0) return [];
    const files = plan.files.map((f) => ({ path: f.path, content: Buffer.from(f.content, 'utf8') }));
    const output = await kustomizeBuild({ ...common, files, folder: o.path, plainFiles: plan.files.map((f) => f.path) });
    return [{ path: `${o.path} (kustomize build with spec.kustomize)`, content: output }];
  }
  const output = await kustomizeBuild({ ...common, files: plan.files, folder: plan.folder });
  return [{ path: `${plan.kustomization} (kustomize build${o.kustomize ? ' with spec.kustomize' : ''})`, content: output }];
}

/** Reads what the revision renders from: ignore rules, then the manifests or the kustomizations' folders. */
export async function readSource(tree: RepoTree, o: SourceOptions): Promise<SourcePlan> {
  // Whether there is an ignore file and what lies under spec.path are independent questions: asked side by side.
  const [hasIgnoreFile, listed] = await Promise.all([tree.has(IGNORE_FILE), tree.list(o.path)]);
  const patterns = await patternsOf(tree, o.ignore, hasIgnoreFile);
  const kept = async (paths: string[]) => {
    if (patterns.length === 0) return paths;
    const ignored = await ignoredPaths(patterns, paths, o.signal);
    return paths.filter((_, i) => !ignored[i]);
  };
  const under = await kept(listed);
  const kustomization = kustomizationIn(o.path, new Set(under));
  if (!kustomization) {
    const manifests = under.filter((p) => isManifestPath(p, o.path));
    const sizes = await tree.sizes(manifests);
    checkRevisionBytes(manifests.map((path, i) => ({ path, size: sizes[i]! })), o.limits.maxBytes, o.where);
    const blobs = await tree.read(manifests, o.limits.maxBytes);
    return { kind: 'files', files: manifests.map((path, i) => ({ path, content: blobs[i]!.toString('utf8') })) };
  }
  return kustomizePlan(tree, o, kustomization, o.path === '.' ? under : await kept(await tree.list('.')));
}

/** Walks the kustomizations from o.path (one read per level) and reads the folders they reach. */
async function kustomizePlan(tree: RepoTree, o: SourceOptions, kustomization: string, all: string[]): Promise<SourcePlan> {
  const index = repoIndex(all);
  const reached = new Set<string>([o.path]);
  const edges = new Map<string, string[]>();
  for (let frontier = [o.path]; frontier.length > 0;) {
    const files = frontier.map((f) => kustomizationIn(f, index.files)).filter((f): f is string => f !== undefined);
    const sizes = await tree.sizes(files);
    files.forEach((f, i) => { if (sizes[i]! > MAX_KUSTOMIZATION_BYTES) throw new BuildError(`${f} is ${formatBytes(sizes[i]!)}; a kustomization may be at most ${formatBytes(MAX_KUSTOMIZATION_BYTES)}`); });
    const texts = await tree.read(files, sizes.reduce((a, b) => a + b, 0));
    const next: string[] = [];
    for (const [i, f] of files.entries()) {
      // A big one is parsed in a worker (render-pool.ts): a 1 MiB kustomization can cost seconds and hundreds of MiB.
      let docs: unknown[];
      try { docs = await yamlValuesOffLoop(f, texts[i]!.toString('utf8'), { where: o.where, heapMb: renderHeapMb(o.limits.maxBytes), signal: o.signal }); } catch (err) { throw err instanceof RenderError ? new BuildError(err.message) : err; }
      const targets = reachedFolders(f, docs[0], index);
      edges.set(posix.dirname(f), targets);
      for (const folder of targets) if (!reached.has(folder)) { reached.add(folder); next.push(folder); }
    }
    frontier = next;
  }
  const wanted = filesUnder(all, reached);
  const sizes = await tree.sizes(wanted);
  checkRevisionBytes(wanted.map((path, i) => ({ path, size: sizes[i]! })), o.limits.maxBytes, `${o.where} (kustomize build of ${o.path})`);
  const ownBytes = new Map<string, number>();
  wanted.forEach((p, i) => { const f = ownerFolder(p, reached); if (f !== undefined) ownBytes.set(f, (ownBytes.get(f) ?? 0) + sizes[i]!); });
  const { instances, bytes } = expansion(o.path, edges, ownBytes);
  if (instances > MAX_INSTANCES) throw new BuildError(`${kustomization}: the build would instantiate kustomizations ${instances} times (folders reached through many paths; at most ${MAX_INSTANCES}); reference shared bases fewer times`);
  if (bytes > o.limits.maxBytes * OUTPUT_ESTIMATE_SLACK) throw new RevisionTooLargeError(`${o.where}: kustomize build of ${o.path} would print about ${formatBytes(bytes)} (bases counted once per path that reaches them), over the limit of ${formatBytes(o.limits.maxBytes)} (--max-revision-bytes)`);
  const blobs = await tree.read(wanted, o.limits.maxBytes);
  return { kind: 'kustomize', kustomization, folder: o.path, files: wanted.map((path, i) => ({ path, content: blobs[i]! })) };
}

/** The tree of commit `sha` in a bare cache repository; blobs a filtered fetch left out are reported, never fetched. */
export function gitTree(session: GitSession, dir: string, sha: string, where: string, maxBytes: number): RepoTree {
  const oids = new Map<string, string>();
  // Blobs a filtered fetch left out, listed for the widest folder listed so far (spec.path, or "." for kustomize):
  // never more of the tree than rendering needs, so a narrow spec.path in a monorepo stays cheap.
  let listedRoot: string | undefined;
  let missing: { root: string; ids: Promise<Set<string>> } | undefined;
  const oidOf = (p: string) => { const oid = oids.get(p); if (!oid) throw new GitError(`${p} is not a file of ${where}`); return oid; };
  return {
    async list(folder) {
      if (listedRoot === undefined || folder === '.') listedRoot = folder;
      const files = await listFiles(session, dir, sha, folder);
      for (const f of files) oids.set(f.path, f.oid);
      return files.map((f) => f.path);
    },
    async has(path) {
      const out = (await git(session, ['-C', dir, 'ls-tree', '-z', sha, '--', path])).toString('utf8');
      const m = /^(\d{6}) blob ([0-9a-f]+)\t/.exec(out);
      if (!m || (m[1] !== '100644' && m[1] !== '100755')) return false;
      oids.set(path, m[2]!);
      return true;
    },
    async sizes(paths) {
      if (paths.length === 0) return [];
      // A file the filtered fetch left out is by itself over the limit; it is never downloaded.
      if (listedRoot !== undefined && missing?.root !== listedRoot) missing = { root: listedRoot, ids: missingObjects(session, dir, sha, listedRoot) };
      const absent = missing ? await missing.ids : new Set<string>();
      const tooBig = paths.filter((p) => absent.has(oidOf(p)));
      if (tooBig.length > 0) {
        throw new RevisionTooLargeError(`${where}: ${tooBig.slice(0, 3).join(', ')}${tooBig.length > 3 ? ` and ${tooBig.length - 3} more` : ''} ${tooBig.length === 1 ? 'is' : 'are each'} over the limit of ${formatBytes(maxBytes)} (--max-revision-bytes) and ${tooBig.length === 1 ? 'was' : 'were'} not downloaded. Narrow spec.path or split the repository`);
      }
      // Only once the listing says no blob is missing: before git 2.44, asking git about a left-out blob fetches it.
      return blobSizes(session, dir, paths.map(oidOf));
    },
    read: (paths, max) => readBlobs(session, dir, paths.map(oidOf), max),
  };
}
