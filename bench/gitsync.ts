// Benchmark 5 — Git sync of a 1,000-object repository (file://, ConfigMaps, Secrets and Deployments in nested
// folders and multi-document files): the first sync and a no-op resync against `kubectl apply --server-side -R -f`
// on the same tree; then commit → applied latency with 1 s polling and with the signed webhook; then the first sync
// of a kustomize repository (a base and an overlay for 200 apps) against `kustomize build | kubectl apply`.
// KEELSON_BENCH_GITSYNC=kustomize runs only the kustomize case (profiling it), leaving the other figures out.

import { execFile, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import type { KubeClient } from '../src/kube/client.js';
import { CONFIGMAPS, GITSYNCS, type ResourceType, SECRETS } from '../src/kube/resources.js';
import type { KubeObject } from '../src/kube/types.js';
import { findBinary } from '../test/support/binaries.js';
import { kustomizeBinary } from '../test/support/kustomize.js';
import type { Benchmark } from './support/bench.js';
import { settle } from './support/bench.js';
import { apiserverMetrics, deployment, ensureNamespace } from './support/cluster.js';
import { delay, now, pad, range } from './support/pool.js';
import { atMost, ratio } from './support/report.js';
import { round, summarize } from './support/stats.js';

const run = promisify(execFile);
const NS = 'gitsync-bench';
const TARGET = 'gitsync-keelson';
const KUBECTL_NS = 'gitsync-kubectl';
const NAME = 'repo';
const KUST_NAME = 'overlay';
const KUST_TARGET = 'kustomize-keelson';
const KUST_KUBECTL_NS = 'kustomize-kubectl';
const SERVICE_ACCOUNT = 'gitsync';
const SERVICEACCOUNTS: ResourceType = { group: '', version: 'v1', plural: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true };
const ROLES: ResourceType = { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'roles', kind: 'Role', namespaced: true };
const ROLEBINDINGS: ResourceType = { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'rolebindings', kind: 'RoleBinding', namespaced: true };
const WEBHOOK_TOKEN = 'bench-webhook-token';
const GIT_ENV = { ...process.env, GIT_AUTHOR_NAME: 'bench', GIT_AUTHOR_EMAIL: 'bench@keelson.invalid', GIT_COMMITTER_NAME: 'bench', GIT_COMMITTER_EMAIL: 'bench@keelson.invalid' };

const git = (repo: string, ...args: string[]) => run('git', ['-c', 'commit.gpgsign=false', ...args], { cwd: repo, env: GIT_ENV });

/** kubectl from the control-plane cache (same version as the server), else from PATH. */
export function kubectlPath(): { path: string; fromCache: boolean } {
  const cached = findBinary('kubectl');
  return cached ? { path: cached, fromCache: true } : { path: 'kubectl', fromCache: false };
}

/**
 * Writes the tree: per app a folder with a ConfigMap, a Secret and a Deployment (one object per file), and the
 * rest as ConfigMaps in multi-document files of 20. Objects name no namespace, so the same tree lands in any.
 */
function writeTree(root: string, objects: number): void {
  const apps = Math.floor(objects / 5);
  for (const i of range(apps)) {
    const dir = join(root, 'apps', `app-${pad(i, 4)}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'configmap.yaml'), stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `app-${pad(i, 4)}` }, data: { 'app.properties': `index=${i}\nlevel=info\n` } }));
    writeFileSync(join(dir, 'secret.yaml'), stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: `app-${pad(i, 4)}` }, type: 'Opaque', stringData: { password: `not-a-real-password-${i}` } }));
    const d = deployment('x', `app-${pad(i, 4)}`, { configMap: `app-${pad(i, 4)}`, secret: `app-${pad(i, 4)}` });
    delete d.metadata.namespace;
    writeFileSync(join(dir, 'deployment.yaml'), stringify(d));
  }
  const rest = objects - apps * 3 - 1;
  mkdirSync(join(root, 'config'), { recursive: true });
  writeProbe(root, 'initial');
  for (let f = 0; f * 20 < rest; f++) {
    const docs = range(Math.min(20, rest - f * 20)).map((j) => {
      const i = f * 20 + j;
      return stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `shared-${pad(i, 4)}` }, data: { value: `v${i}` } });
    });
    writeFileSync(join(root, 'config', `shared-${pad(f, 3)}.yaml`), docs.join('---\n'));
  }
}

const PROBE = 'probe';

/** The one object the latency samples change: a ConfigMap alone in config/probe.yaml. */
function writeProbe(root: string, value: string): void {
  writeFileSync(join(root, 'config', 'probe.yaml'), stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: PROBE }, data: { value } }));
}

/**
 * A kustomize repository as platform teams keep one: base/ with one folder per app (a Deployment, a headless
 * Service, a configMapGenerator ConfigMap whose hash-suffixed name the Deployment references) and overlay/ taking
 * the base with an image tag, a strategic-merge patch on every Deployment and a common label. Headless Services:
 * the test control plane's service range (/24) has no room for 400 cluster IPs. Ports name their protocol: server-side
 * apply in 1.20 refuses a port without one.
 */
export function writeKustomizeTree(root: string, apps: number): void {
  const names = range(apps).map((i) => `app-${pad(i, 4)}`);
  for (const name of names) {
    const dir = join(root, 'base', name);
    mkdirSync(dir, { recursive: true });
    const d = deployment('x', name, { configMap: name });
    delete d.metadata.namespace;
    writeFileSync(join(dir, 'deployment.yaml'), stringify(d));
    writeFileSync(join(dir, 'service.yaml'), stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { clusterIP: 'None', selector: { app: name }, ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] } }));
    writeFileSync(join(dir, 'kustomization.yaml'), stringify({
      apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: ['deployment.yaml', 'service.yaml'],
      configMapGenerator: [{ name, literals: ['LEVEL=info', `APP=${name}`] }],
    }));
  }
  writeFileSync(join(root, 'base', 'kustomization.yaml'), stringify({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: names }));
  mkdirSync(join(root, 'overlay'), { recursive: true });
  writeFileSync(join(root, 'overlay', 'kustomization.yaml'), stringify({
    apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: ['../base'],
    labels: [{ pairs: { environment: 'bench' } }],
    images: [{ name: 'registry.example/app', newTag: '2' }],
    patches: [{ target: { kind: 'Deployment' }, patch: stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'any' }, spec: { revisionHistoryLimit: 3 } }) }],
  }));
}

/** `kustomize build <dir> | kubectl apply --server-side -n <ns> -f -` as two processes and a pipe; ms to both exiting. */
async function kustomizeApply(kustomize: string, kubectl: string, kubeconfig: string, dir: string, namespace: string): Promise<number> {
  const t0 = now();
  const build = spawn(kustomize, ['build', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  const apply = spawn(kubectl, ['--kubeconfig', kubeconfig, 'apply', '--server-side', '--field-manager', 'kubectl-bench', '-n', namespace, '-f', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
  build.stdout.pipe(apply.stdin);
  const exit = (p: ReturnType<typeof spawn>, what: string) => new Promise<void>((resolve, reject) => {
    let err = '';
    p.stderr?.on('data', (c: Buffer) => { err = (err + c.toString('utf8')).slice(-2000); });
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${what} exited ${code}: ${err}`))));
  });
  await Promise.all([exit(build, 'kustomize build'), exit(apply, 'kubectl apply')]);
  return now() - t0;
}

