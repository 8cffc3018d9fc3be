// Where the tests find kustomize: $KEELSON_KUSTOMIZE first, then the copy that scripts/ensure-kustomize.ts unpacks
// from Debian unstable's package into ~/.cache/keelson/kustomize (bookworm has none; the sid binary needs only libc).

import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The folder the sid package is unpacked into (dpkg -x keeps its usr/bin layout). */
export function kustomizeCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.KEELSON_CACHE ?? join(env.XDG_CACHE_HOME ?? join(env.HOME ?? homedir(), '.cache'), 'keelson');
  return join(base, 'kustomize');
}

/** The kustomize binary the tests run, or undefined when it has not been fetched. */
export function findKustomize(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.KEELSON_KUSTOMIZE && existsSync(env.KEELSON_KUSTOMIZE)) return env.KEELSON_KUSTOMIZE;
  const cached = join(kustomizeCacheDir(env), 'usr', 'bin', 'kustomize');
  return existsSync(cached) ? cached : undefined;
}

/** The kustomize binary, or an error that says how to get it. */
export function kustomizeBinary(env: NodeJS.ProcessEnv = process.env): string {
  const found = findKustomize(env);
  if (!found) throw new Error(`kustomize is missing: run "npm run test:env" (fetches Debian unstable's kustomize into ${kustomizeCacheDir(env)}) or set KEELSON_KUSTOMIZE`);
  return found;
}
