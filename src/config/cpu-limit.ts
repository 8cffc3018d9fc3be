// How many CPUs this process may really use: the affinity count from os.availableParallelism(), lowered by the
// container's CPU quota. libuv reads the cgroup v2 quota on some versions but not cgroup v1's (checked with Node 24.21,
// libuv 1.52: a 1-CPU v1 quota still reports every core), so worker pools sized from it oversubscribe a pod whose
// limit is below the node's cores. Parsing is pure (cpuQuota*); reading the files is the thin part (cpuLimit).

import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** CPUs granted by a cgroup v2 `cpu.max` ("max 100000" or "150000 100000"); undefined when unlimited or unreadable. */
export function cpuQuotaV2(cpuMax: string): number | undefined {
  const [quota, period] = cpuMax.trim().split(/\s+/, 2);
  if (quota === undefined || quota === 'max') return undefined;
  return ratio(quota, period ?? '100000');
}

/** CPUs granted by cgroup v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us` (a quota of -1 is unlimited). */
export function cpuQuotaV1(quotaUs: string, periodUs: string): number | undefined {
  return ratio(quotaUs.trim(), periodUs.trim());
}

function ratio(quota: string, period: string): number | undefined {
  if (!/^\d{1,19}$/.test(quota) || !/^\d{1,19}$/.test(period)) return undefined; // -1, garbage: no quota
  const q = Number(quota), p = Number(period);
  return q > 0 && p > 0 ? q / p : undefined;
}

/** Whole CPUs available: min(affinity, quota), a fractional quota rounded up (1.5 CPUs can keep 2 threads busy half
 * the time), never below 1. */
export function effectiveCpus(affinity: number, quota: number | undefined): number {
  return Math.max(1, quota === undefined ? affinity : Math.min(affinity, Math.ceil(quota)));
}

function read(path: string): string | undefined {
  try { return readFileSync(path, 'utf8'); } catch { return undefined; }
}

/** The cgroup v1 path of the `cpu` controller in /proc/self/cgroup ("4:cpu,cpuacct:/kubepods/…"), if any. */
export function cpuCgroupV1Path(procSelfCgroup: string): string | undefined {
  for (const line of procSelfCgroup.split('\n')) {
    const [, controllers, path] = line.split(':', 3);
    if (controllers?.split(',').includes('cpu') && path?.startsWith('/') && !path.includes('..')) return path === '/' ? undefined : path;
  }
  return undefined;
}

/** The CPU quota of this process's cgroup: v2, then v1 at this process's own cgroup path (no cgroup namespace), then
 * v1 at the mount's root (what a container with its own cgroup namespace sees). */
export function containerCpuQuota(readText: (path: string) => string | undefined = read): number | undefined {
  const v2 = readText('/sys/fs/cgroup/cpu.max');
  if (v2 !== undefined) return cpuQuotaV2(v2);
  const own = cpuCgroupV1Path(readText('/proc/self/cgroup') ?? '');
  const mounts = ['/sys/fs/cgroup/cpu', '/sys/fs/cgroup/cpu,cpuacct'];
  for (const dir of [...(own ? mounts.map((m) => m + own) : []), ...mounts]) {
    const quota = readText(`${dir}/cpu.cfs_quota_us`), period = readText(`${dir}/cpu.cfs_period_us`);
    if (quota !== undefined && period !== undefined) return cpuQuotaV1(quota, period);
  }
  return undefined;
}

/** CPUs this process may use (affinity and container quota). */
export function cpuLimit(): number {
  return effectiveCpus(availableParallelism(), containerCpuQuota());
}
