// The Git commit behind a roll: when the ConfigMap that triggered it was applied by a GitSync (its owner labels say
// which), the notification carries that GitSync and the revision it is applying or last applied. Read at delivery time, off the
// reconcile path; any failure leaves the notification as it was. Secrets are not read (their data would come too).

import type { KubeClient } from '../kube/client.js';
import { CONFIGMAPS, GITSYNCS } from '../kube/resources.js';
import { OWNER_NAME_LABEL, OWNER_NAMESPACE_LABEL } from '../gitsync/spec.js';
import type { Notification } from './payload.js';

const REVISION = /^[A-Za-z0-9._/-]{0,255}@?sha1:([0-9a-f]{40})$/;

export async function withGitOrigin(client: KubeClient, n: Notification): Promise<Notification> {
  if (n.commit || !n.trigger?.startsWith('ConfigMap ')) return n;
  const ref = n.trigger.slice('ConfigMap '.length);
  const ns = ref.slice(0, ref.indexOf('/'));
  const name = ref.slice(ref.indexOf('/') + 1);
  try {
    const cm = await client.tryGet(CONFIGMAPS, ns, name);
    const gsName = cm?.metadata.labels?.[OWNER_NAME_LABEL];
    const gsNamespace = cm?.metadata.labels?.[OWNER_NAMESPACE_LABEL];
    if (!gsName || !gsNamespace) return n;
    const gs = await client.tryGet(GITSYNCS, gsNamespace, gsName);
    // While a revision is being applied (Reconciling True, written before the first object changes) the config
    // changed because of lastAttemptedRevision; otherwise because of the last one applied.
    const st = gs?.status as { lastAppliedRevision?: unknown; lastAttemptedRevision?: unknown; conditions?: { type?: unknown; status?: unknown }[] } | undefined;
    const applying = st?.conditions?.some((c) => c.type === 'Reconciling' && c.status === 'True');
    const revision = applying ? st?.lastAttemptedRevision : st?.lastAppliedRevision;
    const m = typeof revision === 'string' ? REVISION.exec(revision) : null;
    return m ? { ...n, gitSync: `${gsNamespace}/${gsName}`, revision: revision as string, commit: m[1] } : n;
  } catch {
    return n;
  }
}
