// `keelson diff <namespace>/<name> [--path DIR]`: what a sync of the GitSync would change now, from the revision its
// ref points at (or a local folder, for pull-request CI), computed by the API server as a server-side dry-run; Secret
// values masked. Exit 0 no difference, 1 a difference, 2 an error (like `argocd app diff`). The dry-run and the reads
// of live objects impersonate the ServiceAccount the controller would use (as `kubectl --as`), so a diff fails where
// the sync would.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { UsageError, parseArgs, formatHelp, type FlagSpec } from '../config/flags.js';
import { proxyEnvOf } from '../config/options.js';
import { planRevision } from '../gitsync/apply.js';
import { Discovery } from '../gitsync/discovery.js';
import { comparable } from '../gitsync/drift.js';
import { KeyedMutex } from '../gitsync/git.js';
import { identityFor, identityName } from '../gitsync/identity.js';
import { inventoryOf, pruneVerdict, staleEntries } from '../gitsync/prune.js';
import { describe as describeObject } from '../gitsync/render.js';
import { renderPipeline } from '../gitsync/pipeline.js';
import { programOnPath } from '../config/options.js';
import { type GitSyncObject, parseSpec } from '../gitsync/spec.js';
import { lineDiff, maskSecrets } from '../gitsync/textdiff.js';
import { KubeClient, loadKubeConfig } from '../kube/client.js';
import { GITSYNCS } from '../kube/resources.js';
import type { KubeObject } from '../kube/types.js';
import type { Command } from './io.js';
import { parseTarget } from './sync.js';
import { errorText } from '../kube/errors.js';

const FLAGS: readonly FlagSpec[] = [
  { group: 'Flags', name: 'kubeconfig', type: 'string', default: undefined, help: 'kubeconfig file; else in-cluster, else $KUBECONFIG, else ~/.kube/config' },
  { group: 'Flags', name: 'controller-namespace', type: 'string', default: 'keelson-system', help: 'the controller\'s namespace, as the controller was started with' },
  { group: 'Flags', name: 'default-service-account', type: 'string', default: undefined, help: 'the controller\'s --default-service-account, if it has one' },
  { group: 'Flags', name: 'path', type: 'string', default: undefined, help: 'render this local folder (a checkout, e.g. in pull-request CI) instead of fetching the GitSync\'s ref; built with kustomize when it holds a kustomization' },
  { group: 'Flags', name: 'kustomize-path', type: 'string', default: 'kustomize', help: 'the kustomize binary, for a folder holding a kustomization' },
];
const USAGE = 'Usage: keelson diff <namespace>/<name> [--path DIR] [flags]\n\nShows what a sync of the GitSync would change (server-side dry-run), from its ref or from a local folder. Exit 0 no diff, 1 diff, 2 error.';

const yaml = (o: KubeObject | undefined) => (o ? stringify(comparable(o), { sortMapEntries: true }) : '');

/** One object a sync would change: live and desired as YAML, Secret values already masked. */
export interface DiffItem {
  readonly action: 'create' | 'update' | 'deferred' | 'prune';
  /** e.g. "ConfigMap apps/settings". */
  readonly what: string;
  /** The file it comes from ('' for a prune). */
  readonly file: string;
  readonly before: string;
  readonly after: string;
}

export interface GitSyncDiff {
  readonly revision: string;
  readonly lastApplied: string;
  /** "you" or the ServiceAccount the dry-run impersonated. */
  readonly as: string;
  readonly items: readonly DiffItem[];
}

export interface DiffOptions {
  readonly controllerNamespace: string;
  readonly defaultServiceAccount?: string | undefined;
  readonly kustomizePath: string;
  /** A local folder to render instead of fetching the ref. */
  readonly local?: string | undefined;
  /** An empty folder for the Git fetch. */
  readonly cacheDir: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly signal?: AbortSignal;
  /** Stop with DiffTooLargeError once the YAML of the changed objects passes this many bytes (keelson ui). */
  readonly maxBytes?: number;
}

/** The diff passed DiffOptions.maxBytes: what was counted so far, and how many changed objects that covered. */
export class DiffTooLargeError extends Error {
  override readonly name = 'DiffTooLargeError';
  constructor(readonly bytes: number, readonly objects: number) { super(`the diff is over ${bytes} bytes after ${objects} changed objects`); }
}

/**
 * What a sync of `gs` would change, computed as `keelson diff` does (used by it and by `keelson ui`). `client` is the
 * user's; an identity the controller would refuse throws with its message.
 */
