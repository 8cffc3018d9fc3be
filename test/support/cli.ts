// Runs a CLI Command in-process with string stdin and captured stdout/stderr.

import { Readable, Writable } from 'node:stream';
import type { Command } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';

export interface CliResult { code: number; stdout: string; stderr: string }

function sink(into: string[]): Writable {
  return new Writable({ write(chunk, _enc, cb) { into.push(String(chunk)); cb(); } });
}

/** `keelson <argv...>` through main(), so usage errors map to exit 2 as in the real binary. */
export async function runCli(argv: readonly string[], stdin = '', env: Record<string, string | undefined> = {}): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { stdin: Readable.from([Buffer.from(stdin)]), stdout: sink(out), stderr: sink(err), env });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

/** One Command directly (errors propagate as exceptions). */
export async function runCommand(cmd: Command, argv: readonly string[], stdin = ''): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await cmd(argv, { stdin: Readable.from([Buffer.from(stdin)]), stdout: sink(out), stderr: sink(err), env: {} });
  return { code, stdout: out.join(''), stderr: err.join('') };
}
