// How the Job kinds roll, both crash-safe by deterministic names: a CronJob by a Job created from its jobTemplate, a
// Job by being re-created under a name derived from it. Called by the reconciler (reloader.ts) once decide() said
// roll; the Job builders themselves are pure, in workload-kinds.ts.

import { ApiError, type KubeClient, isAlreadyExists } from '../kube/client.js';
import type { InvolvedObject } from '../kube/events.js';
import { JOBS, type ResourceType } from '../kube/resources.js';
import type { KubeObject } from '../kube/types.js';
import { CONFIG_HASH, LAST_RELOAD, OBSERVED, WRITTEN_KEYS } from './annotations.js';
import { type LastReload, applyBody, parseLastReload } from './apply-body.js';
import { type Decision, formatObserved } from './decide.js';
import type { WorkloadRecord } from './records.js';
import { involvedWorkload } from './rollout-tracker.js';
import { RECREATED_FROM, derivedJobName, jobBaseName, jobFromCronJob, recreatedJob } from './workload-kinds.js';

export interface JobRollDeps {
  readonly client: KubeClient;
  /** The CronJob resource as served (batch/v1 or v1beta1). */
  readonly cronJobs: ResourceType;
  /** keelson-reload's guarded server-side apply of the workload (checks the leader Lease at the last moment). */
  readonly write: (w: WorkloadRecord, body: Record<string, unknown>) => Promise<KubeObject>;
}

/** A roll done: the generation to follow (0: nothing to follow), how, and the object the Reloaded event is about. */
export interface RollDone { readonly generation: number; readonly how: string; readonly involved: InvolvedObject }

/**
 * CronJob: a Job from its jobTemplate. The name comes from the CronJob's uid, the roll's sequence number and the
 * config hash, so a restart (the baseline not yet written) or a second replica creates the same name, and the
 * second create meets AlreadyExists: it is done. Then the baseline (with the next sequence number) is written.
 */
export async function rollCronJob(deps: JobRollDeps, w: WorkloadRecord, d: Extract<Decision, { action: 'roll' }>, base: LastReload): Promise<RollDone> {
  const { client } = deps;
  const cronJob = await client.get<KubeObject>(deps.cronJobs, w.namespace, w.name);
  if (cronJob.metadata.uid !== w.uid) throw new ApiError(409, 'Conflict', `CronJob ${w.namespace}/${w.name} was replaced`);
  const seq = (parseLastReload(w.annotations[LAST_RELOAD])?.seq ?? 0) + 1;
  const name = derivedJobName(w.name, `${w.uid}/${seq}/${d.observed.hash}`);
  const job = jobFromCronJob(cronJob, w.apiVersion, { name, annotations: {}, templateAnnotations: { [CONFIG_HASH]: d.observed.hash } });
  const created = await createOrAdopt(client, job, w.namespace, name, (j) => !!j.metadata.ownerReferences?.some((o) => o.uid === w.uid),
    `cannot create Job ${w.namespace}/${name} from CronJob ${w.namespace}/${w.name}: a Job of that name not owned by it exists`);
  await deps.write(w, applyBody(w, { observed: d.observed, roll: { lastReload: { ...base, generation: undefined, seq, job: name } } }));
  return { generation: 0, how: `created Job ${w.namespace}/${name} (uid ${created.metadata.uid ?? '?'})`, involved: involvedWorkload(w) };
}

/** Creates the Job, or takes the one an earlier attempt (before a crash) left under the same derived name, if `ours`
 * says it is that one: the derived name makes the create idempotent. */
async function createOrAdopt(client: JobRollDeps['client'], job: KubeObject, namespace: string, name: string, ours: (existing: KubeObject) => boolean, refusal: string): Promise<KubeObject> {
  try {
    return await client.create<KubeObject>(JOBS, job);
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
    const existing = await client.get<KubeObject>(JOBS, namespace, name);
    if (!ours(existing)) throw new Error(refusal);
    return existing;
  }
}

/**
 * Job: re-created under a name derived from the old Job's uid and the config hash, created FIRST and the old
 * Job deleted after (uid precondition, Background propagation). A crash between the two leaves both: the next
 * reconcile of the old Job derives the same name, meets AlreadyExists and deletes the old Job. The reverse order
 * (delete, then create under the same name) would lose the Job to a crash in between.
 */
export async function rollJob(deps: JobRollDeps, w: WorkloadRecord, d: Extract<Decision, { action: 'roll' }>, base: LastReload): Promise<RollDone> {
  const { client } = deps;
  const old = await client.get<KubeObject>(JOBS, w.namespace, w.name);
  if (old.metadata.uid !== w.uid || old.metadata.deletionTimestamp) throw new ApiError(409, 'Conflict', `Job ${w.namespace}/${w.name} changed`);
  const name = derivedJobName(jobBaseName(old), `${w.uid}/${d.observed.hash}`);
  const lastReload = { ...base, generation: undefined };
  const annotations = { [OBSERVED]: formatObserved(d.observed), [LAST_RELOAD]: JSON.stringify(lastReload) };
  const job = recreatedJob(old, { name, annotations, templateAnnotations: { [CONFIG_HASH]: d.observed.hash } }, WRITTEN_KEYS);
  const created = await createOrAdopt(client, job, w.namespace, name, (j) => j.metadata.annotations?.[RECREATED_FROM] === w.uid,
    `cannot re-create Job ${w.namespace}/${w.name} as ${name}: a Job of that name not made from it exists`);
  await client.delete(JOBS, w.namespace, w.name, { propagationPolicy: 'Background', uid: w.uid });
  return {
    generation: 0, how: `re-created as Job ${w.namespace}/${name} (the old Job is deleted)`,
    involved: { apiVersion: 'batch/v1', kind: 'Job', namespace: w.namespace, name, uid: created.metadata.uid ?? '' },
  };
}

