// The shape of one benchmark and what the runner gives it: the run size (smoke or full), a scratch folder, control
// planes and controller processes that are torn down after it, and a result being filled in as it goes (so a
// benchmark that fails half-way still reports what it measured).

import { join } from 'node:path';
import { type ControlPlane, type ControlPlaneOptions, startControlPlane } from '../../test/support/control-plane.js';
import { type FakeKubelet, startFakeKubelet } from '../../test/support/fake-kubelet.js';
import { applyCrds, ensureNamespace } from './cluster.js';
import { type ControllerProcess, spawnController } from './controller-process.js';
import type { BenchmarkName } from '../names.js';
import type { Figure, Goal } from './report.js';

export interface ResultBuilder {
  params: Record<string, number | string | boolean>;
  figures: Figure[];
  goals: Goal[];
  notes: string[];
}

export interface BenchContext {
  readonly smoke: boolean;
  /** A scratch folder for this benchmark (logs, repositories, profiles). */
  readonly workDir: string;
  readonly out: ResultBuilder;
  /** `--memory-secrets a,b`: the Secret counts the memory benchmark measures instead of its defaults. */
  readonly memorySecrets?: readonly number[] | undefined;
  log(line: string): void;
  /** A fresh control plane with the repository's CRDs applied and keelson-system created; stopped afterwards. */
  controlPlane(opts?: ControlPlaneOptions & { kubelet?: boolean }): Promise<ControlPlane>;
  /** `keelson controller` as a child process against cp, with these extra flags; stopped afterwards. */
  controller(cp: ControlPlane, flags?: readonly string[], label?: string): Promise<ControllerProcess>;
}

export interface Benchmark {
  readonly name: BenchmarkName;
  readonly title: string;
  run(ctx: BenchContext): Promise<void>;
}

/** Resources a benchmark started, released in reverse order whatever happens. */
export class Teardown {
  private readonly steps: (() => Promise<unknown>)[] = [];
  add(step: () => Promise<unknown>): void { this.steps.push(step); }
  async run(): Promise<void> {
    for (const step of this.steps.reverse()) await step().catch(() => {});
    this.steps.length = 0;
  }
}

/**
 * One control plane (with kube-controller-manager and the fake kubelet) shared by every benchmark of a run, for
 * smoke runs: they use their own namespaces, and starting five control planes would cost more than the benchmarks.
 */
export class SharedControlPlane {
  private cp: Promise<ControlPlane> | undefined;
  private kubelet: FakeKubelet | undefined;
  get(): Promise<ControlPlane> {
    this.cp ??= (async () => {
      const cp = await startControlPlane({ controllerManager: true });
      await ensureNamespace(cp.client, 'keelson-system');
      await applyCrds(cp.client);
      this.kubelet = await startFakeKubelet(cp.client);
      return cp;
    })();
    return this.cp;
  }
  async stop(): Promise<void> {
    await this.kubelet?.stop();
    if (this.cp) await (await this.cp.catch(() => undefined))?.stop();
  }
}

export function makeContext(opts: { smoke: boolean; workDir: string; out: ResultBuilder; log: (l: string) => void; nodeArgs: readonly string[]; teardown: Teardown; shared?: SharedControlPlane | undefined; memorySecrets?: readonly number[] | undefined }): BenchContext {
  let controllers = 0;
  return {
    smoke: opts.smoke, workDir: opts.workDir, out: opts.out, log: opts.log, memorySecrets: opts.memorySecrets,
    async controlPlane(cpOpts = {}) {
      if (opts.shared) return await opts.shared.get();
      const cp = await startControlPlane(cpOpts);
      opts.teardown.add(() => cp.stop());
      await ensureNamespace(cp.client, 'keelson-system');
      await applyCrds(cp.client);
      if (cpOpts.kubelet) {
        const kubelet: FakeKubelet = await startFakeKubelet(cp.client);
        opts.teardown.add(() => kubelet.stop());
      }
      return cp;
    },
    async controller(cp, flags = [], label = 'controller') {
      const n = ++controllers;
      const nodeArgs = opts.nodeArgs.map((a) => a.replace('{dir}', join(opts.workDir, `profile-${n}-${label}`)));
      const proc = await spawnController({ kubeconfigPath: cp.kubeconfigPath, flags, logFile: join(opts.workDir, `${n}-${label}.log`), nodeArgs });
      opts.teardown.add(() => proc.stop());
      return proc;
    },
  };
}

/** Waits until the controller has been idle for quietMs: every work queue empty and no new log line. */
export async function settle(proc: ControllerProcess, quietMs = 1500, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastLen = -1;
  let quietSince = Date.now();
  while (Date.now() < deadline) {
    const text = await proc.metrics().catch(() => '');
    let depth = 0;
    for (const line of text.split('\n')) if (line.startsWith('keelson_workqueue_depth')) depth += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0;
    const len = proc.logText().length;
    if (depth > 0 || len !== lastLen) { quietSince = Date.now(); lastLen = len; }
    if (Date.now() - quietSince >= quietMs) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}
