// The API resources Keelson touches, and the REST paths for them. Pure.

export interface ResourceType {
  readonly group: string;      // '' for the core group
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
}

const rt = (group: string, version: string, plural: string, kind: string, namespaced = true): ResourceType =>
  Object.freeze({ group, version, plural, kind, namespaced });

export const CONFIGMAPS = rt('', 'v1', 'configmaps', 'ConfigMap');
export const SECRETS = rt('', 'v1', 'secrets', 'Secret');
export const NAMESPACES = rt('', 'v1', 'namespaces', 'Namespace', false);
export const EVENTS = rt('', 'v1', 'events', 'Event');
export const PODS = rt('', 'v1', 'pods', 'Pod');
export const DEPLOYMENTS = rt('apps', 'v1', 'deployments', 'Deployment');
export const STATEFULSETS = rt('apps', 'v1', 'statefulsets', 'StatefulSet');
export const DAEMONSETS = rt('apps', 'v1', 'daemonsets', 'DaemonSet');
export const REPLICASETS = rt('apps', 'v1', 'replicasets', 'ReplicaSet');
export const JOBS = rt('batch', 'v1', 'jobs', 'Job');
/** CronJob is batch/v1 from Kubernetes 1.21; older clusters serve only batch/v1beta1 (reload picks one by discovery). */
export const CRONJOBS = rt('batch', 'v1', 'cronjobs', 'CronJob');
export const CRONJOBS_V1BETA1 = rt('batch', 'v1beta1', 'cronjobs', 'CronJob');
export const ROLLOUTS = rt('argoproj.io', 'v1alpha1', 'rollouts', 'Rollout');
export const LEASES = rt('coordination.k8s.io', 'v1', 'leases', 'Lease');
export const CRDS = rt('apiextensions.k8s.io', 'v1', 'customresourcedefinitions', 'CustomResourceDefinition', false);
export const SEALEDSECRETS = rt('bitnami.com', 'v1alpha1', 'sealedsecrets', 'SealedSecret');
export const GITSYNCS = rt('keelson.dev', 'v1alpha1', 'gitsyncs', 'GitSync');
export const NOTIFIERS = rt('keelson.dev', 'v1alpha1', 'notifiers', 'Notifier');
export const IMAGEPOLICIES = rt('keelson.dev', 'v1alpha1', 'imagepolicies', 'ImagePolicy');

export function apiVersionOf(t: ResourceType): string {
  return t.group === '' ? t.version : `${t.group}/${t.version}`;
}

/** `/api/v1/namespaces/ns/configmaps/name/status` and friends; namespace is ignored for cluster-scoped types. */
export function resourcePath(t: ResourceType, namespace?: string, name?: string, subresource?: string): string {
  let p = t.group === '' ? `/api/${t.version}` : `/apis/${t.group}/${t.version}`;
  if (t.namespaced && namespace) p += `/namespaces/${encodeURIComponent(namespace)}`;
  p += `/${t.plural}`;
  if (name !== undefined) p += `/${encodeURIComponent(name)}`;
  if (subresource !== undefined) p += `/${subresource}`;
  return p;
}

/** The cache key of an object: "namespace/name", or "name" for cluster-scoped ones (client-go's convention). */
export function keyOf(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

export function splitKey(key: string): { namespace: string | undefined; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { namespace: undefined, name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

/** The kind-qualified reference used in log lines, events and errors: "Deployment apps/web". */
export function refOf(kind: string, namespace: string | undefined, name: string): string {
  return `${kind} ${keyOf(namespace, name)}`;
}
