// The pure sealing modules: strict base64, scope selection and labels, template rendering, renewal schedule, the
// rate limiter and its client address (X-Forwarded-For from trusted proxies only), and the Secret plan
// (create/update/unchanged/refused/recreate, managed and patch).

import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeStrictBase64 } from '../../../src/sealing/base64.js';
import { planSecret } from '../../../src/sealing/plan.js';
import { RateLimiter, clientOf, trustedProxies } from '../../../src/sealing/rate-limit.js';
import { parseCutoffTime, renewalDelayMs } from '../../../src/sealing/renewal.js';
import { labelFor, scopeFromAnnotations } from '../../../src/sealing/scope.js';
import { type SealedSecret, type Secret, desiredSecret } from '../../../src/sealing/sealed-secret.js';
import { renderTemplate } from '../../../src/sealing/template.js';

describe('strict base64', () => {
  it('decodes padded standard base64 and ignores CR/LF', () => {
    assert.equal(decodeStrictBase64('aGVs\r\nbG8=').toString(), 'hello');
    assert.equal(decodeStrictBase64('').length, 0);
    assert.deepEqual([...decodeStrictBase64('+/8=')], [0xfb, 0xff]);
  });
  for (const [bad, why] of [['aGVsbG8', /multiple of 4/], ['-_8=', /URL-safe/], ['aGVs bG8=', /outside/], ['aG=sbG8=', /padding/], ['a===', /padding/]] as const) {
    it(`refuses ${JSON.stringify(bad)}`, () => assert.throws(() => decodeStrictBase64(bad), why));
  }
});

describe('scope', () => {
  it('cluster-wide wins, values must be exactly "true"', () => {
    assert.equal(scopeFromAnnotations(undefined), 'strict');
    assert.equal(scopeFromAnnotations({ 'sealedsecrets.bitnami.com/namespace-wide': 'true' }), 'namespace-wide');
    assert.equal(scopeFromAnnotations({ 'sealedsecrets.bitnami.com/namespace-wide': 'true', 'sealedsecrets.bitnami.com/cluster-wide': 'true' }), 'cluster-wide');
    assert.equal(scopeFromAnnotations({ 'sealedsecrets.bitnami.com/cluster-wide': 'True' }), 'strict');
    assert.equal(scopeFromAnnotations({ 'sealedsecrets.bitnami.com/cluster-wide': 'yes' }), 'strict');
  });
  it('labels', () => {
    assert.equal(labelFor('strict', 'a', 'b').toString(), 'a/b');
    assert.equal(labelFor('namespace-wide', 'a', 'b').toString(), 'a');
    assert.equal(labelFor('cluster-wide', 'a', 'b').length, 0);
  });
});

describe('template', () => {
  const values = new Map([['user', Buffer.from('admin')], ['pass', Buffer.from('pw')], ['my.key', Buffer.from('dotted')], ['bin', Buffer.from([0, 255])]]);
  it('renders both forms, with and without spaces and trim markers', () => {
    assert.equal(renderTemplate('u', 'x://{{ .user }}:{{index . "pass"}}@h', values).toString(), 'x://admin:pw@h');
    assert.equal(renderTemplate('u', '{{.user}}-{{ index . "my.key" }}', values).toString(), 'admin-dotted');
    assert.equal(renderTemplate('u', 'a  {{- .user -}}  b', values).toString(), 'aadminb');
    assert.equal(renderTemplate('u', '{{ index . `pass` }}', values).toString(), 'pw');
    assert.deepEqual([...renderTemplate('u', '{{ .bin }}', values)], [0, 255]);
    assert.equal(renderTemplate('u', 'no actions', values).toString(), 'no actions');
  });
  for (const t of ['{{ .user | nope }}', '{{ toYaml .user }}', '{{ if .user }}x{{ end }}', '{{ .user.x }}', '{{ .user ', '{{ $x := 1 }}']) {
    it(`refuses ${t}`, () => assert.throws(() => renderTemplate('k', t, values), /unsupported template in spec.template.data\["k"\]/));
  }
  it('refuses a missing key, naming it', () => assert.throws(() => renderTemplate('k', '{{ .nope }}', values), /refers to "nope"/));
});

