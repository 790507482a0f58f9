// Containerfile/Dockerfile syntax: parser directives (escape), comments, line continuations, JSON (exec)
// and shell forms, and Docker's variable substitution ($VAR, ${VAR}, ${VAR:-default}, ${VAR:+alt}).
// Errors name the line and say what Docker would accept.

export interface Instruction {
  /** Upper-case keyword: FROM, RUN, COPY, ... */
  readonly keyword: string;
  /** Everything after the keyword, continuations joined. */
  readonly text: string;
  /** The JSON array when the arguments are in exec form. */
  readonly json?: readonly string[];
  /** 1-based line of the keyword. */
  readonly line: number;
}

export class ContainerfileError extends Error {
  override readonly name = 'ContainerfileError';
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(line === undefined ? message : `line ${line}: ${message}`);
  }
}

const KNOWN = new Set([
  'FROM',
  'RUN',
  'CMD',
  'LABEL',
  'EXPOSE',
  'ENV',
  'ADD',
  'COPY',
  'ENTRYPOINT',
  'USER',
  'WORKDIR',
  'ARG',
  'STOPSIGNAL',
  'SHELL',
  'MAINTAINER',
  'VOLUME',
  'HEALTHCHECK',
]);

export function parseContainerfile(source: string): Instruction[] {
  const lines = source.replace(/\r\n/g, '\n').split('\n');
  let escape = '\\';
  let position = 0;
  // Parser directives are only recognised in the leading comment block.
  for (; position < lines.length; position++) {
    const directive = /^#\s*([a-zA-Z]+)\s*=\s*(.*?)\s*$/.exec(lines[position] ?? '');
    if (directive === null) break;
    const [, key, value] = directive;
    if (key?.toLowerCase() === 'escape') {
      if (value !== '\\' && value !== '`')
        throw new ContainerfileError(
          `escape must be "\\" or "\`", not ${JSON.stringify(value)}`,
          position + 1,
        );
      escape = value;
    }
  }

  const instructions: Instruction[] = [];
  let pending: { text: string; line: number } | undefined;
  for (let index = 0; index < lines.length; index++) {
    const raw = lines[index] ?? '';
    const trimmed = raw.trim();
    // Comments and blank lines are dropped, even inside a continued instruction (as Docker does).
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const continued = trimmed.endsWith(escape) && !trimmed.endsWith(`${escape}${escape}`);
    const content = continued ? trimmed.slice(0, -1) : trimmed;
    if (pending === undefined) pending = { text: content, line: index + 1 };
    else pending.text += content.startsWith(' ') || pending.text.endsWith(' ') ? content : ` ${content}`;
    if (continued) continue;
    instructions.push(toInstruction(pending.text, pending.line));
    pending = undefined;
  }
  if (pending !== undefined) instructions.push(toInstruction(pending.text, pending.line));
  if (instructions.length === 0)
    throw new ContainerfileError('the Containerfile has no instructions; it needs at least FROM');
  return instructions;
}

function toInstruction(text: string, line: number): Instruction {
  const match = /^(\S+)\s*(.*)$/s.exec(text);
  const keyword = (match?.[1] ?? '').toUpperCase();
  const rest = (match?.[2] ?? '').trim();
  if (!KNOWN.has(keyword)) {
    throw new ContainerfileError(
      `unknown instruction ${JSON.stringify(match?.[1] ?? text)}; Flotilla supports ${[...KNOWN].join(', ')}`,
      line,
    );
  }
  const json = rest.startsWith('[') ? parseJsonArray(rest) : undefined;
  return { keyword, text: rest, ...(json === undefined ? {} : { json }), line };
}

/** Exec form only when the text is a JSON array of strings; anything else is shell form (as Docker). */
function parseJsonArray(text: string): string[] | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value as string[];
  } catch {
    // shell form that happens to start with "["
  }
  return undefined;
}

/**
 * Docker's word processing for ENV, ARG, LABEL, WORKDIR, COPY, ADD, USER, EXPOSE, STOPSIGNAL (never for
 * RUN/CMD/ENTRYPOINT, whose shell does it): words split on blanks, quotes removed, backslash escapes,
 * and $VAR, ${VAR}, ${VAR:-default}, ${VAR:+alternative} expanded — except inside single quotes.
 */
