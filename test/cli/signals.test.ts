import { afterEach, describe, expect, it } from 'vitest';
import { handleSignals, type SignalTarget } from '../../src/cli/signals.js';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGUSR1'] as const;
const before = new Map(SIGNALS.map((s) => [s, process.listeners(s)]));

afterEach(() => {
  // Only the handlers this test added go: a SIGINT here must not reach a stop sequence that exits the runner.
  for (const s of SIGNALS) for (const l of process.listeners(s)) if (!before.get(s)!.includes(l)) process.off(s, l);
});

/** A target that counts the reloads and reopens it is asked for. */
function target(): SignalTarget & { reloads: number; reopens: number } {
  const t = {
    reloads: 0,
    reopens: 0,
    shutdownTimeoutMs: () => 1000,
    outputDeadlineMs: () => 1000,
    stop: () => Promise.resolve([]),
    cutInFlight: () => Promise.resolve([]),
    statsNow: () => [],
    reload: () => void t.reloads++,
    reopen: () => void t.reopens++,
  };
  return t;
}

describe('handleSignals', () => {
  it('reloads on SIGHUP and reopens the files on SIGUSR1, each only on its own signal', () => {
    const t = target();
    handleSignals(t);
    process.emit('SIGHUP', 'SIGHUP');
    expect([t.reloads, t.reopens]).toEqual([1, 0]);
    process.emit('SIGUSR1', 'SIGUSR1');
    expect([t.reloads, t.reopens]).toEqual([1, 1]);
  });

  it('hands SIGINT and SIGTERM to the stop sequence', () => {
    handleSignals(target());
    for (const s of ['SIGINT', 'SIGTERM'] as const) expect(process.listeners(s).length).toBe(before.get(s)!.length + 1);
  });
});
