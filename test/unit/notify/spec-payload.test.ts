// Notifier records and matching (tenancy, reasons, defaults), the facts pulled from Event text, every service's
// payload shape, the HMAC signature, Reloader's ALERT_* bodies and settings; hostile specs and messages stay
// bounded and never crash the parser.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { UsageError } from '../../../src/config/flags.js';
import { reloaderAlertOptions } from '../../../src/config/options.js';
import type { KubeObject } from '../../../src/kube/types.js';
import { alertmanagerUrl, headline, notificationOf, reloaderRequest, requestFor, SIGNATURE_HEADER, signature } from '../../../src/notify/payload.js';
import { hears, notifierRecord, type NotifyEvent, reasonsOf } from '../../../src/notify/spec.js';
import { notifierSecretOf, readyFor } from '../../../src/notify/status.js';
import { addressProblem } from '../../../src/notify/send.js';
import { anyText, assertFast, KiB, repeated } from '../../support/props.js';

type Any = any;
const CTRL = 'keelson-system';
const notifier = (namespace: string, spec: Record<string, unknown>, name = 'n'): KubeObject => ({
  apiVersion: 'keelson.dev/v1alpha1', kind: 'Notifier', metadata: { namespace, name, uid: 'u', generation: 1 }, spec,
});
const ev = (over: Partial<NotifyEvent> = {}): NotifyEvent => ({ kind: 'Deployment', namespace: 'team-a', name: 'web', type: 'Normal', reason: 'RolloutComplete', message: 'Rollout after ConfigMap team-a/app-config changed is complete: 2 of 2 updated replicas available', ...over });
const SHA = 'a'.repeat(40);
const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('Notifier records', () => {
  it('a valid spec keeps type, Secret, reasons (deduplicated), suspend and allNamespaces', () => {
    const r = notifierRecord(notifier('team-a', { type: 'slack', secretRef: { name: 'slack-url' }, events: ['RolloutFailed', 'RolloutFailed', 'Synced'], suspend: false, allNamespaces: true }));
    assert.deepEqual([r.type, r.secretName, r.events, r.suspend, r.allNamespaces, r.invalid], ['slack', 'slack-url', ['RolloutFailed', 'Synced'], false, true, undefined]);
  });
  it('no events (or an empty list) means failures only', () => {
    assert.equal(notifierRecord(notifier('a', { type: 'webhook', secretRef: { name: 's' } })).events, undefined);
    assert.equal(notifierRecord(notifier('a', { type: 'webhook', secretRef: { name: 's' }, events: [] })).events, undefined);
  });
  it('invalid specs are kept, hear nothing, and say what to fix', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ type: 'email', secretRef: { name: 's' } }, /spec\.type must be one of slack, msteams/],
      [{ type: 'slack' }, /spec\.secretRef\.name/],
      [{ type: 'slack', secretRef: { name: '../x' } }, /spec\.secretRef\.name/],
      [{ type: 'slack', secretRef: { name: 's' }, events: ['Rollout Failed'] }, /not an Event reason/],
      [{ type: 'slack', secretRef: { name: 's' }, events: Array.from({ length: 33 }, (_, i) => `R${i}`) }, /at most 32/],
    ];
    for (const [spec, want] of cases) {
      const r = notifierRecord(notifier('a', spec));
      assert.match(r.invalid ?? '', want, JSON.stringify(spec));
      assert.equal(hears(r, ev({ namespace: 'a', type: 'Warning' }), CTRL), false);
      assert.equal(readyFor(r, undefined, undefined, CTRL).reason, 'InvalidSpec');
    }
  });
  it('property: any spec gives a record without throwing, quickly, with a bounded message', () => {
    fc.assert(fc.property(fc.anything(), fc.anything(), fc.anything(), (type, secretRef, events) => {
      const r = notifierRecord(notifier('a', { type, secretRef, events }));
      assert.ok(r.invalid === undefined || r.invalid.length < 300);
    }));
    assertFast('a 1 MiB reason', 200, () => notifierRecord(notifier('a', { type: 'slack', secretRef: { name: 's' }, events: [repeated('A', 1024 * KiB)] })));
  });
});

