// The built binary writing large outputs into real pipes (`keelson … | cat`), compared byte for byte with the same
// command's output redirected to a file: node writes to a pipe asynchronously, and an exit right after the command
// returned cut the output at 64 KiB and still exited 0. A reader that closes early ends keelson with 141, no trace.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, createPublicKey, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { formatObjects } from '../../../src/cli/seal-common.js';
import type { KubeObject } from '../../../src/kube/types.js';
import { labelFor } from '../../../src/sealing/scope.js';
import type { SealedSecret } from '../../../src/sealing/sealed-secret.js';
import { encryptValue } from '../../../src/sealing/wire.js';
import { referenceDecrypt } from '../sealing/independent-decrypt.js';

const ROOT = join(import.meta.dirname, '../../..');
const NODE = join(ROOT, 'node_modules/.bin/node');
const FIX = join(ROOT, 'test/fixtures/sealed-secrets');
const MiB = 1 << 20;

interface Vector { id: string; namespace: string; name: string; key: string; sealedsecret_annotations: Record<string, string>; plaintext_b64: string; encrypted_data: string }

/** Runs a bash pipeline in which `keelson` is the built binary; stdout captured as bytes, `set -o pipefail` on. */
function pipeline(script: string, env: Record<string, string> = {}) {
  const r = spawnSync('bash', ['-c', `set -o pipefail; keelson() { "$NODE_BIN" "$KEELSON_JS" "$@"; }; ${script}`], {
    cwd: ROOT, env: { ...process.env, NODE_BIN: NODE, KEELSON_JS: join(ROOT, 'bin/keelson.js'), ...env }, maxBuffer: 64 * MiB, timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString('utf8') };
}
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('bin/keelson.js into a pipe', () => {
  let dir: string;
  let bigValue: Buffer;
  const vectors = (JSON.parse(readFileSync(join(FIX, 'vectors.json'), 'utf8')) as { vectors: Vector[] }).vectors;
  const KEYS = `--key ${join(FIX, 'keys/key-4096.pem')} --key ${join(FIX, 'keys/key-2048.pem')}`;

  before(() => {
    const build = spawnSync(NODE, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
    assert.equal(build.status, 0, build.stdout + build.stderr);
    dir = mkdtempSync(join(tmpdir(), 'keelson-pipes-'));
    // The public vectors (sealed by the reference implementation; all small) plus one 1 MiB value sealed for the
    // fixture certificate, so the output (1.4 MB of JSON) is twenty times the pipe buffer.
    const sealed: SealedSecret[] = vectors.map((v) => ({
      apiVersion: 'bitnami.com/v1alpha1', kind: 'SealedSecret',
      metadata: { name: v.name, namespace: v.namespace, annotations: v.sealedsecret_annotations },
      spec: { encryptedData: { [v.key]: v.encrypted_data } },
    }));
    bigValue = randomBytes(MiB);
    const cert = createPublicKey(readFileSync(join(FIX, 'keys/cert-4096.pem')));
    sealed.push({ apiVersion: 'bitnami.com/v1alpha1', kind: 'SealedSecret', metadata: { name: 'big', namespace: 'recovery' }, spec: { encryptedData: { blob: encryptValue(cert, bigValue, labelFor('strict', 'recovery', 'big')) } } });
    writeFileSync(join(dir, 'sealed.yaml'), sealed.map((s) => stringify(s)).join('---\n'));
  });
  after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

  it('unseal: the 1 MiB vectors through `| sha256sum` hash as the output to a file does, and that output is complete', () => {
    const toFile = pipeline(`keelson unseal ${KEYS} -f "$DIR/sealed.yaml" -o json > "$DIR/out.json"`, { DIR: dir });
    assert.equal(toFile.status, 0, toFile.stderr);
    const file = readFileSync(join(dir, 'out.json'));
    assert.ok(file.length > 1.3 * MiB, `file output is ${file.length} bytes`);
    const list = JSON.parse(file.toString('utf8')) as { items: { metadata: { name: string }; data: Record<string, string> }[] };
    assert.equal(list.items.length, vectors.length + 1);
    vectors.forEach((v, i) => assert.equal(list.items[i]!.data[v.key], v.plaintext_b64, v.id));
    assert.ok(Buffer.from(list.items.at(-1)!.data.blob!, 'base64').equals(bigValue));

    const hashed = pipeline(`keelson unseal ${KEYS} -f "$DIR/sealed.yaml" -o json | sha256sum`, { DIR: dir });
    assert.equal(hashed.status, 0, hashed.stderr);
    assert.equal(hashed.stdout.toString('utf8').split(' ')[0], sha256(file));
    // A reader that starts late: everything waits in the pipe for it.
    const slow = pipeline(`keelson unseal ${KEYS} -f "$DIR/sealed.yaml" -o json | { sleep 0.3; cat; }`, { DIR: dir });
    assert.equal(slow.status, 0, slow.stderr);
    assert.equal(slow.stdout.length, file.length);
    assert.ok(slow.stdout.equals(file), 'byte for byte');
  });
  it('seal: a 2 MiB Secret through `| cat` arrives whole, and its value opens to the same 2 MiB', () => {
    const value = randomBytes(2 * MiB);
    writeFileSync(join(dir, 'secret.yaml'), stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'large', namespace: 'ns' }, data: { blob: value.toString('base64') } }));
    const r = pipeline(`keelson seal --cert "$CERT" < "$DIR/secret.yaml" | { sleep 0.3; cat; }`, { DIR: dir, CERT: join(FIX, 'keys/cert-4096.pem') });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.stdout.length > 2.6 * MiB, `${r.stdout.length} bytes`);
    const ss = parse(r.stdout.toString('utf8')) as SealedSecret;
    // Sealing is randomised, so the expected document is the printed one written out again: any cut shows.
    assert.ok(r.stdout.equals(Buffer.from(formatObjects([ss as KubeObject], 'yaml'))), 'byte for byte');
    assert.ok(referenceDecrypt(readFileSync(join(FIX, 'keys/key-4096.pem'), 'utf8'), ss.spec!.encryptedData!.blob!, 'ns/large').equals(value));
  });

  it('a reader that closes early (`| head -c 10`): exit 141, the first bytes, no stack trace', () => {
    const expected = pipeline(`keelson unseal ${KEYS} -f "$DIR/sealed.yaml"`, { DIR: dir });
    assert.equal(expected.status, 0, expected.stderr);
    const r = pipeline(`set +o pipefail; keelson unseal ${KEYS} -f "$DIR/sealed.yaml" 2> "$DIR/err.txt" | head -c 10; echo "\${PIPESTATUS[0]}" > "$DIR/status.txt"`, { DIR: dir });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.stdout.equals(expected.stdout.subarray(0, 10)));
    assert.equal(readFileSync(join(dir, 'status.txt'), 'utf8').trim(), '141');
    assert.equal(readFileSync(join(dir, 'err.txt'), 'utf8'), '', 'nothing on stderr');
  });
});
