// The live resourceVersions of a GitSync's objects in one metadata-only LIST per kind (per namespace where the
// GitSync's identity may not list cluster-wide), selected by its owner labels: what a no-op resync reads instead of
// a GET per object. A LIST the identity may not make leaves those objects to a GET; nothing here writes. Pages come
// in protobuf where the API server offers it (kube/metadata-list.ts: about half the bytes and no JSON to parse);
// a page over MAX_PAGE_BYTES (metadata a tenant inflated) makes that kind be listed again as streamed JSON.

import { type KubeClient, ResponseTooLargeError } from '../kube/client.js';
import type { ResourceType } from '../kube/resources.js';
import { PARALLEL_REQUESTS, mapLimit } from './apply.js';
import type { ListTarget, LiveVersions } from './applied.js';
import type { Discovery } from './discovery.js';
import { inventoryId } from './render.js';
import { OWNER_NAME_LABEL, OWNER_NAMESPACE_LABEL } from './spec.js';

/** Items per LIST page: metadata only (with managedFields), ~0.3-1 KiB each in protobuf. */
const PAGE = 2000;
/** The most of one protobuf page held at once; past it the kind is listed as streamed JSON instead. */
const MAX_PAGE_BYTES = 4 * 2 ** 20;

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
    const found = (name: string, ns: string | undefined, rv: string | undefined) => {
      if (rv && name) versions.set(inventoryId(scope.type.namespaced ? ns : undefined, name, scope.type.group, scope.kind), rv);
    };
    try {
      let cont: string | undefined;
      let streamed = false;
      do {
        requests++;
        if (!streamed) {
          try {
            const page = await client.listMetadata(scope.type, { namespace, labelSelector, limit: PAGE, continue: cont, signal, maxBytes: MAX_PAGE_BYTES }, (i) => found(i.name, i.namespace, i.resourceVersion));
            cont = page.continue || undefined;
            continue;
          } catch (err) {
            if (!(err instanceof ResponseTooLargeError)) throw err;
            // Metadata inflated past the bound (annotations are a tenant's to fill): this kind is read again from
            // the start, item by item as the JSON streams in, so memory stays at one item.
            streamed = true;
            cont = undefined;
            requests++;
          }
        }
        const page = await client.listEach(scope.type, { namespace, labelSelector, limit: PAGE, continue: cont, metadataOnly: true, signal }, (item) => found(item.metadata.name ?? '', item.metadata.namespace, item.metadata.resourceVersion));
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
