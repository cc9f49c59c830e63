/**
 * The one seeded random number generator of the library: xoshiro128** (32-bit state words,
 * fast in JS). Every random draw in a run comes from one Rng passed down from the config's
 * seed, so the same seed gives the same numbers on the same backend. State can be saved and
 * restored (checkpoints).
 */
export type RngState = [number, number, number, number];

/**
 * A backend that keeps a generator's state in its own memory between kernel draws (Rng.lend), so
 * that consecutive draws on the device (the rate encoder's, step after step) need no round trip
 * through the host: reclaim() waits for the draws in flight and returns the state after them.
 */
export interface RngHolder {
  reclaim(): RngState;
}

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number | null = null;
  /** Who holds the state while it lives in a backend's memory (lend), else null: s0-s3 are then stale. */
  private holder: RngHolder | null = null;

  constructor(seed = 0) {
    if (!Number.isFinite(seed)) throw new RangeError(`seed = ${seed} must be a finite number`);
    const sm = splitmix32(Math.floor(seed) >>> 0);
    this.s0 = sm();
    this.s1 = sm();
    this.s2 = sm();
    this.s3 = sm();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /**
   * Hand the state to `holder`, which has just drawn from it on a device and keeps the state after
   * those draws in its own memory: the next use of this generator anywhere else (a draw, getState)
   * first takes it back (holder.reclaim()), so every draw still comes from one stream in order.
   */
  lend(holder: RngHolder): void {
    this.holder = holder;
  }

  /** Whether `holder` holds the state (lent to it and not used elsewhere since). */
  heldBy(holder: RngHolder): boolean {
    return this.holder === holder;
  }

  /** The state back from its holder, if any. */
  private takeBack(): void {
    const h = this.holder;
    if (!h) return;
    this.holder = null;
    this.setWords(h.reclaim());
  }

  private setWords(s: RngState): void {
    [this.s0, this.s1, this.s2, this.s3] = s.map((x) => x >>> 0) as RngState;
  }

  /** Next raw 32-bit unsigned integer. */
  nextU32(): number {
    if (this.holder !== null) this.takeBack();
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    this.s0 >>>= 0; this.s1 >>>= 0; this.s2 >>>= 0; this.s3 >>>= 0;
    return result;
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  /** Integer uniform in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal (Box-Muller, caching the second value). */
  normal(mean = 0, std = 1): number {
    if (this.spare !== null) {
      const z = this.spare;
      this.spare = null;
      return mean + std * z;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return mean + std * r * Math.cos(2 * Math.PI * v);
  }

  /** 1 with probability p, else 0. */
  bernoulli(p: number): number {
    return this.uniform() < p ? 1 : 0;
  }

  /** Fill an array with uniform values in [lo, hi). */
  fillUniform(out: Float32Array, lo = 0, hi = 1): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = lo + (hi - lo) * this.uniform();
    return out;
  }

  /**
   * out[i] = (uniform() < p ? 0 : keep) for every i in order: the draws of a loop over uniform(),
   * with the generator's state in locals (an inverted-dropout mask in one pass).
   */
  fillDropMask(out: Float32Array, p: number, keep: number): Float32Array {
    this.takeBack();
    let s0 = this.s0, s1 = this.s1, s2 = this.s2, s3 = this.s3;
    for (let i = 0; i < out.length; i++) {
      const x = Math.imul(s1, 5) >>> 0;
      const result = Math.imul(((x << 7) | (x >>> 25)) >>> 0, 9) >>> 0;
      const t = (s1 << 9) >>> 0;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = ((s3 << 11) | (s3 >>> 21)) >>> 0;
      s0 >>>= 0; s1 >>>= 0; s2 >>>= 0;
      out[i] = result / 4294967296 < p ? 0 : keep;
    }
    this.s0 = s0; this.s1 = s1; this.s2 = s2; this.s3 = s3;
    return out;
  }

  /** Fill an array with normal values. */
  fillNormal(out: Float32Array, mean = 0, std = 1): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = this.normal(mean, std);
    return out;
  }

  /** In-place Fisher-Yates shuffle. */
  shuffle<T extends { length: number; [i: number]: unknown }>(arr: T): T {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = arr[i];
      arr[i] = arr[j];
      arr[j] = tmp;
    }
    return arr;
  }

  /** A new independent generator derived from this one (for a sub-component). */
  fork(): Rng {
    return new Rng(this.nextU32());
  }

  getState(): { s: RngState; spare: number | null } {
    this.takeBack();
    return { s: [this.s0, this.s1, this.s2, this.s3], spare: this.spare };
  }

  setState(state: { s: RngState; spare: number | null }): void {
    this.holder = null; // the new state replaces the held one
    this.setWords(state.s);
    this.spare = state.spare;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
