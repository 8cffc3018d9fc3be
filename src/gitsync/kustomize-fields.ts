// spec.kustomize, after Flux's Kustomization: images, patches, namePrefix/nameSuffix and commonLabels. Keelson never
// applies them itself: they become a generated kustomization (resources: [spec.path]) that the real kustomize binary
// builds (kustomize.ts). Pure: parsing with bounded sizes and errors naming the field, and the generated documents.

/** Bounds, the same as the CRD's schema: one GitSync's overlay stays small next to its revision. */
export const MAX_IMAGES = 100;
export const MAX_PATCHES = 50;
export const MAX_PATCH_BYTES = 64 * 1024;
export const MAX_LABELS = 32;

export interface ImageOverride { readonly name: string; readonly newName?: string; readonly newTag?: string; readonly digest?: string }
export interface PatchTarget {
  readonly group?: string; readonly version?: string; readonly kind?: string; readonly name?: string; readonly namespace?: string;
  readonly labelSelector?: string; readonly annotationSelector?: string;
}
export interface InlinePatch { readonly patch: string; readonly target?: PatchTarget }

export interface KustomizeFields {
  readonly images: readonly ImageOverride[];
  readonly patches: readonly InlinePatch[];
  readonly namePrefix?: string;
  readonly nameSuffix?: string;
  readonly commonLabels?: Readonly<Record<string, string>>;
}

/** A spec.kustomize field the user must fix; the message names it (spec.ts turns it into InvalidSpec). */
export class KustomizeFieldError extends Error {
  override readonly name = 'KustomizeFieldError';
}

