/**
 * The device's subset of the fragmentation layer (transports/fragment/README.md, header.ts: the
 * same wire format; CRC-32/IEEE over id byte ‖ message):
 *   data:    0 L A iiiii | index (1–2) | CRC(4) if last | payload
 *   control: 1 TT iiiii  | ACK = CRC(4); REQUEST = round, start, bitmap; PROBE = last index, CRC
 * Sending is one-way (A = 0: the Node receiver reassembles without control frames), every
 * fragment but the last full (planFragments). Receiving takes both modes: messages of any number
 * of fragments are reassembled (bounded: two partial messages of at most `maxMessage` bytes,
 * dropped after `timeoutMs` without news); when the sender wants acks, a complete message is
 * ACKed, a duplicate or PROBE of a completed one is ACKed again, a PROBE of an incomplete one
 * gets one REQUEST frame with the bitmap of what is missing (the sender's PROBE drives repairs,
 * so no timer is needed), and a message over the limit is REFUSEd.
 */
import { concat, fail } from './bytes.js';

/** A frame link (modem or BLE driver): `send` calls `done(ok)` once the frame left or failed. */
export interface Link {
  mtu: number;
  send(frame: Uint8Array, to: string | undefined, done: (ok: boolean) => void, urgent?: boolean): void;
  onFrame: ((frame: Uint8Array, from: string | undefined) => void) | null;
}

export function crc32(id: number, msg: Uint8Array): number {
  let c = -1;
  for (let i = -1; i < msg.length; i++) {
    c ^= i < 0 ? id : msg[i];
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ -1) >>> 0;
}

function u32(v: number): Uint8Array {
  return new Uint8Array([v >>> 24, v >>> 16, v >>> 8, v]);
}

function index(i: number): Uint8Array {
  return new Uint8Array(i < 128 ? [i] : [0x80 | (i >> 8), i & 0xff]);
}

/** Splits a message into one-way data fragments for a link of `mtu` bytes. */
export function fragmentMessage(id: number, msg: Uint8Array, mtu: number): Uint8Array[] {
  if (!(mtu >= 8)) fail('mtu');
  const out: Uint8Array[] = [];
  for (let i = 0, off = 0; ; i++) {
    const room = mtu - (i < 128 ? 2 : 3);
    if (msg.length - off <= room - 4) {
      out.push(concat([new Uint8Array([0x40 | id]), index(i), u32(crc32(id, msg)), msg.subarray(off)]));
      return out;
    }
    out.push(concat([new Uint8Array([id]), index(i), msg.subarray(off, off + room)]));
    off += room;
  }
}

interface Partial {
  _key: string;
  _id: number;
  _from: string | undefined;
  _parts: Uint8Array[];
  _last: number;
  _crc: number;
  _bytes: number;
  _ack: boolean;
  _round: number;
  _at: number;
}

/** A message link over a frame link: `send(message, done)`; messages arrive at `onMessage`. */
export class FragmentLayer {
  _link: Link;
  _max: number;
  _now: () => number;
  _timeout: number;
  _nextId: number;
  _partials: Partial[] = [];
  /** Completed messages, key → CRC (the last 4), to re-ACK duplicates and PROBEs. */
  _done: Array<[string, number]> = [];
  onMessage: ((msg: Uint8Array, from: string | undefined) => void) | null = null;
  dropped = 0;

  constructor(link: Link, maxMessage: number, now: () => number, timeoutMs: number, firstId: number) {
    this._link = link;
    this._max = maxMessage;
    this._now = now;
    this._timeout = timeoutMs;
    this._nextId = firstId & 31;
    link.onFrame = (f, from) => this._receive(f, from);
  }

  /** Sends `msg` one-way (to the link's default peer); `done(ok)` after its last fragment left. */
  send(msg: Uint8Array, done: (ok: boolean) => void): void {
    const frames = fragmentMessage(this._nextId, msg, this._link.mtu);
    this._nextId = (this._nextId + 1) & 31;
    let i = 0;
    const next = (ok: boolean): void => {
      if (!ok || i === frames.length) done(ok);
      else this._link.send(frames[i++], undefined, next);
    };
    next(true);
  }

  _control(p: { _from: string | undefined; _id: number }, type: number, rest: Uint8Array): void {
    this._link.send(concat([new Uint8Array([type | p._id]), rest]), p._from, () => {}, true);
  }

