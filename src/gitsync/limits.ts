// What one revision may cost: bytes of manifest files (checked from the sizes Git records, before any file is
// read) and objects (counted while parsing, which stops at the first one over). A revision over either is refused
// whole, with a message naming the biggest files and the flag to raise. Pure.

/** A revision over --max-revision-bytes or --max-revision-objects; nothing of it is applied. */
export class RevisionTooLargeError extends Error {
  override readonly name = 'RevisionTooLargeError';
}

export interface RevisionLimits {
  /** Most bytes of manifest files (--max-revision-bytes). */
  readonly maxBytes: number;
  /** Most objects, counting every YAML document and List item (--max-revision-objects). */
  readonly maxObjects: number;
}

export const DEFAULT_LIMITS: RevisionLimits = { maxBytes: 64 * 1024 * 1024, maxObjects: 10_000 };

/** Throws RevisionTooLargeError when the files' recorded sizes add up to more than maxBytes. */
export function checkRevisionBytes(files: readonly { readonly path: string; readonly size: number }[], maxBytes: number, where: string): void {
  let total = 0;
  for (const f of files) total += f.size;
  if (total <= maxBytes) return;
  const biggest = [...files].sort((a, b) => b.size - a.size).slice(0, 3).map((f) => `${f.path} (${formatBytes(f.size)})`);
  throw new RevisionTooLargeError(`${where}: the manifest files under spec.path hold ${formatBytes(total)}, over the limit of ${formatBytes(maxBytes)} (--max-revision-bytes); biggest: ${biggest.join(', ')}. Narrow spec.path or split the repository`);
}

/** Throws RevisionTooLargeError once `count` passes maxObjects; `file` is where the last object came from. */
export function checkObjectCount(count: number, maxObjects: number, file: string): void {
  if (count > maxObjects) {
    throw new RevisionTooLargeError(`the revision holds more than ${maxObjects} objects (--max-revision-objects; passed in ${file}). Narrow spec.path or split the repository`);
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v >= 10 ? Math.round(v) : Math.round(v * 10) / 10} ${units[i]}`;
}
