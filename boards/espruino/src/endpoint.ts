/**
 * The thin DIDComm endpoint (DESIGN §1, docs/compact.md §7): pairwise contexts provisioned from
 * static DIDs, compact plaintext messages (messages.ts), and two protocols —
 *  - telemetry: `report(values)` sends telemetry/1.0/report with please_ack [""] to the
 *    controller, keeps it in a bounded RAM outbox and re-sends it (re-sealed under a fresh
 *    sequence number, same id) until an empty/1.0 message acks its id or the tries run out;
 *  - command: command/1.0/request is executed only under a context provisioned with role
 *    "controller", at most once per request id (the last results are kept in Storage and sent
 *    again for a duplicate request), and answered with command/1.0/result (thid = request id);
 *    other contexts get status "error" and nothing runs.
 * Peers that are not directly reachable get routing/2.0 forward frames through the mediator
 * context (body.next = the peer's binary DID, the inner frame as a bare byte string, no id).
 * Inbound, the mediator may relay peer frames as they are or send a forward of its own. Inner
 * plaintexts must leave from and to implicit (marker 0xE3): what the Node side packs under a
 * pairwise context for its one recipient; anything else is dropped as malformed.
 * Trust ping 2.0 is answered. Bad input is dropped and counted in `stats`, never thrown.
 */
import { equalBytes, fail, fromHex, toHex } from './bytes.js';
import { CMap, Raw, decode, encode, withMarker, type CValue } from './cbor.js';
import { accept, isReplay, openFrame, parseContext, parseFrame, sealFrame, type Context, type ContextConfig } from './pairwise.js';
import { State, type Store } from './state.js';
import * as M from './messages.js';

export type CommandHandler = (args: unknown, target: string | undefined) => unknown;

export interface EndpointConfig {
  did?: string;
  contexts: ContextConfig[];
  telemetry?: { intervalMs?: number; retryMs?: number; maxTries?: number; outbox?: number };
  state?: { file?: string; block?: number; executed?: number };
}

export interface EndpointEnv {
  store: Store;
  /** Milliseconds (getTime() * 1000 on Espruino). */
  now: () => number;
  send: (message: Uint8Array, done: (ok: boolean) => void) => void;
  read: () => Record<string, unknown>;
  commands: Record<string, CommandHandler>;
}

/** A report waiting for its ack: [id, inner plaintext frame, tries, next attempt at]. */
type OutItem = [Uint8Array, Uint8Array, number, number];

export class Endpoint {
  /** Reports waiting for an ack. */
  outbox: OutItem[] = [];
  stats = { received: 0, sent: 0, malformed: 0, undecryptable: 0, replayed: 0, refused: 0, duplicates: 0, acked: 0, expired: 0, ignored: 0 };
  _ctx: Context[] = [];
  _mediator: Context | null = null;
  _controller: Context | null = null;
  _state: State;
  _env: EndpointEnv;
  _retryMs: number;
  _tries: number;
  _max: number;
  _retryTimer: number | null = null;
  _reportTimer: number | null = null;

  constructor(config: EndpointConfig, env: EndpointEnv) {
    this._env = env;
    const cs = config.contexts;
    if (!cs || !cs.length) fail('no contexts');
    for (let i = 0; i < cs.length; i++) {
      const c = parseContext(cs[i], i);
      this._ctx.push(c);
      if (c._role === 'mediator' && !this._mediator) this._mediator = c;
      if (c._role === 'controller' && !this._controller) this._controller = c;
    }
    for (let i = 0; i < this._ctx.length; i++) {
      const c = this._ctx[i];
      if (c._via && (!this._mediator || !c._peerRef || c === this._mediator)) fail('context ' + i + ': via');
    }
    const t = config.telemetry || {};
    this._retryMs = t.retryMs || 30000;
    this._tries = t.maxTries || 5;
    this._max = t.outbox || 4;
    const s = config.state || {};
    this._state = new State(env.store, s.file || 'didcomm.st', s.block || 16, s.executed || 16);
    const every = t.intervalMs;
    if (every) {
      const loop = (): void => {
        this._reportTimer = setTimeout(() => {
          try {
            this.report();
          } catch (e) {
            // A failing sensor read must not stop the loop.
          }
          loop();
        }, every);
      };
      loop();
    }
  }

