// What a notification says and how each service wants it: the facts pulled from a recorded Event (object, reason,
// the Git revision and commit, the config that triggered a roll) and the request body for Slack, Microsoft Teams,
// Google Chat, a generic HMAC-signed webhook, Alertmanager's v2 API, and Reloader's ALERT_* sinks. Pure; the
// Event text is Keelson's own (already free of secrets), and nothing from a Notifier's Secret but the HMAC and the
// bearer token (headers) ever reaches a request.

import { createHmac } from 'node:crypto';
import type { NotifierType, NotifyEvent } from './spec.js';
import { reasonsOf } from './spec.js';

export interface Notification {
  readonly event: NotifyEvent;
  /** ISO time the Event was recorded. */
  readonly time: string;
  /** "main@sha1:<40 hex>" when the message names a Git revision. */
  readonly revision?: string | undefined;
  readonly commit?: string | undefined;
  /** "ConfigMap ns/name" when the message names the config that caused a roll. */
  readonly trigger?: string | undefined;
  /** "ns/name" of the GitSync that applied the trigger (then revision and commit are that GitSync's). */
  readonly gitSync?: string | undefined;
}

// Keelson's own messages: "revision main@sha1:<hex>: ...", "ConfigMap ns/name changed: ...", "Rollout after ConfigMap
// ns/name changed ...". Bounded quantifiers over a 1 KiB message: linear enough, and no user-supplied pattern.
const REVISION = /([A-Za-z0-9._/-]{1,255}@)?sha1:([0-9a-f]{40})/;
const TRIGGER = /(?:^|Rollout after )(ConfigMap|Secret) ([a-z0-9-]{1,63})\/([a-z0-9.-]{1,253}) /;

export function notificationOf(event: NotifyEvent, time: string): Notification {
  const rev = REVISION.exec(event.message);
  const trig = TRIGGER.exec(event.message);
  return {
    event, time,
    revision: rev ? rev[0] : undefined,
    commit: rev ? rev[2] : undefined,
    trigger: trig ? `${trig[1]} ${trig[2]}/${trig[3]}` : undefined,
  };
}

const PHRASES: Readonly<Record<string, string>> = {
  Reloaded: 'reloaded', RolloutComplete: 'rolled out', RolloutFailed: 'failed to roll out', Synced: 'synced',
  DriftCorrected: 'drift corrected', Unsealed: 'unsealed', HealthCheckFailed: 'failed its health checks',
  DependencyNotReady: 'waits for a dependency',
};

/** "Deployment shop/web rolled out" / "GitSync apps/site failed (ApplyFailed)". */
export function headline(n: Notification): string {
  const e = n.event;
  const what = `${e.kind} ${e.namespace}/${e.name}`;
  const phrase = PHRASES[e.reason];
  if (phrase) return `${what} ${phrase}`;
  return e.type === 'Warning' ? `${what} failed (${e.reason})` : `${what}: ${e.reason}`;
}

function facts(n: Notification): [string, string][] {
  const out: [string, string][] = [['Reason', n.event.reason]];
  if (n.trigger) out.push(['Caused by', n.trigger]);
  if (n.gitSync) out.push(['GitSync', n.gitSync]);
  if (n.revision) out.push(['Revision', n.revision]);
  if (n.commit) out.push(['Commit', n.commit]);
  return out;
}

