// kubectl's `-o jsonpath=TEMPLATE`, the subset scripts use: text with {.field.path}, [n], [*],
// ['key'], escaped dots (app\.kubernetes\.io), filters [?(@.type=="Ready")], {range ...}{end} and
// quoted literals such as {"\n"}. Missing fields print nothing, as kubectl's default does.

type Step =
  | { readonly kind: 'field'; readonly name: string }
  | { readonly kind: 'index'; readonly index: number }
  | { readonly kind: 'wildcard' }
  | {
      readonly kind: 'filter';
      readonly path: readonly Step[];
      readonly operator: '==' | '!=' | 'exists';
      readonly value?: string;
    };

type TemplateNode =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'path'; readonly steps: readonly Step[] }
  | { readonly kind: 'range'; readonly steps: readonly Step[]; readonly body: readonly TemplateNode[] };

export class JsonPathError extends Error {
  override readonly name = 'JsonPathError';
}

export function renderJsonPath(template: string, data: unknown): string {
  return renderNodes(parseTemplate(template), data);
}

export function parseTemplate(template: string): TemplateNode[] {
  const root: TemplateNode[] = [];
  const stack: Array<{ steps: readonly Step[]; body: TemplateNode[] }> = [];
  const current = (): TemplateNode[] => stack[stack.length - 1]?.body ?? root;
  let position = 0;
  while (position < template.length) {
    const open = template.indexOf('{', position);
    if (open === -1) {
      current().push({ kind: 'text', text: template.slice(position) });
      break;
    }
    if (open > position) current().push({ kind: 'text', text: template.slice(position, open) });
    const close = findClose(template, open);
    const expression = template.slice(open + 1, close).trim();
    position = close + 1;
    if (expression.startsWith('"')) {
      current().push({ kind: 'text', text: parseQuoted(expression, template) });
    } else if (expression.startsWith('range ')) {
      stack.push({ steps: parsePath(expression.slice('range '.length).trim(), template), body: [] });
    } else if (expression === 'end') {
      const finished = stack.pop();
      if (!finished) throw new JsonPathError(`${template}: {end} without a {range ...}`);
      current().push({ kind: 'range', steps: finished.steps, body: finished.body });
    } else {
      current().push({ kind: 'path', steps: parsePath(expression, template) });
    }
  }
  if (stack.length > 0) throw new JsonPathError(`${template}: {range ...} needs a matching {end}`);
  return root;
}

function renderNodes(nodes: readonly TemplateNode[], data: unknown): string {
  return nodes
    .map((node) => {
      switch (node.kind) {
        case 'text':
          return node.text;
        case 'path':
          return evaluate(node.steps, [data]).map(display).join(' ');
        case 'range':
          return evaluate(node.steps, [data])
            .flatMap((item) => (Array.isArray(item) ? item : [item]))
            .map((item) => renderNodes(node.body, item))
            .join('');
      }
    })
    .join('');
}

function evaluate(steps: readonly Step[], inputs: readonly unknown[]): unknown[] {
  let values = [...inputs];
  for (const step of steps) {
    values = values.flatMap((value): unknown[] => {
      switch (step.kind) {
        case 'field': {
          if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
          if (!Object.prototype.hasOwnProperty.call(value, step.name)) return [];
          return [(value as Record<string, unknown>)[step.name]];
        }
        case 'index': {
          if (!Array.isArray(value)) return [];
          const item: unknown = value[step.index < 0 ? value.length + step.index : step.index];
          return item === undefined ? [] : [item];
        }
        case 'wildcard':
          if (Array.isArray(value)) return value;
          return typeof value === 'object' && value !== null ? Object.values(value) : [];
        case 'filter': {
          if (!Array.isArray(value)) return [];
          return value.filter((item) => {
            const [found] = evaluate(step.path, [item]);
            if (step.operator === 'exists') return found !== undefined;
            const equal = found !== undefined && display(found) === step.value;
            return step.operator === '==' ? equal : !equal;
          });
        }
      }
    });
  }
  return values;
}

function display(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null) return 'null';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function parsePath(expression: string, template: string): Step[] {
  const steps: Step[] = [];
  let i = expression.startsWith('$') ? 1 : 0;
  const fail = (what: string): never => {
    throw new JsonPathError(`${template}: ${what} at "${expression.slice(i)}"`);
  };
  while (i < expression.length) {
    const char = expression[i];
    if (char === '.') {
      i++;
      let name = '';
      while (i < expression.length && expression[i] !== '.' && expression[i] !== '[') {
        if (expression[i] === '\\' && i + 1 < expression.length) i++;
        name += expression[i];
        i++;
      }
      if (name === '') {
        if (i >= expression.length) break;
        fail('a field name is missing');
      }
      steps.push(name === '*' ? { kind: 'wildcard' } : { kind: 'field', name });
    } else if (char === '[') {
      const end = matchingBracket(expression, i) ?? fail('"[" is not closed');
      const inner = expression.slice(i + 1, end).trim();
      i = end + 1;
      if (inner === '*') steps.push({ kind: 'wildcard' });
      else if (/^-?\d+$/.test(inner)) steps.push({ kind: 'index', index: Number(inner) });
      else if (/^'.*'$/.test(inner) || /^".*"$/.test(inner))
        steps.push({ kind: 'field', name: inner.slice(1, -1) });
      else if (inner.startsWith('?(') && inner.endsWith(')'))
        steps.push(parseFilter(inner.slice(2, -1), template));
      else fail(`"[${inner}]" is not an index, [*], a quoted key or a ?(...) filter`);
    } else if (char === ' ') {
      i++;
    } else {
      fail('expected "." or "["');
    }
  }
  return steps;
}

function parseFilter(condition: string, template: string): Step {
  const match = /^@((?:\.[^=!\s]+)+)\s*(?:(==|!=)\s*(.+))?$/.exec(condition.trim());
  if (!match?.[1]) {
    throw new JsonPathError(
      `${template}: the filter "${condition}" must look like @.field=="value" or @.field`,
    );
  }
  const path = parsePath(match[1], template);
  if (match[2] === undefined) return { kind: 'filter', path, operator: 'exists' };
  const raw = (match[3] ?? '').trim();
  const value = /^(['"]).*\1$/.test(raw) ? raw.slice(1, -1) : raw;
  return { kind: 'filter', path, operator: match[2] as '==' | '!=', value };
}

function findClose(template: string, open: number): number {
  let quoted = false;
  for (let i = open + 1; i < template.length; i++) {
    const char = template[i];
    if (char === '\\') i++;
    else if (char === '"') quoted = !quoted;
    else if (char === '}' && !quoted) return i;
  }
  throw new JsonPathError(`${template}: "{" at position ${open} is not closed`);
}

function matchingBracket(expression: string, open: number): number | undefined {
  let depth = 0;
  for (let i = open; i < expression.length; i++) {
    if (expression[i] === '[') depth++;
    else if (expression[i] === ']' && --depth === 0) return i;
  }
  return undefined;
}

function parseQuoted(expression: string, template: string): string {
  try {
    const parsed: unknown = JSON.parse(expression);
    if (typeof parsed === 'string') return parsed;
  } catch {
    // Reported below with the template.
  }
  throw new JsonPathError(`${template}: ${expression} is not a quoted string such as "\\n"`);
}
