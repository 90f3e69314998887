/**
 * Coordinate Mediation 2.0 at the mediator (didcomm.org coordinate-mediation/2.0,
 * reference/didcomm-spec.md §1.9). Requests must be authenticated: the owner is the DID that
 * authcrypted, signed or pairwise-sealed the request. Grant policy: `open` (anyone) or an
 * allowlist of DIDs; everyone else gets `mediate-deny`. A recipient key belongs to one owner
 * (the store enforces it across processes): adding another owner's key is a `client_error`, as
 * is going past the per-owner key limit. `keylist-query` pages with limit/offset (default 100).
 * After a grant or key change, pairwise contexts for the owner are derived (so a provisioned
 * device's pairwise frames open) and live sessions follow the new key set.
 */
import { err } from '../errors.js';
import type { Message } from '../message/message.js';
import {
  KEYLIST_QUERY_TYPE,
  KEYLIST_UPDATE_TYPE,
  MEDIATE_REQUEST_TYPE,
  keylist,
  keylistUpdateResponse,
  mediateDeny,
  mediateGrant,
  parseKeylistQuery,
  parseKeylistUpdate,
  type KeylistResult,
  type KeylistUpdated,
} from '../protocols/coordinate-mediation.js';
import { isDidcommError } from '../errors.js';
import { ownerKeys, requireSender, type MediatorCore, type RequestContext } from './core.js';

const DEFAULT_PAGE = 100;

export async function handleCoordination(core: MediatorCore, rc: RequestContext): Promise<Message[]> {
  const owner = requireSender(rc);
  const m = rc.message;
  switch (m.type) {
    case MEDIATE_REQUEST_TYPE: {
      if (!mayBeGranted(core, owner)) return [mediateDeny(core.newId(), m, core.did)];
      await core.stores.mediation.grant(owner, core.did);
      derivePairwise(core, owner);
      return [mediateGrant(core.newId(), m, core.did, core.did)];
    }
    case KEYLIST_UPDATE_TYPE: {
      const updates = parseKeylistUpdate(m);
      if (!(await core.stores.mediation.isGranted(owner))) throw err('ERR_NOT_AUTHORIZED', 'keylist-update: no mediation was granted to the requester');
      const adds = updates.filter((u) => u.action === 'add').map((u) => u.recipientDid);
      const removes = updates.filter((u) => u.action === 'remove').map((u) => u.recipientDid);
      const outcome = new Map<string, KeylistResult>();
      const record = async (action: 'add' | 'remove', keys: string[]): Promise<void> => {
        if (keys.length === 0) return;
        try {
          const results = action === 'add' ? await core.stores.mediation.addKeys(owner, keys) : await core.stores.mediation.removeKeys(owner, keys);
          for (const r of results) outcome.set(`${action} ${r.recipientDid}`, r.result === 'success' ? 'success' : r.result === 'no_change' ? 'no_change' : 'client_error');
        } catch (e) {
          if (!isDidcommError(e) || e.code === 'ERR_NOT_AUTHORIZED') throw e;
          const result: KeylistResult = e.code === 'ERR_ARGUMENT' || e.code === 'ERR_TOO_LARGE' ? 'client_error' : 'server_error';
          for (const k of keys) outcome.set(`${action} ${k}`, result);
        }
      };
      await record('remove', removes);
      if (removes.length > 0) core.recipients.clear();
      await record('add', adds);
      const updated: KeylistUpdated[] = updates.map((u) => ({ ...u, result: outcome.get(`${u.action} ${u.recipientDid}`) ?? 'server_error' }));
      if (updated.some((u) => u.result === 'success')) {
        derivePairwise(core, owner);
        await core.live.keysChanged(owner, await ownerKeys(core, owner));
      }
      return [keylistUpdateResponse(core.newId(), m, core.did, updated)];
    }
    case KEYLIST_QUERY_TYPE: {
      if (!(await core.stores.mediation.isGranted(owner))) throw err('ERR_NOT_AUTHORIZED', 'keylist-query: no mediation was granted to the requester');
      const paginate = parseKeylistQuery(m);
      const limit = paginate?.limit ?? DEFAULT_PAGE;
      const offset = paginate?.offset ?? 0;
      const page = await core.stores.mediation.listKeys(owner, { limit: Math.min(limit, 1000), offset });
      return [keylist(core.newId(), m, core.did, page.keys, { count: page.keys.length, offset, remaining: Math.max(0, page.total - offset - page.keys.length) })];
    }
    default:
      throw err('ERR_UNKNOWN_TYPE', 'unsupported coordinate-mediation message');
  }
}

function mayBeGranted(core: MediatorCore, owner: string): boolean {
  const g = core.policy.grant;
  return g.kind === 'open' || g.dids.includes(owner);
}

/** Lets pairwise frames from the owner open (contexts derive from its DID; errors mean "no X25519 key"). */
function derivePairwise(core: MediatorCore, owner: string): void {
  try {
    core.pairwise.contextFor(core.did, owner);
  } catch {
    // owners without an X25519 keyAgreement key simply have no pairwise context
  }
}
