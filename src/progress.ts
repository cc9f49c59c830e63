/**
 * Progress reporting for long work (training epochs, sweeps, benchmarks).
 *
 * On an interactive terminal: one redrawn line with a bar, count, rate and ETA.
 * Otherwise (output piped to a file, or CI=true): plain lines, one every 10 % of the work (at
 * most one a second) or every `intervalMs`, whichever comes first, so logs stay readable.
 *
 *   const bar = createProgress({ total: nBatches, label: 'epoch 1/5', unit: 'batch' });
 *   for (...) { ...; bar.tick(1, { loss: loss.toFixed(3) }); }
 *   bar.finish();
 *
 * The rate (and ETA) may count another quantity than the units: training counts batches but
 * reports samples/s, as researchers compare throughput (batches differ in size, the last may be
 * smaller), e.g. `epoch 1/5 [####----]  20% batch 13/63 812 samples/s ETA 0:12 loss=7.545`:
 *
 *   const bar = createProgress({ total: nBatches, unit: 'batch', rate: { unit: 'sample', units: 'samples', total: n } });
 *   for (...) { ...; bar.tick(1, { loss }, batchSize); }
 */

/** The part of a writable stream that progress output needs. */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  /** Total amount of work (units of `unit`); 0 or undefined when unknown (no bar, no ETA). */
  total?: number;
  /** Prefix of each line, e.g. 'epoch 2/10'. */
  label?: string;
  /** Name of one unit of work for the rate, e.g. 'batch', 'sample'. Default 'it'. */
  unit?: string;
  /** Units already done when the progress starts (resumed work): in the count, not in the rate. */
  initial?: number;
  /**
   * Measure the rate and the ETA in another quantity than `unit` (e.g. samples while counting
   * batches): its name (`unit`, and `units` for 'N units/s'; default `unit`), its total (for the
   * ETA; without it the ETA comes from the units) and the amount already done (resumed work).
   * Each tick() then passes its amount; the line shows '<unit> done/total' for the count.
   */
  rate?: { unit: string; units?: string; total?: number; initial?: number };
  /** Where to write; default process.stderr. */
  stream?: ProgressStream;
  /** Force terminal (true) or plain-line (false) mode; default: detected (`isInteractive`). */
  tty?: boolean;
  /** Plain mode: the longest gap between lines, in ms (default 10000). */
  intervalMs?: number;
  /** Plain mode: the shortest gap between lines, in ms (default 1000), so short work prints only its final line. */
  minIntervalMs?: number;
  /** Clock in ms (tests). Default Date.now. */
  now?: () => number;
  /** Write nothing at all (library use). */
  silent?: boolean;
}

/** Whether to draw a live bar: the stream is a TTY and the environment is not CI. */
export function isInteractive(stream: ProgressStream = process.stderr, env: Record<string, string | undefined> = process.env): boolean {
  const ci = env.CI !== undefined && env.CI !== '' && env.CI !== 'false' && env.CI !== '0';
  return Boolean(stream.isTTY) && !ci && env.TERM !== 'dumb';
}

/** Seconds as 'm:ss' or 'h:mm:ss'; '--:--' when unknown. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** A rate with 3 significant digits ('812 samples/s'), flipping to s/unit when below 1/s ('2.00 s/sample'). `units`: the plural (default `unit`). */
export function formatRate(perSecond: number, unit: string, units = unit): string {
  if (!Number.isFinite(perSecond) || perSecond <= 0) return `-- ${units}/s`;
  if (perSecond < 1) return `${(1 / perSecond).toPrecision(3)} s/${unit}`;
  return `${perSecond >= 100 ? Math.round(perSecond) : perSecond.toPrecision(3)} ${units}/s`;
}

/** A progress indicator; see the module comment. */
export class Progress {
  readonly total: number;
  readonly tty: boolean;
  private done = 0;
  /** Amount of the rate's quantity done (= done without `rate`). */
  private amount = 0;
  private readonly initial: number;
  private readonly initialAmount: number;
  private readonly start: number;
  private lastDraw = -Infinity;
  private lastPlainDecile = 0;
  private info: Record<string, string | number> = {};
  private finished = false;
  private readonly stream: ProgressStream;
  private readonly now: () => number;

  constructor(private readonly opts: ProgressOptions = {}) {
    this.total = Math.max(0, opts.total ?? 0);
    this.stream = opts.stream ?? process.stderr;
    this.tty = opts.tty ?? isInteractive(this.stream);
    this.now = opts.now ?? Date.now;
    this.start = this.now();
    this.done = this.initial = Math.max(0, opts.initial ?? 0);
    this.amount = this.initialAmount = opts.rate ? Math.max(0, opts.rate.initial ?? 0) : this.initial;
    this.lastPlainDecile = this.total ? Math.floor((10 * this.initial) / this.total) : 0;
  }

