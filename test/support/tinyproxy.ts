// A real HTTP forward proxy on loopback for tests: Debian's tinyproxy (scripts/ci-packages.txt), optionally with
// basic auth, logging every request it forwards, so a test can prove that git went through it.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

export interface Tinyproxy {
  /** http://127.0.0.1:port */
  readonly address: string;
  /** Request lines tinyproxy logged ("GET http://127.0.0.1:…/repo.git/info/refs?… HTTP/1.1"), oldest first. */
  requests(): string[];
  stop(): Promise<void>;
}

export async function startTinyproxy(auth?: { username: string; password: string }): Promise<Tinyproxy> {
  const dir = mkdtempSync(join(tmpdir(), 'keelson-tinyproxy-'));
  const port = await freePort();
  const log = join(dir, 'tinyproxy.log');
  writeFileSync(log, '');
  writeFileSync(join(dir, 'tinyproxy.conf'), [
    `Port ${port}`, 'Listen 127.0.0.1', 'Timeout 60', `LogFile "${log}"`, 'LogLevel Connect', 'MaxClients 32',
    'Allow 127.0.0.1', 'DisableViaHeader Yes', ...(auth ? [`BasicAuth ${auth.username} ${auth.password}`] : []),
  ].join('\n') + '\n');
  const proc: ChildProcess = spawn('tinyproxy', ['-d', '-c', join(dir, 'tinyproxy.conf')], { stdio: 'ignore' });
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`tinyproxy exited with ${proc.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`tinyproxy did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    address: `http://127.0.0.1:${port}`,
    requests: () => readFileSync(log, 'utf8').split('\n').flatMap((l) => {
      const m = /Request \(file descriptor \d+\): (.*)$/.exec(l);
      return m ? [m[1]!] : [];
    }),
    stop: async () => {
      if (proc.exitCode === null) {
        const gone = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
