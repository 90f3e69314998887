/**
 * An embedded MQTT broker (what `npm start` and the tests use when no broker is configured): aedes 1.2 (MQTT 3.1.1 only — it refuses v5, see
 * reference/embedded.md §6) on a node:net server on 127.0.0.1, port 0.
 *
 * `stop()` drops every connection and stops listening but keeps the aedes instance, so persistent
 * sessions and their queued QoS 1 messages survive (like a broker with persistence); `start()`
 * listens again on the same port. `restart({ keepState: false })` also replaces the aedes instance
 * (like Mosquitto with `persistence false`). Used by the field simulation and by every test that needs a broker.
 */
import { Aedes } from 'aedes';
import { type AddressInfo, type Server, type Socket, createServer } from 'node:net';

export interface EmbeddedBroker {
  /** `mqtt://127.0.0.1:<port>`; stable across stop/start. */
  url: string;
  port: number;
  /** Drop all connections and stop listening (state kept). */
  stop(): Promise<void>;
  /** Listen again on the same port. */
  start(): Promise<void>;
  /** stop() then start(); `keepState: false` starts from an empty broker. */
  restart(options?: { keepState?: boolean }): Promise<void>;
  /** Clients currently connected to the broker. */
  connectedClients(): number;
  /** The current aedes instance (to install hooks such as `authorizePublish` in fault tests). */
  aedes(): Aedes;
  /** Stop for good. Idempotent. */
  close(): Promise<void>;
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeBroker(broker: Aedes): Promise<void> {
  return new Promise((resolve) => broker.close(() => resolve()));
}

export async function startEmbeddedBroker(): Promise<EmbeddedBroker> {
  let broker = await Aedes.createBroker();
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let closed = false;

  const makeServer = (): Server => {
    const s = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
      broker.handle(socket);
    });
    return s;
  };

  server = makeServer();
  const port = await listen(server, 0);

  const stop = async (): Promise<void> => {
    const s = server;
    server = undefined;
    if (!s) return;
    const done = new Promise<void>((resolve) => s.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await done;
  };

  const start = async (): Promise<void> => {
    if (closed || server) return;
    server = makeServer();
    await listen(server, port);
  };

  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    stop,
    start,
    async restart(options = {}) {
      await stop();
      if (options.keepState === false) {
        await closeBroker(broker);
        broker = await Aedes.createBroker();
      }
      await start();
    },
    connectedClients: () => broker.connectedClients,
    aedes: () => broker,
    async close() {
      if (closed) return;
      closed = true;
      await stop();
      await closeBroker(broker);
    },
  };
}