  /** Units done so far. */
  get count(): number {
    return this.done;
  }

  /** Elapsed seconds since creation. */
  elapsedSeconds(): number {
    return (this.now() - this.start) / 1000;
  }

  /**
   * Record `n` more units done and optional key=value info (e.g. loss) for the line; `amount`:
   * how much of the rate's quantity they were (with `rate`; e.g. the batch's samples).
   */
  tick(n = 1, info?: Record<string, string | number>, amount?: number): void {
    this.update(this.done + n, info, this.opts.rate ? this.amount + (amount ?? 0) : undefined);
  }

  /** Set the absolute number of units done (and, with `rate`, the absolute amount). */
  update(done: number, info?: Record<string, string | number>, amount?: number): void {
    this.done = done;
    this.amount = this.opts.rate ? (amount ?? this.amount) : done;
    if (info) this.info = { ...this.info, ...info };
    this.maybeDraw(false);
  }

  /** Rate of the measured quantity (per second) since the start, resumed work left out. */
  rate(): number {
    const secs = this.elapsedSeconds();
    return secs > 0 ? (this.amount - this.initialAmount) / secs : NaN;
  }

  /** Estimated seconds left; NaN when unknown. */
  etaSeconds(): number {
    const secs = this.elapsedSeconds();
    const rateTotal = this.opts.rate?.total;
    if (rateTotal !== undefined) {
      const r = this.rate();
      return r > 0 ? Math.max(0, rateTotal - this.amount) / r : NaN;
    }
    const unitRate = secs > 0 ? (this.done - this.initial) / secs : NaN;
    return this.total && unitRate > 0 ? Math.max(0, this.total - this.done) / unitRate : NaN;
  }

  /** The status line (without bar control characters). */
  line(): string {
    const secs = this.elapsedSeconds();
    const unit = this.opts.unit ?? 'it';
    const rateUnit = this.opts.rate;
    const parts: string[] = [];
    if (this.opts.label) parts.push(this.opts.label);
    if (this.total) {
      const frac = Math.min(1, this.done / this.total);
      if (this.tty) {
        const width = 20;
        const full = Math.round(frac * width);
        parts.push(`[${'#'.repeat(full)}${'-'.repeat(width - full)}]`);
      }
      parts.push(`${(frac * 100).toFixed(0).padStart(3)}%`, `${rateUnit ? `${unit} ` : ''}${this.done}/${this.total}`);
    } else {
      parts.push(`${rateUnit ? `${unit} ` : ''}${this.done}`);
    }
    parts.push(rateUnit ? formatRate(this.rate(), rateUnit.unit, rateUnit.units) : formatRate(this.rate(), unit));
    if ((this.total || rateUnit?.total) && !this.finished) parts.push(`ETA ${formatDuration(this.etaSeconds())}`);
    else parts.push(`elapsed ${formatDuration(secs)}`);
    for (const [k, v] of Object.entries(this.info)) parts.push(`${k}=${v}`);
    return parts.join(' ');
  }

  /** Print a message without breaking the bar (clears the line, prints, redraws). */
  log(message: string): void {
    if (this.opts.silent) return;
    if (this.tty) this.stream.write(`\r\x1b[K${message}\n`);
    else this.stream.write(`${message}\n`);
    if (this.tty && !this.finished) this.maybeDraw(true);
  }

  /** Final line (always printed) and newline. */
  finish(info?: Record<string, string | number>): void {
    if (this.finished) return;
    if (info) this.info = { ...this.info, ...info };
    this.finished = true;
    if (this.opts.silent) return;
    this.stream.write(this.tty ? `\r\x1b[K${this.fit(this.line())}\n` : `${this.line()}\n`);
  }

  private fit(text: string): string {
    const cols = this.stream.columns ?? 120;
    return text.length > cols - 1 ? text.slice(0, cols - 1) : text;
  }

  private maybeDraw(force: boolean): void {
    if (this.opts.silent || this.finished) return;
    const t = this.now();
    if (this.tty) {
      if (!force && t - this.lastDraw < 100 && this.done < this.total) return;
      this.lastDraw = t;
      this.stream.write(`\r\x1b[K${this.fit(this.line())}`);
      return;
    }
    const decile = this.total ? Math.floor((10 * this.done) / this.total) : 0;
    const interval = this.opts.intervalMs ?? 10000;
    const since = t - Math.max(this.lastDraw, this.start);
    const due = (decile > this.lastPlainDecile && since >= (this.opts.minIntervalMs ?? 1000)) || since >= interval;
    if (!force && !due) return;
    if (this.total && this.done >= this.total) return; // finish() prints the last line
    this.lastPlainDecile = decile;
    this.lastDraw = t;
    this.stream.write(`${this.line()}\n`);
  }
}

/** Create a Progress (see ProgressOptions). */
export function createProgress(opts: ProgressOptions = {}): Progress {
  return new Progress(opts);
}