  _partial(key: string, id: number, from: string | undefined): Partial {
    const now = this._now();
    const ps = this._partials;
    for (let i = ps.length - 1; i >= 0; i--) {
      if (ps[i]._key === key) return ps[i];
      if (now - ps[i]._at > this._timeout) ps.splice(i, 1);
    }
    if (ps.length >= 2) ps.shift();
    const p: Partial = { _key: key, _id: id, _from: from, _parts: [], _last: -1, _crc: 0, _bytes: 0, _ack: false, _round: 0, _at: now };
    ps.push(p);
    return p;
  }

  _drop(p: Partial): void {
    const i = this._partials.indexOf(p);
    if (i >= 0) this._partials.splice(i, 1);
  }

  /** Delivers `p` if complete (ACK when asked), else answers a PROBE with one REQUEST. */
  _check(p: Partial, probed: boolean): void {
    let start = -1;
    for (let i = 0; i <= p._last && start < 0; i++) if (!p._parts[i]) start = i;
    if (start < 0) {
      this._drop(p);
      const msg = concat(p._parts);
      if (crc32(p._id, msg) !== p._crc) return void this.dropped++;
      this._done.push([p._key, p._crc]);
      if (this._done.length > 4) this._done.shift();
      if (p._ack) this._control(p, 0x80, u32(p._crc));
      if (this.onMessage) this.onMessage(msg, p._from);
    } else if (probed) {
      const idx = index(start);
      const bitmap = new Uint8Array(this._link.mtu - 2 - idx.length);
      let used = 0;
      for (let bit = 0; bit < bitmap.length * 8 && start + bit <= p._last; bit++) {
        if (p._parts[start + bit]) continue;
        bitmap[bit >> 3] |= 0x80 >> (bit & 7);
        used = (bit >> 3) + 1;
      }
      p._round = (p._round + 1) & 0xff;
      this._control(p, 0xa0, concat([new Uint8Array([p._round]), idx, bitmap.subarray(0, used)]));
    }
  }

  _receive(f: Uint8Array, from: string | undefined): void {
    const b0 = f[0];
    const id = b0 & 31;
    const key = id + '|' + from;
    const control = b0 & 0x80;
    // ACK / REQUEST / REFUSE are for senders that want acks: this end sends one-way.
    if (control && (b0 & 0xe0) !== 0xc0) return;
    let at = 2;
    let i = f[1];
    if (i & 0x80) {
      i = ((i & 0x7f) << 8) | f[2];
      at = 3;
    }
    const last = control || b0 & 0x40;
    const crc = last ? ((f[at] << 24) | (f[at + 1] << 16) | (f[at + 2] << 8) | f[at + 3]) >>> 0 : 0;
    if (last) at += 4;
    if (f.length < at + (last ? 0 : 1) || (at === 3 && i < 128) || (control && f.length !== at)) return void this.dropped++;
    let done = -1;
    for (let j = 0; j < this._done.length; j++) if (this._done[j][0] === key) done = this._done[j][1];
    let p: Partial | null = null;
    for (let j = 0; j < this._partials.length; j++) if (this._partials[j]._key === key) p = this._partials[j];
    const ack = control || b0 & 0x20;
    const meta = { _from: from, _id: id };
    // A duplicate (or PROBE) of a completed message: ACK again.
    if (done >= 0 && (last ? crc === done : !p)) return void (ack && last && this._control(meta, 0x80, u32(crc)));
    if (i >= this._max || (p && p._bytes + f.length - at > this._max)) {
      if (p) this._drop(p);
      this.dropped++;
      return void (ack && last && this._control(meta, 0xe0, new Uint8Array([1])));
    }
    if (!p) p = this._partial(key, id, from);
    if (last) {
      if (p._last >= 0 && (p._last !== i || p._crc !== crc)) {
        if (!control) return void this.dropped++;
        this._drop(p);
        p = this._partial(key, id, from);
      }
      if (i < p._parts.length - 1) return void this.dropped++;
      p._last = i;
      p._crc = crc;
    } else if (p._last >= 0 && i >= p._last) return void this.dropped++;
    p._ack = p._ack || !!ack;
    p._at = this._now();
    if (!control && !p._parts[i]) {
      p._parts[i] = new Uint8Array(f.subarray(at));
      p._bytes += f.length - at;
    }
    if (p._last >= 0) this._check(p, !!control);
  }
}
