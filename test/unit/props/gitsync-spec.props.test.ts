// Property tests for the GitSync spec a tenant writes: URL checks, refs, paths and the whole parser. Any value
// yields a spec or a SpecError naming the field; accepted URLs never carry a password or select a remote helper;
// adversarial 64 KiB–1 MiB fields are checked in linear time.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type GitSyncObject, SpecError, checkUrl, normalisePath, parseSpec } from '../../../src/gitsync/spec.js';
import { KiB, MiB, anyText, assertFast, grammar, onlyThrows, repeated } from '../../support/props.js';

const URL_PIECES = ['https://', 'http://', 'ssh://', 'git://', 'file://', 'ext::', 'fd::', 'git@', 'host', '.com', ':', '::', '/', 'org/repo.git',
  '@', 'user', ':pass', ' ', '-', '%', '[::1]', '?', '#', 'a', '1', '\t', '~', '+'];

const accepted = (url: string) => { try { checkUrl(url); return true; } catch (err) { if (err instanceof SpecError) return false; throw err; } };

describe('GitSync URL checks (properties)', () => {
  it('any text is accepted or refused with a SpecError', () => {
    fc.assert(fc.property(fc.oneof(anyText(), grammar(URL_PIECES)), (url) => { onlyThrows(() => checkUrl(url), SpecError); }), { numRuns: 5000 });
  });

  it('an accepted URL has no whitespace, no leading "-", no password and no remote-helper "::"', () => {
    fc.assert(fc.property(grammar(URL_PIECES), (url) => {
      if (!accepted(url)) return;
      assert.ok(!/\s/.test(url) && !url.startsWith('-'), url);
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
        const u = new URL(url);
        assert.equal(u.password, '', url);
        assert.ok(['https:', 'http:', 'ssh:', 'git:', 'file:'].includes(u.protocol), url);
      } else {
        const colon = url.indexOf(':');
        assert.ok(colon > 0 && url[colon + 1] !== ':', `remote helper accepted: ${url}`);
      }
    }), { numRuns: 5000 });
  });

  it('https URLs with any user:password are refused; without a password they are accepted', () => {
    const part = fc.stringMatching(/^[A-Za-z0-9._~-]{1,12}$/);
    const host = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}(\.[a-z]{2,5})?$/);
    fc.assert(fc.property(part, part, host, (user, pass, h) => {
      assert.equal(accepted(`https://${user}:${pass}@${h}/r.git`), false);
      assert.equal(accepted(`https://${user}@${h}/r.git`), true);
      assert.equal(accepted(`git@${h}:${user}/r.git`), true);
    }));
  });

  it('adversarial 64 KiB–1 MiB URLs are checked well under a second', () => {
    for (const size of [64 * KiB, MiB]) {
      for (const [name, url] of [['letters', repeated('a', size, '', '!')], ['users', repeated('a@', size)], ['colons', repeated('a:', size, '', ' ')],
        ['dots', repeated('a.', size, 'git@', '')], ['scheme-ish', repeated('a+', size, '', ':/')], ['https path', repeated('a/', size, 'https://h/')],
        ['userinfo', repeated('a:', size, 'https://', '@h/')]] as const) {
        assertFast(`url ${name} ${size}`, 1000, () => checkUrl(url));
      }
    }
  });
});

