// The first-run step of `npm test` (and of the e2e tests alone, the demo and the benchmarks): installs the Debian
// packages of scripts/ci-packages.txt that are missing (as root, or through sudo), then makes sure the control plane
// is built and kustomize (Debian unstable's) is cached. `--dry-run` says what it would do and changes nothing.
// Decisions live in scripts/test-packages.ts.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureControlPlane } from './ensure-control-plane.js';
import { ensureKustomize } from './ensure-kustomize.js';
import { DPKG_FORMAT, type Who, missingPackages, packagePlan, parsePackageList } from './test-packages.js';

const LIST = fileURLToPath(new URL('./ci-packages.txt', import.meta.url));
const say = (line: string) => process.stderr.write(`[packages] ${line}\n`);

const onPath = (program: string) => spawnSync('sh', ['-c', 'command -v "$1"', 'sh', program], { stdio: 'ignore' }).status === 0;

function queryMissing(wanted: readonly string[]): string[] {
  // Exit status 1 only means some package is unknown to dpkg; those are simply absent from stdout.
  const r = spawnSync('dpkg-query', ['-W', '-f', DPKG_FORMAT, ...wanted], { encoding: 'utf8' });
  return missingPackages(wanted, r.stdout ?? '');
}

/** True when every listed package is installed (or, with dryRun, after saying what would be installed). */
function ensureTestPackages(opts: { dryRun: boolean; list: string }): boolean {
  const wanted = parsePackageList(readFileSync(opts.list, 'utf8'), opts.list);
  const who: Who = { uid: process.getuid?.() ?? 0, sudo: onPath('sudo'), apt: onPath('dpkg-query') && onPath('apt-get') };
  const plan = packagePlan(who.apt ? queryMissing(wanted) : wanted, who);
  if (plan.kind === 'nothing') { if (opts.dryRun) say(`all ${wanted.length} listed packages are installed`); return true; }
  if (plan.kind === 'cannot') { say(plan.message); return false; }
  say(`missing ${plan.missing.join(' ')}: ${opts.dryRun ? 'would install them' : 'installing them now (first run only)'}`);
  for (const argv of plan.commands) {
    if (opts.dryRun) { say(`dry run: would run ${argv.join(' ')}`); continue; }
    const r = spawnSync(argv[0]!, argv.slice(1), { stdio: ['ignore', 2, 2], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (r.status !== 0) break;
  }
  if (opts.dryRun) return true;
  const still = queryMissing(wanted);
  if (still.length > 0) {
    say(`could not install ${still.join(' ')} (see the apt-get output above); install them as root and run again`);
    return false;
  }
  return true;
}

// --list: another package list, for the tests of this script.
const { values } = parseArgs({ options: { 'dry-run': { type: 'boolean', default: false }, list: { type: 'string', default: LIST } } });
const dryRun = values['dry-run'];
if (!ensureTestPackages({ dryRun, list: values.list }) || !ensureControlPlane({ dryRun }) || !ensureKustomize({ dryRun })) process.exitCode = 1;
