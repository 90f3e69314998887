/**
 * The one pack/unpack façade for both wire formats (DESIGN §2 envelope/):
 * `pack(ctx, message, {mode, format, to, from, ...})` → bytes, and `unpack(ctx, bytes)` →
 * `{message, meta}`, where unpack tells the format from the first byte (JSON starts with `{`,
 * compact frames with 0xE0–0xEF). Standard DIDComm v2.1 JSON is in ./jose, DIDComm Compact in
 * ./compact (docs/compact.md).
 */
import { err } from '../errors.js';
import { fromUtf8, utf8 } from '../util/bytes.js';
import type { Message } from '../message/message.js';
import { packJson, type JsonPackOptions } from './jose/pack.js';
import { unpackJson } from './jose/unpack.js';
import { packCompact, type CompactPackOptions } from './compact/pack.js';
import { unpackCompact, type CompactUnpackOptions } from './compact/unpack.js';
import { COMPACT_MEDIA_TYPE, sniffFormat } from './compact/frame.js';
import type { EnvelopeContext, PackMode, UnpackResult, WireFormat } from './types.js';

export type { EnvelopeContext, PackMode, UnpackMeta, UnpackResult, WireFormat } from './types.js';

export interface PackOptions extends Omit<JsonPackOptions, 'mode'>, Omit<CompactPackOptions, 'mode' | 'to' | 'from' | 'sign' | 'protectSender'> {
  mode: PackMode;
  /** Default 'json'. */
  format?: WireFormat;
}

export interface PackResult {
  bytes: Uint8Array;
  mediaType: string;
  format: WireFormat;
}

export async function pack(ctx: EnvelopeContext, message: Message, o: PackOptions): Promise<PackResult> {
  const format = o.format ?? 'json';
  if (format === 'json') {
    if (o.mode === 'pairwise') throw err('ERR_UNSUPPORTED', 'pairwise mode exists only in the compact format');
    const r = packJson(ctx, message, { ...o, mode: o.mode });
    return { bytes: utf8(r.envelope), mediaType: r.mediaType, format };
  }
  if (format !== 'compact') throw err('ERR_ARGUMENT', `unknown format ${String(format)}`);
  const bytes = await packCompact(ctx, message, o as CompactPackOptions);
  return { bytes, mediaType: COMPACT_MEDIA_TYPE, format };
}

export interface UnpackOptions extends CompactUnpackOptions {
  /** Largest envelope accepted, in bytes. Default 1 MiB. */
  maxBytes?: number;
}

export async function unpack(ctx: EnvelopeContext, input: Uint8Array | string, o: UnpackOptions = {}): Promise<UnpackResult> {
  const bytes = typeof input === 'string' ? utf8(input) : input;
  const maxBytes = o.maxBytes ?? 1024 * 1024;
  if (bytes.length > maxBytes) throw err('ERR_TOO_LARGE', `message of ${bytes.length} bytes exceeds ${maxBytes}`);
  const format = sniffFormat(bytes);
  if (format === 'json') return unpackJson(ctx, fromUtf8(bytes), { maxLength: maxBytes });
  if (format === 'compact') return unpackCompact(ctx, bytes, o);
  throw err('ERR_MALFORMED', 'neither a DIDComm JSON message nor a DIDComm Compact frame');
}
