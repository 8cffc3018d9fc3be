// The Git layer against real servers on loopback (no control plane needed): git daemon, git http-backend behind
// basic and bearer auth, sshd with known_hosts checking; refs (branch, tag, semver, commit); commit signatures
// made with GnuPG and with SSH keys; credentials kept out of error text.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KeyedMutex, type GitAuth, GitError, openSession } from '../../src/gitsync/git.js';
import { fetchRevision } from '../../src/gitsync/source.js';
import { type GitSyncSpec, parseSpec } from '../../src/gitsync/spec.js';
import { VerificationError, trustedKeysOf, verifyCommit } from '../../src/gitsync/verify.js';
import { type GitServers, startGitServers } from '../support/git-servers.js';

const cm = (name: string, v: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  v: "${v}"\n`;

/** fetchRevision with auth handed in directly (readAuth needs a cluster; here a stub client answers the Secret). */
function fakeClient(secrets: Record<string, Record<string, string>>) {
  return {
    get: async (_t: unknown, _ns: string, name: string) => {
      const d = secrets[name];
      if (!d) throw Object.assign(new Error('not found'), { status: 404 });
      return { metadata: { name }, data: Object.fromEntries(Object.entries(d).map(([k, v]) => [k, Buffer.from(v).toString('base64')])) };
    },
  } as never;
}

describe('gitsync: git against real servers', () => {
  let servers: GitServers;
  let cache: string;
  const mutex = new KeyedMutex();
  before(async () => { servers = await startGitServers(); cache = mkdtempSync(join(tmpdir(), 'keelson-gitcache-')); });
  after(async () => { await servers?.stop(); rmSync(cache, { recursive: true, force: true }); });

  const spec = (s: Record<string, unknown>): GitSyncSpec => parseSpec({ metadata: { name: 'g', namespace: 'ns' }, spec: { interval: '1s', ...s } });
  const fetch = (name: string, s: GitSyncSpec, secrets: Record<string, Record<string, string>> = {}) =>
    fetchRevision({ client: fakeClient(secrets), namespace: 'ns', name, spec: s, cacheDir: cache, mutex, allowInsecure: true });

  it('fetches a branch over git:// and a new commit after a push, reading only manifests under path', async () => {
    const repo = servers.repo('daemon');
    const sha1 = repo.write({ 'app/a.yaml': cm('a', '1'), 'README.md': '# not a manifest' }).commit('one');
    const r1 = await fetch('daemon', spec({ url: servers.daemonUrl('daemon'), path: 'app' }));
    assert.equal(r1.revision, `main@sha1:${sha1}`);
    assert.deepEqual(r1.files.map((f) => f.path), ['app/a.yaml']);
    const sha2 = repo.write({ 'app/a.yaml': cm('a', '2'), 'app/sub/b.yml': cm('b', '1') }).commit('two');
    const r2 = await fetch('daemon', spec({ url: servers.daemonUrl('daemon'), path: 'app' }));
    assert.equal(r2.revision, `main@sha1:${sha2}`);
    assert.deepEqual(r2.files.map((f) => f.path).sort(), ['app/a.yaml', 'app/sub/b.yml']);
    assert.match(r2.files.find((f) => f.path === 'app/a.yaml')!.content, /v: "2"/);
  });

  it('resolves tags (lightweight and annotated), semver ranges and pinned commits', async () => {
    const repo = servers.repo('refs');
    const c1 = repo.write({ 'x.yaml': cm('x', '1') }).commit('v1.0.0');
    repo.tag('v1.0.0');
    const c2 = repo.write({ 'x.yaml': cm('x', '2') }).commit('v1.2.0');
    repo.tag('v1.2.0', true);
    const c3 = repo.write({ 'x.yaml': cm('x', '3') }).commit('v2.0.0-rc.1');
    repo.tag('v2.0.0-rc.1');
    const c4 = repo.write({ 'x.yaml': cm('x', '4') }).commit('head');
    const url = servers.daemonUrl('refs');
    assert.equal((await fetch('refs-tag', spec({ url, ref: { tag: 'v1.0.0' } }))).revision, `v1.0.0@sha1:${c1}`);
    assert.equal((await fetch('refs-atag', spec({ url, ref: { tag: 'v1.2.0' } }))).revision, `v1.2.0@sha1:${c2}`);
    assert.equal((await fetch('refs-semver', spec({ url, ref: { semver: '>=1.0.0 <2.0.0' } }))).revision, `v1.2.0@sha1:${c2}`);
    assert.equal((await fetch('refs-semver-pre', spec({ url, ref: { semver: '>=2.0.0-rc.0' } }))).revision, `v2.0.0-rc.1@sha1:${c3}`);
    assert.equal((await fetch('refs-branch', spec({ url, ref: { branch: 'main' } }))).revision, `main@sha1:${c4}`);
    const pinned = await fetch('refs-commit', spec({ url, ref: { commit: c1 } }));
    assert.equal(pinned.revision, `sha1:${c1}`);
    assert.match(pinned.files[0]!.content, /v: "1"/);
    await assert.rejects(fetch('refs-none', spec({ url, ref: { semver: '>=9.0.0' } })), /no tag matches semver range ">=9.0.0"/);
    await assert.rejects(fetch('refs-nobranch', spec({ url, ref: { branch: 'nope' } })), /branch "nope" not found/);
  });

  it('authenticates to http-backend with basic auth and a bearer token, never leaks them, and does not fetch an unchanged ref', async () => {
    const repo = servers.repo('private');
    const sha = repo.write({ 'a.yaml': cm('a', '1') }).commit('one');
    const url = servers.httpUrl('private');
    const { username, password, bearerToken } = servers.httpAuth;
    assert.equal((await fetch('http-basic', spec({ url, secretRef: { name: 'basic' } }), { basic: { username, password } })).revision, `main@sha1:${sha}`);
    assert.equal((await fetch('http-bearer', spec({ url, secretRef: { name: 'bearer' } }), { bearer: { bearerToken } })).revision, `main@sha1:${sha}`);
    assert.ok(servers.httpRequests.some((r) => r.startsWith('Basic')) && servers.httpRequests.some((r) => r.startsWith('Bearer')));
    // Unchanged ref: only ls-remote talks to the server (protocol v2: one ls-refs POST), no fetch POST.
    const before = servers.httpRequests.length;
    await fetch('http-basic', spec({ url, secretRef: { name: 'basic' } }), { basic: { username, password } });
    const again = servers.httpRequests.slice(before);
    assert.equal(again.filter((r) => r.includes('POST')).length, 1, again.join('\n'));
    const wrong = `${password}-wrong`;
    const err = await fetch('http-wrong', spec({ url, secretRef: { name: 'wrong' } }), { wrong: { username, password: wrong } }).then(() => undefined, (e: Error) => e);
    assert.ok(err instanceof GitError, String(err));
    assert.doesNotMatch(err.message, new RegExp(wrong));
    await assert.rejects(fetch('http-none', spec({ url })), /could not read Username|Authentication failed|terminal prompts disabled|401/);
  });

  it('never passes a credential as a process argument', async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const repo = servers.repo('argv');
    repo.write({ 'a.yaml': cm('a', '1') }).commit('one');
    const { username, password, bearerToken } = servers.httpAuth;
    const seen: string[] = [];
    let done = false;
    const watch = (async () => {
      while (!done) {
        for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
          try { seen.push(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')); } catch { /* exited */ }
        }
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    try {
      await fetch('argv-basic', spec({ url: servers.httpUrl('argv'), secretRef: { name: 'b' } }), { b: { username, password } });
      await fetch('argv-bearer', spec({ url: servers.httpUrl('argv'), secretRef: { name: 't' } }), { t: { bearerToken } });
      await fetch('argv-ssh', spec({ url: await servers.sshUrl('argv'), secretRef: { name: 's' } }), { s: { identity: servers.ssh.identity, known_hosts: servers.ssh.knownHosts() } });
    } finally { done = true; await watch; }
    const gitLines = seen.filter((l) => /\bgit\b|git-remote|ssh /.test(l));
    assert.ok(gitLines.some((l) => l.includes('ls-remote')), 'the watcher saw the git processes');
    const keyLine = servers.ssh.identity.split('\n')[1]!;
    for (const l of seen) for (const c of [password, bearerToken, keyLine]) assert.ok(!l.includes(c), `a process argument contains a credential: ${l.slice(0, 80)}`);
  });

  it('authenticates over HTTPS with the CA from the Secret, and refuses an unknown certificate', async () => {
    const repo = servers.repo('tls');
    const sha = repo.write({ 'a.yaml': cm('a', '1') }).commit('one');
    const url = servers.httpsUrl('tls');
    const { username, password } = servers.httpAuth;
    const s = spec({ url, secretRef: { name: 'tls' } });
    assert.equal((await fetch('https-basic', s, { tls: { username, password, 'ca.crt': servers.caCert } })).revision, `main@sha1:${sha}`);
    await assert.rejects(fetch('https-noca', s, { tls: { username, password } }), /certificate|SSL/i);
  });

  it('never runs remote helpers such as ext:: even if a URL got past validation', async () => {
    const marker = join(cache, 'pwned');
    const session = await openSession(undefined, { allowInsecure: true });
    try {
      const { lsRemote } = await import('../../src/gitsync/git.js');
      await assert.rejects(lsRemote(session, `ext::sh -c touch% ${marker}`, []), /transport 'ext' not allowed/);
      assert.equal((await import('node:fs')).existsSync(marker), false);
    } finally { await session.dispose(); }
  });

  it('rejects a URL with a password in it', () => {
    assert.throws(() => spec({ url: 'https://user:hunter2@example.com/r.git' }), /must not contain a password/);
  });

  it('fetches over ssh with the identity and known_hosts, and refuses a host whose key does not match', async () => {
    const repo = servers.repo('sshrepo');
    const sha = repo.write({ 'a.yaml': cm('a', '1') }).commit('one');
    const url = await servers.sshUrl('sshrepo');
    const good = { identity: servers.ssh.identity, known_hosts: servers.ssh.knownHosts() };
    assert.equal((await fetch('ssh-good', spec({ url, secretRef: { name: 'ssh' } }), { ssh: good })).revision, `main@sha1:${sha}`);
    const bad = { identity: servers.ssh.identity, known_hosts: servers.ssh.wrongKnownHosts() };
    const err = await fetch('ssh-bad', spec({ url, secretRef: { name: 'ssh' } }), { ssh: bad }).then(() => undefined, (e: Error) => e);
    assert.ok(err instanceof GitError);
    assert.match(err.message, /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/);
    assert.doesNotMatch(err.message, /PRIVATE KEY/);
    const none = await fetch('ssh-nokh', spec({ url, secretRef: { name: 'ssh' } }), { ssh: { identity: servers.ssh.identity } }).then(() => undefined, (e: Error) => e);
    assert.match(String(none), /Host key verification failed/);
  });

  it('verifies commits signed with GnuPG and with SSH keys; unsigned and untrusted ones fail', async () => {
    const trusted = servers.gpgKey('trusted');
    const stranger = servers.gpgKey('stranger');
    const sshTrusted = servers.sshSigningKey('trusted');
    const sshStranger = servers.sshSigningKey('stranger');
    const repo = servers.repo('signed');
    const keys = trustedKeysOf({ 'pgp.asc': trusted.armoredPublicKey, 'ssh.pub': `${sshTrusted.publicKey} ci@example.com\n` });
    assert.equal(keys.pgp.length, 1);
    assert.equal(keys.ssh.length, 1);
    const session = await openSession(undefined as GitAuth | undefined, { allowInsecure: true });
    try {
      const check = async (sha: string) => {
        await fetch('signed', spec({ url: servers.daemonUrl('signed') }));
        const dir = (await import('../../src/gitsync/git.js')).repoDirFor(cache, 'ns', 'signed', servers.daemonUrl('signed'));
        return verifyCommit(session, dir, sha, keys);
      };
      await check(repo.write({ 'a.yaml': cm('a', '1') }).commit('gpg signed', { signer: trusted.signer }));
      await check(repo.write({ 'a.yaml': cm('a', '2') }).commit('ssh signed', { signer: sshTrusted.signer }));
      await assert.rejects(check(repo.write({ 'a.yaml': cm('a', '3') }).commit('unsigned')), (e: unknown) => e instanceof VerificationError && /is not signed/.test(e.message));
      await assert.rejects(check(repo.write({ 'a.yaml': cm('a', '4') }).commit('gpg stranger', { signer: stranger.signer })), (e: unknown) => e instanceof VerificationError && /not trusted/.test(e.message));
      await assert.rejects(check(repo.write({ 'a.yaml': cm('a', '5') }).commit('ssh stranger', { signer: sshStranger.signer })), (e: unknown) => e instanceof VerificationError && /not trusted|does not verify/.test(e.message));
    } finally { await session.dispose(); }
  });

  it('through fetchRevision, spec.verify refuses an unsigned HEAD before reading any file', async () => {
    const trusted = servers.gpgKey('trusted');
    const repo = servers.repo('verified');
    repo.write({ 'a.yaml': cm('a', '1') }).commit('signed', { signer: trusted.signer });
    const s = spec({ url: servers.daemonUrl('verified'), verify: { mode: 'HEAD', secretRef: { name: 'keys' } } });
    const secrets = { keys: { 'key.asc': trusted.armoredPublicKey } };
    assert.equal((await fetch('verified', s, secrets)).files.length, 1);
    repo.write({ 'a.yaml': cm('a', '2') }).commit('unsigned');
    await assert.rejects(fetch('verified', s, secrets), VerificationError);
  });
});
