// Kustomize support: a folder holding a kustomization is built by the real `kustomize build`, never re-implemented.
// Pure part: which folders a kustomization reaches (resources/bases/components), refusing any reference that is not
// a file or folder of the repository itself (a URL, an absolute path, "../" past the root); that is what keeps
// remote bases off and a GitSync inside its own repository. I/O part: running the binary with no shell, no network
// and no plugins, in a private folder, its output bounded and its error text cleaned of that folder.

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { stringify } from 'yaml';
import { mapLimit } from './apply.js';
import { GitError, run } from './git.js';
import { type KustomizeFields, isObject, overlayKustomization, plainKustomization } from './kustomize-fields.js';
import { RevisionTooLargeError, formatBytes } from './limits.js';

/** The names kustomize looks for in a folder, in its order. */
export const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'] as const;
/** Largest kustomization file Keelson parses to find the folders it reaches. */
export const MAX_KUSTOMIZATION_BYTES = 1024 * 1024;

/** kustomize refused the revision (or a reference Keelson will not let it follow); the message names the file. */
export class BuildError extends Error {
  override readonly name = 'BuildError';
}

/** The kustomization file directly in `folder` ("." = repository root), or undefined. */
export function kustomizationIn(folder: string, files: ReadonlySet<string>): string | undefined {
  for (const n of KUSTOMIZATION_FILES) {
    const p = folder === '.' ? n : `${folder}/${n}`;
    if (files.has(p)) return p;
  }
  return undefined;
}

/** Files and folders (every ancestor of a file) of a repository listing. */
export interface RepoIndex { readonly files: ReadonlySet<string>; readonly folders: ReadonlySet<string> }

export function repoIndex(paths: readonly string[]): RepoIndex {
  const folders = new Set<string>(['.']);
  for (const p of paths) {
    for (let i = p.lastIndexOf('/'); i > 0; i = p.lastIndexOf('/', i - 1)) {
      const f = p.slice(0, i);
      if (folders.has(f)) break;
      folders.add(f);
    }
  }
  return { files: new Set(paths), folders };
}

/** One path-valued entry of a kustomization: the field it sits in, and the text. */
export interface Reference { readonly field: string; readonly value: string; readonly folderAllowed: boolean }

const FOLDER_LISTS = ['resources', 'bases', 'components'];
const FILE_LISTS = ['crds', 'configurations', 'generators', 'transformers', 'validators', 'patchesStrategicMerge'];
const PATH_OBJECT_LISTS = ['patches', 'patchesJson6902', 'replacements'];
const GENERATORS = ['configMapGenerator', 'secretGenerator'];

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : []);

/** Every entry of a kustomization that names a file or folder. Inline patches and plugin configs are skipped. Pure. */
export function referencesOf(doc: unknown): Reference[] {
  if (!isObject(doc)) return [];
  const out: Reference[] = [];
  const add = (field: string, value: string, folderAllowed = false) => { if (!value.includes('\n')) out.push({ field, value: value.trim(), folderAllowed }); };
  for (const f of FOLDER_LISTS) for (const v of strings(doc[f])) add(f, v, true);
  for (const f of FILE_LISTS) for (const v of strings(doc[f])) add(f, v);
  for (const f of PATH_OBJECT_LISTS) {
    if (!Array.isArray(doc[f])) continue;
    for (const item of doc[f] as unknown[]) if (isObject(item) && typeof item.path === 'string') add(`${f}[].path`, item.path);
  }
  for (const f of GENERATORS) {
    if (!Array.isArray(doc[f])) continue;
    for (const g of doc[f] as unknown[]) {
      if (!isObject(g)) continue;
      // "key=path" or "path"
      for (const v of strings(g.files)) add(`${f}[].files`, v.includes('=') ? v.slice(v.indexOf('=') + 1) : v);
      for (const v of strings(g.envs)) add(`${f}[].envs`, v);
      if (typeof g.env === 'string') add(`${f}[].env`, g.env);
    }
  }
  if (isObject(doc.openapi) && typeof doc.openapi.path === 'string') add('openapi.path', doc.openapi.path);
  return out;
}

/**
 * The folders (other kustomizations and components) that the kustomization file `file` reaches, checked: every
 * reference must resolve, from the file's folder, to a file (or for resources/bases/components, a folder) of the
 * repository. A URL, an absolute path, a path past the repository root, or one the repository does not hold (or
 * ignores) is refused here, before kustomize could fetch it or read the controller's disk. Pure.
 */