export async function gitSyncDiff(client: KubeClient, gs: GitSyncObject, o: DiffOptions): Promise<GitSyncDiff> {
  const namespace = gs.metadata.namespace!;
  const name = gs.metadata.name!;
  const spec = parseSpec(gs);
  const identity = identityFor({ namespace, name, serviceAccountName: spec.serviceAccountName }, { controllerNamespace: o.controllerNamespace, defaultServiceAccount: o.defaultServiceAccount || undefined });
  if (identity.kind === 'refused') throw new Error(identity.message);
  // Your own identity reads the GitSync and its Secrets; the content is dry-run as the ServiceAccount (you need the
  // right to impersonate it, as for kubectl --as). Keelson's own identity is not borrowed: a GitSync in the
  // controller namespace without a ServiceAccount is dry-run with yours.
  const content = identity.kind === 'serviceAccount' ? client.impersonating(identity.user) : client;
  const discovery = new Discovery(client);
  // The user's own machine and credentials: every transport the controller may be allowed is allowed here.
  const rev = await renderPipeline(
    o.local !== undefined ? { kind: 'local', folder: resolve(o.local) } : { kind: 'git', fetch: { client, cacheDir: o.cacheDir, mutex: new KeyedMutex(), allowInsecure: true, proxyEnv: proxyEnvOf(o.env) } },
    { spec, owner: { namespace, name }, discovery, kustomizePath: o.kustomizePath, signal: o.signal },
  );
  const objects = rev.objects;
  const plan = await planRevision(content, discovery, objects, o.signal, identity);
  const items: DiffItem[] = [];
  let bytes = 0;
  for (const item of plan) {
    if (item.action === 'unchanged') continue;
    const what = describeObject(item.desired);
    if (item.action === 'deferred') { items.push({ action: 'deferred', what, file: item.desired.file, before: '', after: '' }); continue; }
    const [live, desired] = maskSecrets(item.live, item.dryRun);
    const [before, after] = [yaml(live), yaml(desired)];
    bytes += Buffer.byteLength(before) + Buffer.byteLength(after);
    if (o.maxBytes !== undefined && bytes > o.maxBytes) throw new DiffTooLargeError(bytes, items.length + 1);
    items.push({ action: item.action === 'create' ? 'create' : 'update', what, file: item.desired.file, before, after });
  }
  if (spec.prune) {
    for (const ref of staleEntries(gs.status?.inventory, inventoryOf(objects))) {
      const type = await discovery.resourceFor(ref.group, ref.version, ref.kind);
      const live = type ? await content.tryGet(type, ref.namespace, ref.name) : undefined;
      if (pruneVerdict(live, { namespace, name }) !== 'delete') continue;
      items.push({ action: 'prune', what: `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`, file: '', before: '', after: '' });
    }
  }
  return { revision: rev.revision, lastApplied: gs.status?.lastAppliedRevision ?? 'none', as: identity.kind === 'serviceAccount' ? identityName(identity) : 'you', items };
}

export const diffCommand: Command = async (argv, io) => {
  const { values, positionals, help } = parseArgs(FLAGS, argv, io.env);
  if (help) { io.stdout.write(formatHelp(USAGE, FLAGS)); return 0; }
  if (positionals.length !== 1) throw new UsageError('expected one argument <namespace>/<name> naming a GitSync');
  const { namespace, name } = parseTarget(positionals[0]);
  const client = new KubeClient(loadKubeConfig({ kubeconfig: values.get('kubeconfig') as string | undefined, env: io.env }), 'keelson-cli');
  const cacheDir = await mkdtemp(join(tmpdir(), 'keelson-diff-'));
  try {
    const gs = await client.tryGet<GitSyncObject>(GITSYNCS, namespace, name);
    if (!gs) { io.stderr.write(`GitSync ${namespace}/${name} not found\n`); return 2; }
    const diff = await gitSyncDiff(client, gs, {
      controllerNamespace: values.get('controller-namespace') as string, defaultServiceAccount: values.get('default-service-account') as string | undefined,
      kustomizePath: programOnPath(values.get('kustomize-path') as string, io.env.PATH), local: values.get('path') as string | undefined, cacheDir, env: io.env,
    });
    io.stdout.write(`GitSync ${namespace}/${name}: revision ${diff.revision} (last applied: ${diff.lastApplied}), as ${diff.as}\n`);
    for (const item of diff.items) {
      if (item.action === 'deferred') io.stdout.write(`\n~ ${item.what}: would be applied after its CRD or Namespace is created (cannot be dry-run yet)\n`);
      else if (item.action === 'prune') io.stdout.write(`\n- ${item.what}: would be pruned (no longer in Git)\n`);
      else {
        io.stdout.write(`\n${item.action === 'create' ? '+' : '~'} ${item.what} (${item.file})\n`);
        for (const line of lineDiff(item.before, item.after)) io.stdout.write(`  ${line}\n`);
      }
    }
    const changes = diff.items.length;
    io.stdout.write(changes === 0 ? '\nno differences\n' : `\n${changes} object(s) would change\n`);
    return changes === 0 ? 0 : 1;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    io.stderr.write(`keelson diff: ${errorText(err)}\n`);
    return 2;
  } finally {
    client.close();
    await rm(cacheDir, { recursive: true, force: true });
  }
};
