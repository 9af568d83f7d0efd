import { FeatureSet } from '../features/feature-set.js';
import type { StaticFeatures } from '../features/feature-tree.js';
import { NO_ADDRESS, type Location } from '../features/location.js';
import type { RuleSet } from '../rules/rule-set.js';
import { MatchCollector } from './match-collector.js';
import type { Matches } from './result.js';
import { ScopeMatcher } from './scope-matcher.js';

export interface StaticCapabilities {
  matches: Matches;
  /** Distinct features per function (before function-scope matching), and at file scope. */
  featureCounts: { file: number; functions: Map<Location, number> };
}

/**
 * Matches a rule set over a program's features with capa's static semantics: instructions,
 * then basic blocks (the union of their instructions), then functions (the union of their
 * blocks), then the file, which sees the matches of every lower scope at their addresses.
 * Each scope's matches join its own features, so the enclosing scope sees them too.
 */
export function matchStatic(ruleSet: RuleSet, program: StaticFeatures): StaticCapabilities {
  const insnMatcher = new ScopeMatcher(ruleSet.index('instruction'));
  const bbMatcher = new ScopeMatcher(ruleSet.index('basic block'));
  const fnMatcher = new ScopeMatcher(ruleSet.index('function'));
  const collector = new MatchCollector(ruleSet);
  const functions = new Map<Location, number>();

  for (const fn of program.functions) {
    const fnFeatures = new FeatureSet();
    for (const bb of fn.blocks) {
      // the features of the block's instructions, with their instruction-scope matches
      const parts: FeatureSet[] = [];
      for (const insn of bb.instructions) {
        if (!insnMatcher.hasCandidates(insn.features, program.global)) {
          parts.push(insn.features);
          continue;
        }
        const insnFeatures = insn.features.clone();
        insnFeatures.addAll(program.global);
        collector.collect(insnMatcher.match(insnFeatures, insn.address), insn.address);
        parts.push(insnFeatures);
      }
      parts.push(bb.features);
      if (!bbMatcher.hasCandidates(...parts, program.global)) {
        // no basic-block rule can match: the function needs the features, not the union
        for (const part of parts) fnFeatures.addAll(part);
        continue;
      }
      const bbFeatures = new FeatureSet();
      for (const part of parts) bbFeatures.addAll(part);
      bbFeatures.addAll(program.global);
      collector.collect(bbMatcher.match(bbFeatures, bb.address), bb.address);
      fnFeatures.addAll(bbFeatures);
    }
    fnFeatures.addAll(fn.features);
    fnFeatures.addAll(program.global);
    functions.set(fn.address, fnFeatures.size);
    collector.collect(fnMatcher.match(fnFeatures, fn.address), fn.address);
  }

  const fileFeatures = program.file.clone();
  fileFeatures.addAll(program.global);
  const fileCount = fileFeatures.size;
  fileFeatures.addAll(collector.lower);
  const found = new ScopeMatcher(ruleSet.index('file')).match(fileFeatures, NO_ADDRESS);
  for (const [name, result] of found) collector.add(name, NO_ADDRESS, result);
  return { matches: collector.matches, featureCounts: { file: fileCount, functions } };
}