describe('who hears an Event', () => {
  const rec = (ns: string, spec: Record<string, unknown>) => notifierRecord(notifier(ns, { type: 'slack', secretRef: { name: 's' }, ...spec }));
  it('a Notifier hears only its own namespace: team-a hears nothing about team-b', () => {
    const a = rec('team-a', { events: ['RolloutComplete', 'RolloutFailed'] });
    assert.equal(hears(a, ev(), CTRL), true);
    assert.equal(hears(a, ev({ namespace: 'team-b' }), CTRL), false);
    assert.equal(hears(rec('team-a', { events: ['RolloutComplete'], allNamespaces: true }), ev({ namespace: 'team-b' }), CTRL), false, 'allNamespaces outside the controller namespace is ignored');
  });
  it('allNamespaces is honoured in the controller namespace', () => {
    assert.equal(hears(rec(CTRL, { events: ['RolloutComplete'], allNamespaces: true }), ev({ namespace: 'team-b' }), CTRL), true);
    assert.equal(hears(rec(CTRL, { events: ['RolloutComplete'] }), ev({ namespace: 'team-b' }), CTRL), false);
  });
  it('default: Warnings only; suspend: nothing', () => {
    assert.equal(hears(rec('team-a', {}), ev(), CTRL), false);
    assert.equal(hears(rec('team-a', {}), ev({ type: 'Warning', reason: 'RolloutFailed' }), CTRL), true);
    assert.equal(hears(rec('team-a', { suspend: true }), ev({ type: 'Warning', reason: 'RolloutFailed' }), CTRL), false);
  });
  it('SyncFailed covers every GitSync failure reason; UnsealFailed the sealing Err* reasons', () => {
    assert.deepEqual(reasonsOf(ev({ kind: 'GitSync', type: 'Warning', reason: 'ApplyFailed' })), ['ApplyFailed', 'SyncFailed']);
    assert.deepEqual(reasonsOf(ev({ kind: 'GitSync', type: 'Normal', reason: 'Synced' })), ['Synced']);
    assert.deepEqual(reasonsOf(ev({ kind: 'SealedSecret', type: 'Warning', reason: 'ErrUnsealFailed' })), ['ErrUnsealFailed', 'UnsealFailed']);
    assert.equal(hears(rec('team-a', { events: ['SyncFailed'] }), ev({ kind: 'GitSync', type: 'Warning', reason: 'HealthCheckFailed' }), CTRL), true);
    assert.equal(hears(rec('team-a', { events: ['HealthCheckFailed'] }), ev({ kind: 'GitSync', type: 'Warning', reason: 'HealthCheckFailed' }), CTRL), true);
  });
});

describe('facts from Event text', () => {
  it('a GitSync revision gives the revision and the commit', () => {
    const n = notificationOf(ev({ kind: 'GitSync', reason: 'Synced', message: `revision main@sha1:${SHA}: 1 created, 0 configured, 0 unchanged, 0 pruned` }), '2026-01-01T00:00:00.000Z');
    assert.deepEqual([n.revision, n.commit, n.trigger], [`main@sha1:${SHA}`, SHA, undefined]);
  });
  it('a roll names the config that caused it', () => {
    assert.equal(notificationOf(ev(), 't').trigger, 'ConfigMap team-a/app-config');
    assert.equal(notificationOf(ev({ reason: 'Reloaded', message: 'Secret team-a/db changed: config hash 1 → 2; rolling (annotations)' }), 't').trigger, 'Secret team-a/db');
  });
  it('headlines say rolled out, or failed and why', () => {
    assert.equal(headline(notificationOf(ev(), 't')), 'Deployment team-a/web rolled out');
    assert.equal(headline(notificationOf(ev({ kind: 'GitSync', type: 'Warning', reason: 'ApplyFailed' }), 't')), 'GitSync team-a/web failed (ApplyFailed)');
  });
  it('hostile messages are scanned in linear time', () => {
    assertFast('1 KiB of near-revisions', 200, () => notificationOf(ev({ message: repeated('a@sha1:', 64 * KiB) }), 't'));
    assertFast('near-triggers', 200, () => notificationOf(ev({ message: repeated('Rollout after ConfigMap a/', 64 * KiB) }), 't'));
    fc.assert(fc.property(anyText(300), (m) => { notificationOf(ev({ message: m }), 't'); }));
  });
});