export function reachedFolders(file: string, doc: unknown, index: RepoIndex): string[] {
  const folder = posix.dirname(file);
  const folders: string[] = [];
  for (const ref of referencesOf(doc)) {
    const what = `${file}: ${ref.field} entry "${ref.value.length > 200 ? ref.value.slice(0, 200) + '...' : ref.value}"`;
    if (ref.value === '') continue;
    if (ref.value.includes('://') || /^[\w.-]+@[\w.-]+:/.test(ref.value)) throw new BuildError(`${what} is remote; remote bases and files are off: vendor it into the repository`);
    if (posix.isAbsolute(ref.value)) throw new BuildError(`${what} is an absolute path; use a path relative to ${folder === '.' ? 'the repository root' : folder}`);
    const target = posix.normalize(posix.join(folder, ref.value)).replace(/\/+$/, '') || '.';
    if (target === '..' || target.startsWith('../')) throw new BuildError(`${what} points outside the repository; a GitSync reads only its own repository`);
    if (index.files.has(target)) continue;
    if (ref.folderAllowed && index.folders.has(target)) { folders.push(target); continue; }
    throw new BuildError(`${what}: ${target} is not a ${ref.folderAllowed ? 'file or folder' : 'file'} of the repository (or is ignored); remote bases are off, so every reference must be in the repository`);
  }
  return folders;
}

/** Files under any of the folders (a folder's whole subtree: kustomize may read any file below a kustomization). */
export function filesUnder(paths: readonly string[], folders: ReadonlySet<string>): string[] {
  if (folders.has('.')) return [...paths];
  return paths.filter((p) => {
    for (let i = p.lastIndexOf('/'); i > 0; i = p.lastIndexOf('/', i - 1)) if (folders.has(p.slice(0, i))) return true;
    return false;
  });
}

/**
 * Most times one build may instantiate kustomizations. kustomize builds a folder once per path that reaches it, so
 * 20 levels of two references each (a few hundred bytes of YAML) would build the innermost one a million times and
 * take the controller's memory with it; this is refused before kustomize runs.
 */
export const MAX_INSTANCES = 10_000;
/** How much larger than --max-revision-bytes the estimated output may be (input files count patches and comments too). */
export const OUTPUT_ESTIMATE_SLACK = 2;

/**
 * How often each folder is built (the number of paths from the root through `edges`, with repeats) and the output
 * that suggests: the sum over folders of instances × the bytes of the files that folder owns. Folders in a cycle get
 * no count (kustomize reports the cycle). Iterative (Kahn's order), capped, linear in the graph. Pure.
 */
export function expansion(root: string, edges: ReadonlyMap<string, readonly string[]>, ownBytes: ReadonlyMap<string, number>): { instances: number; bytes: number } {
  const CAP = 1e15;
  const indegree = new Map<string, number>([[root, 0]]);
  for (const [from, tos] of edges) {
    if (!indegree.has(from)) indegree.set(from, 0);
    // An edge back to the root is a cycle kustomize reports; it must not keep the root from being counted.
    for (const to of tos) if (to !== root) indegree.set(to, (indegree.get(to) ?? 0) + 1);
  }
  const paths = new Map<string, number>([[root, 1]]);
  const ready = [...indegree].filter(([, d]) => d === 0).map(([f]) => f);
  let instances = 0;
  let bytes = 0;
  while (ready.length > 0) {
    const f = ready.pop()!;
    const n = paths.get(f) ?? 0;
    instances = Math.min(CAP, instances + n);
    bytes = Math.min(CAP, bytes + n * (ownBytes.get(f) ?? 0));
    for (const to of edges.get(f) ?? []) {
      if (to === root) continue;
      paths.set(to, Math.min(CAP, (paths.get(to) ?? 0) + n));
      const d = indegree.get(to)! - 1;
      indegree.set(to, d);
      if (d === 0) ready.push(to);
    }
  }
  return { instances, bytes };
}

/** The reached folder each file belongs to: its nearest ancestor among `folders`. Pure. */
export function ownerFolder(path: string, folders: ReadonlySet<string>): string | undefined {
  for (let i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) if (folders.has(path.slice(0, i))) return path.slice(0, i);
  return folders.has('.') ? '.' : undefined;
}

/** A proxy address nothing listens on: whatever kustomize would fetch over HTTP(S) fails at once. */
const NO_NETWORK_PROXY = 'http://127.0.0.1:9';

/** kustomize's environment: no git on PATH (no remote bases), a dead proxy, a private HOME, no plugin folder. Pure. */
export function kustomizeEnv(work: string): Record<string, string> {
  return {
    PATH: join(work, 'empty-bin'), HOME: join(work, 'home'), XDG_CONFIG_HOME: join(work, 'home'), TMPDIR: join(work, 'tmp'),
    KUSTOMIZE_PLUGIN_HOME: join(work, 'no-plugins'), LANG: 'C', LC_ALL: 'C',
    HTTP_PROXY: NO_NETWORK_PROXY, HTTPS_PROXY: NO_NETWORK_PROXY, http_proxy: NO_NETWORK_PROXY, https_proxy: NO_NETWORK_PROXY, NO_PROXY: '', no_proxy: '',
  };
}

/** The arguments of one build: plugins, exec functions and Helm stay off (their flags are never passed). Pure. */
export function kustomizeArgs(folder: string): string[] {
  return ['build', '--load-restrictor', 'LoadRestrictionsRootOnly', folder];
}

