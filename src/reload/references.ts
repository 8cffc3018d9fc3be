// Which ConfigMaps and Secrets a pod template references, and from which containers. Pure: the reload policy asks
// this to decide what can trigger a workload, and the env-vars strategy to know where a variable goes.

import { compareCodePoints } from '../kube/order.js';

export type ConfigKind = 'ConfigMap' | 'Secret';

export interface ConfigRef {
  readonly kind: ConfigKind;
  readonly name: string;
  /** True only when every reference to it is optional (a missing object is then fine for the pod too). */
  readonly optional: boolean;
  /** Regular containers (not initContainers) that use it through env, envFrom or a mounted volume. */
  readonly containers: readonly string[];
}

interface KeyRef { name?: string; optional?: boolean }
interface EnvVar { valueFrom?: { configMapKeyRef?: KeyRef; secretKeyRef?: KeyRef } }
interface EnvFrom { configMapRef?: KeyRef; secretRef?: KeyRef }
interface Container { name?: string; env?: EnvVar[]; envFrom?: EnvFrom[]; volumeMounts?: { name?: string }[] }
interface Projection { configMap?: KeyRef; secret?: KeyRef }
interface Volume { name?: string; configMap?: KeyRef; secret?: KeyRef & { secretName?: string }; projected?: { sources?: Projection[] } }
export interface PodSpecLike { containers?: Container[]; initContainers?: Container[]; volumes?: Volume[] }

/** A stable identity for a config in one namespace: "ConfigMap/name". */
export const configId = (kind: ConfigKind, name: string): string => `${kind}/${name}`;

/**
 * Every ConfigMap and Secret the pod spec references: volumes (configMap, secret, projected sources),
 * env[].valueFrom and envFrom[], in containers and initContainers. Sorted by kind then name.
 */
export function referencedConfigs(spec: PodSpecLike | undefined): ConfigRef[] {
  const found = new Map<string, { kind: ConfigKind; name: string; optional: boolean; containers: Set<string> }>();
  const note = (kind: ConfigKind, ref: KeyRef | undefined, name: string | undefined, container: string | undefined) => {
    if (!name) return;
    const id = configId(kind, name);
    let e = found.get(id);
    if (!e) found.set(id, (e = { kind, name, optional: true, containers: new Set() }));
    if (ref?.optional !== true) e.optional = false;
    if (container !== undefined) e.containers.add(container);
  };
  const volumeRefs = new Map<string, [ConfigKind, KeyRef, string][]>();
  for (const v of spec?.volumes ?? []) {
    const refs: [ConfigKind, KeyRef, string][] = [];
    if (v.configMap?.name) refs.push(['ConfigMap', v.configMap, v.configMap.name]);
    if (v.secret?.secretName) refs.push(['Secret', v.secret, v.secret.secretName]);
    for (const p of v.projected?.sources ?? []) {
      if (p.configMap?.name) refs.push(['ConfigMap', p.configMap, p.configMap.name]);
      if (p.secret?.name) refs.push(['Secret', p.secret, p.secret.name]);
    }
    for (const [kind, ref, name] of refs) note(kind, ref, name, undefined);
    if (v.name) volumeRefs.set(v.name, refs);
  }
  const scan = (c: Container, regular: boolean) => {
    const who = regular ? c.name : undefined;
    for (const e of c.env ?? []) {
      const cm = e.valueFrom?.configMapKeyRef;
      const s = e.valueFrom?.secretKeyRef;
      if (cm) note('ConfigMap', cm, cm.name, who);
      if (s) note('Secret', s, s.name, who);
    }
    for (const e of c.envFrom ?? []) {
      if (e.configMapRef) note('ConfigMap', e.configMapRef, e.configMapRef.name, who);
      if (e.secretRef) note('Secret', e.secretRef, e.secretRef.name, who);
    }
    if (who === undefined) return;
    for (const m of c.volumeMounts ?? []) {
      for (const [kind, ref, name] of volumeRefs.get(m.name ?? '') ?? []) note(kind, ref, name, who);
    }
  };
  for (const c of spec?.initContainers ?? []) scan(c, false);
  for (const c of spec?.containers ?? []) scan(c, true);
  return [...found.values()]
    .map((e) => ({ kind: e.kind, name: e.name, optional: e.optional, containers: [...e.containers].sort() }))
    .sort((a, b) => cmp(a.kind, b.kind) || cmp(a.name, b.name));
}

/** Code-point order, never locale order, so sorting is the same on every machine. */
export const cmp = compareCodePoints;
