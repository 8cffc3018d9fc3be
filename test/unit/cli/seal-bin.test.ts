// The built binary end to end: `npm run build`, then `node bin/keelson.js seal` and `unseal` as separate processes
// with stdin and stdout, as users run them.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { parse } from 'yaml';
import type { SealedSecret } from '../../../src/sealing/sealed-secret.js';
import { referenceDecrypt } from '../sealing/independent-decrypt.js';

const ROOT = join(import.meta.dirname, '../../..');
const NODE = join(ROOT, 'node_modules/.bin/node');
const FIX = join(ROOT, 'test/fixtures/sealed-secrets');
const keelson = (args: string[], input: string) => spawnSync(NODE, [join(ROOT, 'bin/keelson.js'), ...args], { input, encoding: 'utf8', cwd: ROOT, timeout: 60_000 });

describe('bin/keelson.js seal', () => {
  before(() => {
    const build = spawnSync(NODE, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
    assert.equal(build.status, 0, build.stdout + build.stderr);
  });

  it('seals stdin to stdout, and unseal opens it again', () => {
    const secret = 'apiVersion: v1\nkind: Secret\nmetadata: {name: bin, namespace: ns}\nstringData: {token: bin-token-1}\n';
    const sealedRun = keelson(['seal', '--cert', join(FIX, 'keys/cert-4096.pem'), '--scope', 'namespace-wide'], secret);
    assert.equal(sealedRun.status, 0, sealedRun.stderr);
    const ss = parse(sealedRun.stdout) as SealedSecret;
    assert.equal(referenceDecrypt(readFileSync(join(FIX, 'keys/key-4096.pem'), 'utf8'), ss.spec!.encryptedData!.token!, 'ns').toString(), 'bin-token-1');
    const dir = mkdtempSync(join(tmpdir(), 'keelson-bin-'));
    writeFileSync(join(dir, 'ss.yaml'), sealedRun.stdout);
    const opened = keelson(['unseal', '--key', join(FIX, 'keys/key-4096.pem'), '-f', join(dir, 'ss.yaml'), '-o', 'json'], '');
    assert.equal(opened.status, 0, opened.stderr);
    assert.equal(Buffer.from((JSON.parse(opened.stdout) as { data: Record<string, string> }).data.token!, 'base64').toString(), 'bin-token-1');
    const wrong = keelson(['unseal', '--key', join(FIX, 'keys/key-2048.pem'), '-f', join(dir, 'ss.yaml')], '');
    assert.equal(wrong.status, 1);
    assert.match(wrong.stderr, /value "token" cannot be unsealed/);
    assert.ok(!wrong.stderr.includes('bin-token-1'));
  });
});

