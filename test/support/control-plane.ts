// A real control plane on loopback for tests and the demo: etcd, kube-apiserver (token auth, RBAC, a generated
// service-account key) and, on request, kube-controller-manager with the workload controllers. Random free ports,
// a private temp folder, logs kept there for the failure message, and always torn down (also on process exit).

import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '../../src/kube/client.js';
import { type Binary, HOW_TO_GET, findBinary, missingBinaries } from './binaries.js';
import { freePort } from './ports.js';

export const DEFAULT_KCM_CONTROLLERS = ['deployment', 'replicaset', 'statefulset', 'daemonset', 'garbagecollector', 'namespace'] as const;

export interface ControlPlaneOptions {
  /** Start kube-controller-manager: true for DEFAULT_KCM_CONTROLLERS, or the controllers to run. */
  readonly controllerManager?: boolean | readonly string[];
  /** Extra token users: name → groups. Each gets a kubeconfig from userKubeConfig(name). */
  readonly users?: Readonly<Record<string, readonly string[]>>;
  /** Extra kube-apiserver flags (e.g. --etcd-compaction-interval=1s --watch-cache=false to provoke 410 Gone). */
  readonly apiServerFlags?: readonly string[];
  /** Progress lines (binaries building, components starting); default silent. */
  readonly progress?: (line: string) => void;
}

export interface ControlPlane {
  readonly dir: string;
  readonly server: string;
  /** Admin (system:masters) kubeconfig file and object. */
  readonly kubeconfigPath: string;
  readonly kubeConfig: KubeConfig;
  /** A client as admin; closed by stop(). */
  readonly client: KubeClient;
  userKubeConfigPath(user: string): string;
  /** Stops and starts kube-apiserver on the same port and etcd data (watches break, data survives). */
  restartApiServer(): Promise<void>;
  /** etcd's client URL (its v3 JSON gateway), for faults the API does not offer. */
  readonly etcdUrl: string;
  /** Compacts etcd at its current revision: every resourceVersion handed out so far is gone (410 on resume). */
  compactEtcd(): Promise<number>;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => { for (const p of live) { try { p.kill('SIGKILL'); } catch { /* gone */ } } });
}

