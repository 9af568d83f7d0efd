import { FeatureSet } from '../features/feature-set.js';
import type { DynamicFeatures } from '../features/feature-tree.js';
import { NO_ADDRESS, type Location } from '../features/location.js';
import type { RuleSet } from '../rules/rule-set.js';
import { MatchCollector } from './match-collector.js';
import type { Matches, Result } from './result.js';
import { ScopeMatcher } from './scope-matcher.js';

/** How many consecutive calls of a thread a `span of calls` sees (capa's default). */
export const DEFAULT_SPAN_SIZE = 20;

export interface DynamicOptions {
  spanSize?: number;
}

/**
 * Matches a rule set over a trace with capa's dynamic semantics: calls; spans of the last
 * `spanSize` calls of a thread (a rule matched by consecutive spans is reported once, at the
 * first); threads (the union of their calls); processes (the union of their threads); and
 * the file, which sees the matches of every lower scope.
 */
export function matchDynamic(
  ruleSet: RuleSet,
  trace: DynamicFeatures,
  options: DynamicOptions = {},
): Matches {
  const spanSize = options.spanSize ?? DEFAULT_SPAN_SIZE;
  const callMatcher = new ScopeMatcher(ruleSet.index('call'));
  const spanMatcher = new ScopeMatcher(ruleSet.index('span of calls'));
  const threadMatcher = new ScopeMatcher(ruleSet.index('thread'));
  const processMatcher = new ScopeMatcher(ruleSet.index('process'));
  const collector = new MatchCollector(ruleSet);
  const record = (found: Map<string, Result>, location: Location) =>
    collector.collect(found, location);

  for (const process of trace.processes) {
    const processFeatures = new FeatureSet();
    for (const thread of process.threads) {
      const threadFeatures = new FeatureSet();
      const window: FeatureSet[] = [];
      let previous = new Set<string>();
      for (const call of thread.calls) {
        const callFeatures = call.features.clone();
        callFeatures.addAll(trace.global);
        record(callMatcher.match(callFeatures, call.address), call.address);
        threadFeatures.addAll(callFeatures);

        window.push(callFeatures);
        if (window.length > spanSize) window.shift();
        const spanFeatures = new FeatureSet();
        for (const f of window) spanFeatures.addAll(f);
        const found = spanMatcher.match(spanFeatures, call.address);
        record(newSpanMatches(ruleSet, found, previous), call.address);
        previous = new Set(found.keys());
      }
      threadFeatures.addAll(thread.features);
      threadFeatures.addAll(trace.global);
      record(threadMatcher.match(threadFeatures, thread.address), thread.address);
      processFeatures.addAll(threadFeatures);
    }
    processFeatures.addAll(process.features);
    processFeatures.addAll(trace.global);
    record(processMatcher.match(processFeatures, process.address), process.address);
  }

  const fileFeatures = trace.file.clone();
  fileFeatures.addAll(trace.global);
  fileFeatures.addAll(collector.lower);
  const found = new ScopeMatcher(ruleSet.index('file')).match(fileFeatures, NO_ADDRESS);
  for (const [name, result] of found) collector.add(name, NO_ADDRESS, result);
  return collector.matches;
}

/**
 * A span that overlaps the previous one would report the same rules again. Keep a rule only
 * when the previous span did not match it — or when a rule matched here for the first time
 * depends on it, so that the new match's evidence is reported beside it.
 */
function newSpanMatches(
  ruleSet: RuleSet,
  found: Map<string, Result>,
  previous: ReadonlySet<string>,
): Map<string, Result> {
  const fresh = [...found.keys()].filter((name) => !previous.has(name));
  const needed = new Set<string>();
  for (const name of fresh) for (const dep of ruleSet.dependenciesOf(name)) needed.add(dep);
  const kept = new Map<string, Result>();
  for (const [name, result] of found) {
    if (!previous.has(name) || needed.has(name)) kept.set(name, result);
  }
  return kept;
}
