// `npm run demo`: the whole Keelson loop on a local control plane, narrated as it happens. A Git repository holds a
// ConfigMap, a SealedSecret sealed by `keelson seal` and an annotated Deployment; a GitSync applies it, the Secret is
// unsealed, and a config commit rolls the Deployment exactly once. `--once` exits after the story (0 if every step
// happened); otherwise it keeps running until Ctrl-C, then cleans up.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { CRDS, DEPLOYMENTS, EVENTS, GITSYNCS, NAMESPACES, REPLICASETS, SECRETS } from '../src/kube/resources.js';
import type { KubeObject } from '../src/kube/types.js';
import { type ControlPlane, startControlPlane } from '../test/support/control-plane.js';
import { findBinary } from '../test/support/binaries.js';
import { type FakeKubelet, startFakeKubelet } from '../test/support/fake-kubelet.js';
import { freePort } from '../test/support/ports.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const once = process.argv.includes('--once');
const t0 = Date.now();
const stamp = () => `[+${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s]`;
const say = (line: string) => process.stdout.write(`${stamp()} ${line}\n`);
const step = (line: string) => process.stdout.write(`\n${stamp()} ── ${line}\n`);

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try { const v = await probe(); if (v !== undefined && v !== false) return v as T; } catch (e) { last = e; }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`gave up waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GIT_AUTHOR_NAME: 'Demo', GIT_AUTHOR_EMAIL: 'demo@keelson.dev', GIT_COMMITTER_NAME: 'Demo', GIT_COMMITTER_EMAIL: 'demo@keelson.dev' } }).trim();
}

function keelson(args: string[], input?: string): string {
  return execFileSync(process.execPath, [join(root, 'bin/keelson.js'), ...args], { input, encoding: 'utf8' });
}

function deploymentYaml(): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  annotations:
    keelson.dev/auto: "true"
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: nginx:1.27
          envFrom:
            - configMapRef: {name: web-config}
          env:
            - name: API_TOKEN
              valueFrom: {secretKeyRef: {name: web-secret, key: token}}
`;
}

