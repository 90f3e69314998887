/**
 * A minimal typed event emitter (no Node `events` dependency, so it bundles anywhere).
 * A listener that throws does not stop the others; the error goes to the 'error' listeners when
 * the event map has one, else it is rethrown asynchronously (never swallowed).
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type EventMap = Record<string, (...args: any[]) => void>;

export class Emitter<E extends EventMap> {
  private listeners: { [K in keyof E]?: Array<E[K]> } = {};

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof E>(event: K, listener: E[K]): () => void {
    (this.listeners[event] ??= []).push(listener);
    return () => this.off(event, listener);
  }

  off<K extends keyof E>(event: K, listener: E[K]): void {
    const list = this.listeners[event];
    if (!list) return;
    const i = list.indexOf(listener);
    if (i >= 0) list.splice(i, 1);
  }

  listenerCount<K extends keyof E>(event: K): number {
    return this.listeners[event]?.length ?? 0;
  }

  protected emit<K extends keyof E>(event: K, ...args: Parameters<E[K]>): void {
    const list = this.listeners[event];
    if (!list) return;
    for (const l of [...list]) {
      try {
        l(...args);
      } catch (e) {
        if (event !== 'error' && this.listenerCount('error' as K) > 0) {
          (this.emit as (ev: string, ...a: unknown[]) => void)('error', e);
        } else {
          queueMicrotask(() => {
            throw e;
          });
        }
      }
    }
  }

  removeAllListeners(): void {
    this.listeners = {};
  }
}
