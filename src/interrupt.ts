/**
 * Telling a second Ctrl-C from copies of the first.
 *
 * One Ctrl-C in a terminal can reach the training process as several SIGINTs: the terminal
 * sends it to the whole foreground process group, and a launcher in that group forwards it too
 * (`npm start` / `npm run` forward SIGINT to their child; the tsx CLI relays it when its child
 * does not acknowledge it at once; src/cli/launch.ts forwards it). The copies come within
 * milliseconds, but a training batch blocks the event loop, so the process sees them together.
 *
 * `CtrlCGate.press()` classifies each SIGINT the process handles: the first is 'first'; one
 * handled less than `windowMs` after it is 'same' (a copy); after that, 'again' (the user
 * pressed Ctrl-C a second time). SIGINTs that were already waiting while the event loop was
 * blocked across the end of the window still count as 'same': the gate opens only after the
 * loop has read its pending signals once (a timer, then setImmediate), so a relayed copy is
 * never mistaken for a second press; a press after that quits.
 */

/** How long after the first Ctrl-C further SIGINTs count as the same one (ms). */
export const SAME_CTRL_C_MS = 1000;

export type CtrlCPress = 'first' | 'same' | 'again';

export class CtrlCGate {
  private pressed = false;
  private open = false;
  private readonly opened: Array<() => void> = [];

  constructor(private readonly windowMs = SAME_CTRL_C_MS) {}

  /** Whether a first Ctrl-C came and its window has not closed yet (copies may still arrive). */
  get waiting(): boolean {
    return this.pressed && !this.open;
  }

  /** Classify one SIGINT (see the module comment). */
  press(): CtrlCPress {
    if (this.open) return 'again';
    if (this.pressed) return 'same';
    this.pressed = true;
    // timers run before the poll phase that reads pending signals, immediates after it
    const timer = setTimeout(() => {
      const imm = setImmediate(() => {
        this.open = true;
        for (const f of this.opened.splice(0)) f();
      });
      imm.unref();
    }, this.windowMs);
    timer.unref();
    return 'first';
  }

  /** Call `f` once the window has closed (at once when it already has or no Ctrl-C came). */
  whenOpen(f: () => void): void {
    if (this.open || !this.pressed) f();
    else this.opened.push(f);
  }
}

/**
 * A long job's stop request: set by `signal` (an AbortSignal) or, with `handleSigint`, by the
 * first Ctrl-C, which prints what happens next; a second Ctrl-C (CtrlCGate 'again') exits at
 * once with 130. `dispose()` removes the listeners (the SIGINT handler once copies of a Ctrl-C
 * can no longer arrive).
 */
export class StopRequest {
  requested = false;
  private readonly gate = new CtrlCGate();
  private readonly onAbort = (): void => {
    this.requested = true;
  };
  private readonly onSigint = (): void => {
    const press = this.gate.press();
    if (press === 'again') process.exit(130);
    if (press === 'same') return;
    this.requested = true;
    process.stderr.write(`\n${this.message}\n`);
  };

  constructor(
    private readonly opts: { signal?: AbortSignal; handleSigint?: boolean },
    private readonly message = 'stopping after this batch: writing checkpoint and report (Ctrl-C again to quit at once)',
  ) {
    opts.signal?.addEventListener('abort', this.onAbort);
    if (opts.signal?.aborted) this.requested = true;
    if (opts.handleSigint) process.on('SIGINT', this.onSigint);
  }

  dispose(): void {
    this.opts.signal?.removeEventListener('abort', this.onAbort);
    // copies of a Ctrl-C may still be on their way: absorb them until its window closes, then restore the default
    if (this.opts.handleSigint) this.gate.whenOpen(() => process.off('SIGINT', this.onSigint));
  }
}
