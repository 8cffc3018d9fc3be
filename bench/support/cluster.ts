// Cluster-side helpers shared by the benchmarks: namespaces, bulk object creation, the CRDs from manifests/, the
// apiserver's own metrics (for HTTP 429 counts), and a watch that timestamps every roll of a workload.

import { existsSync, readFileSync, readdirSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { type KubeClient, isAlreadyExists, isConflict } from '../../src/kube/client.js';
import { CRDS, DEPLOYMENTS, NAMESPACES } from '../../src/kube/resources.js';
import type { KubeObject } from '../../src/kube/types.js';
import type { ControlPlane } from '../../test/support/control-plane.js';
import { REPO_ROOT } from './controller-process.js';
import { forEachLimit, now } from './pool.js';

export async function ensureNamespace(client: KubeClient, name: string): Promise<void> {
  try {
    await client.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  } catch (e) { if (!isAlreadyExists(e) && !isConflict(e)) throw e; }
}

/** Creates objects with bounded concurrency; returns the wall time in ms. */
export async function createAll(client: KubeClient, type: Parameters<KubeClient['create']>[0], objects: readonly KubeObject[], concurrency = 16): Promise<number> {
  const t0 = now();
  await forEachLimit(objects, concurrency, async (o) => {
    try { await client.create(type, o); } catch (e) { if (!isAlreadyExists(e)) throw e; }
  });
  return now() - t0;
}

/** Applies every manifests/crd-*.yaml of the repository (the features' CRDs) and waits until they are Established. */
export async function applyCrds(client: KubeClient): Promise<string[]> {
  const dir = join(REPO_ROOT, 'manifests');
  if (!existsSync(dir)) return [];
  const names: string[] = [];
  for (const file of readdirSync(dir).filter((f) => /^crd.*\.ya?ml$/.test(f)).sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      const obj = doc.toJS() as KubeObject | null;
      if (!obj || obj.kind !== 'CustomResourceDefinition') continue;
      await client.apply(CRDS, obj, { fieldManager: 'keelson-bench', force: true });
      names.push(obj.metadata.name!);
    }
  }
  for (const name of names) {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const crd = await client.get(CRDS, undefined, name);
      const conds = ((crd.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []);
      if (conds.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > deadline) throw new Error(`CRD ${name} not Established after 30 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return names;
}

/** The apiserver's /metrics text (Prometheus format), read with the admin token. */
export async function apiserverMetrics(cp: ControlPlane): Promise<string> {
  const token = cp.kubeConfig.getCurrentUser()?.token;
  return await new Promise((resolve, reject) => {
    const req = https.get(`${cp.server}/metrics`, { headers: { Authorization: `Bearer ${token}` }, rejectUnauthorized: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/** Sum of apiserver_request_total for one HTTP code (e.g. "429"), over every verb and resource. */
export async function apiserverRequests(cp: ControlPlane, code: string): Promise<number> {
  const text = await apiserverMetrics(cp);
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    if (!line.includes(`code="${code}"`)) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

/** A Deployment with one container that references the given ConfigMap/Secret by envFrom. */
export function deployment(namespace: string, name: string, refs: { configMap?: string; secret?: string }, opts: { replicas?: number; annotations?: Record<string, string> } = {}): KubeObject {
  const envFrom = [
    ...(refs.configMap ? [{ configMapRef: { name: refs.configMap } }] : []),
    ...(refs.secret ? [{ secretRef: { name: refs.secret } }] : []),
  ];
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name, namespace, annotations: opts.annotations ?? {} },
    spec: {
      replicas: opts.replicas ?? 0,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'registry.example/app:1', envFrom }] } },
    },
  };
}

export interface Roll { readonly name: string; readonly at: number; readonly generation: number }

/**
 * Watches the Deployments of one namespace and reports every roll (a new metadata.generation: the pod template
 * changed) with the monotonic time it was seen. Re-watches from the last resourceVersion when the stream closes.
 */
export class RollWatch {
  private readonly generations = new Map<string, number>();
  private readonly listeners = new Set<(r: Roll) => void>();
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  readonly rolls: Roll[] = [];

  constructor(private readonly client: KubeClient, private readonly namespace: string) {}

  async start(): Promise<void> {
    const list = await this.client.list(DEPLOYMENTS, { namespace: this.namespace });
    for (const d of list.items) this.generations.set(d.metadata.name!, d.metadata.generation ?? 0);
    let rv = list.metadata.resourceVersion;
    this.loop = (async () => {
      while (!this.abort.signal.aborted) {
        try {
          await this.client.watch(DEPLOYMENTS, { namespace: this.namespace, resourceVersion: rv, timeoutSeconds: 300, signal: this.abort.signal }, (ev) => {
            const at = now();
            const d = ev.object as KubeObject;
            if (d.metadata.resourceVersion) rv = d.metadata.resourceVersion;
            if (ev.type !== 'ADDED' && ev.type !== 'MODIFIED') return;
            const name = d.metadata.name!;
            const gen = d.metadata.generation ?? 0;
            const before = this.generations.get(name);
            this.generations.set(name, gen);
            if (before !== undefined && gen > before) {
              const roll = { name, at, generation: gen };
              this.rolls.push(roll);
              for (const l of this.listeners) l(roll);
            }
          });
        } catch (e) {
          if (this.abort.signal.aborted) return;
          await new Promise((r) => setTimeout(r, 100));
          void e;
        }
      }
    })();
  }

  /** Resolves with the time of the next roll of `name` after now (rejects after timeoutMs). */
  nextRoll(name: string, timeoutMs = 30_000): Promise<Roll> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.listeners.delete(l); reject(new Error(`no roll of Deployment ${this.namespace}/${name} within ${timeoutMs} ms`)); }, timeoutMs);
      const l = (r: Roll) => { if (r.name === name) { clearTimeout(timer); this.listeners.delete(l); resolve(r); } };
      this.listeners.add(l);
    });
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }
}
