// Runs Keelson's controller in the test process against a test control plane, with every log line captured so a
// test can assert on decisions and scan for secret values.

import { Writable } from 'node:stream';
import { buildController } from '../../src/cli/controller.js';
import { loadOptions } from '../../src/config/options.js';
import { isAlreadyExists } from '../../src/kube/client.js';
import type { Manager } from '../../src/kube/manager.js';
import { NAMESPACES } from '../../src/kube/resources.js';
import { createLogger } from '../../src/observe/logger.js';
import type { ControlPlane } from './control-plane.js';

export interface RunningController {
  readonly manager: Manager;
  /** Every log line so far, parsed. */
  readonly logs: Record<string, unknown>[];
  /** Every log line so far, as written (for secret-value scans). */
  logText(): string;
  readonly httpUrl: string;
  readonly metricsUrl: string;
  metrics(): Promise<string>;
  stop(): Promise<void>;
}

/** Starts `keelson controller` with these flags (plus kubeconfig and free ports) and waits for caches to sync. */
export async function startController(cp: ControlPlane, flags: readonly string[] = [], env: Record<string, string> = {}): Promise<RunningController> {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk, _enc, cb) { lines.push(...String(chunk).split('\n').filter((l) => l !== '')); cb(); } });
  const options = loadOptions(['--kubeconfig', cp.kubeconfigPath, '--http-addr', '127.0.0.1:0', '--metrics-addr', '127.0.0.1:0', '--controller-namespace', 'keelson-system', ...flags], env);
  const logger = createLogger({ level: process.env.KEELSON_TEST_LOG_LEVEL ?? 'debug', format: 'json' }, sink);
  // The controller namespace exists where Keelson runs (the reload digest key Secret lives there).
  if (!(await cp.client.tryGet(NAMESPACES, undefined, options.controllerNamespace))) {
    await cp.client.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: options.controllerNamespace } }).catch((e: unknown) => { if (!isAlreadyExists(e)) throw e; });
  }
  const manager = await buildController(options, env, logger);
  await manager.start();
  const httpUrl = `http://127.0.0.1:${manager.httpPort}`;
  const metricsUrl = `http://127.0.0.1:${manager.metricsPort}`;
  return {
    manager,
    get logs() { return lines.map((l) => JSON.parse(l) as Record<string, unknown>); },
    logText: () => lines.join('\n'),
    httpUrl, metricsUrl,
    metrics: async () => (await fetch(`${metricsUrl}/metrics`)).text(),
    stop: () => manager.stop(),
  };
}

/** The value of one sample of a metric in Prometheus text, or 0 when absent. Labels match as a subset. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[3] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) total += Number(m[4]);
  }
  return total;
}
