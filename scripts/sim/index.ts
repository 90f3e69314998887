/**
 * The field simulation (`didcomm-iot sim`, what `npm start` runs): devices report readings for
 * `duration` wall seconds of accelerated time, the controller commands the actuator, an intruder
 * tries to, the field device drops off the air for a while and then syncs by radio; then the field
 * drains and the run ends with a summary — every reading delivered exactly once, or it says how
 * many were not. Real code paths end to end; only the air, the modems' UARTs and time are simulated.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScaledClock, type Timer } from '../../src/util/clock.js';
import { pack } from '../../src/envelope/index.js';
import { wrapInForwards } from '../../src/routing/forward.js';
import { OfflineResolver } from '../../src/did/resolver.js';
import { SecretsStore } from '../../src/did/secrets.js';
import { createDid } from '../../src/did/create.js';
import { defaultCrypto } from '../../src/crypto/default.js';
import { report, type Reading } from '../../src/protocols/telemetry.js';
import { checkOptions, type SimOptions } from './options.js';
import { airtimeMs, loraSettings, type SpreadingFactor } from '../../transports/lora/airtime.js';
import { DeliveryLedger, type DeviceMetrics, type SimSummary } from './metrics.js';
import { buildField, type RadioNode } from './world.js';
import { LiveView, type ViewFrame } from './view.js';

export type { SimOptions, SimSummary };

/**
 * Default reading interval: what the gateway's 1 % duty cycle carries with room to spare. Every
 * reading costs the gateway about one full downlink frame (the controller's ack, relayed) and two
 * fragment ACKs, more under loss; the field's readings may use half of the gateway's budget, the
 * rest is for commands, pickup and repairs.
 */
function defaultInterval(sf: number, reporters: number, loss: number): number {
  const s = loraSettings({ sf: sf as SpreadingFactor });
  // Every lost frame is sent again (and its repair may be lost too): the airtime a reading really
  // costs grows about as 1 / (1 - loss)² once fragment repairs and ACKs are counted.
  const perReadingMs = (airtimeMs(248, s) + 2 * airtimeMs(15, s)) / (1 - loss) ** 2;
  return Math.max(60_000, Math.ceil((Math.max(1, reporters) * perReadingMs) / 0.005 / 1000) * 1000);
}

/**
 * Bytes one reading takes as the sensors send it — signed, anoncrypted to the controller, in a
 * forward authenticated to the mediator — in DIDComm Compact (2-byte hints) and in standard
 * DIDComm v2 JSON (did:key), measured by packing the same message both ways.
 */
async function bytesPerReading(): Promise<{ compact: number; json: number }> {
  const [a, b, m] = [createDid(), createDid(), createDid()];
  const secrets = new SecretsStore(defaultCrypto);
  secrets.addFromJson(a);
  const ctx = { crypto: defaultCrypto, resolver: new OfflineResolver({ documents: [a.didDocument, b.didDocument, m.didDocument] }), secrets };
  const msg = report('0a1b2c3d4e5f0011', a.did, b.did, { seq: 17, temp: 21.5, ts: 1767226045 });
  msg.created_time = 1767226045;
  msg.please_ack = [''];
  const size = async (format: 'compact' | 'json'): Promise<number> => {
    const hints = format === 'compact' ? { length: 2, known: (d: string) => d === b.did || d === a.did } : undefined;
    const inner = (await pack(ctx, msg, { mode: 'anoncrypt', format, to: [b.did], from: a.did, sign: true, ...(hints ? { hints } : {}) })).bytes;
    const outerHints = format === 'compact' ? { length: 2, known: (d: string) => d === m.did } : undefined;
    return (await wrapInForwards(ctx, inner, { recipient: b.did, routingKeys: [m.did], format, authenticateOuter: { from: a.did }, ...(outerHints ? { hints: outerHints } : {}) })).length;
  };
  return { compact: await size('compact'), json: await size('json') };
}

interface Counters {
  commandsSent: number;
  /** Controller commands and intruder attempts not settled yet (answered, refused or timed out). */
  pending: number;
  commandsFailed: number;
  commandsExecuted: Map<string, number>;
  commandsRefused: Map<string, number>;
  fieldOfflineMs: number;
  fieldSynced: boolean;
  fieldSyncFailed: boolean;
  fieldSyncAttempts: number;
}

function deviceMetrics(n: RadioNode, ledger: DeliveryLedger, c: Counters): DeviceMetrics {
  const st = n.radio.radio.stats;
  const r = n.radio.radio;
  const budget = r.dutyCycle.budgetFor(r.settings.frequencyHz).budgetLeftMs();
  return {
    name: n.name,
    kind: n.kind,
    did: n.did,
    sent: ledger.sentBy(n.did),
    delivered: ledger.deliveredFrom(n.did),
    duplicates: ledger.duplicatesFrom(n.did),
    txFrames: st.txFrames,
    bytesOnAir: st.txBytes,
    airtimeMs: st.txAirtimeMs,
    budgetLeftMs: budget,
    commandsExecuted: c.commandsExecuted.get(n.did) ?? 0,
    problemsRefused: c.commandsRefused.get(n.did) ?? 0,
    online: !n.gate?.isDown,
  };
}