describe('payloads', () => {
  const secret = { address: 'https://hooks.example.com/services/T0/B0/SECRETPATH', token: 'tok-123', hmacKey: 'k3y' };
  const n = notificationOf(ev({ kind: 'GitSync', type: 'Warning', reason: 'ApplyFailed', message: `revision main@sha1:${SHA}: Deployment x/y: forbidden` }), '2026-01-01T00:00:00.000Z');
  const body = (type: Any) => JSON.parse(requestFor(type, n, secret, 'keelson-0').body);

  it('slack: text plus one attachment with colour, title and fields', () => {
    const b = body('slack');
    assert.match(b.text, /^GitSync team-a\/web failed \(ApplyFailed\): revision main@sha1:a{40}/);
    assert.equal(b.attachments.length, 1);
    assert.equal(b.attachments[0].color, 'danger');
    assert.deepEqual(b.attachments[0].fields.map((f: Any) => f.title), ['Reason', 'Revision', 'Commit']);
  });
  it('msteams: a message with one Adaptive Card', () => {
    const b = body('msteams');
    assert.equal(b.type, 'message');
    assert.equal(b.attachments[0].contentType, 'application/vnd.microsoft.card.adaptive');
    assert.equal(b.attachments[0].content.type, 'AdaptiveCard');
    assert.ok(b.attachments[0].content.body.some((x: Any) => x.type === 'FactSet'));
  });
  it('googlechat: text', () => {
    assert.match(body('googlechat').text, /^\*GitSync team-a\/web failed \(ApplyFailed\)\*\n/);
  });
  it('alertmanager: an array of alerts with labels, annotations and startsAt, POSTed to /api/v2/alerts', () => {
    const req = requestFor('alertmanager', n, secret, 'keelson-0');
    const [a] = JSON.parse(req.body);
    assert.equal(a.labels.alertname, 'KeelsonApplyFailed');
    assert.equal(a.labels.severity, 'warning');
    assert.equal(a.annotations.commit, SHA);
    assert.equal(a.startsAt, '2026-01-01T00:00:00.000Z');
    assert.equal(req.headers.Authorization, 'Bearer tok-123');
    assert.equal(alertmanagerUrl('http://am:9093'), 'http://am:9093/api/v2/alerts');
    assert.equal(alertmanagerUrl('http://am:9093/prefix/'), 'http://am:9093/prefix/api/v2/alerts');
    assert.equal(alertmanagerUrl('http://am:9093/api/v2/alerts'), 'http://am:9093/api/v2/alerts');
  });
  it('webhook: the documented JSON body, signed with HMAC-SHA256 of the exact body', () => {
    const req = requestFor('webhook', n, secret, 'keelson-0');
    const b = JSON.parse(req.body);
    assert.deepEqual(Object.keys(b), ['apiVersion', 'kind', 'severity', 'involvedObject', 'reason', 'reasons', 'summary', 'message', 'revision', 'commit', 'timestamp', 'controller']);
    assert.deepEqual(b.reasons, ['ApplyFailed', 'SyncFailed']);
    const want = `sha256=${createHmac('sha256', 'k3y').update(req.body).digest('hex')}`;
    assert.equal(req.headers[SIGNATURE_HEADER], want);
    assert.equal(signature(req.body, 'k3y'), want);
  });
  it('no Secret value (address path, token, HMAC key) is in any body', () => {
    for (const t of ['slack', 'msteams', 'googlechat', 'webhook', 'alertmanager'] as const) {
      const { body: text } = requestFor(t, n, secret, 'keelson-0');
      for (const v of ['SECRETPATH', 'tok-123', 'k3y']) assert.ok(!text.includes(v), `${t} body contains ${v}`);
    }
  });
});

