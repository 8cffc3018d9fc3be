// Where the control-plane binaries come from: $KUBEBUILDER_ASSETS (setup-envtest's folder) first, then the cache
// that scripts/build-control-plane.sh fills (~/.cache/keelson/control-plane-1.20.2), binary by binary, so an envtest
// folder without kube-controller-manager still works with a cached one beside it.

import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const CONTROL_PLANE_VERSION = '1.20.2';
export type Binary = 'etcd' | 'kube-apiserver' | 'kube-controller-manager' | 'kubectl';

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.KEELSON_CACHE ?? join(env.XDG_CACHE_HOME ?? join(env.HOME ?? homedir(), '.cache'), 'keelson');
  return join(base, `control-plane-${CONTROL_PLANE_VERSION}`);
}

export function findBinary(name: Binary, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dirs = [env.KUBEBUILDER_ASSETS, cacheDir(env)].filter((d): d is string => !!d);
  for (const d of dirs) if (existsSync(join(d, name))) return join(d, name);
  return undefined;
}

export function missingBinaries(names: readonly Binary[], env: NodeJS.ProcessEnv = process.env): Binary[] {
  return names.filter((n) => !findBinary(n, env));
}

export const HOW_TO_GET = `The tests need etcd, kube-apiserver, kube-controller-manager (and kubectl for benchmarks) ${CONTROL_PLANE_VERSION}.
Run "npm run control-plane" (builds them from Debian's kubernetes source package into ${cacheDir()}; needs root or
sudo for apt-get, about 6 minutes), or point KUBEBUILDER_ASSETS at a folder that has them.`;
