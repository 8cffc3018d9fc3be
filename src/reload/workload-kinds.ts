// The workload kinds reload rolls, as one table: where the pod template sits, how a roll is written, whether its
// rollout is followed, and the name --ignored-workload-types uses. The reconciler reads the table instead of
// special-casing kinds; the Job builders (a Job from a CronJob, a Job re-created) are here too. Pure.

import { createHash } from 'node:crypto';
import { parseDuration } from '../config/duration.js';
import type { KubeObject } from '../kube/types.js';

export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'CronJob' | 'Job' | 'Rollout';

/**
 * template: keelson-reload's fields go into the pod template (the workload's controller rolls it).
 * job-from-cronjob: a Job is created from the CronJob's jobTemplate (`kubectl create job --from=cronjob/...`).
 * recreate-job: a new Job with the same spec is created and the old one deleted.
 */
export type RollMode = 'template' | 'job-from-cronjob' | 'recreate-job';

export interface KindSpec {
  readonly kind: WorkloadKind;
  /** The value of --ignored-workload-types that turns it off (Reloader's spelling). */
  readonly ignoreName: string;
  readonly apiVersion: string;
  readonly mode: RollMode;
  /** Path from the object to its pod template. */
  readonly templatePath: readonly string[];
  /** Its rollout is followed to RolloutComplete/RolloutFailed (apps kinds only: the others have no such status). */
  readonly tracked: boolean;
  /** --auto-reload-all applies. Not to Jobs: re-creating one runs it again, so it takes an explicit annotation. */
  readonly autoReloadAll: boolean;
}

const spec = (kind: WorkloadKind, ignoreName: string, apiVersion: string, mode: RollMode, templatePath: readonly string[], tracked: boolean, autoReloadAll = true): KindSpec =>
  Object.freeze({ kind, ignoreName, apiVersion, mode, templatePath, tracked, autoReloadAll });

export const KINDS: Readonly<Record<WorkloadKind, KindSpec>> = Object.freeze({
  Deployment: spec('Deployment', 'deployments', 'apps/v1', 'template', ['spec', 'template'], true),
  StatefulSet: spec('StatefulSet', 'statefulsets', 'apps/v1', 'template', ['spec', 'template'], true),
  DaemonSet: spec('DaemonSet', 'daemonsets', 'apps/v1', 'template', ['spec', 'template'], true),
  CronJob: spec('CronJob', 'cronjobs', 'batch/v1', 'job-from-cronjob', ['spec', 'jobTemplate', 'spec', 'template'], false),
  Job: spec('Job', 'jobs', 'batch/v1', 'recreate-job', ['spec', 'template'], false, false),
  Rollout: spec('Rollout', 'rollouts', 'argoproj.io/v1alpha1', 'template', ['spec', 'template'], false),
});

export const ALL_WORKLOAD_KINDS = Object.keys(KINDS) as WorkloadKind[];
export const IGNORABLE_WORKLOAD_TYPES: readonly string[] = ALL_WORKLOAD_KINDS.map((k) => KINDS[k].ignoreName);

/** The object's pod template, following the kind's path (undefined when a level is missing). */
export function podTemplateOf(kind: WorkloadKind, obj: KubeObject): Record<string, unknown> | undefined {
  let at: unknown = obj;
  for (const k of KINDS[kind].templatePath) at = at && typeof at === 'object' ? (at as Record<string, unknown>)[k] : undefined;
  return at && typeof at === 'object' ? at as Record<string, unknown> : undefined;
}

/** Longest pause-period taken: a tenant's "99999999h" would otherwise overflow the resume date (and mean "never"). */
export const MAX_PAUSE_PERIOD_MS = 7 * 24 * 3600_000;

/** A pause-period annotation value in ms, or undefined when it is not a positive duration of at most 7 days. */
export function parsePausePeriod(value: string): number | undefined {
  const ms = parseDuration(value);
  return ms !== undefined && ms > 0 && ms <= MAX_PAUSE_PERIOD_MS ? ms : undefined;
}

// Job names become the `job-name` label of its pods, so they must stay valid label values: at most 63 characters.
const MAX_JOB_NAME = 63;
const SUFFIX_HEX = 10;

