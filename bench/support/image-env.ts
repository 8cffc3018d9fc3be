// The environment Keelson's container image gives the controller: the ENV instructions of the Dockerfile's last
// (runtime) stage. The benchmarks start the controller with it, so the glibc malloc settings there (and anything
// added later) are measured as they run in production, with the Dockerfile as the one place defining them. Pure.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** ENV of the last stage, in order (later wins). Handles `ENV K=V K2=V2` and the legacy `ENV K V`; values unquoted. */
export function runtimeStageEnv(dockerfile: string): Record<string, string> {
  const lines = dockerfile.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  let env: Record<string, string> = {};
  for (const line of lines) {
    const space = line.search(/\s/);
    const op = (space < 0 ? line : line.slice(0, space)).toUpperCase();
    const args = space < 0 ? '' : line.slice(space).trim();
    if (op === 'FROM') env = {};
    if (op !== 'ENV' || args === '') continue;
    if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(args)) {
      const [key = '', ...rest] = args.split(/\s+/);
      env[key] = rest.join(' ');
      continue;
    }
    for (const pair of args.split(/\s+/)) {
      const eq = pair.indexOf('=');
      if (eq > 0) env[pair.slice(0, eq)] = pair.slice(eq + 1).replace(/^"(.*)"$/, '$1');
    }
  }
  return env;
}

export function imageEnv(repoRoot: string): Record<string, string> {
  return runtimeStageEnv(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8'));
}
