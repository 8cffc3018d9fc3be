// The benchmarks' smoke run (`npm run bench -- --smoke`), so the harness does not rot: every benchmark runs at a
// tiny size against a real control plane and the report has the right shape. No speed is asserted here; the
// figures only have to be measured (finite numbers), whatever they are.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { BENCHMARK_NAMES } from '../../bench/names.js';
import type { RunReport } from '../../bench/support/report.js';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;

describe('benchmarks (smoke run)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keelson-bench-smoke-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('runs every benchmark with its reference and writes a complete report', { timeout: 240_000 }, async () => {
    const out = join(dir, 'smoke.json');
    const node = join(root, 'node_modules', '.bin', 'node');
    let stdout = '';
    try {
      ({ stdout } = await run(node, ['--import', 'tsx', join(root, 'bench', 'run.ts'), '--smoke', '--out', out], { cwd: root, maxBuffer: 16 * 2 ** 20 }));
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string; message: string };
      assert.fail(`the smoke run failed: ${err.message}\n${err.stdout ?? ''}\n${(err.stderr ?? '').split('\n').slice(-40).join('\n')}`);
    }
    const report = JSON.parse(readFileSync(out, 'utf8')) as RunReport;
    assert.equal(report.schema, 'keelson-bench/v1');
    assert.equal(report.mode, 'smoke');
    assert.ok(report.machine.cpus > 0 && report.machine.memoryMiB > 0);
    assert.match(report.node, /^v\d+\./);
    assert.equal(report.controlPlane, '1.20.2');
    assert.deepEqual(report.results.map((r) => r.name), [...BENCHMARK_NAMES]);
    for (const r of report.results) {
      assert.equal(r.error, undefined, `${r.name} failed: ${r.error}`);
      assert.ok(r.figures.length > 0, `${r.name} measured nothing`);
      for (const f of r.figures) {
        assert.ok(Number.isFinite(f.keelson), `${r.name}: "${f.name}" is not a number (${f.keelson})`);
        if (f.reference !== undefined) assert.ok(Number.isFinite(f.reference), `${r.name}: reference of "${f.name}" is not a number`);
      }
      for (const g of r.goals) assert.equal(typeof g.pass, 'boolean');
    }
    const withReference = report.results.filter((r) => r.figures.some((f) => f.reference !== undefined)).map((r) => r.name);
    assert.deepEqual(withReference, [...BENCHMARK_NAMES], 'every benchmark is measured side by side with a reference');
    assert.match(stdout, /\| bench +\| figure/);
    assert.match(stdout, /\| bench +\| goal/);
  });
});
