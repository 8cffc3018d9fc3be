// Property tests for what Git hosts and Git servers send: webhook signatures and paths, `git ls-remote` output,
// git's stderr (redacted before it reaches logs and status) and a verify Secret's key text. Never a throw, exact
// answers, and linear time on 64 KiB–1 MiB adversarial input.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { githubSignatureValid, gitlabTokenValid, hookTarget } from '../../../src/gitsync/hooks.js';
import { redact, summariseGitError } from '../../../src/gitsync/redact.js';
import { parseLsRemote } from '../../../src/gitsync/refs.js';
import { pgpBlocks, trustedKeysOf } from '../../../src/gitsync/verify.js';
import { KiB, MiB, anyText, assertFast, grammar, repeated } from '../../support/props.js';

const sign = (body: Uint8Array, secret: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

describe('webhook checks (properties)', () => {
  it('a GitHub signature is valid exactly when it is the HMAC of the body under the secret (hex in any case)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), fc.string({ minLength: 1 }), fc.oneof(anyText(80), fc.constant('')), fc.boolean(), (body, secret, header, upper) => {
      const good = sign(body, secret);
      assert.equal(githubSignatureValid(Buffer.from(body), upper ? `sha256=${good.slice(7).toUpperCase()}` : ` ${good} `, secret), true);
      assert.equal(githubSignatureValid(Buffer.from(body), header, secret), header.trim().toLowerCase() === good);
      assert.equal(githubSignatureValid(Buffer.from([...body, 0]), good, secret), false);
    }));
  });

  it('a GitLab token is valid exactly when it equals the non-empty secret', () => {
    fc.assert(fc.property(anyText(40), anyText(40), (header, secret) => {
      assert.equal(gitlabTokenValid(header, secret), header === secret && header.length > 0);
      if (secret.length > 0) assert.equal(gitlabTokenValid(secret, secret), true);
    }));
  });

  it('hook paths: any path is a valid namespace/name pair or undefined, and valid pairs round-trip', () => {
    const label = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/);
    const sub = fc.stringMatching(/^[a-z0-9]([-a-z0-9.]{0,20}[a-z0-9])?$/);
    fc.assert(fc.property(label, sub, fc.boolean(), (ns, name, slash) => {
      assert.deepEqual(hookTarget(`/hooks/git/${ns}/${name}${slash ? '/' : ''}`), { namespace: ns, name });
    }));
    fc.assert(fc.property(fc.oneof(anyText(), grammar(['/hooks/git/', '/', 'a', '-', '.', '..', '%2f', 'A', '_'])), (path) => {
      const t = hookTarget(path);
      if (t) assert.ok(/^[a-z0-9-]+$/.test(t.namespace) && /^[a-z0-9.-]+$/.test(t.name) && path.startsWith('/hooks/git/'));
    }), { numRuns: 3000 });
  });

  it('adversarial 64 KiB–1 MiB headers and paths finish well under a second', () => {
    for (const size of [64 * KiB, MiB]) {
      assertFast(`signature header ${size}`, 1000, () => githubSignatureValid(Buffer.alloc(0), repeated('a', size, 'sha256='), 's'));
      assertFast(`gitlab token ${size}`, 1000, () => gitlabTokenValid(repeated('a', size), 's'));
      for (const unit of ['a-', 'a.', 'a/', '-']) assertFast(`hook path ${unit} ${size}`, 1000, () => hookTarget(repeated(unit, size, '/hooks/git/a', '!')));
    }
  });
});

describe('git ls-remote output (properties)', () => {
  const sha = fc.stringMatching(/^[0-9a-f]{40}$/);
  const ref = fc.stringMatching(/^refs\/(heads|tags)\/[A-Za-z0-9._/-]{1,20}$/);
  it('round-trips refs, peeled tags replacing the tag object', () => {
    fc.assert(fc.property(fc.dictionary(ref, fc.tuple(sha, fc.option(sha, { nil: undefined }))), (refs) => {
      const lines = Object.entries(refs).flatMap(([name, [s, peeled]]) => [`${s}\t${name}`, ...(peeled ? [`${peeled}\t${name}^{}`] : [])]);
      const parsed = parseLsRemote(`${lines.join('\n')}\n`);
      assert.deepEqual(Object.fromEntries(parsed), Object.fromEntries(Object.entries(refs).map(([n, [s, p]]) => [n, p ?? s])));
    }));
  });
  it('any text parses without throwing into SHA → ref-name pairs', () => {
    fc.assert(fc.property(fc.oneof(anyText(), grammar(['a'.repeat(40), '0'.repeat(40), '\t', '\n', ' ', 'refs/tags/v1', '^{}', 'x'])), (text) => {
      for (const [name, s] of parseLsRemote(text)) assert.ok(/^[0-9a-f]{40,64}$/.test(s) && !/\s/.test(name));
    }), { numRuns: 2000 });
  });
  it('adversarial 1 MiB output parses well under a second', () => {
    for (const unit of ['a', '0', `${'a'.repeat(40)}\t`, '\t', ' \n']) assertFast(`ls-remote ${JSON.stringify(unit)}`, 1000, () => parseLsRemote(repeated(unit, MiB)));
  });
});

