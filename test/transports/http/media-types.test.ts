/** DIDComm media types: Content-Type parsing and the first-byte / top-level-member sniffer. */
import { describe, expect, it } from 'vitest';
import { DidcommError } from '../../../src/errors.js';
import { assertDidcommMediaType, parseDidcommMediaType, sniffMediaType } from '../../../transports/http/index.js';

const json = (v: unknown): Uint8Array => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));

describe('parseDidcommMediaType', () => {
  it.each([
    ['application/didcomm-encrypted+json', 'application/didcomm-encrypted+json'],
    ['Application/DIDComm-Signed+JSON; charset=utf-8', 'application/didcomm-signed+json'],
    ['didcomm-plain+json', 'application/didcomm-plain+json'],
    ['application/didcomm-compact', 'application/didcomm-compact'],
    ['application/json', undefined],
    ['text/plain', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('%j -> %j', (input, out) => expect(parseDidcommMediaType(input)).toBe(out));

  it('assertDidcommMediaType throws ERR_ARGUMENT for other types', () => {
    expect(() => assertDidcommMediaType('application/cbor')).toThrow(DidcommError);
    expect(() => assertDidcommMediaType(42)).toThrow(DidcommError);
  });
});

describe('sniffMediaType', () => {
  it('compact unless the first non-blank byte is {', () => {
    expect(sniffMediaType(Uint8Array.of(0xd8, 0x62))).toBe('application/didcomm-compact');
    expect(sniffMediaType(Uint8Array.of(0x5b))).toBe('application/didcomm-compact');
    expect(() => sniffMediaType(new Uint8Array(0))).toThrow(DidcommError);
    expect(() => sniffMediaType(json('  \n'))).toThrow(DidcommError);
  });

  it('tells JWE, JWS (general and flattened) and plaintext apart by top-level members', () => {
    expect(sniffMediaType(json({ ciphertext: 'a', protected: 'b', recipients: [], tag: 't', iv: 'i' }))).toBe('application/didcomm-encrypted+json');
    expect(sniffMediaType(json({ protected: 'b', recipients: [{ header: {} }], iv: 'i', ciphertext: 'c'.repeat(10_000) }))).toBe('application/didcomm-encrypted+json');
    expect(sniffMediaType(json({ payload: 'p', signatures: [{ protected: 'x', signature: 's' }] }))).toBe('application/didcomm-signed+json');
    expect(sniffMediaType(json({ payload: 'p', protected: 'x', signature: 's' }))).toBe('application/didcomm-signed+json');
    expect(sniffMediaType(json('  {"id":"1","type":"t","body":{}}'))).toBe('application/didcomm-plain+json');
  });

  it('is not fooled by nested members or member names inside strings', () => {
    const plain = { id: '1', type: 't', body: { ciphertext: 'x', payload: 'p', signatures: [] }, note: '"ciphertext": 1' };
    expect(sniffMediaType(json(plain))).toBe('application/didcomm-plain+json');
    expect(sniffMediaType(json('{"id":"\\"ciphertext\\":","body":{}}'))).toBe('application/didcomm-plain+json');
  });

  it('never throws on truncated or garbage JSON-looking input', () => {
    for (const s of ['{', '{"', '{"ciphertext', '{"a":"\\', '{]]]]', '{"recipients":']) {
      expect(() => sniffMediaType(json(s))).not.toThrow();
    }
  });
});
