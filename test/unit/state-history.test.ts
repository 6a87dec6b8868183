/**
 * History (undo/redo) against a trivial model: an array of states and a cursor. fast-check generates command
 * sequences (push, drag, end drag, undo, redo, jump) and checks after every step that the class and the model agree;
 * plus the invariant undo^k(redo^k(s)) = s and that a whole drag is one undo step.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { History, MAX_HISTORY } from '../../src-renderer/src/lib/state/history.svelte';

interface Model {
  states: number[];
  index: number;
  dragKey: string | null;
}
type Real = History<number>;

const check = (m: Model, r: Real) => {
  expect(r.entries.map((e) => e.state)).toEqual(m.states);
  expect(r.index).toBe(m.index);
  expect(r.current).toBe(m.states[m.index]);
  expect(r.canUndo).toBe(m.index > 0);
  expect(r.canRedo).toBe(m.index < m.states.length - 1);
};

function push(m: Model, v: number): void {
  m.states = [...m.states.slice(0, m.index + 1), v].slice(-MAX_HISTORY);
  m.index = m.states.length - 1;
}

class Push implements fc.Command<Model, Real> {
  constructor(readonly v: number) {}
  check = () => true;
  run(m: Model, r: Real): void {
    r.push(`set ${this.v}`, this.v);
    push(m, this.v);
    m.dragKey = null;
    check(m, r);
  }
  toString = () => `push(${this.v})`;
}
class Drag implements fc.Command<Model, Real> {
  constructor(
    readonly key: string,
    readonly v: number,
  ) {}
  check = () => true;
  run(m: Model, r: Real): void {
    r.drag(this.key, `drag ${this.key}`, this.v);
    if (m.dragKey === this.key && m.index === m.states.length - 1 && m.index > 0) m.states = [...m.states.slice(0, -1), this.v];
    else {
      push(m, this.v);
      m.dragKey = this.key;
    }
    check(m, r);
  }
  toString = () => `drag(${this.key}, ${this.v})`;
}
class EndDrag implements fc.Command<Model, Real> {
  check = () => true;
  run(m: Model, r: Real): void {
    r.endDrag();
    m.dragKey = null;
    check(m, r);
  }
  toString = () => 'endDrag';
}
class Undo implements fc.Command<Model, Real> {
  check = () => true;
  run(m: Model, r: Real): void {
    const got = r.undo();
    m.dragKey = null;
    if (m.index > 0) {
      m.index -= 1;
      expect(got).toBe(m.states[m.index]);
    } else expect(got).toBeNull();
    check(m, r);
  }
  toString = () => 'undo';
}
class Redo implements fc.Command<Model, Real> {
  check = () => true;
  run(m: Model, r: Real): void {
    const got = r.redo();
    m.dragKey = null;
    if (m.index < m.states.length - 1) {
      m.index += 1;
      expect(got).toBe(m.states[m.index]);
    } else expect(got).toBeNull();
    check(m, r);
  }
  toString = () => 'redo';
}
class Jump implements fc.Command<Model, Real> {
  constructor(readonly i: number) {}
  check = () => true;
  run(m: Model, r: Real): void {
    const got = r.jumpTo(this.i);
    m.dragKey = null;
    if (this.i < m.states.length) {
      m.index = this.i;
      expect(got).toBe(m.states[this.i]);
    } else expect(got).toBeNull();
    check(m, r);
  }
  toString = () => `jump(${this.i})`;
}

describe('History (model-based)', () => {
  it('agrees with an array model under random command sequences', () => {
    const commands = [
      fc.integer({ min: -50, max: 50 }).map((v) => new Push(v)),
      fc.tuple(fc.constantFrom('a', 'b'), fc.integer({ min: -50, max: 50 })).map(([k, v]) => new Drag(k, v)),
      fc.constant(new EndDrag()),
      fc.constant(new Undo()),
      fc.constant(new Redo()),
      fc.integer({ min: 0, max: 12 }).map((i) => new Jump(i)),
    ];
    fc.assert(
      fc.property(fc.commands(commands, { maxCommands: 80 }), (cmds) => {
        fc.modelRun(() => ({ model: { states: [0], index: 0, dragKey: null }, real: new History<number>(0) }), cmds);
      }),
      { numRuns: 300 },
    );
  });

  it('undo^k after redo^k returns to the same state, for every k', () => {
    fc.assert(
      fc.property(fc.array(fc.integer(), { minLength: 1, maxLength: 30 }), fc.nat(), (vals, kRaw) => {
        const h = new History<number>(-1);
        for (const v of vals) h.push('v', v);
        const k = kRaw % (vals.length + 1);
        for (let i = 0; i < k; i++) h.undo();
        const s = h.current;
        const at = h.index;
        for (let i = 0; i < k; i++) h.redo();
        for (let i = 0; i < k; i++) h.undo();
        expect(h.current).toBe(s);
        expect(h.index).toBe(at);
      }),
    );
  });

  it('a slider drag is one undo step; a new drag after endDrag is another', () => {
    const h = new History<number>(0);
    for (let v = 1; v <= 20; v++) h.drag('strength:e1', `strength ${v}`, v / 10);
    h.endDrag();
    expect(h.entries).toHaveLength(2);
    expect(h.current).toBe(2);
    h.drag('strength:e1', 'again', 3);
    expect(h.entries).toHaveLength(3);
    h.undo();
    expect(h.current).toBe(2);
    h.undo();
    expect(h.current).toBe(0);
    expect(h.undo()).toBeNull();
  });

  it('keeps at most MAX_HISTORY entries and load() clamps a bad index', () => {
    const h = new History<number>(0);
    for (let v = 1; v <= MAX_HISTORY + 50; v++) h.push('v', v);
    expect(h.entries).toHaveLength(MAX_HISTORY);
    expect(h.current).toBe(MAX_HISTORY + 50);
    h.load([{ label: 'a', state: 1 }, { label: 'b', state: 2 }], 99);
    expect(h.current).toBe(2);
    h.load([], 0); // ignored: a history always has an entry
    expect(h.entries).toHaveLength(2);
  });
});
