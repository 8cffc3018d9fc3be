// Runs the built controller as a child process, exactly as a user would (`node bin/keelson.js controller ...`), so
// its start time, memory and CPU are its own and not the benchmark's, with the environment the image sets (the
// Dockerfile's runtime ENV: glibc malloc settings). Logs go to a file; readiness is /readyz.

import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { metricValue } from '../../test/support/controller.js';
import { imageEnv } from './image-env.js';
import { now } from './pool.js';

export const REPO_ROOT = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
export const NODE_BIN = join(REPO_ROOT, 'node_modules', '.bin', 'node');

export interface ControllerProcess {
  readonly pid: number;
  readonly httpUrl: string;
  readonly metricsUrl: string;
  readonly logFile: string;
  /** Monotonic ms (performance.now) when the process was spawned and when /readyz first answered 200. */
  readonly spawnedAt: number;
  readyAt: number | undefined;
  waitReady(timeoutMs?: number): Promise<number>;
  metrics(): Promise<string>;
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  /** Resident memory now and at its peak, from /proc/<pid>/status, in bytes. */
  memory(): { rss: number; hwm: number };
  logText(): string;
  /** Settles with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
/** Whatever happens to the benchmark process, no controller outlives it. */
function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => { for (const c of live) { try { c.kill('SIGKILL'); } catch { /* gone */ } } });
}

export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface ControllerSpawnOptions {
  readonly kubeconfigPath: string;
  readonly flags?: readonly string[];
  readonly logFile: string;
  /** Extra node flags, e.g. --cpu-prof for profiling a run. */
  readonly nodeArgs?: readonly string[];
  /** Extra environment, e.g. POD_NAME (the leader-election identity). */
  readonly env?: Readonly<Record<string, string>>;
}

export async function spawnController(opts: ControllerSpawnOptions): Promise<ControllerProcess> {
  const [httpPort, metricsPort] = [await freePort(), await freePort()];
  const fd = openSync(opts.logFile, 'a');
  const spawnedAt = now();
  const child: ChildProcess = spawn(NODE_BIN, [
    ...(opts.nodeArgs ?? []), join(REPO_ROOT, 'bin', 'keelson.js'), 'controller',
    '--kubeconfig', opts.kubeconfigPath, '--http-addr', `127.0.0.1:${httpPort}`, '--metrics-addr', `127.0.0.1:${metricsPort}`,
    '--controller-namespace', 'keelson-system', '--log-level', 'info', ...(opts.flags ?? []),
  ], { stdio: ['ignore', fd, fd], cwd: REPO_ROOT, env: { ...process.env, NODE_OPTIONS: '', ...imageEnv(REPO_ROOT), ...opts.env } });
  closeSync(fd);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  track(child);
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  const metricsUrl = `http://127.0.0.1:${metricsPort}`;
  const logText = () => { try { return readFileSync(opts.logFile, 'utf8'); } catch { return ''; } };
  const proc: ControllerProcess = {
    pid: child.pid!, httpUrl, metricsUrl, logFile: opts.logFile, spawnedAt, readyAt: undefined,
    async waitReady(timeoutMs = 300_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`controller exited (${child.exitCode ?? child.signalCode}) before ready; log tail:\n${logText().split('\n').slice(-20).join('\n')}`);
        const ok = await fetch(`${httpUrl}/readyz`).then((r) => r.status === 200, () => false);
        if (ok) { proc.readyAt = now(); return proc.readyAt - spawnedAt; }
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`controller not ready after ${timeoutMs} ms; log tail:\n${logText().split('\n').slice(-20).join('\n')}`);
    },
    metrics: async () => (await fetch(`${metricsUrl}/metrics`)).text(),
    metric: async (name, labels = {}) => metricValue(await proc.metrics(), name, labels),
    memory() {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
      return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
    },
    logText,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  return proc;
}

/** Log lines (pino JSON) of a controller that mention an HTTP 429 from the API, for the burst benchmark. */
export function count429InLogs(text: string): number {
  let n = 0;
  for (const line of text.split('\n')) if (/\b429\b/.test(line) && /too many requests|TooManyRequests|"status":429|: 429 /i.test(line)) n++;
  return n;
}