/** `<base>-<10 hex of sha256(seed)>`, the base cut so the whole stays within 63 characters and ends alphanumeric. */
export function derivedJobName(base: string, seed: string): string {
  const hex = createHash('sha256').update(seed).digest('hex').slice(0, SUFFIX_HEX);
  const head = base.slice(0, MAX_JOB_NAME - SUFFIX_HEX - 1).replace(/[-.]+$/, '');
  return `${head}-${hex}`;
}

/** Labels and annotations the Job controller generates; a copied Job must not carry them (the API rejects them). */
const GENERATED_LABELS = new Set(['controller-uid', 'job-name', 'batch.kubernetes.io/controller-uid', 'batch.kubernetes.io/job-name']);
const withoutGenerated = (labels: Record<string, string> | undefined): Record<string, string> | undefined => {
  if (!labels) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) if (!GENERATED_LABELS.has(k)) out[k] = v;
  return out;
};

type Obj = Record<string, unknown>;
const clone = <T>(v: T): T => structuredClone(v);

/** The pod template with `annotations` merged into its metadata and the generated labels removed. */
function template(t: Obj | undefined, annotations: Record<string, string>): Obj {
  const out = clone(t ?? {});
  const meta = (out.metadata ?? {}) as { labels?: Record<string, string>; annotations?: Record<string, string> };
  out.metadata = { ...meta, labels: withoutGenerated(meta.labels), annotations: { ...meta.annotations, ...annotations } };
  return out;
}

export interface NewJob {
  readonly name: string;
  /** Annotations of the new Job's metadata (Keelson's baseline and last-reload). */
  readonly annotations: Record<string, string>;
  /** Annotations of its pod template (the config hash). */
  readonly templateAnnotations: Record<string, string>;
}

/** A Job from a CronJob's jobTemplate, as `kubectl create job --from=cronjob/<name>` makes it, owned by the CronJob. */
export function jobFromCronJob(cronJob: KubeObject, cronJobApiVersion: string, job: NewJob): KubeObject {
  const jt = ((cronJob.spec as Obj | undefined)?.jobTemplate ?? {}) as { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: Obj };
  const jobSpec = clone(jt.spec ?? {});
  jobSpec.template = template(jobSpec.template as Obj | undefined, job.templateAnnotations);
  return {
    apiVersion: 'batch/v1', kind: 'Job',
    metadata: {
      name: job.name, namespace: cronJob.metadata.namespace,
      labels: jt.metadata?.labels ?? {},
      annotations: { ...jt.metadata?.annotations, 'cronjob.kubernetes.io/instantiate': 'manual', ...job.annotations },
      ownerReferences: [{ apiVersion: cronJobApiVersion, kind: 'CronJob', name: cronJob.metadata.name!, uid: cronJob.metadata.uid!, controller: true }],
    },
    spec: jobSpec,
  };
}

/** Written on a re-created Job: the uid of the Job it replaces, and the name the chain of re-creations started from. */
export const RECREATED_FROM = 'keelson.dev/recreated-from';
export const JOB_BASE_NAME = 'keelson.dev/job-name';

/**
 * The same Job again under a new name: the spec minus what the Job controller generated (the selector and its
 * controller-uid labels, unless the user chose the selector with manualSelector), Keelson's annotations replaced.
 */
export function recreatedJob(old: KubeObject, job: NewJob, keelsonKeys: ReadonlySet<string>): KubeObject {
  const s = clone((old.spec ?? {}) as Obj);
  if (s.manualSelector !== true) { delete s.selector; delete s.manualSelector; }
  s.template = template(s.template as Obj | undefined, job.templateAnnotations);
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(old.metadata.annotations ?? {})) if (!keelsonKeys.has(k) && k !== 'kubectl.kubernetes.io/last-applied-configuration') annotations[k] = v;
  return {
    apiVersion: 'batch/v1', kind: 'Job',
    metadata: {
      name: job.name, namespace: old.metadata.namespace,
      labels: withoutGenerated(old.metadata.labels) ?? {},
      annotations: { ...annotations, ...job.annotations, [RECREATED_FROM]: old.metadata.uid ?? '', [JOB_BASE_NAME]: jobBaseName(old) },
      ...(old.metadata.ownerReferences ? { ownerReferences: old.metadata.ownerReferences } : {}),
    },
    spec: s,
  };
}

/** The name a chain of re-creations started from, so names do not grow a suffix per re-creation. */
export const jobBaseName = (job: KubeObject): string => job.metadata.annotations?.[JOB_BASE_NAME] || job.metadata.name!;
