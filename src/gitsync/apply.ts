// Applying a rendered revision: every object is first applied as a server-side dry-run (the whole revision is
// validated before anything is written, and the dry-run result tells whether the live object would change), then
// CRDs and Namespaces are written, CRDs awaited until Established, then the rest. Only objects that differ are
// written, all with server-side apply, field manager keelson-sync, force (Git wins for the fields Git sets). The
// client is the GitSync's identity (identity.ts): a read or dry-run it may not make fails the whole revision.
// Shortcuts (applied.ts) skip the GET and dry-run of objects nothing has touched since the last sync; an object the
// dry-run shows does not exist yet is not read at all.

import { sleep } from '../kube/backoff.js';
import { ApiError, type KubeClient, isForbidden, isNotFound } from '../kube/client.js';
import { CRDS, type ResourceType } from '../kube/resources.js';
import type { KubeObject } from '../kube/types.js';
import type { Discovery } from './discovery.js';
import { differs } from './drift.js';
import { type Identity, forbiddenHint, forbiddenVerb, identityName, isImpersonationRefusal } from './identity.js';
import { type DesiredObject, applyStages, describe } from './render.js';
import { FIELD_MANAGER } from './spec.js';
import { errorText } from '../kube/errors.js';

/**
 * Requests in flight at once while planning and applying a revision (kubectl sends one at a time). 16, not 8: the
 * 200-app kustomize bench's dry-runs went 507 → 391 ms and its applies 566 → 437 ms on a 2-core test control plane
 * (4 was slower still); the API server's own limits (max-requests-inflight, priority and fairness) bound the rest.
 */
export const PARALLEL_REQUESTS = 16;

/**
 * Maps items with at most `limit` calls in flight, keeping the input order in the result. After the first failure
 * nothing new starts, the calls in flight finish, and that first failure is thrown.
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failure: { err: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      const i = next++;
      try { out[i] = await fn(items[i]!); } catch (err) { failure ??= { err }; }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure) throw failure.err;
  return out;
}

export type Action = 'create' | 'update' | 'unchanged' | 'deferred';

export interface PlanItem {
  readonly desired: DesiredObject;
  readonly stage: 'first' | 'rest';
  readonly action: Action;
  readonly live: KubeObject | undefined;
  /** The server's dry-run result (what the object would look like), when it could be computed. */
  readonly dryRun: KubeObject | undefined;
  /**
   * Set when the object was found unchanged without a dry-run (applied.ts): "listed" from a LIST of its kind (no
   * request of its own, live undefined), "get" from a GET showing the recorded resourceVersion.
   */
  readonly shortcut?: 'listed' | 'get';
}

/** Objects that need no dry-run, by inventory id (see applied.ts planShortcuts). */
export interface PlanShortcuts {
  /** Unchanged since the last sync: no request at all. */
  readonly unchanged: ReadonlySet<string>;
  /** Their kind could not be listed: unchanged if a GET shows this resourceVersion, else planned as usual. */
  readonly expected: ReadonlyMap<string, string>;
}

/** The server rejected an object in dry-run: the revision is not applied at all. */
export class ValidationError extends Error {
  override readonly name = 'ValidationError';
}

/** A write failed after validation passed. */
export class ApplyError extends Error {
  override readonly name = 'ApplyError';
}

/** The identity the revision is applied with may not read or write an object of it: nothing is written. */
export class ForbiddenError extends Error {
  override readonly name = 'ForbiddenError';
}

const CONTROLLER: Identity = { kind: 'controller' };

/**
 * The message for a 403 on an object of the revision: the file and object, the identity, the verb, and the fix.
 * A refused impersonation is Keelson's own RBAC, not the ServiceAccount's, and says so.
 */
export function forbiddenMessage(what: string, err: unknown, who: Identity): string {
  const api = apiMessage(err);
  if (who.kind === 'serviceAccount' && isImpersonationRefusal(api)) {
    return `${what}: Keelson may not impersonate ${identityName(who)}: ${api}. Keelson's ClusterRole needs the impersonate verb on serviceaccounts (manifests/clusterrole.yaml)`;
  }
  const verb = forbiddenVerb(api);
  return `${what}: ${identityName(who)} may not ${verb ?? 'access'} it: ${api}. To apply it, ${forbiddenHint(who)}`;
}

/** The API server's message without the request line ("PATCH /apis/...: 422 "). */
export function apiMessage(err: unknown): string {
  if (err instanceof ApiError) return err.message.replace(/^[A-Z]+ \S+: \d{3} /, '');
  return errorText(err);
}

function where(o: DesiredObject): string {
  return `${o.file} (document ${o.doc}): ${describe(o)}`;
}

/**
 * Dry-runs every object. Objects that cannot be dry-run yet are "deferred": their kind comes from a CRD in this
 * revision that is not served yet, or their namespace is created by this revision. Anything else the server
 * refuses fails the whole revision with a ValidationError naming the file and object.
 */
