/**
 * Seeded Gaussian noise that gives the same numbers on every platform: xoshiro128** (32-bit integer ops only,
 * via Math.imul) seeded through splitmix32, uniform doubles from 53 random bits, Box–Muller in float64.
 * V8's Math.log/cos/sqrt are its own fdlibm ports, so results do not depend on the OS's libm.
 */

function splitmix32(state: number): [number, number] {
  state = (state + 0x9e3779b9) | 0;
  let z = state;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [state, (z ^ (z >>> 16)) >>> 0];
}

export class GaussianRng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number | null = null;

  /**
   * @param seed any safe integer (the user's seed)
   * @param stream independent sub-stream (e.g. the batch index), so sample i of a batch does not depend on B
   */
  constructor(seed: number, stream = 0) {
    if (!Number.isSafeInteger(seed) || !Number.isSafeInteger(stream)) {
      throw new RangeError('GaussianRng seed and stream must be safe integers');
    }
    // Fold the 53-bit seed and the stream into the splitmix state; distinct (seed, stream) pairs give distinct states.
    const [st0, r] = splitmix32(((seed % 0x100000000) | 0) ^ Math.floor(seed / 0x100000000));
    let st = (st0 ^ Math.imul(stream + 1, 0x27d4eb2d)) | 0;
    [st, this.s0] = splitmix32(st ^ r);
    [st, this.s1] = splitmix32(st);
    [st, this.s2] = splitmix32(st);
    [, this.s3] = splitmix32(st);
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Next uint32 (xoshiro128**). */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Standard normal (Box–Muller; the second value of each pair is kept for the next call). */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    const u1 = 1 - this.uniform(); // (0, 1]: log stays finite
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    const theta = 2 * Math.PI * u2;
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** Fill with standard normals (rounded to float32 for a Float32Array). */
  fillNormal<A extends Float32Array | Float64Array>(out: A): A {
    for (let i = 0; i < out.length; i++) out[i] = this.normal();
    return out;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
