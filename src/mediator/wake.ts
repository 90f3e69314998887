/**
 * When a radio device listens (docs/mediator.md §Radio delivery): right after it transmitted
 * (class-A style receive window, `listenAfterUplinkMs`) and during the windows of its provisioned
 * wake schedule — every `periodMs`, for `windowMs`, starting at `phaseMs` past the epoch modulo
 * the period. Pure functions of the clock's time, so virtual time works.
 */
import { err } from '../errors.js';

export interface WakeSchedule {
  periodMs: number;
  windowMs: number;
  /** Offset of the first window within the period (default 0). */
  phaseMs?: number;
}

export function checkWakeSchedule(s: WakeSchedule): WakeSchedule {
  const ok = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  if (!ok(s.periodMs) || s.periodMs < 1 || !ok(s.windowMs) || s.windowMs < 1 || s.windowMs > s.periodMs || (s.phaseMs !== undefined && !ok(s.phaseMs))) {
    throw err('ERR_ARGUMENT', 'wake schedule: periodMs >= windowMs >= 1 and phaseMs >= 0 required');
  }
  return s;
}

/** End of the schedule window `now` falls in, or undefined when the device sleeps at `now`. */
export function scheduledWindowEnd(s: WakeSchedule, now: number): number | undefined {
  const into = (((now - (s.phaseMs ?? 0)) % s.periodMs) + s.periodMs) % s.periodMs;
  return into < s.windowMs ? now - into + s.windowMs : undefined;
}

/** Start of the next schedule window after `now` (now itself if a window starts exactly now). */
export function nextWindowStart(s: WakeSchedule, now: number): number {
  const into = (((now - (s.phaseMs ?? 0)) % s.periodMs) + s.periodMs) % s.periodMs;
  return into === 0 ? now : now - into + s.periodMs;
}

/** Until when the device listens, given its last uplink: undefined when it sleeps now. */
export function awakeUntil(now: number, lastUplink: number | undefined, listenAfterUplinkMs: number, schedule: WakeSchedule | undefined): number | undefined {
  const afterUplink = lastUplink !== undefined && now < lastUplink + listenAfterUplinkMs ? lastUplink + listenAfterUplinkMs : undefined;
  const bySchedule = schedule ? scheduledWindowEnd(schedule, now) : undefined;
  if (afterUplink === undefined) return bySchedule;
  if (bySchedule === undefined) return afterUplink;
  return Math.max(afterUplink, bySchedule);
}

/** A device that always listens (mains-powered, or a modem in continuous receive such as the RYLR). */
export const ALWAYS_LISTENING: WakeSchedule = Object.freeze({ periodMs: 2 ** 40, windowMs: 2 ** 40 });
