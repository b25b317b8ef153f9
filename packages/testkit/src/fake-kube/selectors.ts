import { badRequest } from './errors.js';

/** Label selectors (`a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`) and simple field selectors. */

type Requirement =
  | { key: string; op: 'eq' | 'neq'; value: string }
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | 'notexists' };

export type LabelMatcher = (labels: Record<string, string> | undefined) => boolean;

/** Splits on commas that are not inside parentheses. */
function splitTerms(selector: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      terms.push(current);
      current = '';
    } else current += ch;
  }
  terms.push(current);
  return terms.map((t) => t.trim()).filter((t) => t !== '');
}

const KEY = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$/;

function parseTerm(term: string, selector: string): Requirement {
  const fail = () => badRequest(`unable to parse requirement: found '${term}', expected: in, notin, =, ==, !=, gt, lt (in labelSelector "${selector}")`);
  const set = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(term);
  if (set) {
    if (!KEY.test(set[1])) throw fail();
    const values = set[3].split(',').map((v) => v.trim()).filter((v) => v !== '');
    return { key: set[1], op: set[2] as 'in' | 'notin', values };
  }
  const cmp = /^([^!=\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term);
  if (cmp) {
    if (!KEY.test(cmp[1])) throw fail();
    return { key: cmp[1], op: cmp[2] === '!=' ? 'neq' : 'eq', value: cmp[3] };
  }
  if (term.startsWith('!') && KEY.test(term.slice(1).trim())) return { key: term.slice(1).trim(), op: 'notexists' };
  if (KEY.test(term)) return { key: term, op: 'exists' };
  throw fail();
}

function matches(req: Requirement, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, req.key);
  const value = labels[req.key];
  switch (req.op) {
    case 'eq':
      return has && value === req.value;
    case 'neq':
      return !has || value !== req.value;
    case 'in':
      return has && req.values.includes(value);
    case 'notin':
      return !has || !req.values.includes(value);
    case 'exists':
      return has;
    case 'notexists':
      return !has;
  }
}

export function parseLabelSelector(selector: string | undefined): LabelMatcher {
  if (!selector || selector.trim() === '') return () => true;
  const reqs = splitTerms(selector).map((t) => parseTerm(t, selector));
  return (labels) => reqs.every((r) => matches(r, labels ?? {}));
}

/** A `metav1.LabelSelector` object (matchLabels + matchExpressions) as a matcher. */
export function labelSelectorObjectMatcher(sel: { matchLabels?: Record<string, string>; matchExpressions?: any[] } | undefined): LabelMatcher {
  const reqs: Requirement[] = [];
  for (const [key, value] of Object.entries(sel?.matchLabels ?? {})) reqs.push({ key, op: 'eq', value: String(value) });
  for (const e of sel?.matchExpressions ?? []) {
    const op = String(e?.operator ?? '');
    const key = String(e?.key ?? '');
    if (op === 'In') reqs.push({ key, op: 'in', values: (e.values ?? []).map(String) });
    else if (op === 'NotIn') reqs.push({ key, op: 'notin', values: (e.values ?? []).map(String) });
    else if (op === 'Exists') reqs.push({ key, op: 'exists' });
    else if (op === 'DoesNotExist') reqs.push({ key, op: 'notexists' });
  }
  return (labels) => reqs.every((r) => matches(r, labels ?? {}));
}

/** Field selectors on dotted paths with `=`, `==` and `!=` (e.g. `metadata.name=x,spec.nodeName!=node-1`). */
export function parseFieldSelector(selector: string | undefined): (obj: unknown) => boolean {
  if (!selector || selector.trim() === '') return () => true;
  const reqs = splitTerms(selector).map((term) => {
    const m = /^([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m) throw badRequest(`invalid selector: '${selector}'; can't understand '${term}'`);
    return { path: m[1].split('.'), neq: m[2] === '!=', value: m[3] };
  });
  return (obj) =>
    reqs.every((r) => {
      let cur: any = obj;
      for (const p of r.path) cur = cur == null ? undefined : cur[p];
      const actual = cur == null ? '' : String(cur);
      return r.neq ? actual !== r.value : actual === r.value;
    });
}
