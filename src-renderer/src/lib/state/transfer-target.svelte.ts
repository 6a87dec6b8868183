/**
 * One target of a transfer (a seed or an imported picture) and what became of it: its unedited image, the surviving
 * share of each transported direction, the approximate preview, the exact render, or the error that stopped it.
 * The transported directions and an imported picture's x_t are wire payloads from job outputs, held opaquely (never
 * read here) until they go back as the next jobs' inputs, like the document's x_T in `Source`.
 */
import type { Float32TensorPayload } from '../../../../src-main/shared/api';
import type { ShownError } from '../errors';
import type { ShownImage } from './images';
import type { TargetDescription, TargetXt } from './transfer-plan';

/**
 * queued → (inverting →) transporting → previewing → ready → applying → done. `failed` and `cancelled` end a
 * target wherever it was; Apply to all re-runs the exact render of a `ready`, `done` or earlier-cancelled-while-applying
 * target only (the transports are kept).
 */
export type TargetStatus = 'queued' | 'inverting' | 'transporting' | 'previewing' | 'ready' | 'applying' | 'done' | 'failed' | 'cancelled';

export interface DirectionShare {
  /** Direction of A's basis (0-based) and its strength in the stack. */
  index: number;
  strength: number;
  /** The transport job's `captured`, null until it answered. */
  captured: number | null;
}

/** A target as the user chose it. */
export type TargetSpec = { kind: 'seed'; seed: number } | { kind: 'image'; name: string; bytes: Uint8Array; sha256: string };

export class TransferTarget {
  readonly id: string;
  readonly spec: TargetSpec;
  /** "seed 7", "cat.png". */
  readonly label: string;
  #status = $state<TargetStatus>('queued');
  #directions = $state.raw<DirectionShare[]>([]);
  #original = $state.raw<ShownImage | null>(null);
  #preview = $state.raw<ShownImage | null>(null);
  #result = $state.raw<ShownImage | null>(null);
  #error = $state.raw<ShownError | null>(null);
  /** Opaque wire payloads (see the header); not state: nothing renders them. */
  #xt: TargetXt | null = null;
  #vs: Float32TensorPayload[] = [];

  constructor(id: string, spec: TargetSpec, label: string, edits: { index: number; strength: number }[]) {
    this.id = id;
    this.spec = spec;
    this.label = label;
    this.#directions = edits.map((e) => ({ index: e.index, strength: e.strength, captured: null }));
  }

  get status(): TargetStatus {
    return this.#status;
  }
  get directions(): DirectionShare[] {
    return this.#directions;
  }
  /** The target without the edit: the seed's render, or the imported picture as the model sees it. */
  get original(): ShownImage | null {
    return this.#original;
  }
  /** The transferred edit at preview quality (approximate). */
  get preview(): ShownImage | null {
    return this.#preview;
  }
  /** The transferred edit rendered exactly (Apply to all). */
  get result(): ShownImage | null {
    return this.#result;
  }
  get error(): ShownError | null {
    return this.#error;
  }
  /** A job of this target may still be started or is running. */
  get active(): boolean {
    return this.#status !== 'ready' && this.#status !== 'done' && this.#status !== 'failed' && this.#status !== 'cancelled';
  }
  get stopped(): boolean {
    return this.#status === 'failed' || this.#status === 'cancelled';
  }
  /** The transports are all in: Apply can render this target. */
  get transported(): boolean {
    return this.#xt !== null && this.#vs.length === this.#directions.length && this.#directions.length > 0;
  }
  get xt(): TargetXt | null {
    return this.#xt;
  }
  /** The transported directions with their strengths, in stack order (the edit job's `edits`). */
  get transferred(): { v: Float32TensorPayload; strength: number }[] {
    return this.#vs.map((v, i) => ({ v, strength: this.#directions[i].strength }));
  }
  get description(): TargetDescription {
    return this.spec.kind === 'seed' ? { kind: 'seed', seed: this.spec.seed } : { kind: 'image', sha256: this.spec.sha256, name: this.spec.name };
  }

  setStatus(s: TargetStatus): void {
    this.#status = s;
    if (s !== 'failed') this.#error = null;
  }
  setXt(xt: TargetXt): void {
    this.#xt = xt;
  }
  setOriginal(img: ShownImage): void {
    this.#original = img;
  }
  /** Direction `i` of the stack arrived at this target with this share. */
  setTransported(i: number, v: Float32TensorPayload, captured: number): void {
    this.#vs[i] = v;
    this.#directions = this.#directions.map((d, j) => (j === i ? { ...d, captured } : d));
  }
  setPreview(img: ShownImage): void {
    this.#preview = img;
  }
  setResult(img: ShownImage): void {
    this.#result = img;
  }
  fail(error: ShownError): void {
    this.#status = 'failed';
    this.#error = error;
  }
}
