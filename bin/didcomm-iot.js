#!/usr/bin/env node
// Launcher of the `didcomm-iot` command: runs the built CLI (dist/cli.js, made by `npm run build`).
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write('error: ERR_STORE: didcomm-iot is not built (dist/cli.js is missing); run "npm run build" in the package directory\n');
  process.exitCode = 1;
} else {
  const { main } = await import(cli.href);
  await main();
}
