/**
 * The mediator's configuration file (docs/mediator.md §Configuration): the documented example
 * parses to what it says, and each kind of mistake fails at start with ERR_ARGUMENT naming the field.
 */
import { describe, expect, it } from 'vitest';
import { parseMediatorConfig } from '../../src/mediator/config.js';
import type { JsonValue } from '../../src/util/json.js';

const dev = 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK';
const act = 'did:key:z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH';

describe('mediator config', () => {
  it('parses radios with wake schedules and downlink priority', () => {
    const cfg = parseMediatorConfig(
      {
        devices: [dev],
        radios: [{ name: 'lora', modem: 'rylr', path: '/dev/ttyUSB0', address: 1, schedules: { [dev]: { periodMs: 600000, windowMs: 20000 } }, priorityDevices: [act], listenAfterUplinkMs: 5000 }],
      },
      '/data',
    );
    expect(cfg.dataDir).toBe('/data');
    expect(cfg.devices).toEqual([dev]);
    expect(cfg.radios[0]).toMatchObject({ name: 'lora', path: '/dev/ttyUSB0', baudRate: 115200, fragment: true, listenAfterUplinkMs: 5000, priorityDevices: [act], schedules: { [dev]: { periodMs: 600000, windowMs: 20000 } } });
    expect(parseMediatorConfig({ radios: [{ modem: 'rylr', path: '/dev/x' }] }, '/d').radios[0]!.priorityDevices).toBeUndefined();
  });

  it('refuses mistakes with ERR_ARGUMENT naming the field', () => {
    const bad: Array<[JsonValue, RegExp]> = [
      [{ radios: [{ modem: 'rylr', path: '/dev/x', priorityDevices: 'did:key:z6Mk' }] }, /radios\[0\]\.priorityDevices/],
      [{ radios: [{ modem: 'rylr', path: '/dev/x', priorityDevices: ['not-a-did'] }] }, /radios\[0\]\.priorityDevices/],
      [{ radios: [{ modem: 'rylr' }] }, /radios\[0\]\.path/],
      [{ radios: [{ modem: 'rylr', path: '/dev/x', schedules: { [dev]: { periodMs: 10, windowMs: 20 } } }] }, /schedules/],
      [{ devices: ['nope'] }, /devices/],
    ];
    for (const [value, field] of bad) {
      expect(() => parseMediatorConfig(value, '/d')).toThrow(expect.objectContaining({ code: 'ERR_ARGUMENT', message: expect.stringMatching(field) }));
    }
  });
});
