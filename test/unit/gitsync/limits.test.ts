import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cacheEntryOwner, staleCacheEntries } from '../../../src/gitsync/cache.js';
import { repoDirFor } from '../../../src/gitsync/git.js';
import { HookRateLimiter, WebhookSecretCache } from '../../../src/gitsync/hook-guard.js';
import { RevisionTooLargeError, checkObjectCount, checkRevisionBytes, formatBytes } from '../../../src/gitsync/limits.js';
import { MAX_DOCUMENT_CHARS, RenderError, checkDocumentSizes, parseFiles } from '../../../src/gitsync/render.js';
import { MAX_TIMEOUT_MS, parseSpec } from '../../../src/gitsync/spec.js';
import { classify } from '../../../src/gitsync/syncer.js';
import { TransportError } from '../../../src/gitsync/source.js';
import { basename } from 'node:path';

const cm = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n`;

describe('revision limits', () => {
  it('refuses a revision whose recorded sizes pass --max-revision-bytes, naming the biggest files', () => {
    checkRevisionBytes([{ path: 'a.yaml', size: 10 }, { path: 'b.yaml', size: 10 }], 20, 'revision r');
    assert.throws(() => checkRevisionBytes([{ path: 'a.yaml', size: 10 }, { path: 'big.yaml', size: 100 * 1024 * 1024 }], 64 * 1024 * 1024, 'revision main@sha1:x'),
      (e: unknown) => e instanceof RevisionTooLargeError && /revision main@sha1:x: .* hold 100 MiB, over the limit of 64 MiB \(--max-revision-bytes\); biggest: big\.yaml \(100 MiB\), a\.yaml/.test(e.message));
  });

  it('counts objects while parsing and stops at the first over --max-revision-objects', () => {
    const files = [{ path: 'a.yaml', content: [cm('a'), cm('b'), cm('c')].join('---\n') }];
    assert.equal(parseFiles(files, 3).length, 3);
    assert.throws(() => parseFiles(files, 2), (e: unknown) => e instanceof RevisionTooLargeError && /more than 2 objects \(--max-revision-objects; passed in a\.yaml\)/.test(e.message));
    // List items count, and so do empty documents (a million "---" lines cost as much as a million objects).
    const list = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [1, 2, 3].map((i) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `c${i}` } })) });
    assert.throws(() => parseFiles([{ path: 'l.json', content: list }], 2), RevisionTooLargeError);
    assert.throws(() => parseFiles([{ path: 'e.yaml', content: '---\n'.repeat(1000) }], 10), RevisionTooLargeError);
    checkObjectCount(5, 5, 'x');
    assert.throws(() => checkObjectCount(6, 5, 'x'), RevisionTooLargeError);
  });

  it('bounds YAML expansion: a billion-laughs document is a RenderError, not memory', () => {
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 12; i++) levels.push(`l${i}: &l${i} [${Array(9).fill(i === 1 ? '*a' : `*l${i - 1}`).join(',')}]`);
    const content = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n${levels.map((l) => `  ${l}`).join('\n')}\n`;
    const t = Date.now();
    assert.throws(() => parseFiles([{ path: 'laughs.yaml', content }]), (e: unknown) => e instanceof RenderError && /laughs\.yaml \(document 1\): cannot be expanded/.test(e.message));
    assert.ok(Date.now() - t < 5000, 'refused quickly');
  });

  it('refuses a document over 4 MiB before parsing it, wherever it sits in the file', () => {
    const big = 'x'.repeat(MAX_DOCUMENT_CHARS + 10);
    const t = Date.now();
    assert.throws(() => parseFiles([{ path: 'b.yaml', content: `${cm('a')}---\n${cm('b')}data:\n  k: |\n    ${big}\n---\n${cm('c')}` }]),
      (e: unknown) => e instanceof RevisionTooLargeError && /^b\.yaml \(the document from line 6\) is 4 MiB; one YAML document may be at most 4 MiB/.test(e.message));
    assert.ok(Date.now() - t < 2000, 'refused without parsing');
    // Many documents, each small, are fine however big the file; "---" inside a scalar only splits finer.
    const many = Array.from({ length: 700 }, (_, i) => `${cm(`m${i}`)}data:\n  k: "${'y'.repeat(7000)}"\n`).join('---\n');
    assert.ok(many.length > MAX_DOCUMENT_CHARS);
    checkDocumentSizes('m.yaml', many);
    assert.throws(() => checkDocumentSizes('l.yaml', `apiVersion: v1\nkind: List\nitems:\n${'- {}\n'.repeat(MAX_DOCUMENT_CHARS / 4)}`), /l\.yaml \(the document from line 1\)/);
  });

  it('turns deep nesting into a RenderError naming the file', () => {
    assert.throws(() => parseFiles([{ path: 'deep.yaml', content: '['.repeat(50_000) + ']'.repeat(50_000) }]), (e: unknown) => e instanceof RenderError && /^deep\.yaml/.test(e.message));
  });

  it('formats sizes', () => {
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(1536), '1.5 KiB');
    assert.equal(formatBytes(64 * 1024 * 1024), '64 MiB');
  });

  it('maps the new failures to their reasons', () => {
    assert.equal(classify(new TransportError('x')), 'InsecureTransport');
    assert.equal(classify(new RevisionTooLargeError('x')), 'RevisionTooLarge');
  });
});

