// The cluster-held key of the published reload digests: Secret keelson-digest-key in the controller namespace, data
// `key` (the current key) and optionally `previous` (the key before a rotation, so baselines written under it are
// still compared exactly). Created once when absent (a create that loses a race with another replica reads the
// winner's key, so every replica converges on one), read at start and re-read periodically: a rotated key is used
// without a restart, and baselines under the old one are re-recorded without a roll.

import { randomBytes } from 'node:crypto';
import { isAlreadyExists } from '../kube/client.js';
import type { KubeClient } from '../kube/client.js';
import { sleep } from '../kube/backoff.js';
import type { Runnable } from '../kube/manager.js';
import { SECRETS } from '../kube/resources.js';
import type { KubeObject } from '../kube/types.js';
import type { Logger } from '../observe/logger.js';
import { type DigestForm, MIN_KEY_BYTES, keyedForm } from './digest.js';

export const DIGEST_KEY_SECRET = 'keelson-digest-key';
const KEY_BYTES = 32;
/** How often the Secret is re-read (a GET by name: no list/watch right on Secrets is needed for it). */
export const DIGEST_KEY_REREAD_MS = 30_000;
/** Earlier keys remembered in memory since start, so a rotation while running compares exactly. */
const MAX_EARLIER = 8;

export interface DigestKeys { readonly current: DigestForm; readonly earlier: readonly DigestForm[] }

/** The key Secret's content as forms; an error names what to fix (never a key byte). Pure. */
export function digestKeysFromSecret(obj: KubeObject): { current: DigestForm; previous: DigestForm | undefined } | { error: string } {
  const data = (obj.data ?? {}) as Record<string, string>;
  const decode = (field: string): Buffer | undefined => (typeof data[field] === 'string' ? Buffer.from(data[field], 'base64') : undefined);
  const key = decode('key');
  if (!key || key.length < MIN_KEY_BYTES) return { error: `data.key must hold at least ${MIN_KEY_BYTES} random bytes` };
  const prev = decode('previous');
  if (prev && prev.length < MIN_KEY_BYTES) return { error: `data.previous, when present, must hold at least ${MIN_KEY_BYTES} bytes` };
  return { current: keyedForm(key), previous: prev ? keyedForm(prev) : undefined };
}

export function newDigestKeySecret(namespace: string): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Secret', type: 'Opaque',
    metadata: { name: DIGEST_KEY_SECRET, namespace, labels: { 'app.kubernetes.io/part-of': 'keelson', 'app.kubernetes.io/component': 'reload-digest-key' } },
    data: { key: randomBytes(KEY_BYTES).toString('base64') },
  } as KubeObject;
}

export class DigestKeyring {
  private currentForm: DigestForm | undefined;
  private readonly earlierForms: DigestForm[] = [];
  private previousForm: DigestForm | undefined;
  private lastError = '';

  constructor(private readonly client: KubeClient, private readonly namespace: string, private readonly logger: Logger, private readonly onChange: () => void = () => {}) {}

  /** Undefined until the key has been read once. */
  keys(): DigestKeys | undefined {
    if (!this.currentForm) return undefined;
    const earlier = this.previousForm && !this.earlierForms.some((f) => f.kid === this.previousForm!.kid) ? [this.previousForm, ...this.earlierForms] : this.earlierForms;
    return { current: this.currentForm, earlier };
  }

  /** Reads the Secret, creating it when absent. Returns false (and logs once per distinct cause) when it cannot. */
  async refresh(): Promise<boolean> {
    const ref = `${this.namespace}/${DIGEST_KEY_SECRET}`;
    let obj: KubeObject | undefined;
    try {
      obj = await this.client.tryGet(SECRETS, this.namespace, DIGEST_KEY_SECRET);
      if (!obj) {
        try {
          obj = await this.client.create(SECRETS, newDigestKeySecret(this.namespace));
          this.logger.info({ secret: ref }, 'reload digest key created');
        } catch (err) {
          if (!isAlreadyExists(err)) throw err;
          obj = await this.client.get(SECRETS, this.namespace, DIGEST_KEY_SECRET); // another replica won the race
        }
      }
    } catch (err) {
      this.complain(`cannot read or create the reload digest key Secret ${ref}: check the namespace exists and Keelson may get and create Secrets there`, err);
      return false;
    }
    const parsed = digestKeysFromSecret(obj);
    if ('error' in parsed) {
      this.complain(`reload digest key Secret ${ref} is unusable: ${parsed.error}; ${this.currentForm ? 'keeping the key in use' : 'reload waits'}`);
      return false;
    }
    this.lastError = '';
    this.previousForm = parsed.previous;
    const before = this.currentForm;
    if (before?.kid === parsed.current.kid) return true;
    if (before) {
      this.earlierForms.unshift(before);
      this.earlierForms.splice(MAX_EARLIER);
    }
    this.currentForm = parsed.current;
    this.logger.info({ secret: ref, keyId: parsed.current.kid, previousKeyId: parsed.previous?.kid }, before ? 'reload digest key changed: baselines are re-recorded under it without rolls' : 'reload digest key loaded');
    if (before) this.onChange();
    return true;
  }

  private complain(message: string, err?: unknown): void {
    const detail = err instanceof Error ? err.message : err === undefined ? '' : String(err);
    if (this.lastError === message + detail) return;
    this.lastError = message + detail;
    this.logger.error(detail ? { err: detail } : {}, message);
  }

  /** Every replica (leader or not) loads the key, retrying every few seconds until it can, then re-reads it. */
  runnable(rereadMs = DIGEST_KEY_REREAD_MS): Runnable {
    return {
      name: 'reload-digest-key',
      needsLeader: false,
      run: async (signal) => {
        while (!signal.aborted) {
          const ok = await this.refresh();
          await sleep(ok || this.currentForm ? rereadMs : 2000, signal);
        }
      },
    };
  }
}
