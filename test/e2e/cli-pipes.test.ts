// `keelson diff` of a large change, as the built binary writing into a real pipe with a late reader, byte for byte
// against the same diff computed in-process: piped output used to stop at 64 KiB with the exit code of a full diff.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type ControlPlane, startControlPlane } from '../support/control-plane.js';
import { type GitServers, startGitServers } from '../support/git-servers.js';
import { createGitSync, createNamespace, installGitSyncCrd, runCli } from '../support/gitsync-fixture.js';

const ROOT = join(import.meta.dirname, '../..');
const NODE = join(ROOT, 'node_modules/.bin/node');
const MiB = 1 << 20;

/** A bash pipeline in which `keelson` is the built binary; stdout as bytes, `set -o pipefail` on. */
function pipeline(script: string, env: Record<string, string>) {
  const r = spawnSync('bash', ['-c', `set -o pipefail; keelson() { "$NODE_BIN" "$KEELSON_JS" "$@"; }; ${script}`], {
    cwd: ROOT, env: { ...process.env, NODE_BIN: NODE, KEELSON_JS: join(ROOT, 'bin/keelson.js'), ...env }, maxBuffer: 64 * MiB, timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString('utf8') };
}

describe('keelson diff into a pipe', () => {
  let cp: ControlPlane;
  let servers: GitServers;

  before(async () => {
    const build = spawnSync(NODE, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
    assert.equal(build.status, 0, build.stdout + build.stderr);
    [cp, servers] = await Promise.all([startControlPlane(), startGitServers()]);
    await installGitSyncCrd(cp.client);
  });
  after(async () => { await Promise.all([cp?.stop(), servers?.stop()]); });

  it('a ConfigMap of 6000 keys (about 700 KB of diff) arrives whole, with diff\'s exit code 1', async () => {
    const ns = await createNamespace(cp.client, 'pipes');
    const keys = Array.from({ length: 6000 }, (_, i) => `  key-${String(i).padStart(5, '0')}: "${'v'.repeat(90)}-${i}"`);
    servers.repo('pipes').write({ 'big.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n${keys.join('\n')}\n` }).commit('big');
    await createGitSync(cp.client, ns, 'app', { url: servers.daemonUrl('pipes'), interval: '1h' });
    // The GitSync names no ServiceAccount: diff it as a GitSync of the controller namespace, with the admin's identity.

    const expected = await runCli(['diff', `${ns}/app`, '--kubeconfig', cp.kubeconfigPath, '--controller-namespace', ns]);
    assert.equal(expected.code, 1, expected.stderr);
    assert.match(expected.stdout, /\+ ConfigMap pipes\/big \(big\.yaml\)/);
    assert.match(expected.stdout, /key-05999/);
    assert.ok(expected.stdout.length > 600_000, `${expected.stdout.length} bytes`);

    const env = { KUBECONFIG_FILE: cp.kubeconfigPath };
    const piped = pipeline(`keelson diff ${ns}/app --kubeconfig "$KUBECONFIG_FILE" --controller-namespace ${ns} | { sleep 0.3; cat; }`, env);
    assert.equal(piped.status, 1, piped.stderr);
    assert.equal(piped.stdout.length, Buffer.byteLength(expected.stdout));
    assert.ok(piped.stdout.equals(Buffer.from(expected.stdout)), 'byte for byte');

    const toFile = pipeline(`keelson diff ${ns}/app --kubeconfig "$KUBECONFIG_FILE" --controller-namespace ${ns} > "$OUT"`, { ...env, OUT: join(servers.root, 'diff.txt') });
    assert.equal(toFile.status, 1, toFile.stderr);
    assert.ok(readFileSync(join(servers.root, 'diff.txt')).equals(piped.stdout), 'the file output is the piped output');
  });
});