/** The kinds the repositories hold: requests on them are the sync's own work (Keelson's GitSync reads are not counted). */
const CONTENT_RESOURCES = ['configmaps', 'secrets', 'services', 'deployments'];

/**
 * apiserver_request_total summed over the content kinds, every verb (dry-runs included): counted before and after a
 * phase, the difference is what that phase asked of the API server, a figure the machine's load does not change.
 */
async function contentRequests(cp: Parameters<typeof apiserverMetrics>[0]): Promise<number> {
  let total = 0;
  for (const line of (await apiserverMetrics(cp)).split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const resource = /resource="([^"]*)"/.exec(line)?.[1];
    if (resource && CONTENT_RESOURCES.includes(resource) && !line.includes('verb="WATCH"')) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

/** Resolves when ConfigMap ns/name has data.value === value, with the monotonic time it was seen. */
async function waitForValue(client: KubeClient, namespace: string, name: string, value: string, timeoutMs: number): Promise<number> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    for (;;) {
      const cm = await client.get(CONFIGMAPS, namespace, name);
      if ((cm.data as Record<string, string> | undefined)?.value === value) return now();
      let seen: number | undefined;
      await client.watch(CONFIGMAPS, { namespace, fieldSelector: `metadata.name=${name}`, resourceVersion: cm.metadata.resourceVersion, timeoutSeconds: Math.ceil(timeoutMs / 1000), signal: abort.signal }, (ev) => {
        const o = ev.object as KubeObject & { data?: Record<string, string> };
        if (seen === undefined && o.data?.value === value) { seen = now(); abort.abort(); }
      }).catch((e: unknown) => { if (seen === undefined) throw e; });
      if (seen !== undefined) return seen;
      if (abort.signal.aborted) throw new Error(`ConfigMap ${namespace}/${name} never got value ${value} within ${timeoutMs} ms`);
    }
  } finally { clearTimeout(timer); }
}

