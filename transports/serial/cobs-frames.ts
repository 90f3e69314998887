/**
 * Self-delimiting binary frames for byte pipes without framing (Ebyte E22/E32 transparent mode,
 * embedded.md §3.1 "add your own framing and CRC"): COBS (Cheshire & Baker, IEEE/ACM ToN 1999)
 * removes every 0x00 from `payload || CRC-16/CCITT-FALSE (big-endian)`, and 0x00 delimits.
 *
 * Wire form: 0x00, COBS(payload || crc), 0x00. The leading delimiter cuts off any garbage that
 * preceded the frame, so one burst of noise costs at most one frame. Overhead for payloads up to
 * 251 bytes is exactly 5 bytes (2 delimiters, 1 COBS code byte, 2 CRC bytes).
 *
 * The decoder survives split and merged reads and garbage: it buffers at most `maxEncodedLength`
 * bytes, reports bad frames as ERR_MALFORMED / over-long ones as ERR_TOO_LARGE, and resyncs on
 * the next 0x00.
 */
import { err, type DidcommError } from '../../src/errors.js';
import { crc16 } from './crc16.js';

/** Bytes added around a payload of at most 251 bytes. */
export const COBS_FRAME_OVERHEAD = 5;

export function cobsEncode(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + Math.floor(data.length / 254) + 1);
  let codeAt = 0;
  let o = 1;
  let code = 1;
  for (let i = 0; i < data.length; i++) {
    const b = data[i]!;
    if (b === 0) {
      out[codeAt] = code;
      codeAt = o++;
      code = 1;
      continue;
    }
    out[o++] = b;
    code++;
    if (code === 0xff) {
      out[codeAt] = code;
      codeAt = o++;
      code = 1;
    }
  }
  out[codeAt] = code;
  return out.subarray(0, o);
}

/** Decodes one COBS block (without delimiters). Throws ERR_MALFORMED on invalid input. */
export function cobsDecode(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length);
  let o = 0;
  let i = 0;
  while (i < data.length) {
    const code = data[i++]!;
    if (code === 0) throw err('ERR_MALFORMED', 'COBS: zero byte inside a block');
    const end = i + code - 1;
    if (end > data.length) throw err('ERR_MALFORMED', 'COBS: block overruns the frame');
    for (; i < end; i++) {
      const b = data[i]!;
      if (b === 0) throw err('ERR_MALFORMED', 'COBS: zero byte inside a block');
      out[o++] = b;
    }
    if (code !== 0xff && i < data.length) out[o++] = 0;
  }
  return out.subarray(0, o);
}

/** 0x00, COBS(payload || crc16), 0x00. */
export function encodeCobsFrame(payload: Uint8Array): Uint8Array {
  const body = new Uint8Array(payload.length + 2);
  body.set(payload);
  const crc = crc16(payload);
  body[payload.length] = crc >> 8;
  body[payload.length + 1] = crc & 0xff;
  const enc = cobsEncode(body);
  const out = new Uint8Array(enc.length + 2);
  out.set(enc, 1);
  return out;
}

export interface CobsFrameDecoderOptions {
  onFrame: (payload: Uint8Array) => void;
  onError: (error: DidcommError) => void;
  /** Longest COBS block accepted between two delimiters. */
  maxEncodedLength: number;
}

export class CobsFrameDecoder {
  private readonly buf: Uint8Array;
  private len = 0;
  private overflowed = false;
  private readonly options: CobsFrameDecoderOptions;

  constructor(options: CobsFrameDecoderOptions) {
    this.options = options;
    this.buf = new Uint8Array(options.maxEncodedLength);
  }

  push(chunk: Uint8Array): void {
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (b === 0) {
        this.endBlock();
        continue;
      }
      if (this.overflowed) continue;
      if (this.len === this.buf.length) {
        this.overflowed = true;
        this.len = 0;
        this.options.onError(err('ERR_TOO_LARGE', `frame longer than ${this.buf.length} encoded bytes discarded`));
        continue;
      }
      this.buf[this.len++] = b;
    }
  }

  private endBlock(): void {
    const n = this.len;
    const overflowed = this.overflowed;
    this.len = 0;
    this.overflowed = false;
    if (overflowed || n === 0) return;
    let body: Uint8Array;
    try {
      body = cobsDecode(this.buf.subarray(0, n));
    } catch (e) {
      this.options.onError(e as DidcommError);
      return;
    }
    if (body.length < 2) {
      this.options.onError(err('ERR_MALFORMED', 'frame shorter than its CRC'));
      return;
    }
    const payload = body.slice(0, body.length - 2);
    const got = (body[body.length - 2]! << 8) | body[body.length - 1]!;
    if (crc16(payload) !== got) {
      this.options.onError(err('ERR_MALFORMED', 'frame CRC mismatch'));
      return;
    }
    this.options.onFrame(payload);
  }
}
