/**
 * The live terminal view of the field simulation: one line per device (readings sent/delivered,
 * bytes and airtime on the air, duty-cycle budget left, commands executed, problems refused), a
 * progress bar, and the totals — redrawn in place with ANSI escapes. Plain text when not a TTY.
 */
import type { DeviceMetrics } from './metrics.js';

export interface ViewFrame {
  phase: 'running' | 'draining' | 'done';
  progress: number;
  simulatedSeconds: number;
  devices: DeviceMetrics[];
  totals: { sent: number; delivered: number; duplicates: number; bytesOnAir: number; perReading: { compact: number; json: number }; airtimeMs: number; executed: number; refused: number };
}

const pad = (s: string | number, n: number): string => String(s).padStart(n);
const padEnd = (s: string, n: number): string => (s.length > n ? s.slice(0, n - 1) + '…' : s.padEnd(n));

function bar(fraction: number, width: number): string {
  const full = Math.round(Math.max(0, Math.min(1, fraction)) * width);
  return '█'.repeat(full) + '░'.repeat(width - full);
}

function hms(s: number): string {
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${h}h${String(m).padStart(2, '0')}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
}

export function renderView(f: ViewFrame): string {
  const lines: string[] = [];
  lines.push(`didcomm-iot field simulation — ${f.phase}   simulated ${hms(f.simulatedSeconds)}`);
  lines.push(`[${bar(f.progress, 40)}] ${Math.round(f.progress * 100)}%`);
  lines.push('');
  lines.push(`${padEnd('device', 16)} ${padEnd('kind', 9)} ${pad('sent', 5)} ${pad('deliv', 5)} ${pad('bytes', 7)} ${pad('air s', 6)} ${pad('budget', 7)} ${pad('cmds', 4)} ${pad('refused', 7)}  link`);
  for (const d of f.devices) {
    const budget = d.kind === 'controller' ? '-' : `${Math.round(d.budgetLeftMs / 360)}%`;
    lines.push(
      `${padEnd(d.name, 16)} ${padEnd(d.kind, 9)} ${pad(d.sent, 5)} ${pad(d.delivered, 5)} ${pad(d.bytesOnAir, 7)} ${pad((d.airtimeMs / 1000).toFixed(1), 6)} ${pad(budget, 7)} ${pad(d.commandsExecuted, 4)} ${pad(d.problemsRefused, 7)}  ${d.online ? 'up' : 'OFFLINE'}`,
    );
  }
  const t = f.totals;
  lines.push('');
  const p = t.perReading;
  lines.push(`readings delivered ${t.delivered}/${t.sent}   duplicates ${t.duplicates}   commands executed ${t.executed}   refused ${t.refused}`);
  lines.push(`on air ${t.bytesOnAir} B in ${(t.airtimeMs / 1000).toFixed(1)} s (all traffic)   one reading ${p.compact} B compact vs ${p.json} B DIDComm JSON (${Math.round((1 - p.compact / p.json) * 100)}% fewer)`);
  return lines.join('\n');
}

/** Redraws the view in place on a TTY (or appends on other streams, every call). */
export class LiveView {
  private lastLines = 0;
  private lastPlain = 0;
  private readonly out: NodeJS.WriteStream;

  constructor(out: NodeJS.WriteStream = process.stdout) {
    this.out = out;
  }

  draw(f: ViewFrame): void {
    const text = renderView(f);
    if (this.out.isTTY) {
      if (this.lastLines) this.out.write(`\x1b[${this.lastLines}F\x1b[0J`);
      this.out.write(text + '\n');
      this.lastLines = text.split('\n').length;
    } else if (f.phase === 'done' || Date.now() - this.lastPlain >= 5000) {
      // not a terminal (a log, a pipe): a snapshot every 5 s and the last one
      this.lastPlain = Date.now();
      this.out.write(text + '\n\n');
    }
  }
}
