// `npm run demo -- --once` tells the whole story and exits 0: the README's first command keeps working.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('npm run demo -- --once', () => {
  it('narrates every step of the loop and exits 0', { timeout: 240_000 }, async () => {
    const child = spawn('npm', ['run', 'demo', '--', '--once'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += String(d); });
    child.stderr.on('data', (d) => { out += String(d); });
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    assert.equal(code, 0, out);
    for (const line of [
      /control plane ready/, /controller ready/, /certificate fetched/, /keelson seal/, /applied main@sha1:[0-9a-f]{7}/,
      /Secret demo\/web-secret unsealed/, /Deployment demo\/web available/, /Deployment demo\/web rolled/,
      /new ReplicaSet created/, /rollout complete/, /kubeconfig: /, /metrics: http:\/\/127\.0\.0\.1:\d+\/metrics/,
    ]) assert.match(out, line);
    assert.doesNotMatch(out, /demo-token-please-rotate/, 'the demo never prints the secret value');
  });
});