/**
 * Resolves when GitSync NS/name satisfies `ok`, with the monotonic time a watch saw it. A watch, not polling: a GET
 * of a GitSync with a 1,000-entry inventory every 25 ms loaded the API server during the very window it measured,
 * and added up to 25 ms to a no-op resync of well under 100 ms. Given `from` (the object a PATCH just returned),
 * the watch starts from it without a first GET: that GET alone costs the API server about 10 ms of CPU, spent
 * while the sync being timed runs (`npm run bench` on 2 cores).
 */
async function waitForStatus(client: KubeClient, what: string, ok: (o: KubeObject & { status?: Record<string, unknown> }) => boolean, timeoutMs: number, name = NAME, from?: KubeObject): Promise<number> {
  type GitSync = KubeObject & { status?: Record<string, unknown> };
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  let last: GitSync | undefined;
  let start = from as GitSync | undefined;
  try {
    for (;;) {
      const o = start ?? await client.get(GITSYNCS, NS, name) as GitSync;
      start = undefined;
      last = o;
      if (ok(o)) return now();
      let seen: number | undefined;
      await client.watch<GitSync>(GITSYNCS, { namespace: NS, fieldSelector: `metadata.name=${name}`, resourceVersion: o.metadata.resourceVersion, timeoutSeconds: Math.ceil(timeoutMs / 1000), signal: abort.signal }, (ev) => {
        if (ev.type === 'BOOKMARK') return;
        last = ev.object;
        if (seen === undefined && ok(ev.object)) { seen = now(); abort.abort(); }
      }).catch((e: unknown) => { if (seen === undefined && !abort.signal.aborted) throw e; });
      if (seen !== undefined) return seen;
      if (abort.signal.aborted) throw new Error(`GitSync ${NS}/${name}: ${what} not reached within ${timeoutMs} ms; status: ${JSON.stringify(last?.status?.conditions ?? [])}`);
    }
  } finally { clearTimeout(timer); }
}

