// spec.dependsOn as decisions: what a GitSync's store record keeps about its order (whom it depends on, and whether
// it is Ready at its latest revision), whether a GitSync may apply now, and dependency cycles, reported rather than
// waited on forever. Reads only other GitSyncs' status, from Keelson's cache. Pure.

import type { KubeObject } from '../kube/types.js';
import { SpecError, type DependencyRef, type GitSyncStatus, parseHealthAndOrder } from './spec.js';

export interface OrderRecord {
  /** Keys "namespace/name" of the GitSyncs this one depends on. */
  readonly dependsOn: readonly string[];
  /** Ready=True at its latest revision: what a dependent waits for. */
  readonly ready: boolean;
  /** Why not, in a few words, for a dependent's message. */
  readonly state: string;
}

const keyOf = (r: DependencyRef) => `${r.namespace}/${r.name}`;

/** Whether a GitSync is Ready at its latest revision: applied what it last attempted, at its current generation, and done waiting. */
export function readyAtLatest(status: GitSyncStatus | undefined, generation: number | undefined): { ready: boolean; state: string } {
  const st = status ?? {};
  const ready = st.conditions?.find((c) => c.type === 'Ready');
  if (st.observedGeneration !== generation || (ready?.observedGeneration !== undefined && ready.observedGeneration !== generation)) {
    return { ready: false, state: 'its latest generation is not reconciled yet' };
  }
  if (ready?.status !== 'True') return { ready: false, state: ready ? `Ready=${ready.status} (${ready.reason})` : 'not reconciled yet' };
  if (!st.lastAppliedRevision || st.lastAppliedRevision !== st.lastAttemptedRevision) return { ready: false, state: `revision ${st.lastAttemptedRevision ?? '?'} is not applied yet` };
  if (st.healthCheckStartedAt) return { ready: false, state: 'waiting for its objects to become healthy' };
  return { ready: true, state: `Ready at ${st.lastAppliedRevision}` };
}

/** The order part of a GitSync's store record. A spec that does not parse depends on nothing (it is Stalled anyway). */
export function orderRecord(obj: KubeObject): OrderRecord {
  let dependsOn: string[] = [];
  try {
    dependsOn = parseHealthAndOrder((obj.spec ?? {}) as Record<string, unknown>, obj.metadata.namespace ?? '').dependsOn.map(keyOf);
  } catch (err) {
    if (!(err instanceof SpecError)) throw err;
  }
  return { dependsOn, ...readyAtLatest(obj.status as GitSyncStatus | undefined, obj.metadata.generation) };
}

/**
 * A path start → … → start through dependsOn edges, if start is on a cycle. Iterative depth-first search: each
 * GitSync is expanded once, so the cost is linear in the GitSyncs and edges reachable from start.
 */
export function findCycle(start: string, edges: (key: string) => readonly string[] | undefined): string[] | undefined {
  const visited = new Set<string>();
  const stack: { key: string; next: number; deps: readonly string[] }[] = [{ key: start, next: 0, deps: edges(start) ?? [] }];
  visited.add(start);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.next >= top.deps.length) { stack.pop(); continue; }
    const dep = top.deps[top.next++]!;
    if (dep === start) return [...stack.map((s) => s.key), start];
    if (visited.has(dep)) continue;
    visited.add(dep);
    stack.push({ key: dep, next: 0, deps: edges(dep) ?? [] });
  }
  return undefined;
}

export interface Blocked { readonly message: string; readonly cycle: boolean }

/** Why the GitSync `self` may not apply yet, or undefined when every dependency is Ready at its latest revision. */
export function dependencyBlock(self: { namespace: string; name: string }, dependsOn: readonly DependencyRef[], lookup: (key: string) => OrderRecord | undefined): Blocked | undefined {
  if (dependsOn.length === 0) return undefined;
  const show = (key: string) => (key.startsWith(`${self.namespace}/`) ? key.slice(self.namespace.length + 1) : key);
  const selfKey = `${self.namespace}/${self.name}`;
  // Self's own edges come from the spec just parsed, not the cache, which may lag a spec change.
  const cycle = findCycle(selfKey, (k) => (k === selfKey ? dependsOn.map(keyOf) : lookup(k)?.dependsOn));
  if (cycle) return { message: `dependency cycle: ${cycle.map(show).join(' → ')}; remove one of these dependsOn entries`, cycle: true };
  const waiting: string[] = [];
  for (const d of dependsOn) {
    const r = lookup(keyOf(d));
    if (!r) waiting.push(`dependency ${show(keyOf(d))} not found`);
    else if (!r.ready) waiting.push(`dependency ${show(keyOf(d))} is not Ready at its latest revision: ${r.state}`);
  }
  return waiting.length === 0 ? undefined : { message: waiting.join('; '), cycle: false };
}
