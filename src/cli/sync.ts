// `keelson sync <namespace>/<name>`: asks the controller for an immediate sync by setting the annotation
// keelson.dev/requested-at, then follows the GitSync's status until the controller has handled that request.

import { UsageError, parseArgs, formatHelp, type FlagSpec } from '../config/flags.js';
import { sleep } from '../kube/backoff.js';
import { KubeClient, loadKubeConfig } from '../kube/client.js';
import { GITSYNCS } from '../kube/resources.js';
import { REQUESTED_AT, type GitSyncObject } from '../gitsync/spec.js';
import { readyCondition } from '../gitsync/status.js';
import type { Command } from './io.js';

const FLAGS: readonly FlagSpec[] = [
  { group: 'Flags', name: 'kubeconfig', type: 'string', default: undefined, help: 'kubeconfig file; else in-cluster, else $KUBECONFIG, else ~/.kube/config' },
  { group: 'Flags', name: 'timeout', type: 'duration', default: '2m', help: 'how long to wait for the sync to finish' },
];
const USAGE = 'Usage: keelson sync <namespace>/<name> [flags]\n\nRequests an immediate sync of a GitSync and waits for its result (exit 0 Ready, 1 not).';

export function parseTarget(text: string | undefined): { namespace: string; name: string } {
  const m = /^([a-z0-9][-a-z0-9]*)\/([a-z0-9][-a-z0-9.]*)$/.exec(text ?? '');
  if (!m) throw new UsageError('expected one argument <namespace>/<name> naming a GitSync');
  return { namespace: m[1]!, name: m[2]! };
}

export const syncCommand: Command = async (argv, io) => {
  const { values, positionals, help } = parseArgs(FLAGS, argv, io.env);
  if (help) { io.stdout.write(formatHelp(USAGE, FLAGS)); return 0; }
  if (positionals.length !== 1) throw new UsageError('expected one argument <namespace>/<name> naming a GitSync');
  const { namespace, name } = parseTarget(positionals[0]);
  const client = new KubeClient(loadKubeConfig({ kubeconfig: values.get('kubeconfig') as string | undefined, env: io.env }), 'keelson-cli');
  try {
    const gs = await client.tryGet<GitSyncObject>(GITSYNCS, namespace, name);
    if (!gs) { io.stderr.write(`GitSync ${namespace}/${name} not found\n`); return 1; }
    if ((gs.spec as { suspend?: boolean } | undefined)?.suspend === true) {
      io.stderr.write(`GitSync ${namespace}/${name} is suspended: set spec.suspend to false to sync it\n`);
      return 1;
    }
    const requestedAt = new Date().toISOString();
    await client.patch(GITSYNCS, namespace, name, 'merge', { metadata: { annotations: { [REQUESTED_AT]: requestedAt } } });
    io.stdout.write(`► sync of GitSync ${namespace}/${name} requested (${REQUESTED_AT}: ${requestedAt})\n`);
    const deadline = Date.now() + (values.get('timeout') as number);
    let last = '';
    while (Date.now() < deadline) {
      const cur = await client.get<GitSyncObject>(GITSYNCS, namespace, name);
      const st = cur.status ?? {};
      const reconciling = st.conditions?.find((c) => c.type === 'Reconciling' && c.status === 'True');
      if (reconciling && reconciling.message !== last) { last = reconciling.message; io.stdout.write(`◎ ${reconciling.message}\n`); }
      // Handled, unless still Reconciling: a GitSync with spec.wait reports Ready once its objects are healthy.
      if (st.lastHandledRequestedAt === requestedAt && !reconciling) {
        const ready = readyCondition(st);
        if (ready?.status === 'True') {
          io.stdout.write(`✔ ${ready.message}${st.drifted ? ` (${st.drifted} drifted objects re-applied)` : ''}\n`);
          return 0;
        }
        io.stdout.write(`✗ ${ready?.reason ?? 'NotReady'}: ${ready?.message ?? 'no Ready condition'}\n`);
        return 1;
      }
      await sleep(300);
    }
    io.stderr.write(`timed out waiting for GitSync ${namespace}/${name} to handle the request (is the controller running?)\n`);
    return 1;
  } finally {
    client.close();
  }
};
