// The environment a run is reported with: machine (cores, memory), Node, control plane, kubectl, Keelson commit.

import { execFileSync } from 'node:child_process';
import { cpus, loadavg, release, totalmem, type } from 'node:os';
import { CONTROL_PLANE_VERSION, findBinary } from '../../test/support/binaries.js';
import type { Machine } from './report.js';

export function machine(): Machine {
  const c = cpus();
  return {
    cpus: c.length,
    cpuModel: (c[0]?.model ?? 'unknown').replace(/\s+/g, ' ').trim(),
    memoryMiB: Math.round(totalmem() / 2 ** 20),
    os: `${type()} ${release()}`,
    loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

export const controlPlaneVersion = (): string => CONTROL_PLANE_VERSION;

export function kubectlVersion(): string | undefined {
  const bin = findBinary('kubectl');
  if (!bin) return undefined;
  try {
    const out = JSON.parse(execFileSync(bin, ['version', '--client', '-o', 'json'], { encoding: 'utf8' })) as { clientVersion?: { gitVersion?: string } };
    return out.clientVersion?.gitVersion ?? 'unknown';
  } catch { return 'unknown'; }
}

export function gitCommit(cwd: string): string | undefined {
  try { return execFileSync('git', ['rev-parse', 'HEAD'], { cwd, encoding: 'utf8' }).trim(); } catch { return undefined; }
}
