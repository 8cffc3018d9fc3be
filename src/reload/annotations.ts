// The annotation vocabulary of DESIGN §1: what users write (with the stakater/Reloader aliases, Keelson's key
// first) and what Keelson writes. One place, so docs, policy and tests agree.

export const WORKLOAD = {
  auto: ['keelson.dev/auto', 'reloader.stakater.com/auto'],
  configmaps: ['keelson.dev/configmaps', 'configmap.reloader.stakater.com/reload'],
  secrets: ['keelson.dev/secrets', 'secret.reloader.stakater.com/reload'],
  search: ['keelson.dev/search', 'reloader.stakater.com/search'],
  excludeConfigmaps: ['keelson.dev/exclude-configmaps', 'configmaps.exclude.reloader.stakater.com/reload'],
  excludeSecrets: ['keelson.dev/exclude-secrets', 'secrets.exclude.reloader.stakater.com/reload'],
  autoConfigmaps: ['configmap.reloader.stakater.com/auto'],
  autoSecrets: ['secret.reloader.stakater.com/auto'],
  debounce: ['keelson.dev/debounce'],
  /** Deployments: the roll is written paused, and resumed after this long (Reloader's pause-period). */
  pausePeriod: ['keelson.dev/pause-period', 'deployment.reloader.stakater.com/pause-period'],
  /** Argo Rollouts: "restart" sets spec.restartAt instead of changing the pod template. */
  rolloutStrategy: ['keelson.dev/rollout-strategy', 'reloader.stakater.com/rollout-strategy'],
} as const;

export const CONFIG = {
  ignore: ['keelson.dev/ignore', 'reloader.stakater.com/ignore'],
  match: ['keelson.dev/match', 'reloader.stakater.com/match'],
} as const;

/** Written by Keelson. */
export const CONFIG_HASH = 'keelson.dev/config-hash';
export const LAST_RELOAD = 'keelson.dev/last-reload';
export const OBSERVED = 'keelson.dev/observed';
/** When a Deployment rolled with a pause-period is resumed (RFC 3339): kept on the Deployment so a restart resumes it. */
export const PAUSED_UNTIL = 'keelson.dev/paused-until';

/** The field manager of every reload write; Git appliers use their own, so neither strips the other's fields. */
export const FIELD_MANAGER = 'keelson-reload';

const TRIGGER_KEYS: readonly string[] = [
  ...WORKLOAD.auto, ...WORKLOAD.configmaps, ...WORKLOAD.secrets, ...WORKLOAD.search, ...WORKLOAD.autoConfigmaps, ...WORKLOAD.autoSecrets,
];
const WORKLOAD_KEYS = new Set<string>([...Object.values(WORKLOAD).flat(), CONFIG_HASH, LAST_RELOAD, OBSERVED, PAUSED_UNTIL]);
/** The annotations only Keelson writes on a workload (a re-created Job gets fresh ones). */
export const WRITTEN_KEYS: ReadonlySet<string> = new Set([CONFIG_HASH, LAST_RELOAD, OBSERVED, PAUSED_UNTIL]);
const CONFIG_KEYS = new Set<string>(Object.values(CONFIG).flat());

/** True when an annotation map says anything about triggers (Reloader reads pod-template annotations otherwise). */
export function hasTriggerAnnotation(annotations: Readonly<Record<string, string>> | undefined): boolean {
  return !!annotations && TRIGGER_KEYS.some((k) => k in annotations);
}

/** The annotations a workload record keeps: only the ones reload decisions read. */
export function workloadAnnotationsThatMatter(annotations: Readonly<Record<string, string>> | undefined): Record<string, string> {
  return pick(annotations, (k) => WORKLOAD_KEYS.has(k));
}

export function configAnnotationsThatMatter(annotations: Readonly<Record<string, string>> | undefined): Record<string, string> {
  return pick(annotations, (k) => CONFIG_KEYS.has(k));
}

function pick(annotations: Readonly<Record<string, string>> | undefined, keep: (k: string) => boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(annotations ?? {})) if (keep(k)) out[k] = v;
  return out;
}

/** The first alias present, Keelson's key winning over Reloader's. */
export function firstOf(annotations: Readonly<Record<string, string>>, keys: readonly string[]): [string, string] | undefined {
  for (const k of keys) { const v = annotations[k]; if (v !== undefined) return [k, v]; }
  return undefined;
}
