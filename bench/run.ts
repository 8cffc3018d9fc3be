// `npm run bench`: every benchmark, each side by side with its reference, in one run on fresh local control planes;
// writes bench/results/<date>.json and prints the figures and goals tables. `--smoke` runs a tiny version (CI keeps
// the harness from rotting), `--only a,b` a selection, `--cpu-prof` profiles the controller processes.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { runAndExit } from '../src/cli/process-end.js';
import { VERSION } from '../src/version.js';
import { HOW_TO_GET, missingBinaries } from '../test/support/binaries.js';
import { burst } from './burst.js';
import { gitsync } from './gitsync.js';
import { memory } from './memory.js';
import { BENCHMARK_NAMES } from './names.js';
import { reloadLatency } from './reload-latency.js';
import { renderStalls } from './render-stalls.js';
import { startup } from './startup.js';
import { type Benchmark, type ResultBuilder, SharedControlPlane, Teardown, makeContext } from './support/bench.js';
import { NODE_BIN, REPO_ROOT } from './support/controller-process.js';
import { controlPlaneVersion, gitCommit, kubectlVersion, machine } from './support/machine.js';
import { now } from './support/pool.js';
import { type BenchResult, type RunReport, renderReport, updateReadme } from './support/report.js';
import { unseal } from './unseal.js';

export const BENCHMARKS: readonly Benchmark[] = [reloadLatency, memory, burst, unseal, gitsync, startup, renderStalls];
if (BENCHMARKS.map((b) => b.name).join() !== BENCHMARK_NAMES.join()) throw new Error('bench/names.ts and BENCHMARKS disagree');

const USAGE = `Usage: npm run bench -- [--smoke] [--only name,...] [--out FILE] [--no-build] [--cpu-prof] [--keep] [--memory-secrets N,M]
Benchmarks: ${BENCHMARKS.map((b) => b.name).join(', ')}
`;

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv, allowPositionals: false,
    options: { smoke: { type: 'boolean' }, only: { type: 'string' }, out: { type: 'string' }, 'no-build': { type: 'boolean' }, 'cpu-prof': { type: 'boolean' }, keep: { type: 'boolean' }, 'memory-secrets': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) { process.stdout.write(USAGE); return 0; }
  const smoke = values.smoke ?? false;
  const only = values.only?.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = (only ?? []).filter((n) => !BENCHMARKS.some((b) => b.name === n));
  if (unknown.length) { process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')}\n${USAGE}`); return 2; }
  // The memory benchmark's two loaded sizes (default 2,000 and 8,000 Secrets of 64 KiB), e.g. 2000,4000 on a small disk.
  const memorySecrets = values['memory-secrets']?.split(',').map((s) => Number(s.trim()));
  if (memorySecrets && (memorySecrets.length !== 2 || !memorySecrets.every((n) => Number.isInteger(n) && n > 0) || memorySecrets[0]! >= memorySecrets[1]!)) {
    process.stderr.write(`--memory-secrets takes two increasing counts, e.g. 2000,8000\n${USAGE}`);
    return 2;
  }
  const selected = only ? BENCHMARKS.filter((b) => only.includes(b.name)) : BENCHMARKS;
  const missing = missingBinaries(['etcd', 'kube-apiserver', 'kube-controller-manager']);
  if (missing.length) { process.stderr.write(`control-plane binaries missing: ${missing.join(', ')}\n${HOW_TO_GET}\n`); return 2; }

  const log = (line: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
  if (!values['no-build']) {
    log('building dist/ (the controller runs from the compiled code)');
    execFileSync(NODE_BIN, [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(REPO_ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });
  }
  const startedAt = new Date();
  const stamp = startedAt.toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
  const jsonName = `${stamp}${smoke ? '-smoke' : ''}.json`;
  const outFile = values.out ?? join(REPO_ROOT, 'bench', 'results', smoke || only ? 'tmp' : '', jsonName);
  const root = mkdtempSync(join(tmpdir(), 'keelson-bench-'));
  const nodeArgs = values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir={dir}'] : [];
  // Full runs give each benchmark a fresh control plane (clean baselines); smoke runs share one to stay quick.
  const shared = smoke ? new SharedControlPlane() : undefined;

  const results: BenchResult[] = [];
  for (const bench of selected) {
    const workDir = join(root, bench.name);
    mkdirSync(workDir, { recursive: true });
    const out: ResultBuilder = { params: {}, figures: [], goals: [], notes: [] };
    const teardown = new Teardown();
    const t0 = now();
    log(`${bench.name}: ${bench.title}${smoke ? ' (smoke)' : ''}`);
    let error: string | undefined;
    try {
      await bench.run(makeContext({ smoke, workDir, out, log: (l) => log(`${bench.name}: ${l}`), nodeArgs, teardown, shared, memorySecrets }));
    } catch (err) {
      error = err instanceof Error ? (err.stack ?? err.message) : String(err);
      log(`${bench.name}: FAILED: ${error}`);
    } finally {
      await teardown.run();
    }
    const result: BenchResult = { name: bench.name, title: bench.title, params: out.params, figures: out.figures, goals: out.goals, notes: out.notes, durationMs: Math.round(now() - t0), ...(error ? { error } : {}) };
    results.push(result);
    log(`${bench.name}: done in ${(result.durationMs / 1000).toFixed(1)} s${error ? ' with an error' : ''}`);
  }

  await shared?.stop();
  const report: RunReport = {
    schema: 'keelson-bench/v1', mode: smoke ? 'smoke' : 'full', startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(),
    machine: machine(), node: process.version, controlPlane: controlPlaneVersion(), kubectl: kubectlVersion(),
    keelson: { version: VERSION, commit: gitCommit(REPO_ROOT) }, results,
  };
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, JSON.stringify(report, null, 2) + '\n');
  process.stdout.write(`\n${renderReport(report)}\nresults: ${outFile}\n`);
  if (!smoke && !only && !values.out) {
    const readmePath = join(REPO_ROOT, 'bench', 'README.md');
    writeFileSync(readmePath, updateReadme(readFileSync(readmePath, 'utf8'), report, jsonName));
  }
  if (values.keep || values['cpu-prof']) log(`scratch (logs${values['cpu-prof'] ? ', CPU profiles' : ''}) kept in ${root}`); else rmSync(root, { recursive: true, force: true });
  return results.some((r) => r.error) ? 1 : 0;
}

// Exit explicitly once stdout and stderr have drained (a stray keep-alive socket must not keep a finished run alive);
// a closed reader (`npm run bench | head`) is exit 141, not a stack trace.
await runAndExit(() => main(process.argv.slice(2)), process, (code) => process.exit(code));
