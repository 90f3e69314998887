/**
 * `didcomm-iot provision`: a device DID, secrets 0600 and never printed, Espruino pairwise
 * contexts that the mediator and controller derive the same way, the bundle and the exact upload
 * command; a Raspberry Pi profile for the Pi app.
 */
import { describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, statSync, copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { createDid } from '../../src/did/create.js';
import { OfflineResolver } from '../../src/did/resolver.js';
import { SecretsStore } from '../../src/did/secrets.js';
import { PairwiseSessions } from '../../src/envelope/compact/pairwise-sessions.js';
import { nodeBackend } from '../../src/crypto/node.js';
import { toHex } from '../../src/util/bytes.js';
import { ensureEspruinoBuilt } from '../espruino/build.js';
import { run, tempDir as makeTemp } from './helpers.js';

const tempDir = (): string => makeTemp().dir;

const mediator = createDid();
const controller = createDid();

describe('didcomm-iot provision', () => {
  it('provisions a Puck.js: contexts the peers derive too, 0600 files, no secret on stdout', async () => {
    const built = await ensureEspruinoBuilt();
    const bundles = tempDir();
    mkdirSync(join(bundles, 'espruino'));
    copyFileSync(join(built, 'puck-js.js'), join(bundles, 'espruino', 'puck-js.js'));
    const out = join(tempDir(), 'puck1');
    const r = await run(['provision', '--board', 'puck-js', '--mediator', mediator.did, '--controller', controller.did, '--out', out, '--address', '12'], { env: { DIDCOMM_IOT_BUNDLES: bundles } });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const secrets = JSON.parse(readFileSync(join(out, 'device.secrets.json'), 'utf8'));
    const config = JSON.parse(readFileSync(join(out, 'didcomm.json'), 'utf8'));
    expect(statSync(join(out, 'device.secrets.json')).mode & 0o777).toBe(0o600);
    expect(statSync(join(out, 'didcomm.json')).mode & 0o777).toBe(0o600);
    expect(existsSync(join(out, 'puck-js.js'))).toBe(true);
    expect(r.out).toContain(`device DID: ${secrets.did}`);
    expect(r.out).toMatch(/upload with: espruino -p '<PORT>' --board PUCKJS --config SAVE_ON_SEND=1 --storage didcomm.json:\S+didcomm.json \S+puck-js.js/);
    for (const jwk of secrets.secrets) expect(r.out).not.toContain(jwk.d);
    for (const c of config.contexts) {
      expect(r.out).not.toContain(c.senderKey);
      expect(r.out).not.toContain(c.recipientKey);
    }
    expect(config.transport).toMatchObject({ kind: 'lora-rylr', address: 12, gateway: 1 });
    // Separate keys per peer: the mediator cannot derive the device↔controller context.
    const [m, c] = ['mediator', 'controller'].map((role) => config.contexts.find((x: { role: string }) => x.role === role));
    expect(m.idContext).not.toBe(c.idContext);
    expect(m.senderKey).not.toBe(c.senderKey);
    // The mediator and the controller derive the same contexts from their own keys and the device DID.
    for (const [peer, role] of [[mediator, 'mediator'], [controller, 'controller']] as const) {
      const secretsStore = new SecretsStore(nodeBackend);
      secretsStore.addFromJson(peer);
      const sessions = new PairwiseSessions({ crypto: nodeBackend, resolver: new OfflineResolver(), secrets: secretsStore });
      const theirs = sessions.contextFor(peer.did, secrets.did);
      const mine = config.contexts.find((c: { role: string }) => c.role === role);
      expect(toHex(theirs.idContext)).toBe(mine.idContext);
      expect(toHex(theirs.recipientKey)).toBe(mine.senderKey);
      expect(toHex(theirs.senderKey)).toBe(mine.recipientKey);
    }
  });

  it('provisions a Raspberry Pi profile and refuses to overwrite without --force', async () => {
    const out = join(tempDir(), 'pi1');
    const args = ['provision', '--board', 'raspberry-pi', '--mediator', mediator.did, '--controller', controller.did, '--out', out, '--transport', 'mqtt', '--mqtt-url', 'mqtt://broker.example:1883'];
    const r = await run(args, { env: { DIDCOMM_IOT_BUNDLES: tempDir() } });
    expect(r.code).toBe(0);
    const profile = JSON.parse(readFileSync(join(out, 'profile.json'), 'utf8'));
    expect(profile).toMatchObject({ board: 'raspberry-pi', secretsFile: 'device.secrets.json', controller: controller.did, controllers: { [controller.did]: ['*'] } });
    expect(profile.links[0]).toMatchObject({ kind: 'mqtt', url: 'mqtt://broker.example:1883' });
    expect(statSync(join(out, 'device.secrets.json')).mode & 0o777).toBe(0o600);
    const again = await run(args, { env: { DIDCOMM_IOT_BUNDLES: tempDir() } });
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/^error: ERR_REFUSED: /);
  });

  it('rejects usage errors with exit 2', async () => {
    expect((await run(['provision', '--board', 'puck-js'])).code).toBe(2);
    expect((await run(['provision', '--board', 'toaster', '--mediator', mediator.did, '--controller', controller.did, '--out', 'x'])).code).toBe(2);
    expect((await run(['provision', '--board', 'puck-js', '--mediator', 'nope', '--controller', controller.did, '--out', 'x'])).code).toBe(2);
  });
});
