/**
 * Private keys, addressed by key id (DIDComm's SecretsResolver role). `SecretsStore` is the
 * in-memory implementation; it accepts the three shapes the CLI takes for `--secrets`: a
 * `did new` file `{did, didDocument, secrets: [JWK...]}`, a bare JSON array of private JWKs with
 * `kid`, or an object with a `secrets` array. The spec's Appendix A.2 prints `"kid "` with a
 * trailing space; member names are trimmed so those vectors load as published.
 */
import { err } from '../errors.js';
import { defaultCrypto } from '../crypto/default.js';
import type { CryptoBackend, Curve } from '../crypto/types.js';
import { isJsonObject } from '../util/json.js';
import { privateKeyFromJwk } from './keys.js';
import { isDidUrl } from './document.js';

export interface Secret {
  kid: string;
  curve: Curve;
  privateKey: Uint8Array;
  publicKey: Uint8Array;
}

export interface SecretsResolver {
  get(kid: string): Secret | undefined;
  /** All key ids held (so a receiver can find which JWE recipient is itself). */
  kids(): string[];
}

export class SecretsStore implements SecretsResolver {
  private readonly secrets = new Map<string, Secret>();
  private readonly crypto: CryptoBackend;

  constructor(crypto: CryptoBackend = defaultCrypto) {
    this.crypto = crypto;
  }

  add(secret: Secret): void {
    if (!isDidUrl(secret.kid) || !secret.kid.includes('#')) throw err('ERR_ARGUMENT', 'secret kid must be a DID URL with a fragment');
    this.secrets.set(secret.kid, secret);
  }

  /** Adds a private JWK that carries its `kid`. */
  addJwk(jwk: unknown): Secret {
    if (!isJsonObject(jwk)) throw err('ERR_MALFORMED', 'secret must be a JWK object');
    const trimmed: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(jwk)) trimmed[k.trim()] = v;
    if (typeof trimmed.kid !== 'string') throw err('ERR_MALFORMED', 'secret JWK has no "kid"');
    const key = privateKeyFromJwk(trimmed, this.crypto);
    const secret: Secret = { kid: trimmed.kid, ...key };
    this.add(secret);
    return secret;
  }

  /** Loads any of the accepted shapes (see module comment). Returns the number of keys added. */
  addFromJson(value: unknown): number {
    let list: unknown;
    if (Array.isArray(value)) list = value;
    else if (isJsonObject(value) && Array.isArray(value.secrets)) list = value.secrets;
    else throw err('ERR_MALFORMED', 'secrets: expected an array of JWKs or an object with a "secrets" array');
    let n = 0;
    for (const jwk of list as unknown[]) {
      this.addJwk(jwk);
      n++;
    }
    return n;
  }

  get(kid: string): Secret | undefined {
    return this.secrets.get(kid);
  }

  kids(): string[] {
    return [...this.secrets.keys()];
  }
}