/** The regexes redact() used before, as an oracle on small inputs (they were quadratic on large ones). */
const oldAuthorization = (t: string) => t.replace(/(authorization:\s*)(basic|bearer|token)?\s*\S+/gi, '$1[redacted]');
const oldUrl = (t: string) => t.replace(/(:\/\/)[^/@\s:]*:[^/@\s]*@/g, '$1[redacted]@');

describe('redaction of git output (properties)', () => {
  const PIECES = ['authorization:', 'Authorization: ', 'AUTHORIZATION:', ' ', '\n', '\t', 'Bearer', 'basic ', 'token', 'abc', 'x', ':', '//', '://', '@', '/', 'https://', 'u:p@', 'İ', 'ß'];

  it('matches the former regexes exactly on small inputs (Authorization headers; credentials after "://")', () => {
    fc.assert(fc.property(grammar(PIECES, 25), (text) => {
      assert.equal(redact(text), oldAuthorization(oldUrl(text)));
    }), { numRuns: 5000 });
  });

  it('never throws, and leaves no user:password@ after "://" and no known secret', () => {
    const secret = fc.stringMatching(/^[0-9a-f]{4,16}$/);
    fc.assert(fc.property(fc.oneof(anyText(), grammar(PIECES, 40)), fc.array(secret, { maxLength: 3 }), (text, secrets) => {
      const withSecrets = `${text}${secrets.join(' ')}`;
      const out = redact(withSecrets, secrets);
      assert.ok(!/:\/\/[^/@\s:]*:[^/@\s]*@/.test(out), out);
      // The marker itself may contain a short secret ("edac" in "[redacted]"): look at what is left around markers.
      for (const s of secrets) assert.ok(!out.split('[redacted]').join('\n').includes(s), s);
      summariseGitError(withSecrets, secrets);
    }), { numRuns: 3000 });
  });

  it('adversarial 64 KiB–1 MiB stderr is redacted well under a second', () => {
    for (const size of [64 * KiB, MiB]) {
      for (const [label, text] of [
        ['scheme-like', repeated('a.', size)], ['scheme dashes', repeated('a-', size, '', '://')], ['authorization spaces', repeated(' ', size, 'authorization:')],
        ['authorization runs', repeated('authorization: ', size)], ['url colons', repeated(':', size, 'a://')], ['urls', repeated('a://b:', size)],
        ['key begin', repeated('-----BEGIN A PRIVATE KEY----- ', size)], ['key end', repeated('-----END A ', size, '-----BEGIN PRIVATE KEY-----')],
        ['hook header', repeated(' ', size, 'x-gitlab-token:')],
      ] as const) assertFast(`redact ${label} ${size}`, 1000, () => summariseGitError(text, ['secret-value']));
    }
  });
});

describe('verify Secret key text (properties)', () => {
  const BEGIN = '-----BEGIN PGP PUBLIC KEY BLOCK-----';
  const END = '-----END PGP PUBLIC KEY BLOCK-----';
  it('finds the same PGP blocks as the former lazy regex', () => {
    fc.assert(fc.property(grammar([BEGIN, END, '\n', 'abc', '-----', 'BEGIN', ' '], 20), (text) => {
      assert.deepEqual(pgpBlocks(text), text.match(/-----BEGIN PGP PUBLIC KEY BLOCK-----[\s\S]*?-----END PGP PUBLIC KEY BLOCK-----/g) ?? []);
    }), { numRuns: 3000 });
  });
  it('any Secret data sorts into keys without throwing; 1 MiB of BEGIN lines is linear', () => {
    fc.assert(fc.property(fc.dictionary(fc.string(), fc.oneof(anyText(), grammar([BEGIN, END, 'ssh-ed25519 ', 'AAAA', ' ', '\n', 'ecdsa-sha2-nistp', '256', 'x']))), (data) => { trustedKeysOf(data); }));
    for (const size of [64 * KiB, MiB]) {
      assertFast(`pgp BEGIN lines ${size}`, 1000, () => trustedKeysOf({ k: repeated(`${BEGIN}\n`, size) }));
      assertFast(`ssh-ish lines ${size}`, 1000, () => trustedKeysOf({ k: repeated('ecdsa-sha2-nistp1', size, '', 'x') }));
    }
  });
});
