import type { FeatureSet } from '../features/feature-set.js';
import type { Location } from '../features/location.js';
import { ANY_BYTES, ANY_STRING, type RuleIndex } from '../rules/rule-index.js';
import { evaluate } from './evaluate.js';
import type { Result } from './result.js';

/**
 * Matches the rules of one scope against feature sets of that scope, one instance at a time
 * (capa's `match`). Only rules whose required features are present are evaluated, in
 * dependency order; each match is added to the feature set as `match(name)` and
 * `match(namespace)` for every namespace prefix, so later rules see it.
 */
export class ScopeMatcher {
  private readonly seen: Uint32Array;
  private generation = 0;
  private readonly heap: number[] = [];

  constructor(private readonly index: RuleIndex) {
    this.seen = new Uint32Array(index.rules.length);
  }

  /**
   * Whether any rule might match the union of these feature sets: when not, the caller can
   * skip building the union.
   */
  hasCandidates(...sets: FeatureSet[]): boolean {
    const index = this.index;
    if (index.rules.length === 0) return false;
    if (index.unconditional.length > 0) return true;
    for (const fs of sets) {
      if (fs.strings.size > 0 && index.byKey.has(ANY_STRING)) return true;
      if (fs.bytes.length > 0 && index.byKey.has(ANY_BYTES)) return true;
      for (const key of fs.keys()) if (index.byKey.has(key)) return true;
    }
    return false;
  }

  /** Rule name → evaluation tree, for every rule matching `features` at `location`. */
  match(features: FeatureSet, location: Location): Map<string, Result> {
    const matches = new Map<string, Result>();
    if (this.index.rules.length === 0) return matches;
    this.generation++;
    for (const p of this.index.unconditional) this.push(p);
    for (const key of features.keys()) this.pushAll(key);
    if (features.strings.size > 0) this.pushAll(ANY_STRING);
    if (features.bytes.length > 0) this.pushAll(ANY_BYTES);

    while (this.heap.length > 0) {
      const position = this.pop();
      const rule = this.index.rules[position]!;
      if (!evaluate(rule.statement, features, true).success) continue;
      matches.set(rule.name, evaluate(rule.statement, features, false));
      for (const key of this.index.matchKeys[position]!) {
        features.add(key, location);
        this.pushAll(key);
      }
    }
    return matches;
  }

  private pushAll(key: string): void {
    const positions = this.index.byKey.get(key);
    if (positions) for (const p of positions) this.push(p);
  }

  private push(position: number): void {
    if (this.seen[position] === this.generation) return;
    this.seen[position] = this.generation;
    const heap = this.heap;
    let i = heap.length;
    heap.push(position);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]! <= position) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = position;
  }

  private pop(): number {
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= heap.length) break;
        const r = l + 1;
        const c = r < heap.length && heap[r]! < heap[l]! ? r : l;
        if (heap[c]! >= last) break;
        heap[i] = heap[c]!;
        i = c;
      }
      heap[i] = last;
    }
    return top;
  }
}
