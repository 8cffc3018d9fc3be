import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { sessionConfig } from '../../../src/gitsync/git.js';
import { checkUrl } from '../../../src/gitsync/spec.js';
import { INSECURE_TRANSPORTS, filePathOf, isWithin, transportOf, transportVerdict } from '../../../src/gitsync/transport.js';

const CACHE = '/var/cache/keelson-git';

describe('transport policy', () => {
  it('names the transport of every URL form spec.checkUrl accepts', () => {
    const cases: [string, string | undefined][] = [
      ['https://git.example.com/org/r.git', 'https'], ['HTTPS://git.example.com/r', 'https'], ['ssh://git@host:22/org/r.git', 'ssh'],
      ['git@github.com:org/r.git', 'scp'], ['host.example.com:org/r.git', 'scp'], ['http://h/r.git', 'http'], ['git://h/r.git', 'git'],
      ['file:///srv/r.git', 'file'], ['ext::sh -c x', undefined], ['/srv/r.git', undefined], ['ftp://h/r', undefined],
    ];
    for (const [url, want] of cases) assert.equal(transportOf(url), want, url);
  });

  it('allows https, ssh and scp-like URLs by default and refuses http, git and file with the fix in the message', () => {
    for (const url of ['https://h/r.git', 'ssh://git@h/r.git', 'git@h:org/r.git']) {
      assert.deepEqual(transportVerdict(url, { allowInsecure: false, cacheDir: CACHE }).ok, true, url);
    }
    for (const url of ['http://h/r.git', 'git://h/r.git', 'file:///srv/r.git']) {
      const v = transportVerdict(url, { allowInsecure: false, cacheDir: CACHE });
      assert.equal(v.ok, false, url);
      assert.match(!v.ok ? v.message : '', /use an https:\/\/ or ssh:\/\/ URL, or start the controller with --allow-insecure-git/);
      assert.equal(transportVerdict(url, { allowInsecure: true, cacheDir: CACHE }).ok, true, url);
    }
  });

  it('never lets file:// reach into (or above) the Git cache, with or without the flag', () => {
    for (const allowInsecure of [false, true]) {
      for (const url of [`file://${CACHE}/ns_other_0123456789abcdef`, `file://${CACHE}`, `file://${CACHE}/../keelson-git/x`, 'file:///var/cache', 'file:///',
        `file://${CACHE.replace('keelson', 'keel%73on')}/x`]) {
        const v = transportVerdict(url, { allowInsecure, cacheDir: CACHE });
        assert.equal(v.ok, false, `${url} (allowInsecure ${allowInsecure})`);
      }
    }
    assert.equal(transportVerdict(`file://${CACHE}-other/r.git`, { allowInsecure: true, cacheDir: CACHE }).ok, true, 'a sibling whose name starts alike is fine');
  });

  it('property: without the flag no insecure URL passes; with it the verdict matches the transport', () => {
    const host = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/);
    // No '.' or '..' segments: those may climb to a folder above the cache, which is refused whatever the flag says.
    const path = fc.array(fc.stringMatching(/^[a-z0-9_-][a-z0-9._-]{0,7}$/), { minLength: 1, maxLength: 4 }).map((p) => p.join('/'));
    const scheme = fc.constantFrom('https', 'http', 'ssh', 'git', 'file');
    fc.assert(fc.property(scheme, host, path, fc.boolean(), (s, h, p, allow) => {
      const url = s === 'file' ? `file:///srv/${p}` : `${s}://${h}/${p}`;
      checkUrl(url);
      const v = transportVerdict(url, { allowInsecure: allow, cacheDir: CACHE });
      const insecure = INSECURE_TRANSPORTS.includes(transportOf(url)!);
      return v.ok === (!insecure || allow);
    }));
  });

  it('decodes file:// paths before comparing them', () => {
    assert.equal(filePathOf('file:///a%20b/r.git'), '/a b/r.git');
    assert.equal(filePathOf('file:///a/../b'), '/b');
    assert.equal(filePathOf('https://h/r'), undefined);
    assert.equal(isWithin('/a/b', '/a'), true);
    assert.equal(isWithin('/a', '/a'), true);
    assert.equal(isWithin('/ab', '/a'), false);
    assert.equal(isWithin('/a/../b', '/a'), false);
  });

  it('gives git the policy too: insecure protocols "never" unless allowed, low-speed limits always', () => {
    const get = (allow: boolean) => Object.fromEntries(sessionConfig(allow));
    const strict = get(false);
    assert.equal(strict['protocol.allow'], 'never');
    assert.equal(strict['protocol.https.allow'], 'always');
    assert.equal(strict['protocol.ssh.allow'], 'always');
    for (const p of ['http', 'git', 'file']) { assert.equal(strict[`protocol.${p}.allow`], 'never'); assert.equal(get(true)[`protocol.${p}.allow`], 'always'); }
    assert.equal(strict['http.lowSpeedLimit'], '1000');
    assert.equal(strict['http.lowSpeedTime'], '30');
  });
});
