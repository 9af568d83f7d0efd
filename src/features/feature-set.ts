import type { Location } from './location.js';

const NO_STRINGS: ReadonlyMap<string, Set<Location>> = new Map();
const NO_BYTES: readonly { hex: string; locations: Set<Location> }[] = [];

/**
 * The features of one scope instance (an instruction, a function, a thread, the file…):
 * feature key → the locations where it occurs. Text of `string` features and raw `bytes` are
 * also listed by value so that substring, regex and prefix matches can scan them (those lists
 * are only allocated when needed: most instructions have neither).
 */
export class FeatureSet {
  readonly features = new Map<string, Set<Location>>();
  private stringMap: Map<string, Set<Location>> | null = null;
  private byteList: { hex: string; locations: Set<Location> }[] | null = null;

  /** `string` values → their locations (the same sets as in `features`). */
  get strings(): ReadonlyMap<string, Set<Location>> {
    return this.stringMap ?? NO_STRINGS;
  }

  /** `bytes` values (lowercase hex, as in their keys) with their locations, in insertion order. */
  get bytes(): readonly { hex: string; locations: Set<Location> }[] {
    return this.byteList ?? NO_BYTES;
  }

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
        this.indexValue(key, mine);
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

  private indexValue(key: string, locations: Set<Location>): void {
    const c = key.charCodeAt(0);
    if (c === 0x73 /* s */ && key.startsWith('string(')) {
      (this.stringMap ??= new Map()).set(key.slice(7, -1), locations);
    } else if (c === 0x62 /* b */ && key.startsWith('bytes(')) {
      (this.byteList ??= []).push({ hex: key.slice(6, -1), locations });
    }
  }
}