describe('Notifier Secrets and Ready', () => {
  const sec = (data: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])) });
  it('address must be http(s); webhook needs hmacKey; errors never show values', () => {
    assert.deepEqual(notifierSecretOf(sec({ address: ' https://x/y \n', token: 't' }), 'a', 's'), { address: 'https://x/y', token: 't', hmacKey: undefined });
    assert.throws(() => notifierSecretOf(undefined, 'a', 's'), /Secret a\/s not found/);
    assert.throws(() => notifierSecretOf(sec({ token: 't' }), 'a', 's'), /no "address" key/);
    assert.throws(() => notifierSecretOf(sec({ address: 'file:///etc/passwd' }), 'a', 's'), (e: Error) => /http:\/\/ or https:\/\//.test(e.message) && !e.message.includes('passwd'));
    assert.throws(() => notifierSecretOf(sec({ address: 'https://x/SECRET' }), 'a', 's', 'webhook'), (e: Error) => /hmacKey/.test(e.message) && !e.message.includes('SECRET'));
    assert.equal(addressProblem('ftp://x'), 'address must be http:// or https:// (got ftp:)');
    assert.equal(addressProblem('not a url'), 'address is not an absolute URL');
  });
  it('Ready follows spec, Secret and the last delivery', () => {
    const r = notifierRecord(notifier('team-a', { type: 'slack', secretRef: { name: 's' } }));
    assert.equal(readyFor(r, undefined, undefined, CTRL).status, 'True');
    assert.deepEqual([readyFor(r, 'Secret team-a/s not found', undefined, CTRL).status, readyFor(r, 'x', undefined, CTRL).reason], ['False', 'SecretInvalid']);
    const failed = readyFor(r, undefined, { ok: false, message: 'could not deliver X after 4 attempts: endpoint answered HTTP 500' }, CTRL);
    assert.deepEqual([failed.status, failed.reason], ['False', 'DeliveryFailed']);
    const wide = notifierRecord(notifier('team-a', { type: 'slack', secretRef: { name: 's' }, allNamespaces: true }));
    assert.match(readyFor(wide, undefined, undefined, CTRL).message, /allNamespaces is ignored outside the controller namespace/);
  });
});

describe('Reloader ALERT_* compatibility', () => {
  const n = notificationOf(ev({ reason: 'Reloaded', message: 'ConfigMap team-a/app-config changed: config hash 1 → 2; rolling (annotations)' }), 't');
  it('settings follow Reloader: on only for "true", unknown sinks post plain text, URL required and http(s)', () => {
    assert.equal(reloaderAlertOptions({}), undefined);
    assert.equal(reloaderAlertOptions({ ALERT_ON_RELOAD: 'yes', ALERT_WEBHOOK_URL: 'https://x' }), undefined);
    assert.deepEqual(reloaderAlertOptions({ ALERT_ON_RELOAD: 'true', ALERT_SINK: ' Slack ', ALERT_WEBHOOK_URL: ' https://x/y ', ALERT_ADDITIONAL_INFO: ' prod ' }), { sink: 'slack', url: 'https://x/y', additionalInfo: 'prod' });
    assert.equal(reloaderAlertOptions({ ALERT_ON_RELOAD: 'true', ALERT_SINK: 'raw', ALERT_WEBHOOK_URL: 'https://x' })?.sink, 'webhook');
    assert.throws(() => reloaderAlertOptions({ ALERT_ON_RELOAD: 'true' }), (e: Error) => e instanceof UsageError && /ALERT_WEBHOOK_URL is not set/.test(e.message));
    assert.throws(() => reloaderAlertOptions({ ALERT_ON_RELOAD: 'true', ALERT_WEBHOOK_URL: 'gopher://SECRET' }), (e: Error) => e instanceof UsageError && !e.message.includes('SECRET'));
  });
  it('bodies: slack attachment, teams and gchat text, webhook plain text without *', () => {
    const slack = JSON.parse(reloaderRequest('slack', 'https://x', n, 'prod').body);
    assert.equal(slack.attachments[0].text, 'prod : Keelson detected changes in *app-config* of type *configmap* in namespace *team-a*. Hence reloaded *web* of type *Deployment* in namespace *team-a*');
    assert.equal(slack.attachments[0].color, 'good');
    assert.match(JSON.parse(reloaderRequest('teams', 'https://x', n, undefined).body).text, /^Keelson detected changes in \*app-config\*/);
    assert.match(JSON.parse(reloaderRequest('gchat', 'https://x', n, undefined).body).text, /^Keelson detected/);
    const raw = reloaderRequest('webhook', 'https://x', n, undefined);
    assert.equal(raw.headers['Content-Type'], 'text/plain');
    assert.ok(!raw.body.includes('*'));
  });
});
