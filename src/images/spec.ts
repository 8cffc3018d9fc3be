// The ImagePolicy resource (keelson.dev/v1alpha1) as data, and the validation of its spec into what a scan needs,
// with a message naming the field to fix. Pure.

import { parseDuration } from '../config/duration.js';
import { type Condition, SECRET_NAME } from '../gitsync/spec.js';
import type { KubeObject } from '../kube/types.js';
import { type CompiledPolicy, PolicyError, compilePolicy } from './policy.js';
import { type ImageRepository, ReferenceError, parseImageRepository } from './reference.js';

export interface ImagePolicyStatus {
  observedGeneration?: number;
  /** `registry/repository:tag` of the selected tag. */
  latestRef?: string;
  latestDigest?: string;
  /** Tags the registry listed at the last successful scan (before filtering). */
  observedTags?: number;
  conditions?: Condition[];
}

export interface ImagePolicyObject extends KubeObject {
  spec?: Record<string, unknown>;
  status?: ImagePolicyStatus;
}

export interface ScanSpec {
  readonly ref: ImageRepository;
  readonly policy: CompiledPolicy;
  readonly intervalMs: number;
  readonly secretName: string | undefined;
  /** The ServiceAccount (this namespace) whose rights read spec.secretRef; see gitsync/identity.ts. */
  readonly serviceAccountName: string | undefined;
  readonly insecure: boolean;
}

export const DEFAULT_INTERVAL_MS = 5 * 60_000;
/** Polling faster than this only loads the registry (and its rate limits). */
export const MIN_INTERVAL_MS = 10_000;

/** Validates an ImagePolicy spec; throws PolicyError (or ReferenceError) with the field and the fix. */
export function scanSpecOf(spec: Record<string, unknown> | undefined): ScanSpec {
  const s = spec ?? {};
  if (typeof s.image !== 'string') throw new PolicyError('spec.image is required: the repository to scan, e.g. ghcr.io/org/app');
  const ref = parseImageRepository(s.image);
  const policy = compilePolicy(s.policy, s.filterTags);
  let intervalMs = DEFAULT_INTERVAL_MS;
  if (s.interval !== undefined) {
    const parsed = typeof s.interval === 'string' ? parseDuration(s.interval) : undefined;
    if (parsed === undefined || parsed < MIN_INTERVAL_MS) throw new PolicyError(`spec.interval must be a duration of at least ${MIN_INTERVAL_MS / 1000}s, such as 1m or 5m`);
    intervalMs = parsed;
  }
  const secretRef = s.secretRef as { name?: unknown } | undefined;
  if (secretRef !== undefined && (typeof secretRef?.name !== 'string' || secretRef.name === '')) throw new PolicyError('spec.secretRef.name must name a Secret in the ImagePolicy\'s namespace');
  const sa = s.serviceAccountName;
  if (sa !== undefined && sa !== '' && (typeof sa !== 'string' || !SECRET_NAME.test(sa))) throw new PolicyError('spec.serviceAccountName must name a ServiceAccount in the ImagePolicy\'s namespace (a DNS subdomain of at most 253 characters)');
  return { ref, policy, intervalMs, secretName: secretRef?.name as string | undefined, serviceAccountName: sa === '' ? undefined : sa as string | undefined, insecure: s.insecure === true };
}

export { PolicyError, ReferenceError };
