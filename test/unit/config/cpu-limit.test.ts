import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { containerCpuQuota, cpuCgroupV1Path, cpuQuotaV1, cpuQuotaV2, effectiveCpus } from '../../../src/config/cpu-limit.js';

test('cgroup v2 cpu.max: unlimited, whole and fractional quotas', () => {
  assert.equal(cpuQuotaV2('max 100000\n'), undefined);
  assert.equal(cpuQuotaV2('200000 100000\n'), 2);
  assert.equal(cpuQuotaV2('50000 100000'), 0.5);
  assert.equal(cpuQuotaV2(''), undefined);
  assert.equal(cpuQuotaV2('garbage'), undefined);
  assert.equal(cpuQuotaV2('0 100000'), undefined);
});

test('cgroup v1 cfs quota: -1 is unlimited', () => {
  assert.equal(cpuQuotaV1('-1\n', '100000\n'), undefined);
  assert.equal(cpuQuotaV1('150000\n', '100000\n'), 1.5);
  assert.equal(cpuQuotaV1('100000', '0'), undefined);
});

test('effective CPUs: min of affinity and the quota rounded up, at least 1', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 512 }), fc.option(fc.double({ min: 0.001, max: 1024, noNaN: true }), { nil: undefined }), (affinity, quota) => {
    const n = effectiveCpus(affinity, quota);
    assert.ok(Number.isInteger(n) && n >= 1 && n <= affinity);
    if (quota !== undefined) assert.ok(n <= Math.max(1, Math.ceil(quota)));
    else assert.equal(n, affinity);
  }));
  assert.equal(effectiveCpus(64, 1), 1);
  assert.equal(effectiveCpus(64, 1.5), 2);
  assert.equal(effectiveCpus(2, 8), 2);
});

test('containerCpuQuota reads v2 first, then either v1 mount', () => {
  const files = (m: Record<string, string>) => (p: string) => m[p];
  assert.equal(containerCpuQuota(files({ '/sys/fs/cgroup/cpu.max': '100000 100000' })), 1);
  assert.equal(containerCpuQuota(files({ '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us': '300000', '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us': '100000' })), 3);
  assert.equal(containerCpuQuota(files({})), undefined);
  // Any string the kernel (or a broken mount) could give parses to a quota or to none, never throws.
  fc.assert(fc.property(fc.string(), fc.string(), (a, b) => {
    const q = containerCpuQuota(files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': a, '/sys/fs/cgroup/cpu/cpu.cfs_period_us': b }));
    assert.ok(q === undefined || (q > 0 && Number.isFinite(q)));
  }));
});

test('cgroup v1: this process\'s own cgroup path is read before the mount root', () => {
  assert.equal(cpuCgroupV1Path('4:memory:/x\n1:cpu,cpuacct:/kubepods/pod1/c1\n0::/'), '/kubepods/pod1/c1');
  assert.equal(cpuCgroupV1Path('1:cpu:/\n'), undefined);
  assert.equal(cpuCgroupV1Path('0::/system.slice'), undefined);
  const files: Record<string, string> = {
    '/proc/self/cgroup': '1:cpu:/ktest\n', '/sys/fs/cgroup/cpu/ktest/cpu.cfs_quota_us': '100000', '/sys/fs/cgroup/cpu/ktest/cpu.cfs_period_us': '100000',
    '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000',
  };
  assert.equal(containerCpuQuota((p) => files[p]), 1);
});
