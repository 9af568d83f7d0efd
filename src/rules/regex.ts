/**
 * capa rules write regexes in Python's dialect (`re.search` with DOTALL). JavaScript reads
 * most of them the same way; this translates what it reads differently:
 *
 * - `(?P<name>…)` and `(?P=name)` named groups;
 * - `\A` and `\Z` anchors;
 * - `$`, which in Python also matches before a trailing newline;
 * - leading inline flags such as `(?i)`.
 */
export interface TranslatedRegex {
  source: string;
  flags: string;
}

export function translatePythonRegex(pattern: string, caseInsensitive: boolean): TranslatedRegex {
  const flags = new Set(['s']);
  if (caseInsensitive) flags.add('i');
  let rest = pattern;
  const inline = /^\(\?([aiLmsux]+)\)/.exec(rest);
  if (inline) {
    for (const f of inline[1]!) {
      if (f === 'i' || f === 'm' || f === 's') flags.add(f);
    }
    rest = rest.slice(inline[0].length);
  }
  let out = '';
  let inClass = false;
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i]!;
    if (c === '\\' && i + 1 < rest.length) {
      const next = rest[i + 1]!;
      if (!inClass && next === 'A') out += '^';
      else if (!inClass && next === 'Z') out += '$';
      else out += c + next;
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      // a `]` right after `[` or `[^` is a literal in both dialects
      if (rest[i + 1] === '^') out += rest[++i];
      if (rest[i + 1] === ']') out += rest[++i];
      continue;
    }
    if (rest.startsWith('(?P<', i)) {
      out += '(?<';
      i += 3;
      continue;
    }
    const backref = /^\(\?P=(\w+)\)/.exec(rest.slice(i));
    if (backref) {
      out += `\\k<${backref[1]}>`;
      i += backref[0].length - 1;
      continue;
    }
    if (c === '$' && !flags.has('m')) {
      out += '(?=\\n?$)';
      continue;
    }
    out += c;
  }
  return { source: out, flags: [...flags].sort().join('') };
}

/** Compiles a rule's regex; throws SyntaxError with JavaScript's message if it is invalid. */
export function compilePythonRegex(pattern: string, caseInsensitive: boolean): RegExp {
  const { source, flags } = translatePythonRegex(pattern, caseInsensitive);
  return new RegExp(source, flags);
}