/** kustomize's error text with the private folder's path taken out, so it names repository paths. Pure. */
export function cleanBuildMessage(text: string, root: string): string {
  return text.split(root + '/').join('').split(root).join('.').replace(/^Error: /, '');
}

export interface BuildOptions {
  /** The kustomize program (--kustomize-path), an absolute path or a name on PATH resolved beforehand. */
  readonly binary: string;
  /** Files to lay out, repository-relative, with their contents. */
  readonly files: readonly { readonly path: string; readonly content: Buffer }[];
  /** The folder to build, repository-relative. */
  readonly folder: string;
  /** Most bytes of output (--max-revision-bytes). */
  readonly maxBytes: number;
  readonly signal?: AbortSignal | undefined;
  /** spec.kustomize: built as a generated kustomization over `folder`, in a folder of its own beside the repository. */
  readonly overlay?: KustomizeFields | undefined;
  /** `folder` holds plain manifests (these files): a kustomization listing them is generated there first, as Flux does. */
  readonly plainFiles?: readonly string[] | undefined;
}

/** Files written at once while laying a checkout out; one by one, 800 small files took about a second under load. */
const PARALLEL_WRITES = 16;

/** Writes the files under root: each folder made once, files a few at a time; no path may leave root. */
async function layOut(root: string, files: BuildOptions['files']): Promise<void> {
  // Git never records ".." or absolute paths; refuse them anyway rather than write outside the folder.
  for (const f of files) if (f.path.startsWith('/') || f.path.split('/').includes('..')) throw new BuildError(`refusing the repository path ${f.path}`);
  const folders = [...new Set(files.map((f) => posix.dirname(f.path)))].filter((d) => d !== '.');
  await mapLimit(folders, PARALLEL_WRITES, (d) => mkdir(join(root, d), { recursive: true }));
  await mapLimit(files, PARALLEL_WRITES, (f) => writeFile(join(root, f.path), f.content, { mode: 0o600 }));
}

/** The generated overlay's folder name, beside the repository's: kustomize's messages name it so. */
const OVERLAY_DIR = 'spec.kustomize';

/**
 * Lays the files out in a private folder and runs `kustomize build` there (no shell, its own process group killed
 * on timeout, a private HOME, the output bounded); returns what it printed. The folder is removed afterwards.
 */
export async function kustomizeBuild(o: BuildOptions): Promise<string> {
  const work = await mkdtemp(join(tmpdir(), 'keelson-kustomize-'));
  try {
    const root = join(work, 'repo');
    for (const d of ['repo', 'home', 'tmp', 'empty-bin']) await mkdir(join(work, d), { mode: 0o700 });
    await layOut(root, o.files);
    // The plain folder holds no kustomization file (else it would not be plain), so the generated one replaces nothing.
    if (o.plainFiles) await writeFile(join(root, o.folder, 'kustomization.yaml'), stringify(plainKustomization(o.plainFiles, o.folder)), { mode: 0o600 });
    let cwd = root;
    let target = o.folder;
    if (o.overlay) {
      // Outside the repository's tree, so no repository path can collide with it; LoadRestrictionsRootOnly lets it
      // read nothing but its own folder, and the repository's folder only as a kustomization (a base).
      cwd = join(work, OVERLAY_DIR);
      target = '.';
      await mkdir(cwd, { mode: 0o700 });
      await writeFile(join(cwd, 'kustomization.yaml'), stringify(overlayKustomization(o.overlay, posix.join('../repo', o.folder))), { mode: 0o600 });
    }
    try {
      const { stdout } = await run(o.binary, kustomizeArgs(target), { cwd, env: kustomizeEnv(work), signal: o.signal, maxOutput: o.maxBytes });
      return stdout.toString('utf8');
    } catch (err) {
      if ((err as { outputOverflow?: boolean }).outputOverflow) throw new RevisionTooLargeError(`kustomize build of ${o.folder} printed over ${formatBytes(o.maxBytes)} (--max-revision-bytes); split the kustomization`);
      if (!(err instanceof GitError)) throw err;
      if (/ENOENT|EACCES/.test(err.message) && (err as { exitCode?: number }).exitCode === undefined) {
        throw new BuildError(`kustomize could not be run ("${o.binary}"): install kustomize 5 on the controller's PATH or set --kustomize-path`);
      }
      const detail = (err as { stderr?: string }).stderr || err.message;
      const text = cleanBuildMessage(cleanBuildMessage(detail, root), work);
      throw new BuildError(`kustomize build ${o.folder}${o.overlay ? ' with spec.kustomize' : ''}: ${text}`);
    }
  } finally {
    // Off the result's path: removing a checkout of hundreds of files takes a noticeable while on a busy disk, and
    // nothing reads the folder once kustomize has exited (its process group is gone too).
    rm(work, { recursive: true, force: true }).catch(() => { /* a leftover temporary folder is harmless */ });
  }
}