  /** Stops the report loop and the retries (the link stays as it is). */
  stop(): void {
    if (this._retryTimer !== null) clearTimeout(this._retryTimer);
    if (this._reportTimer !== null) clearTimeout(this._reportTimer);
    this._retryTimer = this._reportTimer = null;
    this._retryMs = 0;
  }

  /** Seals a plaintext frame for `ctx` and sends it, inside a forward to the mediator if needed. */
  _send(ctx: Context, inner: Uint8Array): void {
    const st = this._state;
    let frame = sealFrame(ctx, st.nextSeq(ctx._name), inner);
    const med = this._mediator;
    if (ctx._via && med) {
      const fwd = new CMap()
        .set(M.H_TYPE, M.T_FORWARD)
        .set(M.H_BODY, new CMap().set(1, new Raw(ctx._peerRef as Uint8Array)))
        .set(M.H_ATTACHMENTS, frame);
      frame = sealFrame(med, st.nextSeq(med._name), withMarker(M.PLAIN, fwd));
    }
    this._env.send(frame, (ok) => {
      if (ok) this.stats.sent++;
    });
  }

  _sendMap(ctx: Context, m: CMap): void {
    this._send(ctx, withMarker(M.PLAIN, m));
  }

  _newId(): Uint8Array {
    return M.idBytes(this._state.nextMessageId());
  }

  /** Sends a telemetry report (default: the board's sensors) to the controller; returns its id. */
  report(values?: Record<string, unknown>): string {
    if (!this._controller && !this._mediator) fail('no peer');
    const body = M.telemetryBody(values || this._env.read());
    const id = this._newId();
    const m = new CMap().set(M.H_ID, id).set(M.H_TYPE, M.T_REPORT).set(M.H_PLEASE_ACK, ['']);
    const t = Math.floor(this._env.now() / 1000);
    if (t > 1500000000) {
      // Only when the board's clock was set (it starts at 1970).
      m.set(M.H_CREATED, t);
      if (body.get(1) === undefined) body.set(1, t);
    }
    m.set(M.H_BODY, body);
    if (this.outbox.length >= this._max) {
      this.outbox.shift();
      this.stats.expired++;
    }
    this.outbox.push([id, withMarker(M.PLAIN, m), 0, 0]);
    this._retry();
    return toHex(id);
  }

  /** Sends what is due in the outbox and schedules the next attempt. */
  _retry(): void {
    if (this._retryTimer !== null) clearTimeout(this._retryTimer);
    this._retryTimer = null;
    const now = this._env.now();
    const ctx = (this._controller || this._mediator) as Context;
    let next = -1;
    for (let i = 0; i < this.outbox.length; i++) {
      const it = this.outbox[i];
      if (it[3] <= now) {
        if (it[2] >= this._tries) {
          this.outbox.splice(i--, 1);
          this.stats.expired++;
          continue;
        }
        it[2]++;
        it[3] = now + this._retryMs;
        this._send(ctx, it[1]);
      }
      if (next < 0 || it[3] < next) next = it[3];
    }
    if (next >= 0 && this._retryMs) this._retryTimer = setTimeout(() => this._retry(), next - now);
  }