export const gitsync: Benchmark = {
  name: 'gitsync',
  title: 'Git sync: 1,000-object repository vs kubectl apply --server-side',
  async run(ctx) {
    const objects = ctx.smoke ? 25 : 1000;
    // 15 no-op runs each side: one takes ~60 ms against kubectl's ~1.6 s, and about one in three meets a stall of
    // the API server (Go's GC was 30% of its CPU in a profile of these writes), so a median of 5 swung by half.
    const noopRuns = ctx.smoke ? 5 : 15;
    const latencySamples = ctx.smoke ? 2 : 5;
    const kustomizeApps = ctx.smoke ? 5 : 200;
    const timeoutMs = ctx.smoke ? 60_000 : 300_000;
    const kubectl = kubectlPath();
    const kustomize = kustomizeBinary();
    const kustomizeOnly = process.env.KEELSON_BENCH_GITSYNC === 'kustomize';
    ctx.out.params = { objects, noopRuns, latencySamples, kustomizeApps, kubectl: kubectl.path, kubectlFromCache: kubectl.fromCache, kustomize };
    if (!kubectl.fromCache) ctx.out.notes.push(`kubectl is not in the control-plane cache (findBinary('kubectl')); using "kubectl" from PATH`);

    const repo = join(ctx.workDir, 'repo');
    mkdirSync(repo, { recursive: true });
    if (!kustomizeOnly) {
      writeTree(repo, objects);
      await git(repo, 'init', '-q', '-b', 'main');
      await git(repo, 'add', '-A');
      await git(repo, 'commit', '-q', '-m', 'initial');
    }

    const cp = await ctx.controlPlane({ controllerManager: false });
    const client = cp.client;
    for (const ns of [NS, TARGET, KUBECTL_NS, KUST_TARGET, KUST_KUBECTL_NS]) await ensureNamespace(client, ns);
    await client.create(SECRETS, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'webhook', namespace: NS }, stringData: { token: WEBHOOK_TOKEN } });
    // A tenant's setup: the GitSync applies as a ServiceAccount of its namespace (impersonated), allowed to edit the
    // target namespace only (a Role there: the built-in "admin" is aggregated by the controller-manager, not run here).
    await client.create(SERVICEACCOUNTS, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: SERVICE_ACCOUNT, namespace: NS } });
    for (const namespace of [TARGET, KUST_TARGET]) {
      await client.create(ROLES, {
        apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'gitsync-bench', namespace },
        rules: [{ apiGroups: ['', 'apps'], resources: ['configmaps', 'secrets', 'services', 'deployments'], verbs: ['*'] }],
      });
      await client.create(ROLEBINDINGS, {
        apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'gitsync-bench', namespace },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'gitsync-bench' },
        subjects: [{ kind: 'ServiceAccount', name: SERVICE_ACCOUNT, namespace: NS }],
      });
    }
    const proc = await ctx.controller(cp, ['--git-cache-dir', join(ctx.workDir, 'git-cache'), '--allow-insecure-git', '--kustomize-path', kustomize], 'keelson');
    await proc.waitReady();
    await settle(proc);

    const applied = (rev: string) => (o: KubeObject & { status?: Record<string, unknown> }) => String(o.status?.lastAppliedRevision ?? '').endsWith(rev);
    const plain = kustomizeOnly ? undefined : await (async () => {
      // kubectl first sync and no-op resyncs, on the same tree into its own namespace.
      const kubectlApply = async () => {
        const t0 = now();
        await run(kubectl.path, ['--kubeconfig', cp.kubeconfigPath, 'apply', '--server-side', '--field-manager', 'kubectl-bench', '-n', KUBECTL_NS, '-R', '-f', repo], { maxBuffer: 64 * 2 ** 20 });
        return now() - t0;
      };
      ctx.log('kubectl apply (first)');
      let counted = await contentRequests(cp);
      const requestsSince = async () => { const before = counted; counted = await contentRequests(cp); return counted - before; };
      const kubectlFirst = await kubectlApply();
      const kubectlFirstRequests = await requestsSince();
      const kubectlNoop: number[] = [];
      for (const _ of range(noopRuns)) kubectlNoop.push(await kubectlApply());
      const kubectlNoopRequests = (await requestsSince()) / noopRuns;

      ctx.log('Keelson first sync');
      // Keelson first sync: from creating the GitSync to status saying the revision is applied.
      const head = (await git(repo, 'rev-parse', 'HEAD')).stdout.trim();
      await requestsSince();
      const t0 = now();
      await client.create(GITSYNCS, {
        apiVersion: 'keelson.dev/v1alpha1', kind: 'GitSync', metadata: { name: NAME, namespace: NS },
        spec: { url: `file://${repo}`, ref: { branch: 'main' }, path: '.', interval: '1h', prune: true, targetNamespace: TARGET, serviceAccountName: SERVICE_ACCOUNT, webhookSecretRef: { name: 'webhook' }, timeout: '5m' },
      });
      const firstMs = (await waitForStatus(client, `revision ${head} applied`, applied(head), timeoutMs)) - t0;
      const firstRequests = await requestsSince();
      const inventory = ((await client.get(GITSYNCS, NS, NAME)).status as { inventory?: unknown[] } | undefined)?.inventory?.length ?? 0;
      await settle(proc);

      // No-op resyncs: ask for a sync with keelson.dev/requested-at, done when status echoes it back.
      ctx.log('no-op resyncs');
      const noop: number[] = [];
      await requestsSince();
      for (const i of range(noopRuns)) {
        const mark = `bench-noop-${i}-${Date.now()}`;
        const s0 = now();
        const patched = await client.patch(GITSYNCS, NS, NAME, 'merge', { metadata: { annotations: { 'keelson.dev/requested-at': mark } } });
        noop.push((await waitForStatus(client, `requested-at ${mark} handled`, (o) => o.status?.lastHandledRequestedAt === mark, timeoutMs, NAME, patched)) - s0);
      }
      const noopRequests = (await requestsSince()) / noopRuns;

      // Commit → applied: change one ConfigMap in Git, commit, and time until the cluster has the new value.
      const commitOnce = async (tag: string): Promise<{ value: string; committedAt: number }> => {
        const value = `${tag}-${Date.now()}`;
        writeProbe(repo, value);
        await git(repo, 'commit', '-q', '-am', tag);
        return { value, committedAt: now() };
      };
      ctx.log('commit → applied, polling');
      const polling: number[] = [];
      await client.patch(GITSYNCS, NS, NAME, 'merge', { spec: { interval: '1s' } });
      await delay(2000);
      for (const i of range(latencySamples)) {
        const c = await commitOnce(`poll-${i}`);
        polling.push((await waitForValue(client, TARGET, PROBE, c.value, timeoutMs)) - c.committedAt);
        await delay(300);
      }
      await client.patch(GITSYNCS, NS, NAME, 'merge', { spec: { interval: '1h' } });
      await delay(2000);
      await settle(proc);
      ctx.log('commit → applied, webhook');
      const webhook: number[] = [];
      for (const i of range(latencySamples)) {
        const c = await commitOnce(`hook-${i}`);
        const body = Buffer.from(JSON.stringify({ ref: 'refs/heads/main', after: (await git(repo, 'rev-parse', 'HEAD')).stdout.trim() }));
        const signature = `sha256=${createHmac('sha256', WEBHOOK_TOKEN).update(body).digest('hex')}`;
        const res = await fetch(`${proc.httpUrl}/hooks/git/${NS}/${NAME}`, { method: 'POST', body, headers: { 'Content-Type': 'application/json', 'X-GitHub-Event': 'push', 'X-Hub-Signature-256': signature } });
        if (res.status >= 300) throw new Error(`webhook answered ${res.status}: ${await res.text()}`);
        webhook.push((await waitForValue(client, TARGET, PROBE, c.value, timeoutMs)) - c.committedAt);
        await delay(300);
      }
      return { firstMs, firstRequests, inventory, noop, noopRequests, polling, webhook, kubectlFirst, kubectlFirstRequests, kubectlNoop, kubectlNoopRequests };
    })();

    // A kustomize repository, first sync: `kustomize build overlay | kubectl apply --server-side -f -` into a fresh
    // namespace, then a GitSync of the same overlay (the same tenant ServiceAccount) into another.
    ctx.log(`kustomize repository (${kustomizeApps} apps): kustomize build | kubectl apply`);
    const kRepo = join(ctx.workDir, 'kustomize-repo');
    mkdirSync(kRepo, { recursive: true });
    writeKustomizeTree(kRepo, kustomizeApps);
    await git(kRepo, 'init', '-q', '-b', 'main');
    await git(kRepo, 'add', '-A');
    await git(kRepo, 'commit', '-q', '-m', 'initial');
    const kubectlKustomize = await kustomizeApply(kustomize, kubectl.path, cp.kubeconfigPath, join(kRepo, 'overlay'), KUST_KUBECTL_NS);
    await settle(proc);
    ctx.log('kustomize repository: Keelson first sync');
    const kHead = (await git(kRepo, 'rev-parse', 'HEAD')).stdout.trim();
    const k0 = now();
    await client.create(GITSYNCS, {
      apiVersion: 'keelson.dev/v1alpha1', kind: 'GitSync', metadata: { name: KUST_NAME, namespace: NS },
      spec: { url: `file://${kRepo}`, ref: { branch: 'main' }, path: 'overlay', interval: '1h', prune: true, targetNamespace: KUST_TARGET, serviceAccountName: SERVICE_ACCOUNT, timeout: '5m' },
    });
    const kustomizeMs = (await waitForStatus(client, `revision ${kHead} applied`, applied(kHead), timeoutMs, KUST_NAME)) - k0;
    const kInventory = ((await client.get(GITSYNCS, NS, KUST_NAME)).status as { inventory?: unknown[] } | undefined)?.inventory?.length ?? 0;

    if (plain) {
      const { firstMs, firstRequests, inventory, noop, noopRequests, polling, webhook, kubectlFirst, kubectlFirstRequests, kubectlNoop, kubectlNoopRequests } = plain;
      const k = 'kubectl apply --server-side -R -f';
      const noopMed = summarize(noop).p50;
      const kubectlNoopMed = summarize(kubectlNoop).p50;
      const p = summarize(polling);
      const w = summarize(webhook);
      ctx.out.figures.push(
        { name: `first sync, ${objects} objects`, unit: 's', keelson: round(firstMs / 1000, 2), reference: round(kubectlFirst / 1000, 2), referenceName: `${k} (fresh namespace)` },
        { name: 'no-op resync (median)', unit: 's', keelson: round(noopMed / 1000, 3), reference: round(kubectlNoopMed / 1000, 3), referenceName: `${k} again, nothing changed` },
        { name: 'commit → applied, 1 s polling, p50', unit: 'ms', keelson: round(p.p50, 0), note: `max ${round(p.max, 0)} ms` },
        { name: 'commit → applied, webhook, p50', unit: 'ms', keelson: round(w.p50, 0), note: `max ${round(w.max, 0)} ms` },
        { name: 'objects in status.inventory', unit: 'count', keelson: inventory, note: `of ${objects}` },
        { name: 'API requests on the objects, first sync', unit: 'count', keelson: firstRequests, reference: kubectlFirstRequests, referenceName: `${k} (fresh namespace)` },
        { name: 'API requests on the objects, no-op resync', unit: 'count', keelson: round(noopRequests, 1), reference: round(kubectlNoopRequests, 1), referenceName: `${k} again (mean)` },
      );
      ctx.out.goals.push(atMost('first sync ≤ 1.0× kubectl', ratio(firstMs, kubectlFirst), 1.0, '×'));
      ctx.out.goals.push(atMost('no-op resync ≤ 0.05× kubectl', ratio(noopMed, kubectlNoopMed), 0.05, '×'));
      ctx.out.goals.push(atMost('commit → applied via webhook ≤ 2 s (p50)', round(w.p50 / 1000, 3), 2, 's'));
      ctx.out.notes.push(`first sync counts from creating the GitSync to status.lastAppliedRevision (clone, render, dry-run validation, apply, prune bookkeeping); kubectl from process start to exit`);
      ctx.out.notes.push(`commit latency over ${latencySamples} commits each, from \`git commit\` returning to the changed ConfigMap seen by a watch; the webhook is POSTed right after the commit`);
    }
    ctx.out.figures.push(
      { name: `kustomize first sync, ${kustomizeApps} apps`, unit: 's', keelson: round(kustomizeMs / 1000, 2), reference: round(kubectlKustomize / 1000, 2), referenceName: 'kustomize build overlay, piped to kubectl apply --server-side -f - (fresh namespace)' },
      { name: 'kustomize objects in status.inventory', unit: 'count', keelson: kInventory, note: `of ${kustomizeApps * 3}` },
    );
    ctx.out.goals.push(atMost('kustomize first sync ≤ 1.2× kustomize build + kubectl apply', ratio(kustomizeMs, kubectlKustomize), 1.2, '×'));
    ctx.out.notes.push(`kustomize repository: base/ with ${kustomizeApps} app folders (Deployment, headless Service, configMapGenerator ConfigMap), overlay/ with images, a patch on every Deployment and a label; Keelson from creating the GitSync (path overlay) to status.lastAppliedRevision, the reference from kustomize starting to kubectl exiting`);
  },
};
