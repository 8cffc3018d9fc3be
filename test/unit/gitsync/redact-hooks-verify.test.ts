import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { githubSignatureValid, gitlabTokenValid, hookTarget } from '../../../src/gitsync/hooks.js';
import { redact, summariseGitError } from '../../../src/gitsync/redact.js';
import { lineDiff, maskSecrets } from '../../../src/gitsync/textdiff.js';
import { trustedKeysOf } from '../../../src/gitsync/verify.js';

describe('redact', () => {
  it('removes known secrets in plain, base64 and URL-encoded form', () => {
    const s = 'p@ss word!';
    const out = redact(`a ${s} b ${Buffer.from(s).toString('base64')} c ${encodeURIComponent(s)}`, [s]);
    assert.equal(out.includes(s) || out.includes(Buffer.from(s).toString('base64')) || out.includes(encodeURIComponent(s)), false);
  });
  it('removes credential-shaped text', () => {
    assert.equal(redact('fatal: unable to access https://bob:hunter2@host/r.git/'), 'fatal: unable to access https://[redacted]@host/r.git/');
    assert.equal(redact('Authorization: Bearer abc.def'), 'Authorization: [redacted]');
    assert.equal(redact('x -----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY----- y'), 'x [redacted private key] y');
    assert.equal(redact('X-Gitlab-Token: sekrit'), 'X-Gitlab-Token: [redacted]');
  });
  it('summarises stderr without hints, short', () => {
    assert.equal(summariseGitError('hint: do this\nfatal: nope\n\n', []), 'fatal: nope');
    assert.ok(summariseGitError('x'.repeat(2000), []).length <= 600);
  });
});

describe('webhook checks', () => {
  const body = Buffer.from('{"ref":"refs/heads/main"}');
  const sig = `sha256=${createHmac('sha256', 'topsecret').update(body).digest('hex')}`;
  it('accepts a correct GitHub signature only', () => {
    assert.equal(githubSignatureValid(body, sig, 'topsecret'), true);
    assert.equal(githubSignatureValid(body, sig.toUpperCase().replace('SHA256=', 'sha256='), 'topsecret'), true);
    assert.equal(githubSignatureValid(body, sig, 'other'), false);
    assert.equal(githubSignatureValid(Buffer.from('{}'), sig, 'topsecret'), false);
    assert.equal(githubSignatureValid(body, 'sha1=abc', 'topsecret'), false);
    assert.equal(githubSignatureValid(body, 'sha256=abc', 'topsecret'), false);
  });
  it('accepts the GitLab token only', () => {
    assert.equal(gitlabTokenValid('topsecret', 'topsecret'), true);
    assert.equal(gitlabTokenValid('topsecre', 'topsecret'), false);
    assert.equal(gitlabTokenValid('', ''), false);
  });
  it('parses the hook path', () => {
    assert.deepEqual(hookTarget('/hooks/git/team-a/app'), { namespace: 'team-a', name: 'app' });
    assert.equal(hookTarget('/hooks/git/team-a'), undefined);
    assert.equal(hookTarget('/hooks/git/../x/y'), undefined);
    assert.equal(hookTarget('/hooks/git/a/b/c'), undefined);
  });
});

describe('trusted keys', () => {
  it('finds PGP blocks and SSH keys in any Secret key, with or without principals', () => {
    const pgp = '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEZ\n-----END PGP PUBLIC KEY BLOCK-----';
    const keys = trustedKeysOf({
      'a.asc': `${pgp}\n${pgp.replace('mDMEZ', 'other')}`,
      allowed_signers: 'dev@example.com namespaces="git" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIabc comment\n# comment line\n',
      'key.pub': 'ecdsa-sha2-nistp256 AAAAE2VjZHNh= me@host',
    });
    assert.equal(keys.pgp.length, 2);
    assert.deepEqual(keys.ssh, ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIabc', 'ecdsa-sha2-nistp256 AAAAE2VjZHNh=']);
    assert.deepEqual(trustedKeysOf({ x: 'nothing here' }), { pgp: [], ssh: [] });
  });
});

describe('diff output', () => {
  it('shows changed lines with context and elides the rest', () => {
    const a = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'].join('\n');
    const b = a.replace('e', 'E');
    assert.deepEqual(lineDiff(a, b, 1), ['  …', '  d', '- e', '+ E', '  f', '  …']);
    assert.deepEqual(lineDiff('', 'x\ny\n'), ['+ x', '+ y']);
  });
  it('masks Secret values, marking which changed', () => {
    const live = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { same: 'YQ==', changed: 'Yg==' } };
    const want = { ...live, data: { same: 'YQ==', changed: 'Yw==', added: 'ZA==' } };
    const [l, d] = maskSecrets(live, want);
    assert.deepEqual(l!.data, { same: '***', changed: '*** (before)' });
    assert.deepEqual(d!.data, { same: '***', changed: '*** (after)', added: '*** (after)' });
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { k: 'v' } };
    assert.deepEqual(maskSecrets(cm, cm), [cm, cm]);
  });
});
