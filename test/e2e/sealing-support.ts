// Helpers shared by the sealing e2e files: install the SealedSecret CRD, load the reference keyring, seal values with
// a certificate, and read status, events and Secrets.

import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import type { KubeClient } from '../../src/kube/client.js';
import { CRDS, EVENTS, NAMESPACES, SEALEDSECRETS, SECRETS } from '../../src/kube/resources.js';
import type { KubeObject } from '../../src/kube/types.js';
import type { SealedSecret, Secret, SyncedCondition } from '../../src/sealing/sealed-secret.js';
import { type Scope, labelFor, scopeAnnotations } from '../../src/sealing/scope.js';
import { encryptValue } from '../../src/sealing/wire.js';
import { eventually } from '../support/wait.js';

export const ROOT = join(import.meta.dirname, '../..');
export const FIX = join(ROOT, 'test/fixtures/sealed-secrets');
export const readFixture = (p: string) => readFileSync(join(FIX, p), 'utf8');

export async function installCrd(client: KubeClient): Promise<void> {
  const crd = parse(readFileSync(join(ROOT, 'manifests/crd-sealedsecrets.yaml'), 'utf8')) as KubeObject;
  await client.create(CRDS, crd);
  await eventually('the SealedSecret CRD to be Established', async () => {
    const c = await client.get(CRDS, undefined, 'sealedsecrets.bitnami.com');
    const conds = (c.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? [];
    return conds.some((x) => x.type === 'Established' && x.status === 'True');
  });
  await eventually('SealedSecrets to be served', async () => { await client.list(SEALEDSECRETS, { limit: 1 }); return true; });
  // A kube-apiserver 1.20 built with Go >= 1.18 and the vendored reflect2 1.0.1 dies on the first custom-resource
  // write; say so instead of failing every test with "socket hang up".
  const probe = { apiVersion: 'bitnami.com/v1alpha1', kind: 'SealedSecret', metadata: { name: 'crd-probe', namespace: 'default' }, spec: { encryptedData: {} } };
  try {
    await client.create(SEALEDSECRETS, probe);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ECONNRESET' || code === 'ECONNREFUSED') {
      throw new Error('kube-apiserver crashed on a custom-resource create: the cached control plane was built without the reflect2 1.0.2 fix; run "npm run control-plane" (it rebuilds a stale cache)');
    }
    throw e;
  }
  await client.delete(SEALEDSECRETS, 'default', 'crd-probe');
}

export async function createNamespace(client: KubeClient, name: string): Promise<void> {
  await client.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }).catch(() => {});
}

/** The reference keyring's two key Secrets, created in `namespace`. */
export async function loadReferenceKeys(client: KubeClient, namespace: string): Promise<void> {
  const list = parseAllDocuments(readFixture('keys/keyring-secrets.yaml'))[0]!.toJS() as { items: KubeObject[] };
  for (const s of list.items) {
    await client.create(SECRETS, { ...s, metadata: { name: s.metadata.name, namespace, labels: s.metadata.labels } });
  }
}

export function certKey(pem: string) {
  return new X509Certificate(pem).publicKey;
}

/** A SealedSecret with these plaintext values sealed for its own name/namespace/scope. */
export function sealed(certPem: string, namespace: string, name: string, values: Record<string, string>, opts: { scope?: Scope; annotations?: Record<string, string>; template?: SealedSecret['spec'] extends infer S ? S extends { template?: infer T } ? T : never : never; sealFor?: { namespace: string; name: string } } = {}): SealedSecret {
  const scope = opts.scope ?? 'strict';
  const label = labelFor(scope, opts.sealFor?.namespace ?? namespace, opts.sealFor?.name ?? name);
  const key = certKey(certPem);
  const encryptedData = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, encryptValue(key, Buffer.from(v), label)]));
  return {
    apiVersion: 'bitnami.com/v1alpha1', kind: 'SealedSecret',
    metadata: { name, namespace, annotations: { ...scopeAnnotations(scope), ...opts.annotations } },
    spec: { encryptedData, template: opts.template ?? { metadata: { labels: { app: name } } } },
  };
}

export async function syncedOf(client: KubeClient, namespace: string, name: string): Promise<{ cond: SyncedCondition | undefined; ss: SealedSecret }> {
  const ss = await client.get<SealedSecret>(SEALEDSECRETS, namespace, name);
  return { cond: ss.status?.conditions?.find((c) => c.type === 'Synced'), ss };
}

/** Waits until Synced has this status for the current generation; returns the condition. */
export async function waitSynced(client: KubeClient, namespace: string, name: string, status: 'True' | 'False', timeoutMs = 30_000): Promise<SyncedCondition> {
  return await eventually(`SealedSecret ${namespace}/${name} Synced=${status}`, async () => {
    const { cond, ss } = await syncedOf(client, namespace, name);
    return cond?.status === status && ss.status?.observedGeneration === ss.metadata.generation ? cond : undefined;
  }, timeoutMs);
}

export async function secretValues(client: KubeClient, namespace: string, name: string): Promise<Record<string, string> | undefined> {
  const s = await client.tryGet<Secret>(SECRETS, namespace, name);
  if (!s) return undefined;
  return Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
}

export async function eventReasons(client: KubeClient, namespace: string, name: string): Promise<{ reason: string; type: string; message: string }[]> {
  const list = await client.list(EVENTS, { namespace, fieldSelector: `involvedObject.name=${name}` });
  return list.items.map((e) => ({ reason: String(e.reason), type: String(e.type), message: String(e.message) }));
}
