// How the `keelson` process ends (bin/keelson.js): writes to a pipe are asynchronous in Node, so exiting as soon as a
// command returns cuts its output at the pipe buffer (64 KiB) and still exits 0. The process ends only after stdout
// and stderr have handed everything to the OS, and a failed stdout (the reader went away) is an exit code, not a trace.

import type { Writable } from 'node:stream';

/** The reader of stdout went away (EPIPE): what a shell reports for a process that SIGPIPE ended (128 + 13). */
export const EXIT_BROKEN_PIPE = 141;
/** Any other write error on stdout (EX_IOERR): distinct from every command's own codes (0, 1 "differs", 2). */
export const EXIT_OUTPUT_ERROR = 74;

/** The exit code a process ends with: a stdout failure overrides the command's code, which would claim success. */
export function exitCodeFor(commandCode: number, stdoutError: NodeJS.ErrnoException | undefined): number {
  if (!stdoutError) return commandCode;
  return stdoutError.code === 'EPIPE' ? EXIT_BROKEN_PIPE : EXIT_OUTPUT_ERROR;
}

/** Resolves once everything written to `stream` so far has been handed to the OS, or the stream has failed. */
export function flushed(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || !stream.writable) { resolve(); return; }
    // Writes complete in order, so the callback of an empty write runs after every earlier write has completed.
    stream.write('', () => resolve());
  });
}

export interface OutputGuard {
  /** The first write error stdout reported, if any. */
  readonly stdoutError: () => NodeJS.ErrnoException | undefined;
}

/**
 * Takes the stdout/stderr write errors that would otherwise be thrown as uncaught exceptions (a stack trace on
 * stderr): the command runs on (its cleanup still runs) and the error becomes the exit code.
 */
export function guardOutput(stdout: Writable, stderr: Writable): OutputGuard {
  let first: NodeJS.ErrnoException | undefined;
  stdout.on('error', (err: NodeJS.ErrnoException) => { first ??= err; });
  // A failed stderr has nowhere left to report to.
  stderr.on('error', () => {});
  return { stdoutError: () => first };
}

/**
 * Ends the process after `run`: waits for both streams to drain, then exits explicitly, because a finished command
 * may still hold handles (keep-alive sockets, a controller's timers) that would keep it alive. Never exits while
 * output is pending: a slow reader (a pager) makes it wait, as any Unix tool would.
 */
export async function runAndExit(run: () => Promise<number>, streams: { stdout: Writable; stderr: Writable }, exit: (code: number) => void): Promise<void> {
  const guard = guardOutput(streams.stdout, streams.stderr);
  const code = await run();
  await Promise.all([flushed(streams.stdout), flushed(streams.stderr)]);
  const err = guard.stdoutError();
  if (err && err.code !== 'EPIPE') {
    // Say why the output is incomplete (a full disk, a closed descriptor); a reader that left knows already.
    streams.stderr.write(`keelson: cannot write the output: ${err.code ?? err.message}\n`);
    await flushed(streams.stderr);
  }
  exit(exitCodeFor(code, err));
}