describe('renewal schedule', () => {
  const now = new Date('2030-01-01T00:00:00Z');
  it('generates at once without keys, never with period 0 and a key, else at newest + period', () => {
    assert.equal(renewalDelayMs(undefined, 0, now), 0);
    assert.equal(renewalDelayMs(new Date(now.getTime() - 1000), 0, now), undefined);
    assert.equal(renewalDelayMs(new Date(now.getTime() - 1000), 5000, now), 4000);
    assert.equal(renewalDelayMs(new Date(now.getTime() - 10_000), 5000, now), 0);
  });
  it('--key-cutoff-time: a key older than the cutoff is due now, even with renewal off', () => {
    const now = new Date('2026-01-10T00:00:00Z');
    const cutoff = new Date('2026-01-09T00:00:00Z');
    assert.equal(renewalDelayMs(new Date('2026-01-08T00:00:00Z'), 0, now, cutoff), 0);
    assert.equal(renewalDelayMs(new Date('2026-01-09T12:00:00Z'), 0, now, cutoff), undefined);
    assert.equal(renewalDelayMs(new Date('2026-01-09T12:00:00Z'), 86_400_000, now, cutoff), 43_200_000);
  });
  it('parses --key-cutoff-time as bitnami (RFC 1123 with a numeric zone, "date -R") or RFC 3339', () => {
    assert.equal(parseCutoffTime('Wed, 21 Oct 2015 07:28:00 +0000')?.toISOString(), '2015-10-21T07:28:00.000Z');
    assert.equal(parseCutoffTime('Wed, 21 Oct 2015 09:28:00 +0200')?.toISOString(), '2015-10-21T07:28:00.000Z');
    assert.equal(parseCutoffTime('Mon, 30 Nov 2026 16:04:29 -0130')?.toISOString(), '2026-11-30T17:34:29.000Z');
    assert.equal(parseCutoffTime('2015-10-21T07:28:00Z')?.toISOString(), '2015-10-21T07:28:00.000Z');
    assert.equal(parseCutoffTime(''), undefined);
    assert.equal(parseCutoffTime(undefined), undefined);
    for (const bad of ['yesterday', 'Wed, 21 Oct 2015 07:28:00 GMT', 'Wed, 31 Feb 2015 07:28:00 +0000', 'Xyz, 21 Oct 2015 07:28:00 +0000', 'Wed, 21 Foo 2015 07:28:00 +0000', '2015-10-21']) {
      assert.throws(() => parseCutoffTime(bad), /date -R/, bad);
    }
  });
});

describe('rate limiter', () => {
  it('allows a burst, then refills at the rate, per client', () => {
    let t = 0;
    const rl = new RateLimiter(2, 3, () => t);
    assert.deepEqual([1, 2, 3, 4].map(() => rl.take('a')), [true, true, true, false]);
    assert.equal(rl.take('b'), true);
    t = 500;
    assert.equal(rl.take('a'), true);
    assert.equal(rl.take('a'), false);
  });

  it('keeps at most maxClients buckets, evicting the least recently used (not everyone at once)', () => {
    const t = 0;
    const rl = new RateLimiter(1, 1, () => t, 3);
    assert.equal(rl.take('a'), true);
    assert.equal(rl.take('a'), false);
    for (const c of ['b', 'c']) rl.take(c);
    assert.equal(rl.take('a'), false, 'a is still limited after two other clients');
    for (const c of ['d', 'e', 'f']) rl.take(c);
    assert.equal(rl.clients, 3);
  });
});

describe('client address for rate limits', () => {
  const proxies = trustedProxies(['10.0.0.0/8', '192.168.1.7', 'fd00::/8']);
  const table: [string | undefined, string | string[] | undefined, string][] = [
    ['203.0.113.9', undefined, '203.0.113.9'],
    ['203.0.113.9', '1.2.3.4', '203.0.113.9'],                 // untrusted peer: its header is its own text
    ['10.1.2.3', '1.2.3.4', '1.2.3.4'],                        // the proxy's own hop
    ['10.1.2.3', '6.6.6.6, 1.2.3.4', '1.2.3.4'],               // earlier hops are caller-supplied
    ['::ffff:10.1.2.3', '6.6.6.6,1.2.3.4', '1.2.3.4'],         // IPv4 peer on a dual-stack socket
    ['192.168.1.7', ['a', '5.6.7.8'], '5.6.7.8'],
    ['192.168.1.8', '5.6.7.8', '192.168.1.8'],
    ['fd00::1', '2001:db8::1', '2001:db8::1'],
    ['10.1.2.3', 'not-an-ip', '10.1.2.3'],                     // malformed: the shared proxy bucket, never a fresh one
    ['10.1.2.3', '', '10.1.2.3'],
    ['10.1.2.3', `${'1.1.1.1,'.repeat(1000)}1.2.3.4`, '10.1.2.3'],
    [undefined, undefined, 'unknown'],
  ];
  for (const [peer, xff, want] of table) {
    it(`${peer} with X-Forwarded-For ${JSON.stringify(xff)?.slice(0, 40)} is ${want}`, () => assert.equal(clientOf(peer, xff, proxies), want));
  }
  it('trusts no header without --trusted-proxy-cidrs', () => assert.equal(clientOf('10.1.2.3', '1.2.3.4', undefined), '10.1.2.3'));
  it('any header gives the socket address or an IP address that is its last hop (property)', () => {
    const hop = fc.oneof(fc.ipV4(), fc.ipV6(), fc.string({ maxLength: 20 }));
    fc.assert(fc.property(fc.array(hop, { maxLength: 6 }), fc.constantFrom(', ', ',', ' ,'), fc.boolean(), (hops, sep, fromProxy) => {
      const peer = fromProxy ? '10.9.9.9' : '203.0.113.1';
      const header = hops.join(sep);
      const got = clientOf(peer, header, proxies);
      const last = header.slice(header.lastIndexOf(',') + 1).trim();
      const plain = last.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1');
      assert.equal(got, fromProxy && isIP(last) ? plain : peer);
    }), { numRuns: 2000 });
  });
  it('refuses bad CIDRs', () => {
    for (const bad of ['10.0.0.0/33', 'fd00::/129', 'example.com', '10.0.0.0/x', '']) assert.throws(() => trustedProxies([bad]), /not an IP address or CIDR/);
  });
});

