/**
 * WebSocket for the mediator (DIDComm v2.1 §Transports/WebSocket): one session per connection of
 * a `transports/ws` WsListener. `return_route` is set once per connection (pickup 3.0 §Requirements)
 * and then replies flow back on the socket; live mode pushes deliveries on it until it closes.
 * Frames of one connection are handled in order (bounded queue: a peer that floods one socket is
 * disconnected). Trust comes from DIDComm, never from the socket. Structural types only.
 */
import type { Mediator } from './service.js';
import type { Session } from './types.js';

/** The part of WsListener this needs. */
export interface WsListenerLike {
  on(event: 'frame', listener: (frame: Uint8Array, from: string | undefined) => void): () => void;
  on(event: 'connection', listener: (id: string, info: { remote: string }) => void): () => void;
  on(event: 'disconnect', listener: (id: string, code: number) => void): () => void;
  sendTo(id: string, frame: Uint8Array): Promise<void>;
  disconnect(id: string, code?: number): void;
  readonly mtu: number;
}

/** Most frames waiting per connection before it is dropped (1008 policy violation). */
const MAX_QUEUED = 256;

interface WsSession extends Session {
  open: boolean;
  queue: Promise<void>;
  queued: number;
}

export function attachWsListener(mediator: Mediator, ws: WsListenerLike, o: { onError?: (e: unknown) => void } = {}): () => void {
  const sessions = new Map<string, WsSession>();
  const make = (id: string, remote: string): WsSession => {
    const s: WsSession = {
      id: `ws:${id}`,
      kind: 'ws',
      remote: `ws:${remote.slice(0, remote.lastIndexOf(':'))}`,
      persistent: true,
      duplex: false,
      maxFrameBytes: ws.mtu,
      returnRoute: 'none',
      open: true,
      queue: Promise.resolve(),
      queued: 0,
      push: (frame) => ws.sendTo(id, frame),
      isOpen: () => s.open,
    };
    sessions.set(id, s);
    return s;
  };
  const offs = [
    ws.on('connection', (id, info) => void make(id, info.remote)),
    ws.on('disconnect', (id) => {
      const s = sessions.get(id);
      if (!s) return;
      s.open = false;
      sessions.delete(id);
      mediator.live.disable(s);
    }),
    ws.on('frame', (frame, from) => {
      if (from === undefined) return;
      const s = sessions.get(from) ?? make(from, 'unknown:0');
      if (s.queued >= MAX_QUEUED) {
        ws.disconnect(from, 1008);
        return;
      }
      s.queued++;
      s.queue = s.queue.then(async () => {
        try {
          const out = await mediator.receive(frame, s);
          for (const r of out.replies) if (s.open) await ws.sendTo(from, r);
        } catch (e) {
          o.onError?.(e);
        } finally {
          s.queued--;
        }
      });
    }),
  ];
  return () => {
    for (const off of offs) off();
    for (const s of sessions.values()) mediator.live.disable(s);
    sessions.clear();
  };
}