const configYaml = (greeting: string) => `apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
data:
  GREETING: "${greeting}"
`;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'keelson-demo-'));
  let cp: ControlPlane | undefined;
  let kubelet: FakeKubelet | undefined;
  let controller: ChildProcess | undefined;
  const cleanup = async () => {
    controller?.kill('SIGTERM');
    await kubelet?.stop();
    await cp?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    step('A local control plane (etcd, kube-apiserver, kube-controller-manager)');
    cp = await startControlPlane({ controllerManager: true, progress: (l) => say(l) });
    kubelet = await startFakeKubelet(cp.client);
    say('no container runtime here: a stand-in kubelet reports pods Running and Ready');
    const client = cp.client;

    step('Keelson\'s CRDs and the controller');
    for (const f of readdirSync(join(root, 'manifests')).filter((f) => f.startsWith('crd-')).sort()) {
      for (const doc of parseAllDocuments(readFileSync(join(root, 'manifests', f), 'utf8'))) {
        const crd = doc.toJSON() as KubeObject;
        await client.create(CRDS, crd);
        await until(`${crd.metadata.name} established`, async () => ((await client.get(CRDS, undefined, crd.metadata.name!)).status as { conditions?: { type: string; status: string }[] })?.conditions?.some((c) => c.type === 'Established' && c.status === 'True'));
        say(`CRD ${crd.metadata.name} established`);
      }
    }
    await client.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'keelson-system' } });
    await client.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } });
    const [httpPort, metricsPort] = [await freePort(), await freePort()];
    const logFile = join(dir, 'controller.log');
    const log = createWriteStream(logFile);
    controller = spawn(process.execPath, [join(root, 'bin/keelson.js'), 'controller', '--kubeconfig', cp.kubeconfigPath,
      '--http-addr', `127.0.0.1:${httpPort}`, '--metrics-addr', `127.0.0.1:${metricsPort}`, '--controller-namespace', 'keelson-system', '--debounce', '1s',
      // The demo's repository is a local folder (file://), which a real cluster would not allow by default.
      '--allow-insecure-git'],
    { stdio: ['ignore', 'pipe', 'pipe'] });
    controller.stdout!.pipe(log);
    controller.stderr!.pipe(log);
    const ctl = controller;
    const exited = new Promise<never>((_, reject) => ctl.once('exit', (code) => reject(new Error(`the controller exited (${code}); see ${logFile}`))));
    exited.catch(() => {});
    await Promise.race([exited, until('the controller to be ready', async () => (await fetch(`http://127.0.0.1:${httpPort}/readyz`)).ok)]);
    say(`controller ready: http://127.0.0.1:${httpPort}/readyz, metrics at http://127.0.0.1:${metricsPort}/metrics`);
    const cert = await Promise.race([exited, until('a sealing certificate', async () => { const r = await fetch(`http://127.0.0.1:${httpPort}/v1/cert.pem`); return r.ok ? r.text() : undefined; })]);
    writeFileSync(join(dir, 'cert.pem'), cert);
    say('sealing key generated; certificate fetched from /v1/cert.pem');

    step('A Git repository with a ConfigMap, a SealedSecret and an annotated Deployment');
    const bare = join(dir, 'config.git');
    const work = join(dir, 'work');
    git(dir, 'init', '-q', '--bare', '-b', 'main', bare);
    git(dir, 'clone', '-q', bare, work);
    mkdirSync(join(work, 'apps', 'web'), { recursive: true });
    writeFileSync(join(work, 'apps', 'web', 'config.yaml'), configYaml('hello'));
    writeFileSync(join(work, 'apps', 'web', 'deployment.yaml'), deploymentYaml());
    const secret = JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'web-secret', namespace: 'demo' }, stringData: { token: 'demo-token-please-rotate' } });
    writeFileSync(join(work, 'apps', 'web', 'sealed-secret.yaml'), keelson(['seal', '--cert', join(dir, 'cert.pem')], secret));
    say('keelson seal --cert cert.pem < secret.json > apps/web/sealed-secret.yaml  (the plaintext never touches Git)');
    git(work, 'add', '-A');
    git(work, 'commit', '-q', '-m', 'web: config, sealed secret, deployment');
    git(work, 'push', '-q', 'origin', 'main');
    const first = git(work, 'rev-parse', 'HEAD');
    say(`committed ${first.slice(0, 7)} and pushed`);

    step('A GitSync applies the repository');
    await client.create(GITSYNCS, {
      apiVersion: 'keelson.dev/v1alpha1', kind: 'GitSync', metadata: { name: 'demo', namespace: 'keelson-system' },
      spec: { url: `file://${bare}`, ref: { branch: 'main' }, path: 'apps', interval: '2s', prune: true, targetNamespace: 'demo' },
    });
    const applied = async (sha: string) => until(`revision ${sha.slice(0, 7)} applied`, async () => {
      const gs = await client.get(GITSYNCS, 'keelson-system', 'demo');
      return ((gs.status as { lastAppliedRevision?: string } | undefined)?.lastAppliedRevision ?? '').endsWith(sha) ? true : undefined;
    });
    await applied(first);
    say(`GitSync demo: applied main@sha1:${first.slice(0, 7)}`);
    await until('the unsealed Secret', () => client.tryGet(SECRETS, 'demo', 'web-secret'));
    say('Secret demo/web-secret unsealed from the SealedSecret (owned by it)');
    const available = async () => until('web available', async () => {
      const d = await client.get(DEPLOYMENTS, 'demo', 'web');
      const st = d.status as { availableReplicas?: number; updatedReplicas?: number; observedGeneration?: number } | undefined;
      return st?.availableReplicas === 2 && st.updatedReplicas === 2 && st.observedGeneration === d.metadata.generation;
    });
    await available();
    const rsBefore = (await client.list(REPLICASETS, { namespace: 'demo' })).items.length;
    say(`Deployment demo/web available (2/2), ${rsBefore} ReplicaSet; first sight records a baseline, no roll`);

    step('A config change is committed');
    writeFileSync(join(work, 'apps', 'web', 'config.yaml'), configYaml('hello, keelson'));
    git(work, 'commit', '-q', '-am', 'web: new greeting');
    git(work, 'push', '-q', 'origin', 'main');
    const second = git(work, 'rev-parse', 'HEAD');
    const committedAt = Date.now();
    say(`committed ${second.slice(0, 7)}: GREETING "hello" → "hello, keelson"`);
    await applied(second);
    say(`GitSync demo: applied main@sha1:${second.slice(0, 7)} (${Date.now() - committedAt} ms after the push)`);
    const reloaded = await until('the Reloaded event', async () => (await client.list<KubeObject & { reason?: string; message?: string }>(EVENTS, { namespace: 'demo', fieldSelector: 'involvedObject.name=web' })).items.find((e) => e.reason === 'Reloaded'));
    say(`Deployment demo/web rolled: ${reloaded.message ?? 'Reloaded'}`);
    const rs = await until('a new ReplicaSet', async () => { const n = (await client.list(REPLICASETS, { namespace: 'demo' })).items.length; return n > rsBefore ? n : undefined; });
    say(`new ReplicaSet created (${rs} in all)`);
    await available();
    const complete = await until('RolloutComplete', async () => (await client.list<KubeObject & { reason?: string; message?: string }>(EVENTS, { namespace: 'demo', fieldSelector: 'involvedObject.name=web' })).items.find((e) => e.reason === 'RolloutComplete'));
    say(`rollout complete: ${complete.message ?? ''} (${Date.now() - committedAt} ms from commit to complete)`);
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const rolls = metrics.split('\n').filter((l) => l.startsWith('keelson_reloads_total')).join('; ');
    say(`metrics: ${rolls || 'keelson_reloads_total (none)'}`);

    step('Done');
    const kubectl = findBinary('kubectl') ?? 'kubectl';
    say(`kubeconfig: ${cp.kubeconfigPath}`);
    say(`try: ${kubectl} --kubeconfig ${cp.kubeconfigPath} -n demo get deploy,rs,secrets,sealedsecrets`);
    say(`metrics: http://127.0.0.1:${metricsPort}/metrics   controller log: ${logFile}`);
    // The controller here is a local process, not behind a Service: `keelson ui`'s seal form then takes the active
    // sealing key's public certificate (tls.crt only) with this kubeconfig's rights, and says so on the page.
    say(`dashboard (in another terminal): npx keelson ui --kubeconfig ${cp.kubeconfigPath}`);
    say('  GitSync keelson-system/demo: its diff, history and inventory; Deployment demo/web: its last reload and rollout; "Seal a Secret": a SealedSecret to commit');
    if (once) { await cleanup(); return; }
    say('running until Ctrl-C; edit the repository at ' + work + ' and push to see more rolls');
    await new Promise<void>((resolve) => { process.once('SIGINT', resolve); process.once('SIGTERM', resolve); });
    say('cleaning up');
    await cleanup();
  } catch (err) {
    process.stderr.write(`\n${stamp()} ✖ ${err instanceof Error ? err.message : String(err)}\n`);
    await cleanup().catch(() => {});
    process.exitCode = 1;
  }
}

await main();