describe('plan', () => {
  const ss: SealedSecret = { apiVersion: 'bitnami.com/v1alpha1', kind: 'SealedSecret', metadata: { name: 's', namespace: 'n', uid: 'u1' }, spec: { encryptedData: {}, template: { metadata: { labels: { a: '1' } } } } };
  const desired = desiredSecret(ss, new Map([['k', Buffer.from('v')]]));
  const existingOf = (over: Partial<Secret> = {}, meta: Partial<Secret['metadata']> = {}): Secret => ({
    apiVersion: 'v1', kind: 'Secret', type: 'Opaque', data: { k: Buffer.from('v').toString('base64') },
    metadata: { name: 's', namespace: 'n', uid: 'x', resourceVersion: '5', labels: { a: '1' }, ownerReferences: [{ apiVersion: 'bitnami.com/v1alpha1', kind: 'SealedSecret', name: 's', uid: 'u1', controller: true }], ...meta },
    ...over,
  });

  it('creates a missing Secret with a controller owner reference', () => {
    const p = planSecret(ss, desired, undefined);
    assert.equal(p.kind, 'create');
    assert.equal(p.kind === 'create' && p.secret.metadata.ownerReferences![0]!.controller, true);
  });
  it('writes nothing when the owned Secret matches', () => assert.equal(planSecret(ss, desired, existingOf()).kind, 'unchanged'));
  it('keeps labels added by others without a write', () => assert.equal(planSecret(ss, desired, existingOf({}, { labels: { a: '1', other: 'x' } })).kind, 'unchanged'));
  it('updates changed data, replacing it whole', () => {
    const p = planSecret(ss, desired, existingOf({ data: { k: 'b2xk', stale: 'eA==' } }));
    assert.equal(p.kind, 'update');
    assert.deepEqual(p.kind === 'update' && p.secret.data, { k: 'dg==' });
    assert.equal(p.kind === 'update' && p.secret.metadata.resourceVersion, '5');
  });
  it('refuses a Secret it does not own, saying how to take it over', () => {
    const p = planSecret(ss, desired, existingOf({}, { ownerReferences: undefined }));
    assert.equal(p.kind, 'refused');
    assert.match(p.kind === 'refused' ? p.message : '', /not managed by this SealedSecret.*managed="true"/);
    const stale = planSecret(ss, desired, existingOf({}, { ownerReferences: [{ apiVersion: 'bitnami.com/v1alpha1', kind: 'SealedSecret', name: 's', uid: 'old', controller: true }] }));
    assert.equal(stale.kind, 'refused');
  });
  it('takes over a managed Secret', () => {
    const p = planSecret(ss, desired, existingOf({ data: { k: 'b2xk' } }, { ownerReferences: undefined, annotations: { 'sealedsecrets.bitnami.com/managed': 'true' } }));
    assert.equal(p.kind, 'update');
    assert.equal(p.kind === 'update' && p.secret.metadata.ownerReferences?.[0]?.uid, 'u1');
  });
  it('merges into a patch Secret without owning it', () => {
    const p = planSecret(ss, desired, existingOf({ data: { own: 'eA==' } }, { ownerReferences: undefined, annotations: { 'sealedsecrets.bitnami.com/patch': 'true' } }));
    assert.equal(p.kind, 'update');
    assert.deepEqual(p.kind === 'update' && p.secret.data, { own: 'eA==', k: 'dg==' });
    assert.equal(p.kind === 'update' && p.secret.metadata.ownerReferences, undefined);
  });
  it('recreates when the type changes or the Secret is immutable', () => {
    assert.equal(planSecret(ss, desired, existingOf({ type: 'kubernetes.io/tls' })).kind, 'recreate');
    assert.equal(planSecret(ss, desired, existingOf({ immutable: true, data: { k: 'b2xk' } })).kind, 'recreate');
  });
  it('marks a Secret managed instead of owned when owner references are skipped', () => {
    const skip: SealedSecret = { ...ss, metadata: { ...ss.metadata, annotations: { 'sealedsecrets.bitnami.com/skip-set-owner-references': 'true' } } };
    const d = desiredSecret(skip, new Map([['k', Buffer.from('v')]]));
    const p = planSecret(skip, d, undefined);
    assert.equal(p.kind === 'create' && p.secret.metadata.ownerReferences, undefined);
    assert.equal(p.kind === 'create' && p.secret.metadata.annotations?.['sealedsecrets.bitnami.com/managed'], 'true');
    assert.equal(planSecret(skip, d, p.kind === 'create' ? { ...p.secret, metadata: { ...p.secret.metadata, uid: 'x' } } : undefined).kind, 'unchanged');
  });
});