export interface OutboundRequest {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** What a Notifier's Secret may hold; `address` is a credential itself (a Slack webhook URL is). */
export interface NotifierSecret {
  readonly address: string;
  readonly token?: string | undefined;
  readonly hmacKey?: string | undefined;
}

export const SIGNATURE_HEADER = 'X-Keelson-Signature';

/** `sha256=<hex>` of the body under the key, as GitHub's X-Hub-Signature-256 (receivers verify the same way). */
export function signature(body: string, key: string): string {
  return `sha256=${createHmac('sha256', key).update(body).digest('hex')}`;
}

const JSON_TYPE = 'application/json';

/** The request a Notifier of this type sends for one notification. */
export function requestFor(type: NotifierType, n: Notification, secret: NotifierSecret, controller: string): OutboundRequest {
  const e = n.event;
  const title = headline(n);
  const failed = e.type === 'Warning';
  const headers: Record<string, string> = { 'Content-Type': JSON_TYPE };
  if (secret.token && (type === 'webhook' || type === 'alertmanager')) headers.Authorization = `Bearer ${secret.token}`;
  let url = secret.address;
  let body: unknown;
  switch (type) {
    case 'slack':
      // Incoming webhook: `text` is the notification fallback, the attachment carries the colour and fields.
      body = {
        text: `${title}: ${e.message}`,
        attachments: [{
          color: failed ? 'danger' : 'good', author_name: 'Keelson', title, text: e.message,
          fields: facts(n).map(([t, v]) => ({ title: t, value: v, short: t !== 'Revision' })),
          ts: Math.floor(Date.parse(n.time) / 1000),
        }],
      };
      break;
    case 'msteams':
      // Teams Workflows webhook: a message with one Adaptive Card attachment.
      body = {
        type: 'message',
        attachments: [{
          contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null,
          content: {
            $schema: 'http://adaptivecards.io/schemas/adaptive-card.json', type: 'AdaptiveCard', version: '1.4',
            body: [
              { type: 'TextBlock', text: title, weight: 'Bolder', size: 'Medium', wrap: true, color: failed ? 'Attention' : 'Good' },
              { type: 'TextBlock', text: e.message, wrap: true },
              { type: 'FactSet', facts: facts(n).map(([t, v]) => ({ title: t, value: v })) },
            ],
          },
        }],
      };
      break;
    case 'googlechat':
      body = { text: `*${title}*\n${e.message}${facts(n).slice(1).map(([t, v]) => `\n${t}: ${v}`).join('')}` };
      break;
    case 'alertmanager': {
      url = alertmanagerUrl(secret.address);
      const annotations: Record<string, string> = { summary: title, description: e.message };
      if (n.revision) annotations.revision = n.revision;
      if (n.commit) annotations.commit = n.commit;
      if (n.trigger) annotations.trigger = n.trigger;
      if (n.gitSync) annotations.gitSync = n.gitSync;
      body = [{
        labels: { alertname: `Keelson${e.reason}`, severity: failed ? 'warning' : 'info', namespace: e.namespace, kind: e.kind, name: e.name, reason: e.reason, controller },
        annotations, startsAt: n.time,
      }];
      break;
    }
    case 'webhook':
      body = {
        apiVersion: 'keelson.dev/v1alpha1', kind: 'Notification', severity: failed ? 'error' : 'info',
        involvedObject: { kind: e.kind, namespace: e.namespace, name: e.name },
        reason: e.reason, reasons: reasonsOf(e), summary: title, message: e.message,
        ...(n.revision ? { revision: n.revision } : {}), ...(n.commit ? { commit: n.commit } : {}), ...(n.trigger ? { trigger: n.trigger } : {}),
        ...(n.gitSync ? { gitSync: n.gitSync } : {}),
        timestamp: n.time, controller,
      };
      break;
  }
  const text = JSON.stringify(body);
  if (type === 'webhook' && secret.hmacKey) headers[SIGNATURE_HEADER] = signature(text, secret.hmacKey);
  return { url, headers, body: text };
}

/** Alertmanager's v2 endpoint under the address (a base URL, or one already ending in /api/v2/alerts). */
export function alertmanagerUrl(address: string): string {
  const u = new URL(address);
  if (!u.pathname.endsWith('/api/v2/alerts')) u.pathname = `${u.pathname.replace(/\/+$/, '')}/api/v2/alerts`;
  return u.toString();
}

export const RELOADER_SINKS = ['slack', 'teams', 'gchat', 'webhook'] as const;
export type ReloaderSink = (typeof RELOADER_SINKS)[number];

/**
 * Reloader's ALERT_ON_RELOAD message and bodies, for users switching from it: Slack gets one attachment, Teams and
 * Google Chat `{text}`, anything else the plain text with the `*` emphasis removed; ALERT_ADDITIONAL_INFO prefixes
 * the message as "<info> : <message>".
 */
export function reloaderRequest(sink: ReloaderSink, url: string, n: Notification, additionalInfo: string | undefined): OutboundRequest {
  const e = n.event;
  const [kind, ref] = n.trigger ? [n.trigger.slice(0, n.trigger.indexOf(' ')), n.trigger.slice(n.trigger.indexOf(' ') + 1)] : ['config', ''];
  const configName = ref.slice(ref.indexOf('/') + 1);
  let msg = `Keelson detected changes in *${configName}* of type *${kind.toLowerCase()}* in namespace *${e.namespace}*. Hence reloaded *${e.name}* of type *${e.kind}* in namespace *${e.namespace}*`;
  if (additionalInfo !== undefined) msg = `${additionalInfo.trim()} : ${msg}`;
  switch (sink) {
    case 'slack':
      return { url, headers: { 'Content-Type': JSON_TYPE }, body: JSON.stringify({ attachments: [{ text: msg, color: 'good', author_name: 'Keelson' }] }) };
    case 'teams':
    case 'gchat':
      return { url, headers: { 'Content-Type': JSON_TYPE }, body: JSON.stringify({ text: msg }) };
    case 'webhook':
      return { url, headers: { 'Content-Type': 'text/plain' }, body: msg.replaceAll('*', '') };
  }
}
