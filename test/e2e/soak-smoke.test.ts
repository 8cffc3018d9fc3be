// The chaos soak's smoke run (`npm run soak -- --smoke`, issue 18): one minute, six workloads, every fault kind at
// least once (leader and standby SIGKILL, SIGTERM, API-server restart, etcd compaction → 410, a SIGSTOP'd leader),
// and the oracle's verdict: no lost roll, no extra roll, every rollout tracked, no write after losing the Lease.
// The seed is fixed so CI replays one schedule; KEELSON_SOAK_SEED picks another.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runSoak } from '../../bench/soak.js';
import { FAULT_KINDS } from '../../bench/support/soak-plan.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('chaos soak (smoke)', () => {
  it('rolls every change exactly once through a minute of faults', { timeout: 300_000 }, async () => {
    execFileSync(process.execPath, [`${ROOT}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
    const seed = Number(process.env.KEELSON_SOAK_SEED ?? 18);
    const lines: string[] = [];
    const report = await runSoak({ seed, workloads: 6, minutes: 1, resultsDir: join(ROOT, 'bench', 'results', 'tmp'), log: (l) => { lines.push(l); } });
    const context = `\n${lines.join('\n')}`;
    for (const k of FAULT_KINDS) assert.ok(report.faultsInjected[k] >= 1, `no ${k} fault injected${context}`);
    assert.ok((report.changes.content ?? 0) > 0, `no content change made${context}`);
    assert.ok(report.relists410 > 0, `the compaction forced no 410 relist${context}`);
    assert.equal(report.lostRolls, 0, `lost rolls${context}`);
    assert.equal(report.extraRolls, 0, `extra rolls${context}`);
    assert.deepEqual(report.untrackedRollouts, [], `rollouts not tracked to an end${context}`);
    assert.deepEqual(report.writesAfterLeaseLoss, [], `writes after losing the Lease${context}`);
    assert.equal(report.finalMismatches, 0, `final templates not at the final content${context}`);
    assert.ok(report.rollsSeen >= report.expectedRolls && report.rollsSeen > 0, `rolls expected ${report.expectedRolls}, seen ${report.rollsSeen}${context}`);
    assert.ok(report.ok && existsSync(report.resultFile), context);
  });
});
