/**
 * Route plans from a recipient's DID document (DIDComm v2.1 §Service Endpoint, §DID Document
 * Keys): the first DIDCommMessaging endpoint, its routing keys, and — when the endpoint `uri` is
 * itself a DID (a mediator) — that DID's keyAgreement keys prepended and its own endpoint used.
 * Offline: only provisioned or self-resolving DIDs are consulted.
 */
import { err } from '../errors.js';
import { isDid } from '../did/document.js';
import type { KeyResolver } from '../did/resolver.js';

export interface RoutePlan {
  /** Transport address: a URL, or a mediator DID when its document has no endpoint we can use. */
  endpoint: string | undefined;
  accept: string[];
  /** Routing keys to wrap for, outermost last as listed (pass to wrapInForwards as is). */
  routingKeys: string[];
}

export function routeTo(resolver: KeyResolver, did: string, depth = 0): RoutePlan {
  if (depth > 2) throw err('ERR_DID_NOT_RESOLVED', 'route: mediator chain too deep');
  const doc = resolver.document(did);
  const service = doc.services[0];
  const ep = service?.endpoints[0];
  if (!ep) return { endpoint: undefined, accept: [], routingKeys: [] };
  const routingKeys = [...(ep.routingKeys ?? [])];
  if (isDid(ep.uri)) {
    // "DID as endpoint": the mediator's keyAgreement keys come first; its endpoint carries it.
    const mediatorKeys = resolver.keyAgreementKeys(ep.uri).map((k) => k.kid);
    const inner = routeTo(resolver, ep.uri, depth + 1);
    return { endpoint: inner.endpoint ?? ep.uri, accept: ep.accept ?? inner.accept, routingKeys: [...inner.routingKeys, mediatorKeys[0] ?? ep.uri, ...routingKeys] };
  }
  return { endpoint: ep.uri, accept: ep.accept ?? [], routingKeys };
}
