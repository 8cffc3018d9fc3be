// Reads the objects a GitSync waits for, with the GitSync's identity (the same client that applied them), and
// judges each with the shared health rules. Many objects of one kind and namespace that this GitSync applied are
// read with one LIST by its owner labels; others one GET each, a few at a time.

import { type KubeClient, isForbidden } from '../kube/client.js';
import { objectHealth } from '../kube/health.js';
import type { ResourceType } from '../kube/resources.js';
import type { KubeObject } from '../kube/types.js';
import { PARALLEL_REQUESTS, apiMessage, mapLimit } from './apply.js';
import type { Discovery } from './discovery.js';
import type { HealthTarget, TargetHealth } from './health-wait.js';
import { type Identity, identityName } from './identity.js';
import { OWNER_NAME_LABEL, OWNER_NAMESPACE_LABEL } from './spec.js';

/** A group of applied objects of one kind and namespace larger than this is read with one LIST. */
const LIST_ABOVE = 4;

export async function readHealth(
  client: KubeClient, discovery: Discovery, targets: readonly HealthTarget[], owner: { namespace: string; name: string }, who: Identity, signal: AbortSignal,
): Promise<TargetHealth[]> {
  const types = new Map<string, ResourceType | undefined>();
  for (const t of targets) {
    const k = `${t.group}/${t.version}/${t.kind}`;
    if (types.has(k)) continue;
    signal.throwIfAborted();
    // A discovery error leaves the kind unknown (progressing) for this look; the wait's deadline still holds.
    types.set(k, await discovery.resourceFor(t.group, t.version, t.kind).catch(() => undefined));
  }
  const typeOf = (t: HealthTarget) => types.get(`${t.group}/${t.version}/${t.kind}`);
  const groups = new Map<string, HealthTarget[]>();
  for (const t of targets) {
    const type = typeOf(t);
    if (!type || !t.applied) continue;
    const k = `${type.group}/${type.plural}/${type.namespaced ? t.namespace ?? '' : ''}`;
    const g = groups.get(k);
    if (g) g.push(t); else groups.set(k, [t]);
  }
  const listed = new Map<HealthTarget, KubeObject | undefined>();
  const selector = `${OWNER_NAME_LABEL}=${owner.name},${OWNER_NAMESPACE_LABEL}=${owner.namespace}`;
  for (const group of groups.values()) {
    if (group.length <= LIST_ABOVE) continue;
    signal.throwIfAborted();
    const type = typeOf(group[0]!)!;
    let items: KubeObject[];
    try {
      items = await client.listAll(type, { namespace: type.namespaced ? group[0]!.namespace : undefined, labelSelector: selector });
    } catch (err) {
      if (signal.aborted) throw err;
      continue; // read one by one below, so each object gets its own message
    }
    const byName = new Map(items.map((o) => [o.metadata.name, o]));
    for (const t of group) listed.set(t, byName.get(t.name));
  }
  return mapLimit(targets, PARALLEL_REQUESTS, async (t): Promise<TargetHealth> => {
    signal.throwIfAborted();
    const type = typeOf(t);
    if (!type) return { target: t, health: { status: 'progressing', detail: `the API server does not serve ${t.group ? `${t.group}/` : ''}${t.version} ${t.kind}` } };
    if (listed.has(t)) return { target: t, health: objectHealth(listed.get(t)) };
    try {
      return { target: t, health: objectHealth(await client.tryGet(type, type.namespaced ? t.namespace : undefined, t.name)) };
    } catch (err) {
      if (isForbidden(err)) return { target: t, health: { status: 'failed', detail: `${identityName(who)} may not read it (${apiMessage(err)}); grant it get on ${type.plural}` } };
      if (signal.aborted) throw err;
      // Any other error (a timeout, a 5xx) is "not known healthy yet": the next look retries, the deadline holds.
      return { target: t, health: { status: 'progressing', detail: `could not read it: ${apiMessage(err)}` } };
    }
  });
}
