// Git session folders (git.ts openSession): sessions without credentials that write nothing into their folder share
// one (made once, made again if removed); any credential, or a caller that writes keyrings there (verify.ts), gets a
// folder of its own that dispose() removes. Credentials never reach the shared folder.

import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openSession } from '../../../src/gitsync/git.js';

describe('git session folders', () => {
  it('shares one folder between anonymous shareable sessions, and dispose leaves it', async () => {
    const a = await openSession(undefined, { shareable: true });
    const b = await openSession({ username: '', password: '' }, { shareable: true });
    assert.equal(a.dir, b.dir);
    await a.dispose();
    assert.ok(existsSync(join(b.dir, 'askpass.sh')));
    assert.deepEqual(readdirSync(a.dir).sort(), ['askpass.sh', 'home', 'known_hosts']);
    assert.equal(readFileSync(join(a.dir, 'known_hosts'), 'utf8'), '');
    await b.dispose();
  });

  it('makes the shared folder again when something removed it', async () => {
    const a = await openSession(undefined, { shareable: true });
    rmSync(a.dir, { recursive: true, force: true });
    const [b, c] = await Promise.all([openSession(undefined, { shareable: true }), openSession(undefined, { shareable: true })]);
    assert.equal(b.dir, c.dir);
    assert.notEqual(b.dir, a.dir);
    assert.ok(existsSync(join(b.dir, 'askpass.sh')) && existsSync(join(b.dir, 'home')));
  });

  it('gives any credential, or a caller that is not shareable, a folder of its own removed by dispose', async () => {
    const shared = await openSession(undefined, { shareable: true });
    for (const [auth, opts] of [
      [{ password: 'not-a-real-password' }, { shareable: true }],
      [{ identity: '-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----' }, { shareable: true }],
      [{ knownHosts: 'example.com ssh-ed25519 AAAA' }, { shareable: true }],
      [{ caCert: '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----' }, { shareable: true }],
      [{ bearerToken: 'not-a-real-token' }, { shareable: true }],
      [undefined, {}],
    ] as const) {
      const s = await openSession(auth, opts);
      assert.notEqual(s.dir, shared.dir, JSON.stringify(auth));
      await s.dispose();
      assert.equal(existsSync(s.dir), false);
    }
    for (const f of readdirSync(shared.dir)) assert.ok(['askpass.sh', 'home', 'known_hosts'].includes(f), f);
  });
});
