// `npm run control-plane`: makes sure the control-plane binaries exist, building them on first use. Runs before the
// e2e tests and the demo, so a fresh clone needs nothing but `npm ci` and root (or sudo) for apt-get.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { HOW_TO_GET, missingBinaries } from '../test/support/binaries.js';

const ALL = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kubectl'] as const;
const missing = missingBinaries(ALL);
if (missing.length > 0) {
  process.stderr.write(`[control-plane] missing ${missing.join(', ')}: building them now (first run only)\n`);
  const script = fileURLToPath(new URL('./build-control-plane.sh', import.meta.url));
  const r = spawnSync('bash', [script], { stdio: 'inherit' });
  const still = missingBinaries(ALL);
  if (r.status !== 0 || still.length > 0) {
    process.stderr.write(`[control-plane] could not build ${still.join(', ') || 'the control plane'}.\n${HOW_TO_GET}\n`);
    process.exit(1);
  }
}
