// A folder on disk as a RepoTree, for `keelson diff --path`: what a pull request's checkout would render, read
// the way a Git commit is (regular files only, symlinks and .git skipped, sizes checked before reading).

import { lstat, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { RevisionTooLargeError } from './limits.js';
import type { RepoTree } from './revision-files.js';

/** Most files listed; a bigger folder is refused rather than walked for minutes. */
const MAX_FILES = 200_000;

export function localTree(root: string): RepoTree {
  return {
    async list(folder) {
      const out: string[] = [];
      const start = folder === '.' ? '' : folder;
      const top = await lstat(join(root, start)).catch(() => undefined);
      if (!top?.isDirectory()) throw new Error(`${folder} is not a folder of ${root}`);
      const stack = [start];
      while (stack.length > 0) {
        const rel = stack.pop()!;
        for (const e of await readdir(join(root, rel), { withFileTypes: true })) {
          const p = rel === '' ? e.name : `${rel}/${e.name}`;
          if (e.isDirectory()) { if (e.name !== '.git') stack.push(p); } else if (e.isFile()) {
            out.push(p);
            if (out.length > MAX_FILES) throw new RevisionTooLargeError(`${root} holds over ${MAX_FILES} files; point --path at a smaller folder`);
          }
        }
      }
      return out.sort();
    },
    async has(path) { return (await lstat(join(root, path)).catch(() => undefined))?.isFile() ?? false; },
    async sizes(paths) { return Promise.all(paths.map(async (p) => (await lstat(join(root, p))).size)); },
    async read(paths, maxBytes) {
      const out: Buffer[] = [];
      let total = 0;
      for (const p of paths) {
        const b = await readFile(join(root, p));
        total += b.length;
        if (total > maxBytes) throw new RevisionTooLargeError(`the files read from ${root} hold over ${maxBytes} bytes`);
        out.push(b);
      }
      return out;
    },
  };
}