// Linear patterns (no nested quantifiers) on short, length-checked strings.
const IMAGE_NAME = /^[A-Za-z0-9][A-Za-z0-9._/:-]*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[0-9a-fA-F]{32,}$/;
const AFFIX = /^[a-z0-9.-]*$/;
const LABEL_KEY = /^(?:[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(?:[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
const FIELDS = ['images', 'patches', 'namePrefix', 'nameSuffix', 'commonLabels'];
const TARGET_FIELDS = ['group', 'version', 'kind', 'name', 'namespace', 'labelSelector', 'annotationSelector'];

/** A YAML/JSON map (not null, not a list). */
export const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const shown = (v: unknown) => JSON.stringify(v)?.slice(0, 80) ?? String(v);

function onlyKnown(o: Record<string, unknown>, known: readonly string[], where: string, hint = ''): void {
  for (const k of Object.keys(o)) {
    if (!known.includes(k)) throw new KustomizeFieldError(`${where}.${k.slice(0, 64)} is not supported (${known.join(', ')})${hint}`);
  }
}

function text(o: Record<string, unknown>, field: string, where: string, max: number, pattern?: RegExp, what = 'a valid value'): string | undefined {
  const v = o[field];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new KustomizeFieldError(`${where}.${field} must be a string`);
  if (v.length > max) throw new KustomizeFieldError(`${where}.${field} is ${v.length} characters; at most ${max}`);
  if (pattern && !pattern.test(v)) throw new KustomizeFieldError(`${where}.${field} ${shown(v)} is not ${what}`);
  return v;
}

function list(o: Record<string, unknown>, field: string, max: number): Record<string, unknown>[] {
  const v = o[field];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new KustomizeFieldError(`spec.kustomize.${field} must be a list`);
  if (v.length > max) throw new KustomizeFieldError(`spec.kustomize.${field} has ${v.length} entries; at most ${max}`);
  return v.map((e, i) => {
    if (!isObject(e)) throw new KustomizeFieldError(`spec.kustomize.${field}[${i}] must be an object`);
    return e;
  });
}

function image(e: Record<string, unknown>, i: number): ImageOverride {
  const where = `spec.kustomize.images[${i}]`;
  onlyKnown(e, ['name', 'newName', 'newTag', 'digest'], where);
  const name = text(e, 'name', where, 256, IMAGE_NAME, 'an image name such as ghcr.io/org/app');
  if (!name) throw new KustomizeFieldError(`${where}.name is required: the image name the manifests use`);
  const newName = text(e, 'newName', where, 256, IMAGE_NAME, 'an image name such as ghcr.io/org/app');
  const newTag = text(e, 'newTag', where, 128, TAG, 'an image tag such as 1.2.3');
  const digest = text(e, 'digest', where, 256, DIGEST, 'a digest such as sha256:<64 hex>');
  if (!newName && !newTag && !digest) throw new KustomizeFieldError(`${where} sets none of newName, newTag, digest`);
  return { name, ...(newName && { newName }), ...(newTag && { newTag }), ...(digest && { digest }) };
}

function patch(e: Record<string, unknown>, i: number): InlinePatch {
  const where = `spec.kustomize.patches[${i}]`;
  // Only inline patches: a path would be a file kustomize reads, and spec.kustomize lives outside the repository.
  onlyKnown(e, ['patch', 'target'], where, '; put the patch text inline in patch');
  const p = e.patch;
  if (typeof p !== 'string' || p.trim() === '') throw new KustomizeFieldError(`${where}.patch is required: a strategic-merge or JSON 6902 patch, inline`);
  const bytes = Buffer.byteLength(p, 'utf8');
  if (bytes > MAX_PATCH_BYTES) throw new KustomizeFieldError(`${where}.patch is ${bytes} bytes; at most ${MAX_PATCH_BYTES} (put larger patches in the repository's kustomization)`);
  if (e.target === undefined || e.target === null) return { patch: p };
  if (!isObject(e.target)) throw new KustomizeFieldError(`${where}.target must be an object`);
  const t = e.target;
  onlyKnown(t, TARGET_FIELDS, `${where}.target`);
  const target: Record<string, string> = {};
  for (const f of TARGET_FIELDS) {
    const v = text(t, f, `${where}.target`, f.endsWith('Selector') ? 1024 : 253);
    if (v !== undefined) target[f] = v;
  }
  return { patch: p, target };
}

/** spec.kustomize checked; undefined when unset or empty. Throws KustomizeFieldError naming the field. */
export function parseKustomizeFields(raw: unknown): KustomizeFields | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObject(raw)) throw new KustomizeFieldError('spec.kustomize must be an object');
  onlyKnown(raw, FIELDS, 'spec.kustomize', '; targetNamespace is spec.targetNamespace');
  const images = list(raw, 'images', MAX_IMAGES).map(image);
  const patches = list(raw, 'patches', MAX_PATCHES).map(patch);
  const namePrefix = text(raw, 'namePrefix', 'spec.kustomize', 63, AFFIX, 'lower-case letters, digits, "-" and "."');
  const nameSuffix = text(raw, 'nameSuffix', 'spec.kustomize', 63, AFFIX, 'lower-case letters, digits, "-" and "."');
  let commonLabels: Record<string, string> | undefined;
  if (raw.commonLabels !== undefined && raw.commonLabels !== null) {
    if (!isObject(raw.commonLabels)) throw new KustomizeFieldError('spec.kustomize.commonLabels must be a map of label keys to values');
    const pairs = Object.entries(raw.commonLabels);
    if (pairs.length > MAX_LABELS) throw new KustomizeFieldError(`spec.kustomize.commonLabels has ${pairs.length} labels; at most ${MAX_LABELS}`);
    commonLabels = {};
    for (const [k, v] of pairs) {
      if (k.length > 317 || !LABEL_KEY.test(k)) throw new KustomizeFieldError(`spec.kustomize.commonLabels key ${shown(k)} is not a label key`);
      if (typeof v !== 'string' || v.length > 63 || !LABEL_VALUE.test(v)) throw new KustomizeFieldError(`spec.kustomize.commonLabels.${k} ${shown(v)} is not a label value (at most 63 letters, digits, "-", "_", ".")`);
      commonLabels[k] = v;
    }
    if (pairs.length === 0) commonLabels = undefined;
  }
  if (images.length === 0 && patches.length === 0 && !namePrefix && !nameSuffix && !commonLabels) return undefined;
  return { images, patches, ...(namePrefix && { namePrefix }), ...(nameSuffix && { nameSuffix }), ...(commonLabels && { commonLabels }) };
}

/**
 * The kustomization that applies spec.kustomize on top of `resource` (a folder holding a kustomization, relative
 * to the generated one). commonLabels become kustomize `labels` without selectors: selectors of existing
 * Deployments are immutable, so adding labels must never change them. Pure.
 */
export function overlayKustomization(fields: KustomizeFields, resource: string): Record<string, unknown> {
  return {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    resources: [resource],
    ...(fields.namePrefix && { namePrefix: fields.namePrefix }),
    ...(fields.nameSuffix && { nameSuffix: fields.nameSuffix }),
    ...(fields.commonLabels && { labels: [{ pairs: fields.commonLabels, includeSelectors: false }] }),
    ...(fields.images.length > 0 && { images: fields.images }),
    ...(fields.patches.length > 0 && { patches: fields.patches }),
  };
}

/** The kustomization generated in a plain-manifest folder (as Flux does): every manifest file as a resource. Pure. */
export function plainKustomization(files: readonly string[], folder: string): Record<string, unknown> {
  const prefix = folder === '.' ? '' : `${folder}/`;
  return { apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: files.map((f) => (f.startsWith(prefix) ? f.slice(prefix.length) : f)) };
}