const spec = fc.record({
  url: fc.oneof(grammar(URL_PIECES), fc.constant('https://example.com/r.git'), fc.jsonValue()),
  ref: fc.oneof(fc.jsonValue(), fc.record({
    branch: fc.oneof(grammar(['main', '/', '..', '.lock', '-', ' ', '~', '^', ':', '?', '*', '[', '\\', '\x01', 'a']), fc.jsonValue()),
    tag: fc.oneof(fc.constant(undefined), fc.string()),
    semver: fc.oneof(fc.constant(undefined), grammar(['1', '.', 'x', '^', '~', '>=', ' ', '||', '-', '!'])),
    commit: fc.oneof(fc.constant(undefined), fc.stringMatching(/^[0-9a-fA-F]{38,42}$/), fc.string()),
  }, { requiredKeys: [] })),
  path: fc.oneof(grammar(['a', '/', '.', '..', '', './']), fc.jsonValue()),
  interval: fc.oneof(grammar(['1', 'm', 's', '0', '-', '.']), fc.jsonValue()),
  timeout: fc.oneof(fc.constant(undefined), grammar(['1', 'm', 's', '0'])),
  targetNamespace: fc.oneof(fc.constant(undefined), fc.stringMatching(/^[a-z0-9-]{0,70}$/), fc.jsonValue()),
  secretRef: fc.oneof(fc.constant(undefined), fc.record({ name: fc.oneof(fc.stringMatching(/^[a-z0-9.-]{0,260}$/), fc.jsonValue()) }), fc.jsonValue()),
  webhookSecretRef: fc.oneof(fc.constant(undefined), fc.jsonValue()),
  verify: fc.oneof(fc.constant(undefined), fc.record({ mode: fc.oneof(fc.constant('HEAD'), fc.jsonValue()), secretRef: fc.jsonValue() }, { requiredKeys: [] })),
  prune: fc.jsonValue(),
  suspend: fc.jsonValue(),
}, { requiredKeys: [] });

describe('GitSync spec parser (properties)', () => {
  it('any spec object parses or fails with a SpecError; a parsed spec is well-formed', () => {
    fc.assert(fc.property(fc.oneof(spec, fc.dictionary(fc.string(), fc.jsonValue())), (s) => {
      const obj: GitSyncObject = { apiVersion: 'keelson.dev/v1alpha1', kind: 'GitSync', metadata: { name: 'g', namespace: 'team-a' }, spec: s as Record<string, unknown> };
      const parsed = onlyThrows(() => parseSpec(obj), SpecError);
      if (!parsed) return;
      assert.ok(parsed.intervalMs > 0 && parsed.timeoutMs > 0);
      if (parsed.targetNamespace !== undefined) assert.ok(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(parsed.targetNamespace));
      assert.ok(!parsed.path.split('/').includes('..'));
      if (parsed.ref.kind === 'commit') assert.match(parsed.ref.sha, /^[0-9a-f]{40}$/);
      if (parsed.ref.kind === 'branch' || parsed.ref.kind === 'tag') assert.ok(!parsed.ref.name.startsWith('-') && !/\s/.test(parsed.ref.name));
    }), { numRuns: 3000 });
  });

  it('normalisePath is idempotent and stays inside the repository', () => {
    fc.assert(fc.property(grammar(['a', 'b', '/', '.', '..', './', '//']), (p) => {
      const once = onlyThrows(() => normalisePath(p), SpecError);
      if (once === undefined) return;
      assert.equal(normalisePath(once), once);
      assert.ok(once === '.' || !once.split('/').some((s) => s === '' || s === '.' || s === '..'));
    }));
  });

  it('adversarial 1 MiB fields are parsed well under a second', () => {
    const obj = (s: Record<string, unknown>): GitSyncObject => ({ apiVersion: 'keelson.dev/v1alpha1', kind: 'GitSync', metadata: { name: 'g', namespace: 'team-a' }, spec: s });
    const url = 'https://example.com/r.git';
    for (const [name, s] of [
      ['branch', { url, ref: { branch: repeated('a/', MiB, '', '.lock') } }], ['semver', { url, ref: { semver: repeated('>= ', MiB) } }],
      ['path', { url, path: repeated('a/./', MiB, '', '..') }], ['interval', { url, interval: repeated('1s', MiB, '', 'x') }],
      ['secret name', { url, secretRef: { name: repeated('a.', MiB, '', '-') } }], ['namespace', { url, targetNamespace: repeated('a-', MiB) }],
    ] as const) assertFast(`spec ${name}`, 1000, () => parseSpec(obj(s)));
  });
});
