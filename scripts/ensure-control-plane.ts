// `npm run control-plane`: makes sure the control-plane binaries exist, building them on first use. Runs (through
// scripts/ensure-test-env.ts) before the e2e tests, the demo and the benchmarks, so a fresh clone needs nothing but
// `npm ci` and root (or sudo) for apt-get.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HOW_TO_GET, cacheDir, missingBinaries } from '../test/support/binaries.js';

const ALL = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kubectl'] as const;

/** Builds what is missing; false (after saying why on stderr) when the control plane is still not there. */
export function ensureControlPlane(opts: { dryRun?: boolean } = {}): boolean {
  const missing = missingBinaries(ALL);
  // A cache built before the reflect2 fix (see build-control-plane.sh) crashes on custom resources: rebuild it.
  const stale = !process.env.KUBEBUILDER_ASSETS && missing.length === 0 && !existsSync(join(cacheDir(), '.reflect2-1.0.2'));
  if (missing.length === 0 && !stale) return true;
  process.stderr.write(stale ? '[control-plane] cached kube-apiserver predates the reflect2 fix (crashes on custom resources): rebuilding\n'
    : `[control-plane] missing ${missing.join(', ')}: building them now (first run only)\n`);
  const script = fileURLToPath(new URL('./build-control-plane.sh', import.meta.url));
  if (opts.dryRun) { process.stderr.write(`[control-plane] dry run: would run bash ${script}\n`); return true; }
  const r = spawnSync('bash', [script], { stdio: 'inherit' });
  const still = missingBinaries(ALL);
  if (r.status !== 0 || still.length > 0) {
    process.stderr.write(`[control-plane] could not build ${still.join(', ') || 'the control plane'}.\n${HOW_TO_GET}\n`);
    return false;
  }
  return true;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (!ensureControlPlane()) process.exitCode = 1;
}