describe('spec.timeout ceiling', () => {
  const gs = (spec: Record<string, unknown>) => ({ metadata: { name: 'g', namespace: 'team' }, spec: { url: 'https://h/r.git', ...spec } });
  it('accepts up to 30m, refuses more naming the ceiling, and caps the default', () => {
    assert.equal(parseSpec(gs({ timeout: '30m' })).timeoutMs, MAX_TIMEOUT_MS);
    assert.throws(() => parseSpec(gs({ timeout: '31m' })), /spec\.timeout "31m" is over the ceiling of 30m; use 30m or less/);
    assert.throws(() => parseSpec(gs({ timeout: '24h' })), /ceiling/);
    assert.equal(parseSpec(gs({ interval: '2h' })).timeoutMs, MAX_TIMEOUT_MS, 'the default (the interval) is capped');
    assert.equal(parseSpec(gs({ interval: '5m' })).timeoutMs, 300_000);
  });
});

describe('git cache entries', () => {
  it('reads the owner of an entry Keelson made, and nothing else', () => {
    const dir = basename(repoDirFor('/c', 'team-a', 'app.v1', 'https://h/r.git'));
    assert.deepEqual(cacheEntryOwner(dir), { namespace: 'team-a', name: 'app.v1' });
    for (const e of ['lost+found', 'team_a', 'a_b_c', 'a_b_0123456789abcdeg', '.keep', 'A_b_0123456789abcdef']) assert.equal(cacheEntryOwner(e), undefined, e);
  });

  it('removes the folders of GitSyncs that are gone and of a GitSync\'s earlier URLs', () => {
    const cur = basename(repoDirFor('/c', 'ns', 'a', 'https://h/new.git'));
    const old = basename(repoDirFor('/c', 'ns', 'a', 'https://h/old.git'));
    const other = basename(repoDirFor('/c', 'ns', 'b', 'https://h/b.git'));
    const gone = basename(repoDirFor('/c', 'ns', 'gone', 'https://h/g.git'));
    const exists = (ns: string, n: string) => ns === 'ns' && (n === 'a' || n === 'b');
    assert.deepEqual(staleCacheEntries([cur, old, other, gone, 'lost+found'], exists).sort(), [gone]);
    assert.deepEqual(staleCacheEntries([cur, old, other, gone], () => true, { namespace: 'ns', name: 'a', keep: cur }), [old]);
    assert.notEqual(cur, old, 'a new URL gets a new folder');
  });
});

describe('webhook guard', () => {
  it('serves a Secret from cache: one load per TTL, misses cached too, errors not cached', async () => {
    let now = 1_000_000; // lru-cache treats a start time of 0 as "no TTL"
    const loads: string[] = [];
    let fail = false;
    const cache = new WebhookSecretCache(async (ns, name) => {
      loads.push(`${ns}/${name}`);
      if (fail) throw new Error('apiserver down');
      return name === 'missing' ? undefined : 'tok';
    }, 30_000, () => now);
    const results = await Promise.all(Array.from({ length: 100 }, () => cache.token('ns', 'hook')));
    assert.ok(results.every((r) => r === 'tok'));
    for (let i = 0; i < 100; i++) assert.equal(await cache.token('ns', 'missing'), undefined);
    assert.deepEqual(loads, ['ns/hook', 'ns/missing']);
    now += 30_001;
    await cache.token('ns', 'hook');
    assert.equal(loads.length, 3, 'reloaded after the TTL');
    fail = true;
    now += 30_001;
    await assert.rejects(cache.token('ns', 'hook'));
    await assert.rejects(cache.token('ns', 'hook'));
    assert.equal(loads.length, 5, 'an error is retried, not cached');
  });

  it('rate limits per GitSync with a burst, refills over time, and keeps GitSyncs apart', () => {
    let now = 0;
    const limiter = new HookRateLimiter(0.5, 10, () => now);
    let ok = 0;
    for (let i = 0; i < 50; i++) if (limiter.take('ns/a')) ok++;
    assert.equal(ok, 10);
    assert.equal(limiter.take('ns/b'), true, 'another GitSync has its own bucket');
    assert.equal(limiter.retryAfterSeconds('ns/a'), 2);
    now += 2000;
    assert.equal(limiter.take('ns/a'), true);
    assert.equal(limiter.take('ns/a'), false);
    now += 3_600_000;
    ok = 0;
    for (let i = 0; i < 50; i++) if (limiter.take('ns/a')) ok++;
    assert.equal(ok, 10, 'refills only up to the burst');
  });

  it('stays bounded under name churn', () => {
    const limiter = new HookRateLimiter(0.5, 10, () => 0);
    for (let i = 0; i < 50_000; i++) limiter.take(`ns/n${i}`);
    assert.ok((limiter as unknown as { buckets: { size: number } }).buckets.size <= 10_000);
  });
});
