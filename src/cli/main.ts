// `keelson <command>`: the entry point behind bin/keelson.js. Commands load lazily so `--version` stays instant.

import { UsageError } from '../config/flags.js';
import { VERSION } from '../version.js';
import type { Command, Io } from './io.js';
import { errorText } from '../kube/errors.js';

interface CommandEntry { readonly summary: string; readonly load: () => Promise<Command> }

export const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  controller: { summary: 'run the controllers (reload, sealing, Git sync)', load: async () => (await import('./controller.js')).controllerCommand },
  seal: { summary: 'seal a Secret into a SealedSecret (kubeseal)', load: async () => (await import('./seal.js')).sealCommand },
  unseal: { summary: 'open SealedSecrets offline with exported keys (recovery)', load: async () => (await import('./unseal.js')).unsealCommand },
  reencrypt: { summary: 're-seal SealedSecrets with the newest key', load: async () => (await import('./reencrypt.js')).reencryptCommand },
  'kubeseal-proxy': { summary: 'forward kubeseal\'s requests to the controller (runs in kube-system)', load: async () => (await import('./kubeseal-proxy.js')).kubesealProxyCommand },
  sync: { summary: 'sync a GitSync now and wait for the result', load: async () => (await import('./sync.js')).syncCommand },
  diff: { summary: 'show what a sync of a GitSync would change (exit 1 on a difference)', load: async () => (await import('./diff.js')).diffCommand },
  ui: { summary: 'serve a local dashboard of GitSyncs, SealedSecrets and events (your own kubeconfig)', load: async () => (await import('./ui.js')).uiCommand },
  version: { summary: 'print the version', load: async () => async (_argv, io) => { io.stdout.write(`${VERSION}\n`); return 0; } },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `Usage: keelson <command> [flags]\n\nCommands:\n${lines.join('\n')}\n\nRun "keelson <command> --help" for a command's flags.\n`;
}

export async function main(argv: readonly string[], io: Io): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '--version' || first === '-v') { io.stdout.write(`${VERSION}\n`); return 0; }
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') { io.stdout.write(usage()); return first === undefined ? 2 : 0; }
  const entry = COMMANDS[first];
  if (!entry) { io.stderr.write(`keelson: unknown command "${first}"\n\n${usage()}`); return 2; }
  try {
    return await (await entry.load())(rest, io);
  } catch (err) {
    if (err instanceof UsageError) { io.stderr.write(`keelson ${first}: ${err.message}\n`); return 2; }
    io.stderr.write(`keelson ${first}: ${errorText(err)}\n`);
    return 1;
  }
}
