/**
 * The package version for `didcomm-iot --version`: read from the package's own package.json, found
 * by walking up from this module (works from src/ under tests and from the bundled dist/).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { err } from '../errors.js';

export const PACKAGE_NAME = 'didcomm-iot';

export function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === PACKAGE_NAME && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // no (readable) package.json here: keep walking up
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw err('ERR_STORE', `cannot find the ${PACKAGE_NAME} package.json`);
}