export function expandWords(text: string, variables: ReadonlyMap<string, string>, line?: number): string[] {
  const words: string[] = [];
  let current = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let index = 0; index < text.length; index++) {
    const char = text[index] as string;
    if (quote === "'") {
      if (char === "'") quote = undefined;
      else current += char;
      continue;
    }
    if (char === '$') {
      const [value, end] = expandVariable(text, index, variables, line);
      current += value;
      // An unquoted expansion to nothing is no word at all, as in the shell.
      if (value !== '') inWord = true;
      index = end;
      continue;
    }
    if (quote === '"') {
      if (char === '"') quote = undefined;
      else if (
        char === '\\' &&
        (text[index + 1] === '"' || text[index + 1] === '$' || text[index + 1] === '\\')
      )
        current += text[++index];
      else current += char;
      continue;
    }
    if (char === '"' || char === "'") {
      quote = char;
      inWord = true;
    } else if (char === '\\' && index + 1 < text.length) {
      current += text[++index];
      inWord = true;
    } else if (/\s/.test(char)) {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
    } else {
      current += char;
      inWord = true;
    }
  }
  if (quote !== undefined)
    throw new ContainerfileError(`unterminated ${quote} quote in ${JSON.stringify(text)}`, line);
  if (inWord) words.push(current);
  return words;
}

/** The whole text as one word (WORKDIR, USER, STOPSIGNAL): blanks kept, quotes and variables processed. */
export function expandText(text: string, variables: ReadonlyMap<string, string>, line?: number): string {
  return expandWords(
    text.replace(/(\s+)/g, (blank) => `"${blank}"`),
    variables,
    line,
  ).join(' ');
}

function expandVariable(
  text: string,
  start: number,
  variables: ReadonlyMap<string, string>,
  line?: number,
): [string, number] {
  if (text[start + 1] === '{') {
    const close = text.indexOf('}', start + 2);
    if (close === -1) throw new ContainerfileError(`unterminated \${ in ${JSON.stringify(text)}`, line);
    const body = text.slice(start + 2, close);
    const modifier = /^([A-Za-z_][A-Za-z0-9_]*)(?::([-+])(.*))?$/s.exec(body);
    if (modifier === null)
      throw new ContainerfileError(
        `bad substitution \${${body}}: use \${NAME}, \${NAME:-default} or \${NAME:+alternative}`,
        line,
      );
    const [, name = '', operator, word = ''] = modifier;
    const value = variables.get(name);
    const expandWord = (): string => expandWords(`"${word.replace(/"/g, '\\"')}"`, variables, line).join(' ');
    if (operator === '-') return [value === undefined || value === '' ? expandWord() : value, close];
    if (operator === '+') return [value === undefined || value === '' ? '' : expandWord(), close];
    return [value ?? '', close];
  }
  const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(start + 1))?.[0];
  if (name === undefined) return ['$', start];
  return [variables.get(name) ?? '', start + name.length];
}

/**
 * Splits `KEY=value KEY2="quoted value"` pairs (ENV, LABEL, ARG) after expansion. The legacy
 * `ENV KEY value with spaces` form is accepted when the first word has no "=".
 */
export function parseKeyValues(
  text: string,
  keyword: string,
  line: number,
  variables: ReadonlyMap<string, string>,
): Array<[string, string]> {
  const words = expandWords(text, variables, line);
  if (words.length === 0) throw new ContainerfileError(`${keyword} needs at least one KEY=value`, line);
  if (!(words[0] ?? '').includes('=') && (keyword === 'ENV' || keyword === 'LABEL')) {
    const [key = '', ...rest] = words;
    if (rest.length === 0)
      throw new ContainerfileError(`${keyword} ${key} needs a value (write ${key}=value)`, line);
    return [[key, rest.join(' ')]];
  }
  return words.map((word) => {
    const equals = word.indexOf('=');
    if (keyword === 'ARG' && equals === -1) return [word, ''];
    if (equals <= 0)
      throw new ContainerfileError(`${keyword} expects KEY=value pairs, got ${JSON.stringify(word)}`, line);
    return [word.slice(0, equals), word.slice(equals + 1)];
  });
}
