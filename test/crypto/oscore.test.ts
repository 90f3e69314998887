/** RFC 8613 Appendix C: key derivation (C.1–C.3) and nonces, on both backends. */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { nobleBackend } from '../../src/crypto/noble.js';
import { nodeBackend } from '../../src/crypto/node.js';
import { deriveOscoreKeys, oscoreInfo, oscoreNonce } from '../../src/crypto/oscore.js';
import { fromHex, toHex } from '../../src/util/bytes.js';

const v = JSON.parse(readFileSync(new URL('../vectors/oscore/rfc8613-appendix-c.json', import.meta.url), 'utf8'));

describe.each([nodeBackend, nobleBackend])('OSCORE derivation on $name', (c) => {
  it.each(v.key_derivation.map((k: any) => [k.id ?? k.title, k]) as Array<[string, any]>)('%s', (_name: string, k: any) => {
    const idContext = k.id_context === null ? null : fromHex(k.id_context);
    expect(toHex(oscoreInfo(fromHex(k.sender_id), idContext, 'Key', 16))).toBe(k.info_sender_key);
    expect(toHex(oscoreInfo(new Uint8Array(0), idContext, 'IV', 13))).toBe(k.info_common_iv);
    const keys = deriveOscoreKeys(c, {
      masterSecret: fromHex(k.master_secret),
      masterSalt: k.master_salt === null ? new Uint8Array(0) : fromHex(k.master_salt),
      senderId: fromHex(k.sender_id),
      recipientId: fromHex(k.recipient_id),
      idContext,
    });
    expect(toHex(keys.senderKey)).toBe(k.sender_key);
    expect(toHex(keys.recipientKey)).toBe(k.recipient_key);
    expect(toHex(keys.commonIv)).toBe(k.common_iv);
    expect(toHex(oscoreNonce(keys.commonIv, fromHex(k.sender_id), 0))).toBe(k.sender_nonce_piv0);
    expect(toHex(oscoreNonce(keys.commonIv, fromHex(k.recipient_id), 0))).toBe(k.recipient_nonce_piv0);
  });

  it('builds the message nonces of C.4–C.6 and C.8', () => {
    for (const m of v.messages.filter((x: any) => x.partial_iv !== undefined)) {
      const id = m.message === 'request' ? fromHex(m.sender_id) : fromHex(m.sender_id);
      expect(toHex(oscoreNonce(fromHex(m.common_iv), id, parseInt(m.partial_iv, 16)))).toBe(m.nonce);
    }
  });
});
