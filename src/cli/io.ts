// What a CLI command gets from the outside world, so commands are testable without a process of their own.

import type { Readable, Writable } from 'node:stream';

export interface Io {
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** A command: arguments after its name in, exit code out (0 ok, 1 failure or "differs", 2 usage). */
export type Command = (argv: readonly string[], io: Io) => Promise<number>;

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks);
}