function startProcess(bin: string, args: string[], logFile: string): ChildProcess {
  const fd = openSync(logFile, 'a');
  const child = spawn(bin, args, { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

async function stopProcess(p: ChildProcess | undefined, graceMs = 5000): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  p.kill('SIGTERM');
  const timer = setTimeout(() => p.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

function tail(file: string, lines = 30): string {
  try { return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n'); } catch { return '(no log)'; }
}

async function waitFor(what: string, check: () => Promise<boolean>, proc: ChildProcess, log: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`${what} exited (${proc.exitCode ?? proc.signalCode}); last log lines:\n${tail(log)}`);
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} not ready after ${timeoutMs} ms; last log lines:\n${tail(log)}`);
}

function httpsOk(url: string, token: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = https.get(url, { headers: { Authorization: `Bearer ${token}` }, rejectUnauthorized: false, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => { req.destroy(); resolve(false); });
  });
}

function httpOk(url: string): Promise<boolean> {
  return fetch(url).then((r) => r.ok, () => false);
}

function kubeconfigYaml(server: string, user: string, token: string): string {
  return JSON.stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'keelson-test',
    clusters: [{ name: 'keelson-test', cluster: { server, 'insecure-skip-tls-verify': true } }],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: 'keelson-test', context: { cluster: 'keelson-test', user } }],
  }, null, 2);
}

export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const progress = opts.progress ?? (() => {});
  const needed: Binary[] = ['etcd', 'kube-apiserver', ...(opts.controllerManager ? ['kube-controller-manager' as const] : [])];
  const missing = missingBinaries(needed);
  if (missing.length > 0) throw new Error(`control-plane binaries missing: ${missing.join(', ')}.\n${HOW_TO_GET}`);
  installExitHook();

  const dir = mkdtempSync(join(tmpdir(), 'keelson-cp-'));
  const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const tokens = new Map<string, string>([['admin', randomBytes(16).toString('hex')]]);
  const lines = [`${tokens.get('admin')},admin,admin-uid,system:masters`];
  for (const [user, groups] of Object.entries(opts.users ?? {})) {
    const t = randomBytes(16).toString('hex');
    tokens.set(user, t);
    lines.push(`${t},${user},${user}-uid${groups.length ? `,"${groups.join(',')}"` : ''}`);
  }
  writeFileSync(join(dir, 'tokens.csv'), lines.join('\n') + '\n');
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs1', format: 'pem' }));
  writeFileSync(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  const server = `https://127.0.0.1:${apiPort}`;
  for (const [user, token] of tokens) writeFileSync(join(dir, `kubeconfig-${user}`), kubeconfigYaml(server, user, token));

  const procs: { etcd?: ChildProcess; api?: ChildProcess; kcm?: ChildProcess } = {};
  const logs = { etcd: join(dir, 'etcd.log'), api: join(dir, 'kube-apiserver.log'), kcm: join(dir, 'kube-controller-manager.log') };
  const etcdUrl = `http://127.0.0.1:${etcdPort}`;

  const startApi = async () => {
    procs.api = startProcess(findBinary('kube-apiserver')!, [
      `--etcd-servers=${etcdUrl}`, `--secure-port=${apiPort}`, '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1',
      `--cert-dir=${join(dir, 'certs')}`, `--token-auth-file=${join(dir, 'tokens.csv')}`, '--authorization-mode=RBAC',
      `--service-account-key-file=${join(dir, 'sa.pub')}`, `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local', '--service-cluster-ip-range=10.0.0.0/24',
      '--disable-admission-plugins=ServiceAccount', '--allow-privileged=true', '--insecure-port=0', '--enable-priority-and-fairness=false',
      '--event-ttl=1h', '--v=1', ...(opts.apiServerFlags ?? []),
    ], logs.api);
    await waitFor('kube-apiserver', () => httpsOk(`${server}/readyz`, tokens.get('admin')!), procs.api, logs.api);
  };

  const stop = async () => {
    await stopProcess(procs.kcm);
    await stopProcess(procs.api);
    await stopProcess(procs.etcd);
    client.close();
    if (!process.env.KEELSON_KEEP_CONTROL_PLANE) rmSync(dir, { recursive: true, force: true });
  };

  const kubeconfigPath = join(dir, 'kubeconfig-admin');
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  const client = new KubeClient(kubeConfig, 'keelson-test');
  try {
    progress('starting etcd');
    procs.etcd = startProcess(findBinary('etcd')!, [
      `--data-dir=${join(dir, 'etcd')}`, `--listen-client-urls=${etcdUrl}`, `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${peerPort}`, `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-cluster=default=http://127.0.0.1:${peerPort}`, '--name=default', '--log-level=warn', '--quota-backend-bytes=8589934592',
    ], logs.etcd);
    await waitFor('etcd', () => httpOk(`${etcdUrl}/health`), procs.etcd, logs.etcd);
    progress('starting kube-apiserver');
    await startApi();
    if (opts.controllerManager) {
      const controllers = opts.controllerManager === true ? DEFAULT_KCM_CONTROLLERS : opts.controllerManager;
      progress('starting kube-controller-manager');
      procs.kcm = startProcess(findBinary('kube-controller-manager')!, [
        `--kubeconfig=${kubeconfigPath}`, `--controllers=${controllers.join(',')}`, '--leader-elect=false',
        '--port=0', '--secure-port=0', '--use-service-account-credentials=false', '--concurrent-deployment-syncs=5',
        '--concurrent-replicaset-syncs=5', '--concurrent-gc-syncs=10', '--v=1',
      ], logs.kcm);
      // kube-controller-manager has no health port here; give it a moment and fail fast if it died.
      await new Promise((r) => setTimeout(r, 500));
      if (procs.kcm.exitCode !== null) throw new Error(`kube-controller-manager exited; last log lines:\n${tail(logs.kcm)}`);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  progress(`control plane ready at ${server}`);

  return {
    dir, server, kubeconfigPath, kubeConfig, client,
    userKubeConfigPath: (user) => {
      if (!tokens.has(user)) throw new Error(`no such test user ${user}`);
      return join(dir, `kubeconfig-${user}`);
    },
    restartApiServer: async () => {
      await stopProcess(procs.api);
      await startApi();
    },
    etcdUrl,
    compactEtcd: async () => {
      const post = async (path: string, body: unknown) => {
        const res = await fetch(`${etcdUrl}${path}`, { method: 'POST', body: JSON.stringify(body) });
        if (!res.ok) throw new Error(`etcd ${path}: HTTP ${res.status} ${await res.text()}`);
        return await res.json() as { header?: { revision?: string } };
      };
      const revision = Number((await post('/v3/kv/range', { key: Buffer.from('/').toString('base64') })).header?.revision);
      await post('/v3/kv/compaction', { revision: String(revision), physical: true });
      return revision;
    },
    stop,
  };
}
