// Which Debian packages the tests still need and how to get them, decided without running anything: the list in
// scripts/ci-packages.txt (the single source), `dpkg-query` output, and who we are. scripts/ensure-test-env.ts does
// the I/O, so `npm ci && npm test` is all a fresh machine needs.

/** Debian package names (policy 5.6.1), so nothing in the list can pass for an apt-get option. */
const PACKAGE_NAME = /^[a-z0-9][a-z0-9+.-]+$/;

/** The format `dpkg-query -W -f` is asked for: one `<name>\t<status>` line per known package. */
export const DPKG_FORMAT = '${Package}\\t${Status}\\n';

/** The package names of a list file: one a line, `#` starts a comment, blank lines ignored. */
export function parsePackageList(text: string, file = 'scripts/ci-packages.txt'): string[] {
  const out: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const name = (raw.includes('#') ? raw.slice(0, raw.indexOf('#')) : raw).trim();
    if (name === '') return;
    if (!PACKAGE_NAME.test(name)) throw new Error(`${file}:${i + 1}: "${name}" is not a Debian package name`);
    if (!out.includes(name)) out.push(name);
  });
  return out;
}

/**
 * The wanted packages that are not fully installed, in list order. A package dpkg does not know is absent from its
 * output; one removed with its configuration kept ("deinstall ok config-files"), half installed or in an error
 * state ("reinst-required") counts as missing (apt-get install finishes it). Several architectures of one package: any installed one will do.
 */
export function missingPackages(wanted: readonly string[], dpkgOutput: string): string[] {
  const installed = new Set<string>();
  for (const line of dpkgOutput.split('\n')) {
    const tab = line.indexOf('\t');
    if (tab < 0) continue;
    const name = line.slice(0, tab).split(':')[0]!.trim();
    // Status is "<wanted> <error flag> <state>": a held or to-be-removed package is still installed.
    const [, flag, state] = line.slice(tab + 1).trim().split(/\s+/);
    if (flag === 'ok' && state === 'installed') installed.add(name);
  }
  return wanted.filter((p) => !installed.has(p));
}

export interface Who {
  /** Effective uid (0 is root). */
  readonly uid: number;
  /** Whether a `sudo` command is on PATH. */
  readonly sudo: boolean;
  /** Whether this is a Debian-like system (dpkg-query and apt-get on PATH). */
  readonly apt: boolean;
}

export type PackagePlan =
  | { readonly kind: 'nothing' }
  /** Run these commands in order (argv arrays), then check again. */
  | { readonly kind: 'install'; readonly missing: readonly string[]; readonly commands: readonly (readonly string[])[] }
  /** Cannot install: say this and stop. */
  | { readonly kind: 'cannot'; readonly missing: readonly string[]; readonly message: string };

/** Waits for a dpkg lock another apt run holds (a second first run, unattended upgrades) instead of failing at once. */
const LOCK_WAIT = ['-o', 'DPkg::Lock::Timeout=300'];
export const installCommand = (missing: readonly string[]) => ['apt-get', ...LOCK_WAIT, 'install', '-y', '-qq', '--no-install-recommends', ...missing];

/** How to get the missing packages: as root directly, else through sudo, else a message naming them. */
export function packagePlan(missing: readonly string[], who: Who): PackagePlan {
  if (missing.length === 0) return { kind: 'nothing' };
  const names = missing.join(' ');
  if (!who.apt) {
    return { kind: 'cannot', missing, message: `the tests use these Debian packages and this system has no dpkg/apt-get to check or install them: ${names}. Install their equivalents and run again.` };
  }
  if (who.uid !== 0 && !who.sudo) {
    return { kind: 'cannot', missing, message: `the tests need these Debian packages, which are not installed: ${names}. Neither root nor sudo is available to install them: as root, run\n  apt-get update && ${installCommand(missing).join(' ')}\nthen run npm test again.` };
  }
  // sudo resets the environment: `env` carries the non-interactive frontend across (root gets it from the caller).
  const prefix = who.uid === 0 ? [] : ['sudo', 'env', 'DEBIAN_FRONTEND=noninteractive'];
  return { kind: 'install', missing, commands: [[...prefix, 'apt-get', ...LOCK_WAIT, 'update', '-qq'], [...prefix, ...installCommand(missing)]] };
}
