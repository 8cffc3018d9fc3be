#!/usr/bin/env node
// Runs the compiled CLI (dist/, built by `npm run build`, which `npm ci` runs through the prepare script).
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 19)) {
  process.stderr.write(`keelson needs Node.js 22.19 or newer (this is ${process.version}); in a clone, "npx keelson" uses the Node 24 that npm ci installs.\n`);
  process.exitCode = 1; // and nothing else runs: the process ends once stderr has drained
} else {
  if (process.argv[2] === 'controller') {
    // A long-running controller trades some CPU for memory; see bench/README.md (memory) for the measurements. These
    // are the only V8 settings the controller runs with, here in one place: the image, the chart and the benchmarks
    // all start it through this file.
    // --optimize-for-size: without it V8 keeps the heap it grew while parsing the initial LISTs (Secret pages are
    // tens of MB of JSON) and the resident set stays 3-4x what is live.
    // --semi-space-growth-factor=1: the young generation stays at its initial 1 MiB semi-spaces instead of doubling
    // up to 2 x 16 MiB while Secrets stream in (every item is a ~90 KB string that dies at once), which was most of
    // the peak and stayed resident after sync. Read by V8 each time it would grow the new space, so it works set
    // here; --max-semi-space-size would need a command-line flag (a second process start).
    const v8 = await import('node:v8');
    v8.setFlagsFromString('--optimize-for-size');
    v8.setFlagsFromString('--semi-space-growth-factor=1');
  }
  const { main } = await import('../dist/cli/main.js');
  const { runAndExit } = await import('../dist/cli/process-end.js');
  // Exits only once stdout and stderr have drained: an exit right after main() cut piped output at 64 KiB.
  await runAndExit(
    () => main(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env }),
    { stdout: process.stdout, stderr: process.stderr },
    (code) => process.exit(code),
  );
}
