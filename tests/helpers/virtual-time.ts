/** Virtual time for tests: sleeps are timers on a fake clock, fired in time order once everything else has settled. */
export function virtualTime(start = Date.UTC(2026, 0, 5, 9, 0, 0)) {
  let now = start;
  let seq = 0;
  let scheduled = false;
  const timers: { at: number; seq: number; resolve: () => void }[] = [];
  const fire = (): void => {
    scheduled = false;
    timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
    const timer = timers.shift();
    if (!timer) return;
    now = Math.max(now, timer.at);
    timer.resolve();
    schedule();
  };
  const schedule = (): void => {
    if (scheduled || timers.length === 0) return;
    scheduled = true;
    setImmediate(fire);
  };
  return {
    clock: (): number => now,
    sleep: (ms: number): Promise<void> =>
      new Promise<void>((resolve) => {
        timers.push({ at: now + ms, seq: seq++, resolve });
        schedule();
      }),
    advance: (ms: number): void => {
      now += ms;
    },
  };
}