export async function runSim(partial: Partial<SimOptions>, out: NodeJS.WriteStream = process.stdout, root = process.cwd()): Promise<SimSummary> {
  const o = checkOptions(partial);
  const dataDir = mkdtempSync(join(tmpdir(), 'didcomm-sim-'));
  const clock = new ScaledClock(o.speed);
  const field = await buildField(o, clock, dataDir, root);
  const started = Date.now();
  const ledger = new DeliveryLedger();
  const c: Counters = { commandsSent: 0, pending: 0, commandsFailed: 0, commandsExecuted: new Map(), commandsRefused: new Map(), fieldOfflineMs: 0, fieldSynced: false, fieldSyncFailed: false, fieldSyncAttempts: 0 };
  const timers: Timer[] = [];
  const interval = o.intervalMs ?? defaultInterval(o.sf, o.devices + o.espruino + 1, o.loss);
  const runMs = o.duration * 1000 * o.speed;
  const t0 = clock.now();
  let producing = true;
  const errors: unknown[] = [];

  field.controller.on('telemetry', (e) => {
    for (const r of e.readings) if (e.from && typeof r.seq === 'number') ledger.recordDelivered(e.from, String(r.seq));
  });
  for (const n of field.nodes) {
    if (n.kind === 'actuator') {
      n.agent!.onCommand('relay', () => {
        c.commandsExecuted.set(n.did, (c.commandsExecuted.get(n.did) ?? 0) + 1);
        return { state: 'toggled' };
      }, { rights: ['relay'] });
      n.agent!.on('problem', (p) => {
        if (p.direction === 'sent' && p.code.startsWith('e.p.trust')) c.commandsRefused.set(n.did, (c.commandsRefused.get(n.did) ?? 0) + 1);
      });
    }
  }

  // Readings: every device on its own schedule, staggered, seq numbered per device.
  const reporters = field.nodes.filter((n) => n.kind === 'node' || n.kind === 'espruino' || n.kind === 'field');
  for (const n of reporters) {
    let seq = 0;
    const tick = (): void => {
      if (!producing) return;
      const reading: Reading = { seq: ++seq, temp: Math.round((18 + field.prng.next() * 8) * 10) / 10, ts: Math.floor(clock.now() / 1000) };
      ledger.recordSent(n.did, String(reading.seq));
      if (n.espruino) n.espruino.endpoint.report({ seq: reading.seq, temp: reading.temp });
      else n.agent!.report(reading).catch((e: unknown) => errors.push(e));
      timers.push(clock.setTimer(interval * (0.9 + field.prng.next() * 0.2), tick));
    };
    timers.push(clock.setTimer(field.prng.next() * interval, tick));
  }

  // Commands: the controller toggles the relay; the intruder tries too and must be refused.
  const actuator = field.nodes.find((n) => n.kind === 'actuator');
  const intruder = field.nodes.find((n) => n.kind === 'intruder');
  if (actuator) {
    const command = (): void => {
      if (!producing) return;
      c.commandsSent++;
      c.pending++;
      field.controller
        .command(actuator.did, { command: 'relay', args: 'toggle' }, { timeoutMs: 4 * 3_600_000 })
        .catch(() => void c.commandsFailed++)
        .finally(() => void c.pending--);
      timers.push(clock.setTimer(interval * 2, command));
    };
    timers.push(clock.setTimer(interval * 0.7, command));
    if (intruder) {
      const intrude = (): void => {
        if (!producing) return;
        c.pending++;
        intruder
          .agent!.command(actuator.did, { command: 'relay', args: 'on' }, { timeoutMs: 3_600_000 })
          .catch(() => undefined) // refused, as it must be: counted on the actuator's side
          .finally(() => void c.pending--);
        timers.push(clock.setTimer(interval * 3, intrude));
      };
      timers.push(clock.setTimer(interval * 1.3, intrude));
    }
  }

  // The field device goes off the air from 20 % to 60 % of the run, then syncs by radio.
  const fieldNode = field.nodes.find((n) => n.kind === 'field');
  if (fieldNode) {
    timers.push(
      clock.setTimer(runMs * 0.2, () => {
        fieldNode.gate!.setDown(true);
      }),
    );
    timers.push(
      clock.setTimer(runMs * 0.6, () => {
        fieldNode.gate!.setDown(false);
        c.fieldOfflineMs = runMs * 0.4;
        // Like a real field device: sync when back on the air; if the round fails, try again later.
        const sync = (attempt: number): void => {
          c.fieldSyncAttempts = attempt;
          fieldNode.agent!.sync({ timeoutMs: 900_000 }).then(
            () => (c.fieldSynced = true),
            (e: unknown) => {
              if (attempt < 4) clock.setTimer(600_000, () => sync(attempt + 1));
              else {
                c.fieldSyncFailed = true;
                errors.push(e);
              }
            },
          );
        };
        sync(1);
      }),
    );
  }

  const perReading = await bytesPerReading();
  const jsonPerReading = perReading.json;
  const view = o.json ? undefined : new LiveView(out);
  const frame = (phase: ViewFrame['phase'], progress: number): ViewFrame => {
    const devices = field.nodes.map((n) => deviceMetrics(n, ledger, c));
    const t = ledger.totals();
    const ch = field.channel.stats();
    return {
      phase,
      progress,
      simulatedSeconds: (clock.now() - t0) / 1000,
      devices,
      totals: { ...t, bytesOnAir: ch.txBytes, perReading, airtimeMs: ch.txAirtimeMs, executed: [...c.commandsExecuted.values()].reduce((a, b) => a + b, 0), refused: [...c.commandsRefused.values()].reduce((a, b) => a + b, 0) },
    };
  };

  const wallEnd = started + o.duration * 1000;
  const drainEnd = wallEnd + o.drainSeconds * 1000;
  while (Date.now() < wallEnd) {
    view?.draw(frame('running', (Date.now() - started) / (o.duration * 1000)));
    await new Promise((r) => setTimeout(r, 500));
  }
  producing = false;
  for (const t of timers) t.cancel();
  // Drain: keep the field running until every reading arrived (or the drain budget is spent).
  // Devices wake and sync now and then so acks queued at the mediator reach them.
  let lastSync = 0;
  while (Date.now() < drainEnd) {
    const t = ledger.totals();
    if (t.delivered >= t.sent && c.pending === 0 && (!fieldNode || c.fieldSynced || c.fieldSyncFailed)) break;
    if (Date.now() - lastSync > 3000) {
      lastSync = Date.now();
      for (const n of field.nodes) if (n.agent && n.kind !== 'intruder') n.agent.flush().catch((e: unknown) => errors.push(e));
    }
    view?.draw(frame('draining', 1));
    await new Promise((r) => setTimeout(r, 250));
  }
  await new Promise((r) => setTimeout(r, 1500)); // late duplicates would show up now
  view?.draw(frame('done', 1));

  const t = ledger.totals();
  const ch = field.channel.stats();
  const devicesCount = (k: RadioNode['kind']) => field.nodes.filter((n) => n.kind === k).length;
  const perDevice = field.nodes.map((n) => deviceMetrics(n, ledger, c)).map(({ name, kind, sent, delivered, duplicates, bytesOnAir, airtimeMs, commandsExecuted, problemsRefused }) => ({ name, kind, sent, delivered, duplicates, bytesOnAir, airtimeMs: Math.round(airtimeMs), commandsExecuted, problemsRefused }));
  const summary: SimSummary = {
    sent: t.sent,
    delivered: t.delivered,
    duplicates: t.duplicates + ledger.unexpected(),
    lost: t.sent - t.delivered,
    commandsSent: c.commandsSent,
    commandsExecuted: [...c.commandsExecuted.values()].reduce((a, b) => a + b, 0),
    commandsRefused: [...c.commandsRefused.values()].reduce((a, b) => a + b, 0),
    bytesOnAir: ch.txBytes,
    airtimeMs: Math.round(ch.txAirtimeMs),
    jsonBytesEquivalent: t.sent * jsonPerReading,
    bytesPerReading: perReading,
    commandsFailed: c.commandsFailed,
    readingBytesSaved: t.sent * (perReading.json - perReading.compact),
    frames: ch.txFrames,
    receptionsLost: Object.values(ch.dropped).reduce((a, b) => a + b, 0),
    receptionsCollided: ch.dropped.collision ?? 0,
    dutyCycleViolations: ch.dutyCycleViolations,
    simulatedSeconds: Math.round((clock.now() - t0) / 1000),
    wallSeconds: Math.round((Date.now() - started) / 100) / 10,
    devices: { node: devicesCount('node'), espruino: devicesCount('espruino'), field: devicesCount('field'), actuator: devicesCount('actuator') },
    enrolmentFailures: field.enrolmentFailures,
    backgroundErrors: errors.length,
    fieldDevice: { offlineSeconds: Math.round(c.fieldOfflineMs / 1000), synced: c.fieldSynced, syncAttempts: c.fieldSyncAttempts },
    options: { devices: o.devices, espruino: o.espruino, loss: o.loss, sf: o.sf, duration: o.duration, seed: o.seed, speed: o.speed, intervalMs: interval },
    perDevice,
  };
  if (process.env.DEBUG) {
    for (const n of field.nodes) if (n.espruino) console.error(n.name, JSON.stringify(n.espruino.endpoint.stats), 'outbox', n.espruino.endpoint.outbox.length);
    console.error('gateway', JSON.stringify(field.gateway.stats));
  }
  await field.close();
  if (!o.keep) rmSync(dataDir, { recursive: true, force: true });
  if (process.env.DEBUG) for (const e of errors) console.error("background error:", e);
  if (errors.length && !o.json) out.write(`${errors.length} background errors (first: ${String(errors[0])})\n`);
  return summary;
}
