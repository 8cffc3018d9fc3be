// The Git half of image updates against a real git http-backend (no control plane): a push race (someone pushes
// between Keelson's clone and its push) is retried on the new tip and keeps their commit; nothing is force-pushed;
// nothing to change means no commit; a wrong password fails without showing it; the path must be a folder.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { openSession } from '../../src/gitsync/git.js';
import { trustedKeysOf, verifyCommit, VerificationError } from '../../src/gitsync/verify.js';
import { pushImageUpdates, UpdateError } from '../../src/images/updater.js';
import type { ImageUpdateSpec } from '../../src/images/update-spec.js';
import { type GitServers, sh, startGitServers } from '../support/git-servers.js';

const SPEC: ImageUpdateSpec = { branch: 'main', path: '.', author: { name: 'Bot', email: 'bot@example.com' }, subject: 'Update images', signingKeyRef: undefined };

describe('image updates: commit and push', () => {
  let servers: GitServers;
  before(async () => { servers = await startGitServers(); });
  after(async () => { await servers?.stop(); });

  const session = (password = servers.httpAuth.password) => openSession({ username: servers.httpAuth.username, password }, { allowInsecure: true });
  const log = (bare: string) => sh('git', ['--git-dir', bare, 'log', '--format=%an|%s', 'main']).trim().split('\n');

  it('a push race is retried on the new tip; the other commit is kept, nothing is forced', async () => {
    const repo = servers.repo('race');
    repo.write({ 'app.yaml': 'image: app:1.0.0 # {"$imagepolicy": "ns:app"}\n' }).commit('initial');
    let raced = false;
    const latest = (p: string) => {
      // Runs between Keelson's clone and its push: someone else pushes first (once).
      if (!raced) {
        raced = true;
        repo.write({ 'other.yaml': 'x: 1\n' }).commit('someone else');
      }
      return p === 'ns:app' ? 'app:1.1.0' : undefined;
    };
    const s = await session();
    try {
      const r = await pushImageUpdates({ session: s, url: servers.httpUrl('race'), spec: SPEC, latest });
      assert.equal(r.changes.length, 1);
      assert.deepEqual(log(repo.bare), ['Bot|Update images', 'Test|someone else', 'Test|initial']);
      assert.equal(sh('git', ['--git-dir', repo.bare, 'rev-parse', 'main']).trim(), r.commit);
      assert.equal(sh('git', ['--git-dir', repo.bare, 'show', 'main:app.yaml']), 'image: app:1.1.0 # {"$imagepolicy": "ns:app"}\n');
      assert.equal(sh('git', ['--git-dir', repo.bare, 'show', 'main:other.yaml']), 'x: 1\n');
    } finally { await s.dispose(); }
  });

  it('up to date: no commit', async () => {
    const repo = servers.repo('same');
    repo.write({ 'a/app.yaml': 'image: app:1.1.0 # {"$imagepolicy": "ns:app"}\n' }).commit('initial');
    const s = await session();
    try {
      const r = await pushImageUpdates({ session: s, url: servers.httpUrl('same'), spec: { ...SPEC, path: 'a' }, latest: () => 'app:1.1.0' });
      assert.equal(r.commit, undefined);
      assert.deepEqual(log(repo.bare), ['Test|initial']);
      await assert.rejects(pushImageUpdates({ session: s, url: servers.httpUrl('same'), spec: { ...SPEC, path: 'missing' }, latest: () => 'app:1.2.0' }), UpdateError);
    } finally { await s.dispose(); }
  });

  it('signs with an SSH or a PGP key, and GitSync verification (spec.verify) accepts the commits', async () => {
    const ssh = servers.sshSigningKey('bot');
    const pgp = servers.gpgKey('bot');
    if (pgp.signer.kind !== 'gpg' || ssh.signer.kind !== 'ssh') throw new Error('unexpected signer kinds');
    const armored = sh('gpg', ['--batch', '--armor', '--export-secret-keys', pgp.signer.keyId], { env: { GNUPGHOME: pgp.signer.gnupgHome } });
    const keys = [
      { kind: 'ssh' as const, privateKey: readFileSync(ssh.signer.keyPath, 'utf8'), trusted: { 'ssh.pub': ssh.publicKey } as Record<string, string> },
      { kind: 'pgp' as const, armored, trusted: { 'key.asc': pgp.armoredPublicKey } as Record<string, string> },
    ];
    for (const { trusted, ...signingKey } of keys) {
      const repo = servers.repo(`signed-${signingKey.kind}`);
      repo.write({ 'app.yaml': 'image: app:1.0.0 # {"$imagepolicy": "ns:app"}\n' }).commit('initial');
      const s = await session();
      try {
        const r = await pushImageUpdates({ session: s, url: servers.httpUrl(`signed-${signingKey.kind}`), spec: SPEC, latest: () => 'app:1.1.0', signingKey });
        // Fresh sessions, as each sync has: a GnuPG home holds the keys imported into it.
        const v1 = await session();
        const v2 = await session();
        try {
          await verifyCommit(v1, repo.bare, r.commit!, trustedKeysOf(trusted));
          await assert.rejects(verifyCommit(v2, repo.bare, r.commit!, trustedKeysOf(keys.find((k) => k.kind !== signingKey.kind)!.trusted)), VerificationError, `${signingKey.kind}: another key does not verify it`);
        } finally { await Promise.all([v1.dispose(), v2.dispose()]); }
      } finally { await s.dispose(); }
    }
  });

  it('a wrong password fails without showing it', async () => {
    servers.repo('auth').write({ 'app.yaml': 'image: app:1.0.0 # {"$imagepolicy": "ns:app"}\n' }).commit('initial');
    const wrong = 'WRONG-pw-9f8e7d';
    const s = await session(wrong);
    try {
      await assert.rejects(pushImageUpdates({ session: s, url: servers.httpUrl('auth'), spec: SPEC, latest: () => 'app:1.1.0' }), (e: Error) => !e.message.includes(wrong));
    } finally { await s.dispose(); }
  });
});
