import { hexToBytes } from './feature.js';
import type { Location } from './location.js';

/**
 * The features of one scope instance (an instruction, a function, a thread, the file…):
 * feature key → the locations where it occurs. Text of `string` features and raw `bytes` are
 * also listed by value so that substring, regex and prefix matches can scan them.
 */
export class FeatureSet {
  readonly features = new Map<string, Set<Location>>();
  /** `string` values → their locations (the same sets as in `features`). */
  readonly strings = new Map<string, Set<Location>>();
  /** `bytes` values with their locations, in insertion order. */
  readonly bytes: { value: Uint8Array; locations: Set<Location> }[] = [];
  /** `bytes` keys → their decoded values, so unions do not decode them again. */
  private readonly byteValues = new Map<string, Uint8Array>();

  get size(): number {
    return this.features.size;
  }

  has(key: string): boolean {
    return this.features.has(key);
  }

  get(key: string): ReadonlySet<Location> | undefined {
    return this.features.get(key);
  }

  keys(): IterableIterator<string> {
    return this.features.keys();
  }

  /** Records that the feature with this key occurs at `location`. */
  add(key: string, location: Location): void {
    let locations = this.features.get(key);
    if (!locations) {
      locations = new Set();
      this.features.set(key, locations);
      this.indexValue(key, locations);
    }
    locations.add(location);
  }

  /** Adds every feature of `other`, at its locations. */
  addAll(other: FeatureSet): void {
    for (const [key, locations] of other.features) {
      let mine = this.features.get(key);
      if (!mine) {
        mine = new Set(locations);
        this.features.set(key, mine);
        this.indexValue(key, mine, other.byteValues.get(key));
      } else {
        for (const l of locations) mine.add(l);
      }
    }
  }

  /** A copy whose location sets are independent of this set's. */
  clone(): FeatureSet {
    const copy = new FeatureSet();
    copy.addAll(this);
    return copy;
  }

  private indexValue(key: string, locations: Set<Location>, known?: Uint8Array): void {
    if (key.startsWith('string(')) {
      this.strings.set(key.slice(7, -1), locations);
    } else if (key.startsWith('bytes(')) {
      const value = known ?? hexToBytes(key.slice(6, -1));
      this.byteValues.set(key, value);
      this.bytes.push({ value, locations });
    }
  }
}