export async function planRevision(client: KubeClient, discovery: Discovery, objects: readonly DesiredObject[], signal?: AbortSignal, who: Identity = CONTROLLER, shortcuts?: PlanShortcuts): Promise<PlanItem[]> {
  const { first, rest } = applyStages(objects);
  const newNamespaces = new Set(first.filter((o) => o.kind === 'Namespace').map((o) => o.object.metadata.name!));
  const items: PlanItem[] = [];
  for (const [stage, list] of [['first', first], ['rest', rest]] as const) {
    items.push(...await mapLimit(list, PARALLEL_REQUESTS, async (desired): Promise<PlanItem> => {
      signal?.throwIfAborted();
      if (shortcuts?.unchanged.has(desired.id)) return { desired, stage, action: 'unchanged', live: undefined, dryRun: undefined, shortcut: 'listed' };
      const type = await discovery.resourceFor(desired.group, desired.version, desired.kind);
      if (!type) return { desired, stage, action: 'deferred', live: undefined, dryRun: undefined };
      const { namespace, name } = desired.object.metadata;
      const getLive = async (): Promise<KubeObject | undefined> => {
        try {
          return await client.tryGet(type, namespace, name!);
        } catch (err) {
          if (isForbidden(err)) throw new ForbiddenError(forbiddenMessage(where(desired), err, who));
          throw err;
        }
      };
      let live: KubeObject | undefined;
      const expected = shortcuts?.expected.get(desired.id);
      if (expected !== undefined) {
        live = await getLive();
        if (live && live.metadata.resourceVersion === expected) return { desired, stage, action: 'unchanged', live, dryRun: undefined, shortcut: 'get' };
      }
      let dryRun: KubeObject;
      try {
        dryRun = await client.apply(type, desired.object, { fieldManager: FIELD_MANAGER, force: true, dryRun: true });
      } catch (err) {
        if (isNotFound(err) && namespace && newNamespaces.has(namespace) && !live) {
          return { desired, stage, action: 'deferred', live: undefined, dryRun: undefined };
        }
        if (isForbidden(err)) throw new ForbiddenError(forbiddenMessage(where(desired), err, who));
        throw new ValidationError(`${where(desired)} was rejected by the API server: ${apiMessage(err)}`);
      }
      // A dry-run that would create the object comes back without a resourceVersion: then there is nothing to GET
      // (a first sync makes two requests per object, not three). One that exists is read to tell an update from no
      // change; if it moved in between, it is at worst re-applied.
      if (expected === undefined && dryRun.metadata.resourceVersion) live = await getLive();
      const action: Action = !live ? 'create' : differs(live, dryRun) ? 'update' : 'unchanged';
      return { desired, stage, action, live, dryRun };
    }));
  }
  return items;
}

export interface ApplyCounts { created: number; configured: number; unchanged: number }

async function waitEstablished(client: KubeClient, name: string, signal?: AbortSignal, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    signal?.throwIfAborted();
    const crd = await client.tryGet(CRDS, undefined, name);
    const conds = (crd?.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? [];
    if (conds.some((c) => c.type === 'Established' && c.status === 'True')) return;
    await sleep(200, signal);
  }
  throw new ApplyError(`CustomResourceDefinition ${name} was not Established within ${timeoutMs / 1000}s`);
}

/**
 * Writes what the plan says, stage by stage. Returns counts; throws ApplyError naming the object on a failure.
 * `onWritten` sees each object as the server returned it (its new resourceVersion is what applied.ts records).
 */
export async function applyPlan(client: KubeClient, discovery: Discovery, items: readonly PlanItem[], signal?: AbortSignal, who: Identity = CONTROLLER, onWritten?: (item: PlanItem, written: KubeObject) => void): Promise<ApplyCounts> {
  const counts: ApplyCounts = { created: 0, configured: 0, unchanged: 0 };
  const write = async (item: PlanItem, type: ResourceType) => {
    signal?.throwIfAborted();
    try {
      const written = await client.apply(type, item.desired.object, { fieldManager: FIELD_MANAGER, force: true });
      onWritten?.(item, written);
    } catch (err) {
      if (isForbidden(err)) throw new ForbiddenError(forbiddenMessage(where(item.desired), err, who));
      throw new ApplyError(`${where(item.desired)} could not be applied: ${apiMessage(err)}`);
    }
  };
  for (const stage of ['first', 'rest'] as const) {
    let crdsWritten = false;
    const isCrd = (i: PlanItem) => i.desired.kind === 'CustomResourceDefinition' && i.desired.group === 'apiextensions.k8s.io';
    const writeOne = async (item: PlanItem) => {
      if (item.action === 'unchanged') { counts.unchanged++; return; }
      const d = item.desired;
      const type = await discovery.resourceFor(d.group, d.version, d.kind);
      if (!type) throw new ApplyError(`${where(d)}: the API server does not serve ${d.object.apiVersion} ${d.kind} (is its CRD installed and Established?)`);
      let existed = item.live !== undefined;
      if (item.action === 'deferred') existed = (await client.tryGet(type, d.object.metadata.namespace, d.object.metadata.name!)) !== undefined;
      await write(item, type);
      if (existed) counts.configured++; else counts.created++;
      if (isCrd(item)) {
        crdsWritten = true;
        await waitEstablished(client, d.object.metadata.name!, signal);
      }
    };
    // CRDs one by one (each is awaited until Established); everything else of the stage in parallel.
    const stageItems = items.filter((i) => i.stage === stage);
    for (const item of stageItems.filter(isCrd)) await writeOne(item);
    await mapLimit(stageItems.filter((i) => !isCrd(i)), PARALLEL_REQUESTS, writeOne);
    if (crdsWritten) discovery.invalidate();
  }
  return counts;
}
