// The live resourceVersions of a GitSync's objects in one metadata-only LIST per kind (per namespace where the
// GitSync's identity may not list cluster-wide), selected by its owner labels: what a no-op resync reads instead of
// a GET per object. A LIST the identity may not make leaves those objects to a GET; nothing here writes.

import type { KubeClient } from '../kube/client.js';
import type { ResourceType } from '../kube/resources.js';
import { PARALLEL_REQUESTS, mapLimit } from './apply.js';
import type { ListTarget, LiveVersions } from './applied.js';
import type { Discovery } from './discovery.js';
import { inventoryId } from './render.js';
import { OWNER_NAME_LABEL, OWNER_NAMESPACE_LABEL } from './spec.js';

/** Items per LIST page: metadata only (with managedFields), ~1 KiB each. */
const PAGE = 2000;

interface Scope { readonly type: ResourceType; readonly kind: string; readonly namespaces: Set<string> }

/** The label selector of the objects a GitSync applied. */
export function ownerSelector(owner: { namespace: string; name: string }): string {
  return `${OWNER_NAMESPACE_LABEL}=${owner.namespace},${OWNER_NAME_LABEL}=${owner.name}`;
}

/**
 * Lists each kind of `targets` once: cluster-scoped kinds and namespaced kinds spread over several namespaces
 * cluster-wide, falling back to one LIST per namespace when that fails (a tenant's ServiceAccount often may list
 * only its own namespaces); a kind in one namespace in that namespace. Kinds the API server does not serve, and
 * LISTs that fail, are reported as not listed. Counts the requests made, for logs and tests.
 */
export async function listLiveVersions(client: KubeClient, discovery: Discovery, targets: readonly ListTarget[], owner: { namespace: string; name: string }, signal?: AbortSignal): Promise<LiveVersions & { requests: number }> {
  const scopes = new Map<string, Scope>();
  for (const t of targets) {
    const type = await discovery.resourceFor(t.group, t.version, t.kind);
    if (!type) continue;
    const key = `${type.group}/${type.plural}`;
    let scope = scopes.get(key);
    if (!scope) scopes.set(key, scope = { type, kind: t.kind, namespaces: new Set() });
    if (type.namespaced && t.namespace) scope.namespaces.add(t.namespace);
  }
  const versions = new Map<string, string>();
  const listed = new Set<string>(); // `${group}/${kind}/${namespace}` or `${group}/${kind}/*`
  let requests = 0;
  const labelSelector = ownerSelector(owner);
  const list = async (scope: Scope, namespace: string | undefined): Promise<boolean> => {
    signal?.throwIfAborted();
    try {
      let cont: string | undefined;
      do {
        requests++;
        // Item by item as the page streams in: each parsed item is garbage at once, rather than a whole page of
        // metadata (managedFields included) living long enough to be promoted to the old generation.
        const page = await client.listEach(scope.type, { namespace, labelSelector, limit: PAGE, continue: cont, metadataOnly: true, signal }, (item) => {
          const rv = item.metadata.resourceVersion;
          if (rv && item.metadata.name) versions.set(inventoryId(scope.type.namespaced ? item.metadata.namespace : undefined, item.metadata.name, scope.type.group, scope.kind), rv);
        });
        cont = page.metadata.continue || undefined;
      } while (cont);
      listed.add(`${scope.type.group}/${scope.kind}/${namespace ?? '*'}`);
      return true;
    } catch {
      signal?.throwIfAborted();
      // Forbidden (a tenant's ServiceAccount), or any other failure: these objects are checked one by one.
      return false;
    }
  };
  await mapLimit([...scopes.values()], PARALLEL_REQUESTS, async (scope) => {
    const namespaces = [...scope.namespaces];
    if (scope.type.namespaced && namespaces.length === 1) await list(scope, namespaces[0]);
    else if (!(await list(scope, undefined)) && scope.type.namespaced) for (const ns of namespaces) await list(scope, ns);
  });
  return {
    versions,
    requests,
    listed: (t) => listed.has(`${t.group}/${t.kind}/*`) || (t.namespace !== undefined && listed.has(`${t.group}/${t.kind}/${t.namespace}`)),
  };
}