  /** One inbound message (a pairwise frame) from the link. */
  receive(frame: Uint8Array, depth?: number): void {
    const h = parseFrame(frame);
    if (!h) return void this.stats.malformed++;
    let ctx: Context | null = null;
    let inner: Uint8Array | null = null;
    for (let i = 0; i < this._ctx.length && !inner; i++) inner = openFrame((ctx = this._ctx[i]), h);
    if (!inner || !ctx) return void this.stats.undecryptable++;
    const w = this._state.window(ctx._name);
    if (isReplay(w, h._seq)) return void this.stats.replayed++;
    accept(w, h._seq);
    this._state.commit();
    this.stats.received++;
    // Only 0xE3 (from and to implicit: the context names both ends), with neither present.
    let m: CValue = null;
    try {
      if (inner[0] === M.PLAIN) m = decode(inner, 1);
    } catch (e) {
      // malformed, counted below
    }
    if (!(m instanceof CMap) || m.get(M.H_FROM) !== undefined || m.get(M.H_TO) !== undefined) return void this.stats.malformed++;
    this._dispatch(ctx, m, depth || 0);
  }

  _dispatch(ctx: Context, m: CMap, depth: number): void {
    const type = m.get(M.H_TYPE);
    const id = m.get(M.H_ID) as CValue;
    if (type === M.T_EMPTY) return this._ack(m.get(M.H_ACK));
    if (type === M.T_FORWARD) {
      const att = m.get(M.H_ATTACHMENTS);
      if (ctx !== this._mediator || depth || !(att instanceof Uint8Array)) return void this.stats.refused++;
      return this.receive(att, 1);
    }
    if (!M.isId(id)) return void this.stats.malformed++;
    const body = m.get(M.H_BODY);
    const args = body instanceof CMap ? body : new CMap();
    if (type === M.T_PING) {
      if (args.get(1) !== false) this._sendMap(ctx, new CMap().set(M.H_ID, this._newId()).set(M.H_TYPE, M.T_PING_RESPONSE).set(M.H_THID, id));
      return;
    }
    if (type === M.T_REQUEST) return this._command(ctx, id, args);
    this.stats.ignored++;
  }

  _ack(acks: CValue | undefined): void {
    if (!Array.isArray(acks)) return void this.stats.ignored++;
    for (let a = 0; a < acks.length; a++) {
      for (let i = this.outbox.length - 1; i >= 0; i--) {
        const ack = acks[a];
        if (ack instanceof Uint8Array && equalBytes(this.outbox[i][0], ack)) {
          this.outbox.splice(i, 1);
          this.stats.acked++;
        }
      }
    }
  }

  _command(ctx: Context, id: CValue, body: CMap): void {
    const key = ctx._index + ':' + toHex(encode(id));
    const done = this._state.findExecuted(key);
    if (done) {
      this.stats.duplicates++;
      return this._result(ctx, done[1], id, fromHex(done[2]));
    }
    let status = 'error';
    let result: unknown = 'not authorized';
    if (ctx._role !== 'controller') this.stats.refused++;
    else {
      const command = body.get(M.C_COMMAND);
      const target = body.get(M.C_TARGET);
      const cmds = this._env.commands;
      result = 'unknown command';
      if (typeof command === 'string' && cmds.hasOwnProperty(command)) {
        try {
          result = cmds[command](M.toJs(body.get(M.C_ARGS)), typeof target === 'string' ? target : undefined);
          status = 'ok';
        } catch (e) {
          result = String((e as Error).message || e);
        }
      }
    }
    const res = new CMap().set(M.C_STATUS, status);
    if (result !== undefined) res.set(M.C_RESULT, M.fromJson(result));
    const bytes = encode(res);
    const resultId = this._state.nextMessageId();
    // Remembered (in Storage, before the answer goes out) only when it ran: a refusal is no result.
    if (ctx._role === 'controller') this._state.addExecuted([key, resultId, toHex(bytes)]);
    this._result(ctx, resultId, id, bytes);
  }

  _result(ctx: Context, resultId: number, thid: CValue, body: Uint8Array): void {
    this._sendMap(ctx, new CMap().set(M.H_ID, M.idBytes(resultId)).set(M.H_TYPE, M.T_RESULT).set(M.H_THID, thid).set(M.H_BODY, new Raw(body)));
  }
}
