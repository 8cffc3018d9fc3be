// `keelson diff <namespace>/<name>`: what a sync of the GitSync would change now, from the revision its ref points
// at, computed by the API server as a server-side dry-run; Secret values masked. Exit 0 no difference, 1 a
// difference, 2 an error (like `argocd app diff`).

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { UsageError, parseArgs, formatHelp, type FlagSpec } from '../config/flags.js';
import { planRevision } from '../gitsync/apply.js';
import { Discovery } from '../gitsync/discovery.js';
import { comparable } from '../gitsync/drift.js';
import { KeyedMutex } from '../gitsync/git.js';
import { inventoryOf, pruneVerdict, staleEntries } from '../gitsync/prune.js';
import { describe as describeObject } from '../gitsync/render.js';
import { fetchRevision, renderRevision } from '../gitsync/source.js';
import { type GitSyncObject, parseSpec } from '../gitsync/spec.js';
import { lineDiff, maskSecrets } from '../gitsync/textdiff.js';
import { KubeClient, loadKubeConfig } from '../kube/client.js';
import { GITSYNCS } from '../kube/resources.js';
import type { KubeObject } from '../kube/types.js';
import type { Command } from './io.js';
import { parseTarget } from './sync.js';

const FLAGS: readonly FlagSpec[] = [
  { group: 'Flags', name: 'kubeconfig', type: 'string', default: undefined, help: 'kubeconfig file; else in-cluster, else $KUBECONFIG, else ~/.kube/config' },
];
const USAGE = 'Usage: keelson diff <namespace>/<name> [flags]\n\nShows what a sync of the GitSync would change (server-side dry-run). Exit 0 no diff, 1 diff, 2 error.';

const yaml = (o: KubeObject | undefined) => (o ? stringify(comparable(o), { sortMapEntries: true }) : '');

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
    const spec = parseSpec(gs);
    const discovery = new Discovery(client);
    // The user's own machine and credentials: every transport the controller may be allowed is allowed here.
    const rev = await fetchRevision({ client, namespace, name, spec, cacheDir, mutex: new KeyedMutex(), allowInsecure: true });
    const objects = await renderRevision(rev.files, spec, { namespace, name }, discovery);
    const plan = await planRevision(client, discovery, objects);
    io.stdout.write(`GitSync ${namespace}/${name}: revision ${rev.revision} (last applied: ${gs.status?.lastAppliedRevision ?? 'none'})\n`);
    let changes = 0;
    for (const item of plan) {
      const what = describeObject(item.desired);
      if (item.action === 'unchanged') continue;
      changes++;
      if (item.action === 'deferred') { io.stdout.write(`\n~ ${what}: would be applied after its CRD or Namespace is created (cannot be dry-run yet)\n`); continue; }
      const [live, desired] = maskSecrets(item.live, item.dryRun);
      io.stdout.write(`\n${item.action === 'create' ? '+' : '~'} ${what} (${item.desired.file})\n`);
      for (const line of lineDiff(yaml(live), yaml(desired))) io.stdout.write(`  ${line}\n`);
    }
    if (spec.prune) {
      for (const ref of staleEntries(gs.status?.inventory, inventoryOf(objects))) {
        const type = await discovery.resourceFor(ref.group, ref.version, ref.kind);
        const live = type ? await client.tryGet(type, ref.namespace, ref.name) : undefined;
        if (pruneVerdict(live, { namespace, name }) !== 'delete') continue;
        changes++;
        io.stdout.write(`\n- ${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}: would be pruned (no longer in Git)\n`);
      }
    }
    io.stdout.write(changes === 0 ? '\nno differences\n' : `\n${changes} object(s) would change\n`);
    return changes === 0 ? 0 : 1;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    io.stderr.write(`keelson diff: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  } finally {
    client.close();
    await rm(cacheDir, { recursive: true, force: true });
  }
};
